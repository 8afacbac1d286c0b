package configs

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"30", 30 * time.Second, false},
		{"0.5", 500 * time.Millisecond, false},
		{" 2 ", 2 * time.Second, false},
		{"250ms", 250 * time.Millisecond, false},
		{"1m30s", 90 * time.Second, false},
		{"-1", -time.Second, false},
		{"", 0, true},
		{"abc", 0, true},
		{"10 parsecs", 0, true},
		{"NaN", 0, true},
		{"1e300", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr || (err == nil && got.D() != tt.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDurationYAML(t *testing.T) {
	tests := []struct {
		yaml    string
		want    time.Duration
		wantErr bool
	}{
		{"timeout: 30", 30 * time.Second, false},
		{"timeout: 1.5", 1500 * time.Millisecond, false},
		{"timeout: 250ms", 250 * time.Millisecond, false},
		{`timeout: "2m"`, 2 * time.Minute, false},
		{`timeout: "45"`, 45 * time.Second, false},
		{"timeout: 1e3", 1000 * time.Second, false},
		{"timeout: soon", 0, true},
		{"timeout: [1]", 0, true},
		{"timeout: .inf", 0, true},
	}
	for _, tt := range tests {
		cfg, _, err := Parse([]byte("llm:\n  "+tt.yaml+"\n"), nil)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, want error %v", tt.yaml, err, tt.wantErr)
			continue
		}
		if err == nil && cfg.LLM.Timeout.D() != tt.want {
			t.Errorf("%s: got %v, want %v", tt.yaml, cfg.LLM.Timeout, tt.want)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		wantErr bool
	}{
		{"1048576", 1 << 20, false},
		{"512KB", 512 << 10, false},
		{"10MB", 10 << 20, false},
		{"10mb", 10 << 20, false},
		{"10 MiB", 10 << 20, false},
		{"1.5MB", 3 << 19, false},
		{"1GiB", 1 << 30, false},
		{"2G", 2 << 30, false},
		{"1TB", 1 << 40, false},
		{"100B", 100, false},
		{"0", 0, false},
		{"", 0, true},
		{"MB", 0, true},
		{"10XB", 0, true},
		{"-1MB", 0, true},
		{"1.2.3MB", 0, true},
		{"99999999TB", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if (err != nil) != tt.wantErr || (err == nil && got != tt.want) {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	tests := []struct {
		in   ByteSize
		want string
	}{
		{0, "0"}, {100, "100B"}, {KiB, "1KB"}, {1536 * KiB, "1536KB"}, {10 * MiB, "10MB"}, {GiB, "1GB"}, {3 * TiB, "3TB"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		if back, err := ParseByteSize(tt.in.String()); err != nil || back != tt.in {
			t.Errorf("round trip of %d: %d, %v", int64(tt.in), back, err)
		}
	}
}

func TestByteSizeYAML(t *testing.T) {
	tests := []struct {
		yaml    string
		want    ByteSize
		wantErr bool
	}{
		{"max_file_size: 1024", KiB, false},
		{`max_file_size: "10MB"`, 10 * MiB, false},
		{"max_file_size: 50MB", 50 * MiB, false},
		{"max_file_size: -5", 0, true},
		{"max_file_size: lots", 0, true},
	}
	for _, tt := range tests {
		cfg, _, err := Parse([]byte("logging:\n  "+tt.yaml+"\n"), nil)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, want error %v", tt.yaml, err, tt.wantErr)
			continue
		}
		if err == nil && cfg.Logging.MaxFileSize != tt.want {
			t.Errorf("%s: got %d, want %d", tt.yaml, cfg.Logging.MaxFileSize, tt.want)
		}
	}
}
