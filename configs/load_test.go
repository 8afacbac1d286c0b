package configs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env returns a lookup over vars, for injecting the environment.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func mustLoad(t *testing.T, path string, lookup func(string) (string, bool)) (*Config, []Problem) {
	t.Helper()
	cfg, ps, err := Load(path, lookup)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return cfg, ps
}

func problemStrings(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// hasProblem reports whether one of ps is at path with a message
// containing text and the given severity.
func hasProblem(ps []Problem, path, text string, warning bool) bool {
	for _, p := range ps {
		if p.Path == path && strings.Contains(p.Message, text) && p.Warning == warning {
			return true
		}
	}
	return false
}

func TestDefault(t *testing.T) {
	c := Default()
	tests := []struct {
		name      string
		got, want any
	}{
		{"server.host", c.Server.Host, "127.0.0.1"},
		{"server.port", c.Server.Port, 4000},
		{"server.workers", c.Server.Workers, 1},
		{"server.max_request_body_size", c.Server.MaxRequestBodySize, 32 * MiB},
		{"server.read_timeout", c.Server.ReadTimeout.D(), 60 * time.Second},
		{"server.idle_timeout", c.Server.IdleTimeout.D(), 120 * time.Second},
		{"server.write_idle_timeout", c.Server.WriteIdleTimeout.D(), 60 * time.Second},
		{"server.shutdown_timeout", c.Server.ShutdownTimeout.D(), 30 * time.Second},
		{"server.max_conns", c.Server.MaxConns, 0},
		{"server.memory_limit_mb derived", c.Server.MemoryLimitMB, 0},
		{"llm.timeout", c.LLM.Timeout.D(), 30 * time.Second},
		{"llm.max_retries", c.LLM.MaxRetries, 3},
		{"llm.connect_timeout", c.LLM.ConnectTimeout.D(), 10 * time.Second},
		{"llm.header timeout falls back to timeout", c.LLM.HeaderTimeout(), 30 * time.Second},
		{"llm.stream idle falls back to timeout", c.LLM.StreamIdle(), 30 * time.Second},
		{"llm.max_conns", c.LLM.MaxConns, 1024},
		{"llm.max_idle_conn_duration", c.LLM.MaxIdleConnDuration.D(), 90 * time.Second},
		{"llm.max_response_buffer_size", c.LLM.MaxResponseBufferSize, 64 * MiB},
		{"llm.insecure_skip_verify", c.LLM.InsecureSkipVerify, false},
		{"session", c.Session, SessionConfig{Enabled: true, MaxSessions: 10000, SessionTTLSeconds: 3600, MemoryMB: 0, Fuzzy: true,
			Peers: SessionPeers{Timeout: Duration(25 * time.Millisecond), DownFor: Seconds(5)}}},
		{"interceptors", len(c.Interceptors), 0},
		{"logging", c.Logging, LoggingConfig{Level: "INFO", Format: "text", MaxFileSize: 10 * MiB, BackupCount: 5}},
		{"live_trace.session_completion_timeout", c.LiveTrace.SessionCompletionTimeout.D(), 30 * time.Second},
		{"live_trace.completion_check_interval", c.LiveTrace.CompletionCheckInterval.D(), 10 * time.Second},
		{"storage.engine", c.Storage.Engine, "embedded"},
		{"storage.embedded.path", c.Storage.Embedded.Path, "./data/perimeter"},
		{"storage.embedded.insert_interval_ms", c.Storage.Embedded.InsertIntervalMS, 1000},
		{"storage.clickhouse.addresses", c.Storage.ClickHouse.Addresses, []string{"127.0.0.1:9000"}},
		{"storage.batch", c.Storage.Batch, BatchConfig{MaxRows: 1000, MaxDelayMS: 200, QueueSize: 100000}},
		{"storage.spill", c.Storage.Spill, SpillConfig{Dir: "./data/spill", MaxBytes: GiB}},
		{"storage.retention_days", c.Storage.RetentionDays, 0},
		{"detect.guard", c.Detect.Guard, "off"},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
	// Without base_url and type the defaults alone are not runnable.
	ps := Default().Validate()
	if !hasProblem(ps, "llm.base_url", "required", false) || !hasProblem(ps, "llm.type", "required", false) {
		t.Errorf("Default().Validate() should require llm.base_url and llm.type, got %q", problemStrings(ps))
	}
	if len(Errors(ps)) != 2 {
		t.Errorf("Default().Validate() errors = %q, want only base_url and type", problemStrings(Errors(ps)))
	}
}

func TestDefaultsNotShared(t *testing.T) {
	a := Default()
	a.Storage.ClickHouse.Addresses[0] = "changed:1"
	if Default().Storage.ClickHouse.Addresses[0] != "127.0.0.1:9000" {
		t.Fatal("Default() shares slices between calls")
	}
}

func TestReadmeExampleLoads(t *testing.T) {
	cfg, ps := mustLoad(t, "testdata/readme.yaml", nil)
	if len(ps) != 0 {
		t.Errorf("load problems: %q", problemStrings(ps))
	}
	if vs := cfg.Validate(); len(vs) != 0 {
		t.Errorf("validate problems: %q", problemStrings(vs))
	}
	if cfg.Server.Port != 4000 || cfg.Server.Host != "0.0.0.0" {
		t.Errorf("server = %+v", cfg.Server)
	}
	if cfg.LLM.BaseURL != "https://api.openai.com" || cfg.LLM.Type != "openai" || cfg.LLM.APIKey != "sk-your-key-here" {
		t.Errorf("llm = %+v", cfg.LLM)
	}
	ic, ok := cfg.Interceptor("printer")
	if !ok {
		t.Fatal("printer interceptor not found")
	}
	p, err := ic.Printer()
	if err != nil {
		t.Fatal(err)
	}
	want := PrinterConfig{LogRequests: true, LogResponses: true, ShowSessions: true, ShowLLMCalls: true, ShowTools: true}
	if p != want {
		t.Errorf("printer = %+v, want %+v", p, want)
	}
	// Untouched sections keep their defaults.
	if cfg.LLM.Timeout != Seconds(30) || cfg.LLM.MaxRetries != 3 || cfg.Logging.Level != "INFO" {
		t.Errorf("defaults lost: llm %+v logging %+v", cfg.LLM, cfg.Logging)
	}
}

func TestOriginalShippedConfigLoads(t *testing.T) {
	cfg, ps := mustLoad(t, "testdata/original-config.yaml", env(map[string]string{"OPENAI_API_KEY": "sk-test"}))
	all := append(ps, cfg.Validate()...)
	if HasErrors(all) {
		t.Fatalf("errors: %q", problemStrings(Errors(all)))
	}
	wantWarnings := []struct{ path, text string }{
		{"middlewares", "unknown key"},
		{"llm.max_retries", "accepted for compatibility with the original and ignored"},
		{"interceptors[2].type", `"rate_limit"`},
		{"interceptors[3].type", `"auth"`},
		{"interceptors[4].type", `"custom_logging"`},
	}
	for _, w := range wantWarnings {
		if !hasProblem(all, w.path, w.text, true) {
			t.Errorf("missing warning %s: %s in %q", w.path, w.text, problemStrings(all))
		}
	}
	for _, p := range all {
		if p.Line == 0 {
			t.Errorf("warning without a line: %s", p)
		}
	}
	if got := problemStrings(ps); len(got) != 1 || got[0] != "middlewares: unknown key — ignored (line 53)" {
		t.Errorf("load problems = %q", got)
	}
	if len(cfg.Interceptors) != 5 || !cfg.Interceptors[0].Enabled || cfg.Interceptors[1].Enabled {
		t.Errorf("interceptors = %+v", cfg.Interceptors)
	}
	if cfg.LLM.APIKey != "sk-test" || cfg.Logging.MaxFileSize != 10*MiB || cfg.Logging.File != "" {
		t.Errorf("llm %+v logging %+v", cfg.LLM, cfg.Logging)
	}
	if _, ok := cfg.Interceptor("http_recorder"); ok {
		t.Error("disabled http_recorder returned by Interceptor")
	}
}

func TestOriginalExamplesLoad(t *testing.T) {
	for _, name := range []string{"original-production.yaml", "original-live-trace.yaml"} {
		t.Run(name, func(t *testing.T) {
			cfg, ps := mustLoad(t, filepath.Join("testdata", name), nil)
			all := append(ps, cfg.Validate()...)
			if HasErrors(all) {
				t.Fatalf("errors: %q", problemStrings(Errors(all)))
			}
		})
	}
	cfg, ps := mustLoad(t, "testdata/original-production.yaml", nil)
	if !hasProblem(ps, "llm.api_key", "OPENAI_API_KEY is not set", true) {
		t.Errorf("unset ${OPENAI_API_KEY} not reported: %q", problemStrings(ps))
	}
	if cfg.LLM.APIKey != "${OPENAI_API_KEY}" {
		t.Errorf("unset variable should stay literal, got %q", cfg.LLM.APIKey)
	}
	if !hasProblem(cfg.Validate(), "server.workers", "ignored", true) {
		t.Error("workers: 4 should warn that it is ignored")
	}
	if cfg.Logging.MaxFileSize != 50*MiB || cfg.Logging.Format != "json" {
		t.Errorf("logging = %+v", cfg.Logging)
	}
}

// Behaviours of the original's tests/test_config.py.
func TestOriginalConfigBehaviours(t *testing.T) {
	t.Run("llm defaults", func(t *testing.T) {
		cfg, _, err := Parse([]byte("llm: {base_url: https://api.openai.com, type: openai}"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.LLM.Timeout.D() != 30*time.Second || cfg.LLM.MaxRetries != 3 {
			t.Errorf("llm = %+v", cfg.LLM)
		}
	})
	t.Run("trailing slash stripped", func(t *testing.T) {
		cfg, _, err := Parse([]byte("llm: {base_url: 'https://api.openai.com/v1//', type: OpenAI}"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if ps := cfg.Validate(); len(ps) != 0 {
			t.Fatalf("problems: %q", problemStrings(ps))
		}
		if cfg.LLM.BaseURL != "https://api.openai.com/v1" || cfg.LLM.Type != "openai" {
			t.Errorf("llm = %+v", cfg.LLM)
		}
	})
	t.Run("scheme required", func(t *testing.T) {
		cfg, _, _ := Parse([]byte("llm: {base_url: api.openai.com, type: openai}"), nil)
		ps := cfg.Validate()
		if !hasProblem(ps, "llm.base_url", "http:// or https://", false) {
			t.Errorf("api.openai.com accepted: %q", problemStrings(ps))
		}
	})
	t.Run("settings defaults", func(t *testing.T) {
		cfg, _, err := Parse([]byte("llm: {base_url: http://localhost:8000, type: anthropic}"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Server.Port != 4000 || cfg.Server.Host != "127.0.0.1" || len(cfg.Interceptors) != 0 {
			t.Errorf("got %+v, %d interceptors", cfg.Server, len(cfg.Interceptors))
		}
	})
	t.Run("overrides return a new config", func(t *testing.T) {
		base, _ := mustLoad(t, "testdata/readme.yaml", nil)
		over := base.WithOverrides(Overrides{Port: 9000, APIKey: "cli-key", LogLevel: "DEBUG"})
		if base.Server.Port != 4000 || base.LLM.APIKey != "sk-your-key-here" || base.Logging.Level != "INFO" {
			t.Errorf("original changed: %+v %+v", base.Server, base.LLM)
		}
		if over.Server.Port != 9000 || over.LLM.APIKey != "cli-key" || over.Logging.Level != "DEBUG" {
			t.Errorf("overrides not applied: %+v %+v", over.Server, over.LLM)
		}
		if over.Server.Host != "0.0.0.0" || over.LLM.BaseURL != "https://api.openai.com" {
			t.Errorf("file values lost: %+v", over)
		}
		over.Interceptors[0].Config["log_requests"] = false
		if base.Interceptors[0].Config["log_requests"] != true {
			t.Error("WithOverrides shares interceptor config maps")
		}
	})
	t.Run("CLI only", func(t *testing.T) {
		cfg, ps, err := LoadLayered("", nil)
		if err != nil || len(ps) != 0 {
			t.Fatal(err, ps)
		}
		cfg = cfg.WithOverrides(Overrides{BaseURL: "https://api.anthropic.com/", Type: "anthropic", Port: 4001, Host: "0.0.0.0"})
		if ps := cfg.Validate(); len(ps) != 0 {
			t.Fatalf("problems: %q", problemStrings(ps))
		}
		if cfg.LLM.BaseURL != "https://api.anthropic.com" || cfg.Server.Port != 4001 {
			t.Errorf("got %+v %+v", cfg.LLM, cfg.Server)
		}
	})
}

func TestLayering(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("llm:\n  base_url: https://file.example\nlogging:\n  format: json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := env(map[string]string{
		"LLM_BASE_URL": "https://env.example",
		"LLM_TYPE":     "anthropic",
		"LLM_API_KEY":  "env-key",
		"LOG_LEVEL":    "debug",
		"OTHER":        "x",
	})
	cfg, _, err := LoadLayered(file, vars)
	if err != nil {
		t.Fatal(err)
	}
	// file > env > defaults
	if cfg.LLM.BaseURL != "https://file.example" {
		t.Errorf("file should beat env: %q", cfg.LLM.BaseURL)
	}
	if cfg.LLM.Type != "anthropic" || cfg.LLM.APIKey != "env-key" || cfg.Logging.Level != "debug" {
		t.Errorf("env not applied: %+v %+v", cfg.LLM, cfg.Logging)
	}
	if cfg.Logging.Format != "json" || cfg.Server.Port != 4000 {
		t.Errorf("file/default lost: %+v %+v", cfg.Logging, cfg.Server)
	}
	// flags > file
	cfg = cfg.WithOverrides(Overrides{BaseURL: "https://flag.example"})
	if cfg.LLM.BaseURL != "https://flag.example" {
		t.Errorf("flag should beat file: %q", cfg.LLM.BaseURL)
	}
	if ps := cfg.Validate(); len(ps) != 0 || cfg.Logging.Level != "DEBUG" {
		t.Errorf("validate: %q, level %q", problemStrings(ps), cfg.Logging.Level)
	}
	// Empty variables do not override.
	c := Default()
	c.ApplyEnv(env(map[string]string{"LLM_TYPE": ""}))
	if c.LLM.Type != "" {
		t.Errorf("empty LLM_TYPE applied: %q", c.LLM.Type)
	}
	if _, _, err := LoadLayered(filepath.Join(dir, "missing.yaml"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestEnvSubstitution(t *testing.T) {
	vars := env(map[string]string{
		"KEY":   "sk-from-env",
		"HOST":  "api.example.com",
		"PORT":  "8080",
		"EMPTY": "",
		"FLAG":  "false",
	})
	tests := []struct {
		name    string
		yaml    string
		get     func(*Config) any
		want    any
		warning string // a warning expected at llm.api_key or server.port
	}{
		{"whole string", `llm: {api_key: "${KEY}"}`, func(c *Config) any { return c.LLM.APIKey }, "sk-from-env", ""},
		{"whole string unquoted", "llm:\n  api_key: ${KEY}", func(c *Config) any { return c.LLM.APIKey }, "sk-from-env", ""},
		{"embedded", `llm: {base_url: "https://${HOST}/v1"}`, func(c *Config) any { return c.LLM.BaseURL }, "https://api.example.com/v1", ""},
		{"two in one", `llm: {base_url: "${HOST}:${PORT}"}`, func(c *Config) any { return c.LLM.BaseURL }, "api.example.com:8080", ""},
		{"default when unset", `llm: {api_key: "${NOPE:-fallback}"}`, func(c *Config) any { return c.LLM.APIKey }, "fallback", ""},
		{"default when empty", `llm: {api_key: "${EMPTY:-fallback}"}`, func(c *Config) any { return c.LLM.APIKey }, "fallback", ""},
		{"dash default only when unset", `llm: {api_key: "${EMPTY-fallback}"}`, func(c *Config) any { return c.LLM.APIKey }, "", ""},
		{"dash default unset", `llm: {api_key: "${NOPE-fallback}"}`, func(c *Config) any { return c.LLM.APIKey }, "fallback", ""},
		{"empty default", `llm: {api_key: "${NOPE:-}"}`, func(c *Config) any { return c.LLM.APIKey }, "", ""},
		{"unset stays literal", `llm: {api_key: "${NOPE}"}`, func(c *Config) any { return c.LLM.APIKey }, "${NOPE}", "NOPE is not set"},
		{"unset embedded stays literal", `llm: {api_key: "a-${NOPE}-b"}`, func(c *Config) any { return c.LLM.APIKey }, "a-${NOPE}-b", "NOPE is not set"},
		{"malformed left alone", `llm: {api_key: "${1X} ${ and $HOME"}`, func(c *Config) any { return c.LLM.APIKey }, "${1X} ${ and $HOME", ""},
		{"number unquoted", "server:\n  port: ${PORT}", func(c *Config) any { return c.Server.Port }, 8080, ""},
		{"number quoted", `server: {port: "${PORT}"}`, func(c *Config) any { return c.Server.Port }, 8080, ""},
		{"number with default", `server: {port: "${NOPE:-4100}"}`, func(c *Config) any { return c.Server.Port }, 4100, ""},
		{"bool", `session: {fuzzy: "${FLAG}"}`, func(c *Config) any { return c.Session.Fuzzy }, false, ""},
		{"duration", `llm: {timeout: "${PORT}ms"}`, func(c *Config) any { return c.LLM.Timeout.D() }, 8080 * time.Millisecond, ""},
		{"interceptor config typed by value", "interceptors:\n- type: live_trace\n  config:\n    server_port: ${PORT}",
			func(c *Config) any { return c.Interceptors[0].Config["server_port"] }, 8080, ""},
		{"interceptor config quoted stays string", `interceptors: [{type: live_trace, config: {token: "${PORT}"}}]`,
			func(c *Config) any { return c.Interceptors[0].Config["token"] }, "8080", ""},
		{"keys are not substituted", `interceptors: [{type: x, config: {"${KEY}": 1}}]`,
			func(c *Config) any { _, ok := c.Interceptors[0].Config["${KEY}"]; return ok }, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ps, err := Parse([]byte(tt.yaml), vars)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
			if tt.warning == "" && len(ps) != 0 {
				t.Errorf("unexpected problems %q", problemStrings(ps))
			}
			if tt.warning != "" && (len(ps) != 1 || !ps[0].Warning || !strings.Contains(ps[0].Message, tt.warning) || ps[0].Line != 1) {
				t.Errorf("problems = %q, want one warning %q on line 1", problemStrings(ps), tt.warning)
			}
		})
	}
}

func TestSubstitutedSecretsNotEchoed(t *testing.T) {
	_, _, err := Parse([]byte("server:\n  port: ${SECRET}\n"), env(map[string]string{"SECRET": "sk-very-secret-value"}))
	if err == nil {
		t.Fatal("non-numeric port accepted")
	}
	if strings.Contains(err.Error(), "very-secret") || !strings.Contains(err.Error(), "${SECRET}") {
		t.Errorf("error should show the reference, not the value: %v", err)
	}
}

func TestUnknownKeys(t *testing.T) {
	data := `server:
  port: 4000
  tiemout: 30
llm:
  base_url: https://api.openai.com
  type: openai
  apikey: x
storage:
  clickhouse:
    adresses: [a]
interceptors:
  - type: printer
    name: console
    config: {log_requests: true, log_everything: true}
middlewares: []
`
	cfg, ps, err := Parse([]byte(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"server.tiemout: unknown key — ignored (line 3)",
		"llm.apikey: unknown key — ignored (did you mean api_key?) (line 7)",
		"storage.clickhouse.adresses: unknown key — ignored (did you mean addresses?) (line 10)",
		"interceptors[0].name: unknown key — ignored (line 13)",
		"middlewares: unknown key — ignored (line 15)",
	}
	if got := problemStrings(ps); !reflect.DeepEqual(got, want) {
		t.Errorf("load problems:\n got  %q\n want %q", got, want)
	}
	for _, p := range ps {
		if !p.Warning {
			t.Errorf("%s should be a warning", p)
		}
	}
	// Unknown keys inside a known interceptor's config are Validate's.
	vs := cfg.Validate()
	if got := problemStrings(vs); len(got) != 1 || got[0] != "interceptors[0].config.log_everything: unknown key — ignored (line 14)" {
		t.Errorf("validate problems = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // Problem strings of the *LoadError
	}{
		{"syntax", "server:\n  port: 4000\n  host: [\n", []string{"did not find expected node content (line 3)"}},
		{"tab indentation", "server:\n\tport: 1\n", []string{"found character that cannot start any token (line 2)"}},
		{"not a mapping", "- a\n- b\n", []string{"expected a mapping of sections (server:, llm:, interceptors:, ...), got a list (line 1)"}},
		{"section not a mapping", "server: 4000\n", []string{`server: expected a mapping (key: value), got "4000" (line 1)`}},
		{"several type errors", "server:\n  port: abc\n  workers: 1.5\nsession:\n  enabled: maybe\nllm:\n  timeout: soon\ninterceptors: {type: printer}\n", []string{
			`server.port: expected a whole number, got "abc" (line 2)`,
			`server.workers: expected a whole number, got "1.5" (line 3)`,
			`session.enabled: expected true or false, got "maybe" (line 5)`,
			`llm.timeout: invalid duration "soon": use seconds (30, 0.5) or a Go duration (250ms, 1m30s) (line 7)`,
			`interceptors: expected a list, got a mapping (line 8)`,
		}},
		{"duplicate key", "server:\n  port: 1\n  port: 2\n", []string{"server.port: defined twice (first at line 2) (line 3)"}},
		{"two documents", "server: {}\n---\nllm: {}\n", []string{"more than one YAML document (---); put the whole configuration in one (line 2)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := Parse([]byte(tt.yaml), nil)
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v (%T), want *LoadError", err, err)
			}
			if cfg != nil {
				t.Error("config returned with an error")
			}
			if got := problemStrings(le.Problems); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got  %q\n want %q", got, tt.want)
			}
		})
	}
	_, _, err := Load("testdata/bad.yaml.missing", nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLenientScalars(t *testing.T) {
	data := `server:
  port: "4100"
  workers: 1.0
  access_log: "yes"
session:
  max_sessions: 1e4
  fuzzy: off
logging:
  level: warn
  format: console
`
	cfg, ps, err := Parse([]byte(data), nil)
	if err != nil || len(ps) != 0 {
		t.Fatal(err, ps)
	}
	cfg.Validate()
	if cfg.Server.Port != 4100 || cfg.Server.Workers != 1 || !cfg.Server.AccessLog || cfg.Session.MaxSessions != 10000 || cfg.Session.Fuzzy {
		t.Errorf("server %+v session %+v", cfg.Server, cfg.Session)
	}
	if cfg.Logging.Level != "WARNING" || cfg.Logging.Format != "text" || cfg.Logging.ZerologLevel() != "warn" {
		t.Errorf("logging %+v", cfg.Logging)
	}
}

func TestEmptyAndNullSections(t *testing.T) {
	for _, data := range []string{"", "\n# only a comment\n", "~", "server:\nllm:\ninterceptors:\nlogging:\n  file: null\n"} {
		cfg, ps, err := Parse([]byte(data), nil)
		if err != nil || len(ps) != 0 {
			t.Fatalf("%q: %v %v", data, err, ps)
		}
		d := Default()
		if !reflect.DeepEqual(cfg.Server, d.Server) || !reflect.DeepEqual(cfg.Logging, d.Logging) || !reflect.DeepEqual(cfg.Storage, d.Storage) {
			t.Errorf("%q: defaults lost", data)
		}
	}
}

// TestCloneIsDeep: a clone's interceptor configuration shares no map or
// slice with the original at any depth.
func TestCloneIsDeep(t *testing.T) {
	orig := &Config{Interceptors: []InterceptorConfig{{Type: "printer", Config: map[string]any{
		"list":   []any{"a", map[string]any{"k": "v"}},
		"nested": map[any]any{1: "one", "m": map[string]any{"x": 1}},
	}}}}
	c := orig.Clone()
	cfg := c.Interceptors[0].Config
	cfg["list"].([]any)[0] = "changed"
	cfg["list"].([]any)[1].(map[string]any)["k"] = "changed"
	cfg["nested"].(map[any]any)[1] = "changed"
	cfg["nested"].(map[any]any)["m"].(map[string]any)["x"] = 2
	cfg["added"] = true
	want := map[string]any{
		"list":   []any{"a", map[string]any{"k": "v"}},
		"nested": map[any]any{1: "one", "m": map[string]any{"x": 1}},
	}
	if got := orig.Interceptors[0].Config; !reflect.DeepEqual(got, want) {
		t.Errorf("changing the clone changed the original: %v", got)
	}
}
