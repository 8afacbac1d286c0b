package configs

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestInterceptorViewsDefaults(t *testing.T) {
	ic := func(typ string) InterceptorConfig { return InterceptorConfig{Type: typ, Enabled: true} }

	p, err := ic("printer").Printer()
	if err != nil || p != (PrinterConfig{LogRequests: true, LogResponses: true, ShowSessions: true, ShowLLMCalls: true, ShowTools: true}) {
		t.Errorf("printer = %+v, %v", p, err)
	}
	m, err := ic("message_logger").MessageLogger()
	wantM := MessageLoggerConfig{Directory: "./message_logs", Filename: "message_log.jsonl", IncludeSystemPrompts: true,
		IncludeMetadata: true, BufferSize: 10, RedactCredentials: true, FlushInterval: Seconds(1)}
	if err != nil || m != wantM {
		t.Errorf("message_logger = %+v, %v", m, err)
	}
	e, err := ic("event_recorder").EventRecorder()
	if err != nil || e != (EventRecorderConfig{OutputDir: "./event_logs", FileFormat: "jsonl", IncludeMetadata: true}) {
		t.Errorf("event_recorder = %+v, %v", e, err)
	}
	h, err := ic("http_recorder").HTTPRecorder()
	wantH := HTTPRecorderConfig{OutputDir: "./http_recordings", MaxEventsPerFile: 100, IncludeHeaders: true, IncludeTiming: true,
		MaxBodySizeMB: 100, RedactSensitiveHeaders: true}
	if err != nil || h != wantH || h.MaxBodySize() != 100*MiB {
		t.Errorf("http_recorder = %+v, %v", h, err)
	}
	l, err := ic("live_trace").LiveTrace()
	wantL := LiveTraceConfig{ServerPort: 7100, ServerHost: "127.0.0.1", AutoOpenBrowser: true, MaxEvents: 10000,
		RetentionMinutes: 30, RefreshInterval: Seconds(2), StorageMode: "", DBPath: "./trace_data/live_trace.db",
		SessionCompletionTimeout: Seconds(30), CompletionCheckInterval: Seconds(10), EnablePresidio: true}
	if err != nil || l != wantL {
		t.Errorf("live_trace = %+v, %v", l, err)
	}
}

func TestInterceptorViewsFromYAML(t *testing.T) {
	data := `llm: {base_url: "http://127.0.0.1:8000", type: openai}
interceptors:
  - type: Event_Recorder
    config: {output_dir: ./ev, file_format: JSON, pretty_print: true}
  - type: http_recorder
    config: {max_events_per_file: "50", max_body_size_mb: 0.5}
  - type: live_trace
    enabled: false
    config: {server_port: 7200}
  - type: live_trace
    config:
      server_port: 7300
      storage_mode: SQLite
      refresh_interval: 500ms
      completion_check_interval: 3
live_trace:
  session_completion_timeout: 90
  completion_check_interval: 20
`
	cfg, ps, err := Parse([]byte(data), nil)
	if err != nil || len(ps) != 0 {
		t.Fatal(err, ps)
	}
	if vs := cfg.Validate(); len(vs) != 0 {
		t.Fatalf("validate: %q", problemStrings(vs))
	}
	ev, ok := cfg.Interceptor("event_recorder")
	if !ok {
		t.Fatal("event_recorder missing")
	}
	e, err := ev.EventRecorder()
	if err != nil || e != (EventRecorderConfig{OutputDir: "./ev", FileFormat: "json", PrettyPrint: true, IncludeMetadata: true}) {
		t.Errorf("event_recorder = %+v, %v", e, err)
	}
	hr, _ := cfg.Interceptor("http_recorder")
	h, err := hr.HTTPRecorder()
	if err != nil || h.MaxEventsPerFile != 50 || h.MaxBodySize() != MiB/2 || !h.IncludeHeaders {
		t.Errorf("http_recorder = %+v, %v", h, err)
	}
	// The first *enabled* live_trace wins; global keys fill only what it lacks.
	lt, ok, err := cfg.LiveTraceSettings()
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if lt.ServerPort != 7300 || lt.StorageMode != "sqlite" || lt.RefreshInterval.D() != 500*time.Millisecond {
		t.Errorf("live_trace = %+v", lt)
	}
	if lt.SessionCompletionTimeout != Seconds(90) || lt.CompletionCheckInterval != Seconds(3) {
		t.Errorf("global merge: timeout %v interval %v", lt.SessionCompletionTimeout, lt.CompletionCheckInterval)
	}
	if _, ok, _ := Default().LiveTraceSettings(); ok {
		t.Error("LiveTraceSettings without a live_trace interceptor")
	}
}

func TestInterceptorViewErrors(t *testing.T) {
	tests := []struct {
		name string
		ic   InterceptorConfig
		call func(InterceptorConfig) error
		want string
	}{
		{"wrong type", InterceptorConfig{Type: "printer"}, func(ic InterceptorConfig) error { _, err := ic.LiveTrace(); return err },
			`interceptor type is "printer", not "live_trace"`},
		{"bad value type", InterceptorConfig{Type: "live_trace", Config: map[string]any{"server_port": "high"}},
			func(ic InterceptorConfig) error { _, err := ic.LiveTrace(); return err },
			`live_trace interceptor: config.server_port: expected a whole number, got "high"`},
		{"bad file format", InterceptorConfig{Type: "event_recorder", Config: map[string]any{"file_format": "xml"}},
			func(ic InterceptorConfig) error { _, err := ic.EventRecorder(); return err },
			`event_recorder interceptor: config.file_format: must be one of jsonl, json, got "xml"`},
		{"mapping for a bool", InterceptorConfig{Type: "printer", Config: map[string]any{"log_body": map[string]any{"a": 1}}},
			func(ic InterceptorConfig) error { _, err := ic.Printer(); return err },
			`printer interceptor: config.log_body: expected true or false, got a mapping`},
		{"path in filename", InterceptorConfig{Type: "message_logger", Config: map[string]any{"filename": "a/b.jsonl", "buffer_size": 0}},
			func(ic InterceptorConfig) error { _, err := ic.MessageLogger(); return err },
			`message_logger interceptor: config.filename: must be a file name, not a path (put the folder in directory); config.buffer_size: must be at least 1, got 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(tt.ic)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
	// Unknown keys are warnings: the view still works.
	p, err := InterceptorConfig{Type: "printer", Config: map[string]any{"colour": true, "log_body": true}}.Printer()
	if err != nil || !p.LogBody {
		t.Errorf("unknown key broke the view: %+v %v", p, err)
	}
}

func TestInterceptorLookup(t *testing.T) {
	data := `interceptors:
  - type: printer
    enabled: false
    config: {log_body: false}
  - type: PRINTER
    config: {log_body: true}
  - type: printer
`
	cfg, _, err := Parse([]byte(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Interceptors[1].Enabled || !cfg.Interceptors[2].Enabled {
		t.Error("enabled should default to true")
	}
	ic, ok := cfg.Interceptor("printer")
	if !ok || !reflect.DeepEqual(ic.Config, map[string]any{"log_body": true}) {
		t.Errorf("Interceptor(printer) = %+v, %v", ic, ok)
	}
	if _, ok := cfg.Interceptor("live_trace"); ok {
		t.Error("found a live_trace that is not there")
	}
	if !strings.Contains(strings.Join(KnownInterceptorTypes(), ","), "http_recorder") {
		t.Error("KnownInterceptorTypes")
	}
}
