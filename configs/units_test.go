package configs

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	parse := func(s string) (time.Duration, error) {
		d, err := ParseDuration(s)
		return d.D(), err
	}
	checkUnit(t, "ParseDuration", parse, []unitCase[time.Duration]{
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
	})
}

func TestDurationYAML(t *testing.T) {
	parse := func(y string) (time.Duration, error) {
		cfg, _, err := Parse([]byte("llm:\n  "+y+"\n"), nil)
		if err != nil {
			return 0, err
		}
		return cfg.LLM.Timeout.D(), nil
	}
	checkUnit(t, "llm:", parse, []unitCase[time.Duration]{
		{"timeout: 30", 30 * time.Second, false},
		{"timeout: 1.5", 1500 * time.Millisecond, false},
		{"timeout: 250ms", 250 * time.Millisecond, false},
		{`timeout: "2m"`, 2 * time.Minute, false},
		{`timeout: "45"`, 45 * time.Second, false},
		{"timeout: 1e3", 1000 * time.Second, false},
		{"timeout: soon", 0, true},
		{"timeout: [1]", 0, true},
		{"timeout: .inf", 0, true},
	})
}

func TestParseByteSize(t *testing.T) {
	checkUnit(t, "ParseByteSize", ParseByteSize, []unitCase[ByteSize]{
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
	})
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
	parse := func(y string) (ByteSize, error) {
		cfg, _, err := Parse([]byte("logging:\n  "+y+"\n"), nil)
		if err != nil {
			return 0, err
		}
		return cfg.Logging.MaxFileSize, nil
	}
	checkUnit(t, "logging:", parse, []unitCase[ByteSize]{
		{"max_file_size: 1024", KiB, false},
		{`max_file_size: "10MB"`, 10 * MiB, false},
		{"max_file_size: 50MB", 50 * MiB, false},
		{"max_file_size: -5", 0, true},
		{"max_file_size: lots", 0, true},
	})
}

// unitCase is an input of a unit parser and what it must give.
type unitCase[T comparable] struct {
	in      string
	want    T
	wantErr bool
}

// checkUnit runs parse (named name in the errors) on every case.
func checkUnit[T comparable](t *testing.T, name string, parse func(string) (T, error), cases []unitCase[T]) {
	t.Helper()
	for _, tt := range cases {
		got, err := parse(tt.in)
		if (err != nil) != tt.wantErr || (err == nil && got != tt.want) {
			t.Errorf("%s(%q) = %v, %v; want %v, err %v", name, tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
