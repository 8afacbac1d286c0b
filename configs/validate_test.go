package configs

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidateListsEveryProblem(t *testing.T) {
	data := `server:
  host: ""
  port: 70000
  workers: 0
  read_timeout: -1
llm:
  base_url: ftp://files.example.com
  type: gemini
  timeout: 0
  max_retries: -1
  insecure_skip_verify: true
session:
  max_sessions: 0
logging:
  level: loud
  format: detailed
  backup_count: -2
live_trace:
  completion_check_interval: 0
interceptors:
  - type: live_trace
    config:
      server_port: 0
      server_host: 0.0.0.0
      storage_mode: postgres
  - type: event_recorder
    config: {file_format: xml}
  - type: http_recorder
    enabled: false
    config: {max_events_per_file: 0}
  - config: {}
storage:
  engine: clickhouse
  clickhouse:
    addresses: ["no-port", "db:99999"]
    database: "perimeter; DROP"
  batch: {max_rows: 10, queue_size: 5}
detect:
  guard: shout
`
	cfg, loadProblems, err := Parse([]byte(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(loadProblems) != 0 {
		t.Errorf("load problems: %q", problemStrings(loadProblems))
	}
	want := []string{
		"server.host: must not be empty (use 0.0.0.0 to listen on every interface) (line 2)",
		"server.port: must be 1..65535, got 70000 (line 3)",
		"server.workers: must be at least 1, got 0 (line 4)",
		"server.read_timeout: must not be negative, got -1s (line 5)",
		`llm.base_url: must be an http:// or https:// URL, got "ftp://files.example.com" (line 7)`,
		`llm.type: must be openai or anthropic, got "gemini" (line 8)`,
		"llm.timeout: must be more than 0, got 0s (line 9)",
		"llm.max_retries: must not be negative, got -1 (line 10)",
		"llm.insecure_skip_verify: is true: the upstream's TLS certificate is NOT verified, so anyone on the network path can read prompts and the API key (line 11)",
		"session.max_sessions: must be at least 1, got 0 (line 13)",
		`logging.level: must be one of TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL, got "LOUD" (line 15)`,
		`logging.format: must be one of text, json, got "detailed" (line 16)`,
		"logging.backup_count: must not be negative, got -2 (line 17)",
		"live_trace.completion_check_interval: must be more than 0, got 0s (line 19)",
		"interceptors[0].config.server_port: must be 1..65535, got 0 (line 23)",
		"interceptors[0].config.token: required when server_host (0.0.0.0) is not a loopback address: the dashboard and /mcp show every prompt (line 22)",
		`interceptors[0].config.storage_mode: "postgres" is not memory or sqlite; treated as sqlite (on disk at db_path), like the original (line 25)`,
		`interceptors[1].config.file_format: must be one of jsonl, json, got "xml" (line 27)`,
		"interceptors[2].config.max_events_per_file: must be at least 1, got 0 (interceptor disabled; this becomes an error when it is enabled) (line 30)",
		"interceptors[3].type: required (one of printer, message_logger, event_recorder, http_recorder, live_trace) (line 31)",
		`storage.clickhouse.addresses[0]: must be host:port, got "no-port" (line 35)`,
		`storage.clickhouse.addresses[1]: port must be 1..65535, got "99999" (line 35)`,
		`storage.clickhouse.database: must be a plain identifier (letters, digits, _), got "perimeter; DROP" (line 36)`,
		"storage.batch.queue_size: must be at least batch.max_rows (10), got 5 (line 37)",
		`detect.guard: must be one of off, block, redact, got "shout" (line 39)`,
	}
	got := problemStrings(cfg.Validate())
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Validate:\n got:")
		for _, g := range got {
			t.Errorf("  %s", g)
		}
	}
	warnings := map[string]bool{
		"llm.insecure_skip_verify":                   true,
		"interceptors[0].config.storage_mode":        true,
		"interceptors[2].config.max_events_per_file": true,
	}
	for _, p := range cfg.Validate() {
		if p.Warning != warnings[p.Path] {
			t.Errorf("%s: warning = %v", p, p.Warning)
		}
	}
}

func TestValidateBaseURL(t *testing.T) {
	tests := []struct {
		in, want string // want: normalised value, or the error text
		ok       bool
	}{
		{"https://api.openai.com", "https://api.openai.com", true},
		{"https://api.openai.com/", "https://api.openai.com", true},
		{" http://localhost:8000/v1/ ", "http://localhost:8000/v1", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"api.openai.com", `must start with http:// or https:// (did you mean "https://api.openai.com"?)`, false},
		{"https://", "has no host", false},
		{"https://:443", "has no host", false},
		{"http://host:0", "port must be 1..65535", false},
		{"https://${HOST}", "unresolved ${VAR}", false},
		// Run refuses these (edge), and the user and password are never
		// sent: errors, whose text holds no part of the URL.
		{"https://user:hunter2@proxy.example", "must not carry user:password@", false},
		{"http://127.0.0.1:18001/v1?key=QUERYSECRET", "must not carry a query string or fragment", false},
		{"http://127.0.0.1:18001/v1#QUERYSECRET", "must not carry a query string or fragment", false},
	}
	for _, tt := range tests {
		c := Default()
		c.LLM.BaseURL, c.LLM.Type = tt.in, "openai"
		ps := c.Validate()
		if tt.ok {
			if len(ps) != 0 || c.LLM.BaseURL != tt.want {
				t.Errorf("%q: problems %q, base_url %q", tt.in, problemStrings(ps), c.LLM.BaseURL)
			}
			continue
		}
		if !hasProblem(ps, "llm.base_url", tt.want, false) {
			t.Errorf("%q: problems %q, want %q", tt.in, problemStrings(ps), tt.want)
		}
		for _, p := range ps {
			if strings.Contains(p.Message, "QUERYSECRET") || strings.Contains(p.Message, "hunter2") {
				t.Errorf("%q: the secret is shown: %s", tt.in, p)
			}
		}
	}
}

func TestValidateNormalises(t *testing.T) {
	c := Default()
	c.LLM.BaseURL, c.LLM.Type, c.LLM.APIKey = "https://x.example/", " Anthropic ", " key\n"
	c.Logging.Level, c.Logging.Format = "warn", "JSON"
	c.Storage.Engine = "ClickHouse"
	c.Interceptors = []InterceptorConfig{{Type: " Printer ", Enabled: true}}
	if ps := c.Validate(); len(ps) != 0 {
		t.Fatalf("problems: %q", problemStrings(ps))
	}
	got := []string{c.LLM.BaseURL, c.LLM.Type, c.LLM.APIKey, c.Logging.Level, c.Logging.Format, c.Storage.Engine, c.Interceptors[0].Type}
	want := []string{"https://x.example", "anthropic", "key", "WARNING", "json", "clickhouse", "printer"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	c.LLM.APIKey = "a\r\nX-Evil: 1"
	if !hasProblem(c.Validate(), "llm.api_key", "control characters", false) {
		t.Error("header injection through api_key accepted")
	}
}

func TestValidateConditionalSections(t *testing.T) {
	base := func() *Config {
		c := Default()
		c.LLM.BaseURL, c.LLM.Type = "https://api.openai.com", "openai"
		return c
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		path   string // "" = no problems
	}{
		{"session disabled skips its limits", func(c *Config) { c.Session.Enabled = false; c.Session.MaxSessions = 0 }, ""},
		{"storage none skips batching", func(c *Config) { c.Storage.Engine = "none"; c.Storage.Batch.MaxRows = 0 }, ""},
		{"clickhouse with dsn", func(c *Config) {
			c.Storage.Engine = "clickhouse"
			c.Storage.ClickHouse.Addresses = nil
			c.Storage.ClickHouse.DSN = "clickhouse://u:p@ch:9000/db"
		}, ""},
		{"clickhouse needs an address", func(c *Config) { c.Storage.Engine = "clickhouse"; c.Storage.ClickHouse.Addresses = nil }, "storage.clickhouse.addresses"},
		{"bad dsn", func(c *Config) { c.Storage.Engine = "clickhouse"; c.Storage.ClickHouse.DSN = "mysql://x" }, "storage.clickhouse.dsn"},
		{"spill needs a dir", func(c *Config) { c.Storage.Spill.Dir = "" }, "storage.spill.dir"},
		{"no spill needs no dir", func(c *Config) { c.Storage.Spill.Dir = ""; c.Storage.Spill.MaxBytes = 0 }, ""},
		{"unknown durability", func(c *Config) { c.Storage.Durability = "fsync" }, "storage.durability"},
		{"durability none needs no spill", func(c *Config) { c.Storage.Durability = "None"; c.Storage.Spill.MaxBytes = 0 }, ""},
		{"commit interval positive", func(c *Config) { c.Storage.CommitIntervalMS = 0 }, "storage.commit_interval_ms"},
		{"commit interval bounded", func(c *Config) { c.Storage.CommitIntervalMS = 60001 }, "storage.commit_interval_ms"},
		{"commit interval unchecked without durability", func(c *Config) { c.Storage.Durability = "none"; c.Storage.CommitIntervalMS = 0 }, ""},
		{"unknown engine", func(c *Config) { c.Storage.Engine = "sqlite" }, "storage.engine"},
		{"embedded needs a path", func(c *Config) { c.Storage.Embedded.Path = " " }, "storage.embedded.path"},
		{"insert interval not negative", func(c *Config) { c.Storage.Embedded.InsertIntervalMS = -1 }, "storage.embedded.insert_interval_ms"},
		{"insert interval 0 is each batch at once", func(c *Config) { c.Storage.Embedded.InsertIntervalMS = 0 }, ""},
		{"guard needs detection", func(c *Config) { c.Detect.Enabled = false; c.Detect.Guard = "block" }, "detect.guard"},
		{"loopback dashboard needs no token", func(c *Config) {
			c.Interceptors = []InterceptorConfig{{Type: "live_trace", Enabled: true, Config: map[string]any{"server_host": "::1"}}}
		}, ""},
		{"public dashboard with token", func(c *Config) {
			c.Interceptors = []InterceptorConfig{{Type: "live_trace", Enabled: true, Config: map[string]any{"server_host": "0.0.0.0", "token": "t0k"}}}
		}, ""},
		{"injected keys tolerated", func(c *Config) {
			c.Interceptors = []InterceptorConfig{{Type: "printer", Enabled: true, Config: map[string]any{"enabled": true, "provider_name": "openai"}}}
		}, ""},
		{"removed cylestio_trace", func(c *Config) {
			c.Interceptors = []InterceptorConfig{{Type: "cylestio_trace", Enabled: true}}
		}, "interceptors[0].type"},
		{"two live traces", func(c *Config) {
			c.Interceptors = []InterceptorConfig{{Type: "live_trace", Enabled: true}, {Type: "live_trace", Enabled: true}}
		}, "interceptors[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.mutate(c)
			ps := c.Validate()
			if tt.path == "" && len(ps) != 0 {
				t.Errorf("problems: %q", problemStrings(ps))
			}
			if tt.path != "" && (len(ps) != 1 || ps[0].Path != tt.path) {
				t.Errorf("problems: %q, want one at %s", problemStrings(ps), tt.path)
			}
		})
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Path: "interceptors[2].config.server_port", Message: "must be 1..65535"}, "interceptors[2].config.server_port: must be 1..65535"},
		{Problem{Path: "middlewares", Message: "unknown key — ignored", Warning: true, Line: 12}, "middlewares: unknown key — ignored (line 12)"},
		{Problem{Message: "cannot parse", Line: 3}, "cannot parse (line 3)"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	ps := []Problem{{Warning: true}, {}}
	if !HasErrors(ps) || HasErrors(ps[:1]) || len(Errors(ps)) != 1 || len(Warnings(ps)) != 1 {
		t.Error("HasErrors / Errors / Warnings")
	}
}

// TestDurabilityFollowsTheSpillBudget: durability spill is the default, a
// config that turned spilling off without naming a durability keeps its
// meaning (batches in memory), and one that asks for spill without a spill
// budget is told what to do, at the key it wrote.
func TestDurabilityFollowsTheSpillBudget(t *testing.T) {
	const llm = "llm: {base_url: \"http://127.0.0.1:8000\", type: openai}\n"
	tests := []struct {
		yaml, durability, problem string
	}{
		{"", DurabilitySpill, ""},
		{"storage: {commit_interval_ms: 250}", DurabilitySpill, ""},
		{"storage: {spill: {max_bytes: 0}}", DurabilityNone, ""},
		{"storage: {durability: none}", DurabilityNone, ""},
		{"storage: {durability: spill, spill: {max_bytes: 0}}", DurabilitySpill, "storage.durability: spill needs a spill log"},
		{"storage: {durability: spill, commit_interval_ms: -5}", DurabilitySpill, "storage.commit_interval_ms: must be 1..60000"},
	}
	for _, tt := range tests {
		c, _, err := Parse([]byte(llm+tt.yaml), nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.yaml, err)
		}
		got := problemStrings(c.Validate())
		switch {
		case c.Storage.Durability != tt.durability:
			t.Errorf("%q: durability %q, want %q", tt.yaml, c.Storage.Durability, tt.durability)
		case tt.problem == "" && len(got) != 0:
			t.Errorf("%q: problems %q", tt.yaml, got)
		case tt.problem != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tt.problem)):
			t.Errorf("%q: problems %q, want one starting %q", tt.yaml, got, tt.problem)
		}
	}
	if d := Default(); d.Storage.CommitInterval() != 100*time.Millisecond {
		t.Errorf("default commit interval %v", d.Storage.CommitInterval())
	}
}

// TestOTelProtocol: telemetry.otel.protocol is http (default) or grpc, and
// a grpc endpoint has no path.
func TestOTelProtocol(t *testing.T) {
	for _, c := range []struct {
		yaml, protocol, problem string
	}{
		{"endpoint: http://c:4318", "http", ""},
		{"protocol: GRPC\n    endpoint: http://c:4317", "grpc", ""},
		{"protocol: grpc\n    endpoint: https://c.example", "grpc", ""},
		{"protocol: grpc\n    endpoint: http://c:4317/v1/traces", "grpc", "telemetry.otel.endpoint: over grpc, must be the collector's URL without a path"},
		{"protocol: thrift\n    endpoint: http://c:4317", "thrift", "telemetry.otel.protocol: must be http"},
	} {
		cfg, _, err := Parse([]byte("llm: {base_url: \"http://u\", type: openai}\ntelemetry:\n  otel:\n    enabled: true\n    "+c.yaml+"\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		ps := problemStrings(cfg.Validate())
		if cfg.Telemetry.OTel.Protocol != c.protocol {
			t.Errorf("%q: protocol %q, want %q", c.yaml, cfg.Telemetry.OTel.Protocol, c.protocol)
		}
		if c.problem == "" && len(ps) != 0 || c.problem != "" && (len(ps) != 1 || !strings.HasPrefix(ps[0], c.problem)) {
			t.Errorf("%q: problems %q, want %q", c.yaml, ps, c.problem)
		}
	}
}

func TestValidateSessionPeers(t *testing.T) {
	base := "llm: {base_url: https://api.openai.com, type: openai}\nserver: {host: 0.0.0.0, port: 4000}\n"
	for _, tc := range []struct {
		yaml string
		want []string // path: message prefix; none means valid
		warn string
	}{
		{`session: {peers: {listen: "0.0.0.0:4101", addresses: ["10.0.0.1:4101", "10.0.0.2:4101"], token: "0123456789abcdef"}}`, nil, ""},
		{`session: {peers: {listen: "0.0.0.0:4101", addresses: ["10.0.0.1:4101"]}}`, []string{"session.peers.token: required with session.peers"}, ""},
		{`session: {peers: {listen: ":4000", token: "0123456789abcdef"}}`, []string{"session.peers.listen: must not be the proxy's port 4000"}, ""},
		{`session: {peers: {listen: "4101", token: "0123456789abcdef"}}`, []string{"session.peers.listen: must be host:port"}, ""},
		{`session: {peers: {listen: ":4101", addresses: ["peer-1", "peer-2:0"], token: "0123456789abcdef", timeout: 30s, down_for: -1}}`, []string{
			"session.peers.addresses[0]: must be host:port", "session.peers.addresses[1]: must be host:port",
			"session.peers.timeout: must be 1ms..10s", "session.peers.down_for: must not be negative"}, ""},
		{`session: {peers: {addresses: ["10.0.0.1:4101"], token: "0123456789abcdef"}}`, nil, "session.peers.listen: empty"},
	} {
		cfg, _, err := Parse([]byte(base+tc.yaml), nil)
		if err != nil {
			t.Fatal(err)
		}
		ps := cfg.Validate()
		errs := problemStrings(Errors(ps))
		if len(errs) != len(tc.want) {
			t.Errorf("%s: errors %q, want %d", tc.yaml, errs, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.HasPrefix(errs[i], w) {
				t.Errorf("%s: error %q, want %q", tc.yaml, errs[i], w)
			}
		}
		if tc.warn != "" && !strings.Contains(strings.Join(problemStrings(ps), "\n"), tc.warn) {
			t.Errorf("%s: no warning %q in %q", tc.yaml, tc.warn, problemStrings(ps))
		}
	}
	cfg, _, _ := Parse([]byte(base+`session: {peers: {listen: ":4101", token: "a-very-secret-peer-token"}}`), nil)
	if red, _ := json.Marshal(cfg.Redacted()); strings.Contains(string(red), "a-very-secret-peer-token") {
		t.Error("session.peers.token is not redacted")
	}
}

// TestValidateDashboardPort: the dashboard (the first enabled live_trace)
// on the proxy's port is an error, as run could not listen.
func TestValidateDashboardPort(t *testing.T) {
	base := "llm: {base_url: https://api.openai.com, type: openai}\nserver: {host: %s, port: 18080}\ninterceptors:\n%s"
	const clash = "interceptors[0].config.server_port: must not be the proxy's port 18080"
	for _, tc := range []struct {
		host, interceptors, want string // want: the error's prefix, "" for none
	}{
		{"127.0.0.1", `  - {type: live_trace, enabled: true, config: {server_port: 18080}}`, clash},
		{"0.0.0.0", `  - {type: live_trace, enabled: true, config: {server_port: 18080}}`, clash},
		{"localhost", `  - {type: live_trace, enabled: true, config: {server_port: 18080}}`, clash},
		{"127.0.0.1", `  - {type: live_trace, enabled: true, config: {server_port: 18080, server_host: "::", token: t}}`, clash},
		{"127.0.0.1", `  - {type: live_trace, enabled: true, config: {server_port: 18081}}`, ""},
		{"127.0.0.2", `  - {type: live_trace, enabled: true, config: {server_port: 18080}}`, ""},
		{"127.0.0.1", `  - {type: live_trace, enabled: false, config: {server_port: 18080}}`, ""},
	} {
		cfg, _, err := Parse([]byte(fmt.Sprintf(base, tc.host, tc.interceptors)), nil)
		if err != nil {
			t.Fatal(err)
		}
		errs := problemStrings(Errors(cfg.Validate()))
		if tc.want == "" && len(errs) != 0 || tc.want != "" && (len(errs) != 1 || !strings.HasPrefix(errs[0], tc.want)) {
			t.Errorf("host %s, %s: errors %q, want %q", tc.host, tc.interceptors, errs, tc.want)
		}
	}
}

func TestInstanceID(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int
		want string
	}{
		{"web-1.prod.example", 4000, "web-1.prod.example:4000"},
		{"", 4000, "perimeter:4000"},
		{"-odd host/é", 80, "perimeter-odd-host---:80"},
		{strings.Repeat("h", 80), 65535, strings.Repeat("h", 58) + ":65535"},
	} {
		got := DefaultInstanceID(tc.host, tc.port)
		if got != tc.want {
			t.Errorf("DefaultInstanceID(%q, %d) = %q, want %q", tc.host, tc.port, got, tc.want)
		}
		c := Default()
		c.LLM.BaseURL, c.LLM.Type = "http://127.0.0.1:1", "openai"
		c.Server.InstanceID = got
		if ps := c.Validate(); HasErrors(ps) {
			t.Errorf("default instance id %q is invalid: %v", got, ps)
		}
	}
	for _, bad := range []string{" a", "a b", "-a", "a/b", strings.Repeat("x", 65), "ü"} {
		c := Default()
		c.LLM.BaseURL, c.LLM.Type = "http://127.0.0.1:1", "openai"
		c.Server.InstanceID = bad
		ps := c.Validate()
		if !HasErrors(ps) || !strings.Contains(fmt.Sprint(ps), "server.instance_id") {
			t.Errorf("instance id %q accepted: %v", bad, ps)
		}
	}
}

// TestValidateMemoryBudgets: server.memory_limit_mb is 0 (derived), -1
// (none) or a limit the collector can live with; session.memory_mb 0 is
// "size it from max_sessions", a negative size is an error.
func TestValidateMemoryBudgets(t *testing.T) {
	for _, tc := range []struct {
		limit, session int
		path, want     string
	}{
		{limit: 0}, {limit: MemoryLimitOff}, {limit: 32}, {limit: 4096}, {session: 0}, {session: 1},
		{limit: 16, path: "server.memory_limit_mb", want: "must be at least 32 (MiB), 0 to derive it from the other budgets or -1 for no limit, got 16"},
		{limit: -2, path: "server.memory_limit_mb", want: "got -2"},
		{session: -1, path: "session.memory_mb", want: "must not be negative, got -1"},
	} {
		c := Default()
		c.LLM.BaseURL, c.LLM.Type = "https://x.example", "openai"
		c.Server.MemoryLimitMB, c.Session.MemoryMB = tc.limit, tc.session
		ps := c.Validate()
		if tc.want == "" {
			if len(ps) != 0 {
				t.Errorf("limit %d, session %d: %q", tc.limit, tc.session, problemStrings(ps))
			}
			continue
		}
		if !hasProblem(ps, tc.path, tc.want, false) {
			t.Errorf("limit %d, session %d: problems %q, want %s: %s", tc.limit, tc.session, problemStrings(ps), tc.path, tc.want)
		}
	}
	if got := [...]int{MemoryLimitAuto(25, false), MemoryLimitAuto(25, true), MemoryLimitAuto(512, true)}; got != [...]int{89, 185, 672} {
		t.Errorf("derived limits %v, want 64 + session table (+ 96 with capture)", got)
	}
}

// TestLogRotationSize: logging.file rotates at whole MiB, so a
// max_file_size that is not one is rounded up, with a warning naming the
// size used.
func TestLogRotationSize(t *testing.T) {
	for _, tc := range []struct {
		size string
		mib  int
		warn string // "" for none
	}{
		{"20KB", 1, "logging.max_file_size: 20KB is rounded up to 1 MiB: log files rotate at whole MiB (line 3)"},
		{"1.5MB", 2, "logging.max_file_size: 1536KB is rounded up to 2 MiB: log files rotate at whole MiB (line 3)"},
		{"1048577", 2, "logging.max_file_size: 1048577B is rounded up to 2 MiB: log files rotate at whole MiB (line 3)"},
		{"1MB", 1, ""},
		{"10MiB", 10, ""},
		{"1GB", 1024, ""},
	} {
		cfg, _, err := Parse([]byte("llm: {base_url: https://api.openai.com, type: openai}\nlogging:\n  max_file_size: "+tc.size+"\n  file: perimeter.log\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if ps := problemStrings(cfg.Validate()); strings.Join(ps, "\n") != tc.warn {
			t.Errorf("%s: problems %q, want %q", tc.size, ps, tc.warn)
		}
		if got := cfg.Logging.RotateMiB(); got != tc.mib {
			t.Errorf("%s: RotateMiB %d, want %d", tc.size, got, tc.mib)
		}
	}
}
