package configs

import "time"

// Config is the whole product's configuration. Build one with Default,
// LoadLayered or Parse; never from a zero value, which lacks the defaults.
type Config struct {
	Server       ServerConfig        `yaml:"server"`
	LLM          LLMConfig           `yaml:"llm"`
	Session      SessionConfig       `yaml:"session"`
	Interceptors []InterceptorConfig `yaml:"interceptors"`
	Logging      LoggingConfig       `yaml:"logging"`
	// LiveTrace holds the original's top-level live_trace defaults, applied
	// to the live_trace interceptor where its own config lacks them.
	LiveTrace LiveTraceGlobal `yaml:"live_trace"`
	Storage   StorageConfig   `yaml:"storage"`
	Detect    DetectConfig    `yaml:"detect"`
	Pricing   PricingConfig   `yaml:"pricing"`
	// Telemetry is OpenTelemetry export and the Prometheus series.
	Telemetry TelemetryConfig `yaml:"telemetry"`
	// Policies, Limits and Alerts act on traffic inline (edge/policy) and
	// notify off the request path (sink/alert).
	Policies PoliciesConfig `yaml:"policies"`
	Limits   []LimitConfig  `yaml:"limits"`
	Alerts   AlertsConfig   `yaml:"alerts"`

	// lines maps a YAML path ("interceptors[2].config.server_port") to the
	// line it was read from, so Validate can point at the file.
	lines map[string]int
}

// ServerConfig is the proxy's listening side.
type ServerConfig struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// InstanceID names this proxy among several writing one store: it is
	// stamped into every event (column instance_id) and shown by /metrics,
	// /config and the dashboard. Empty means DefaultInstanceID of the
	// host name and server.port, filled in by the run command. Letters,
	// digits and . _ : - only, at most 64.
	InstanceID string `yaml:"instance_id"`
	// Workers is accepted for compatibility and ignored: one process uses
	// every core.
	Workers            int      `yaml:"workers"`
	MaxRequestBodySize ByteSize `yaml:"max_request_body_size"`
	// MaxRequestHeaderSize bounds a request's line and headers together;
	// larger ones get 431. Every client connection holds a read buffer of
	// this size, an open stream to its end.
	MaxRequestHeaderSize ByteSize `yaml:"max_request_header_size"`
	// ReadTimeout bounds reading a client's request (headers and body).
	ReadTimeout Duration `yaml:"read_timeout"`
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// WriteIdleTimeout bounds a single write to a slow client.
	WriteIdleTimeout Duration `yaml:"write_idle_timeout"`
	// ShutdownTimeout is the one deadline of a shutdown after
	// SIGINT/SIGTERM: in-flight requests and streams, then the event
	// pipeline's drain, the OpenTelemetry export and the alerts share it.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// MaxConns limits open client connections; beyond it a connection is
	// answered 503 and closed. 0 means half the process's open-file limit.
	MaxConns int `yaml:"max_conns"`
	// MaxConnsPerIP limits open client connections from one address; 0 is
	// unlimited.
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// MaxInflightBodyBytes bounds the bytes of request bodies held at once
	// by all requests; a request that would pass it is answered 503.
	MaxInflightBodyBytes ByteSize `yaml:"max_inflight_body_bytes"`
	// AccessLog logs every request at info level.
	AccessLog bool `yaml:"access_log"`
	// MemoryLimitMB is a soft limit on the proxy's Go memory, in MiB
	// (runtime/debug.SetMemoryLimit): near it the collector runs more
	// often instead of letting the heap grow to twice what is live. Soft:
	// a heap that needs more still gets it, and while more is live the
	// limit in force is 3/2 of the live heap. 0 (the default) derives it
	// from the other budgets (MemoryLimitAuto); -1 sets none. GOMEMLIMIT
	// in the environment wins over both. Not the embedded engine's memory
	// (storage.embedded), which is its own process.
	MemoryLimitMB int `yaml:"memory_limit_mb"`
}

// Proxy memory budgets behind server.memory_limit_mb: 0.
const (
	// MemoryLimitBaseMB is the proxy's own share: connections, buffers,
	// pools, detection rules, the binary's data.
	MemoryLimitBaseMB = 64
	// MemoryLimitCaptureMB is added when events are captured: the event
	// queues and a paced write of up to 10,000 events rendered for the
	// store. A larger backlog while the store catches up raises the limit
	// in force with it (the run command's guard), rather than have the
	// collector run back to back.
	MemoryLimitCaptureMB = 96
	// MemoryLimitOff is server.memory_limit_mb's value for no limit.
	MemoryLimitOff = -1
	// minMemoryLimitMB is the smallest explicit limit: below it the
	// collector would run all the time.
	minMemoryLimitMB = 32
)

// MemoryLimitAuto is server.memory_limit_mb's default: MemoryLimitBaseMB
// plus the session table (sessionMB, as sized) plus MemoryLimitCaptureMB
// when capture is on. With the defaults (a 25 MiB table) that is 89 MiB
// with capture off and 185 MiB with it.
func MemoryLimitAuto(sessionMB int, capture bool) int {
	mb := MemoryLimitBaseMB + max(sessionMB, 0)
	if capture {
		mb += MemoryLimitCaptureMB
	}
	return mb
}

// LLMConfig is the upstream provider and how to reach it.
type LLMConfig struct {
	// BaseURL is http(s)://host[:port][/prefix]; Validate strips trailing "/".
	BaseURL string `yaml:"base_url"`
	// Type is "openai" or "anthropic"; Validate lower-cases it.
	Type string `yaml:"type"`
	// APIKey, when set, replaces whatever credential the client sent.
	APIKey string `yaml:"api_key"`
	// Timeout is the upstream idle read timeout: no byte for this long
	// answers 504. It is also the default for the two timeouts below.
	Timeout Duration `yaml:"timeout"`
	// MaxRetries is accepted for compatibility with the original and
	// ignored: the proxy does not retry failed calls (a retried call could
	// be billed twice; only a request sent on a pooled connection the
	// upstream had closed is sent again); Validate warns when a file sets
	// it.
	MaxRetries int `yaml:"max_retries"`
	// ConnectTimeout bounds dialing (and the TLS handshake).
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// ResponseHeaderTimeout bounds the time from request sent to the first
	// response byte; 0 means Timeout.
	ResponseHeaderTimeout Duration `yaml:"response_header_timeout"`
	// StreamIdleTimeout is the longest gap between SSE bytes; 0 means Timeout.
	StreamIdleTimeout Duration `yaml:"stream_idle_timeout"`
	// MaxConns is the upstream connection limit per host; 0 means
	// fasthttp's default.
	MaxConns            int      `yaml:"max_conns"`
	MaxIdleConnDuration Duration `yaml:"max_idle_conn_duration"`
	// MaxResponseBufferSize: non-SSE responses up to this size are buffered
	// whole (so they can be analysed); a larger one is answered 502
	// upstream_response_too_large.
	MaxResponseBufferSize ByteSize `yaml:"max_response_buffer_size"`
	// MaxBufferedResponseBytes bounds the bytes of buffered answers held at
	// once by all requests; beyond it answers are refused with 503.
	MaxBufferedResponseBytes ByteSize `yaml:"max_buffered_response_bytes"`
	// TLSCAFile is an extra PEM CA bundle trusted for the upstream.
	TLSCAFile          string `yaml:"tls_ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// HeaderTimeout is the effective response-header timeout.
func (l LLMConfig) HeaderTimeout() time.Duration {
	if l.ResponseHeaderTimeout > 0 {
		return l.ResponseHeaderTimeout.D()
	}
	return l.Timeout.D()
}

// StreamIdle is the effective maximum gap between SSE bytes.
func (l LLMConfig) StreamIdle() time.Duration {
	if l.StreamIdleTimeout > 0 {
		return l.StreamIdleTimeout.D()
	}
	return l.Timeout.D()
}

// SessionConfig controls session detection.
type SessionConfig struct {
	Enabled           bool `yaml:"enabled"`
	MaxSessions       int  `yaml:"max_sessions"`
	SessionTTLSeconds int  `yaml:"session_ttl_seconds"`
	// MemoryMB sizes the session table (slots and the freecache index), in
	// MiB. 0 (the default) sizes it from MaxSessions: about 2.6 KiB a
	// session, 25 MiB for 10,000 (session.MemoryMBFor).
	MemoryMB int `yaml:"memory_mb"`
	// Fuzzy lets a conversation continue when its history was slightly
	// edited (the original's README promise).
	Fuzzy bool `yaml:"fuzzy"`
	// Peers lets the instances behind one load balancer ask each other for
	// the sessions they do not know (docs/sessions.md).
	Peers SessionPeers `yaml:"peers"`
}

// SessionPeers configures session lookups between instances.
type SessionPeers struct {
	// Listen is the host:port where this instance answers its peers'
	// lookups; empty answers none. Never the proxy's port: agents must not
	// reach it.
	Listen string `yaml:"listen"`
	// Addresses are the peers' listen addresses (host:port). The same list
	// may be given to every instance: an instance recognises its own.
	Addresses []string `yaml:"addresses"`
	// Token is the shared secret of the deployment's instances, at least
	// 16 characters; lookups without it are refused.
	Token string `yaml:"token"`
	// Timeout bounds one lookup, all peers together; past it the request
	// starts a new session.
	Timeout Duration `yaml:"timeout"`
	// DownFor is how long a peer that failed or timed out is not asked.
	DownFor Duration `yaml:"down_for"`
}

// Enabled reports whether this instance asks or answers peers.
func (p SessionPeers) Enabled() bool { return p.Listen != "" || len(p.Addresses) > 0 }

// LoggingConfig is the process log.
type LoggingConfig struct {
	// Level is DEBUG, INFO, WARNING, ERROR or CRITICAL (also TRACE); any
	// case on input, WARN means WARNING. Validate upper-cases it.
	Level string `yaml:"level"`
	// Format is "text" or "json"; "console" means text.
	Format string `yaml:"format"`
	File   string `yaml:"file"`
	// MaxFileSize is where logging.file rotates, in whole MiB (see
	// RotateMiB).
	MaxFileSize ByteSize `yaml:"max_file_size"`
	BackupCount int      `yaml:"backup_count"`
	AccessLog   bool     `yaml:"access_log"`
}

// RotateMiB is MaxFileSize in the whole MiB the rotation counts, rounded
// up: 20KB is 1, 1.5MB is 2.
func (l LoggingConfig) RotateMiB() int {
	n := l.MaxFileSize / MiB
	if l.MaxFileSize%MiB != 0 || n == 0 {
		n++
	}
	return int(n)
}

// ZerologLevel maps Level to zerolog's level names ("warn", "fatal" for
// CRITICAL). Unknown levels map to "info".
func (l LoggingConfig) ZerologLevel() string {
	switch normaliseLevel(l.Level) {
	case "TRACE":
		return "trace"
	case "DEBUG":
		return "debug"
	case "WARNING":
		return "warn"
	case "ERROR":
		return "error"
	case "CRITICAL":
		return "fatal"
	}
	return "info"
}

// AccessLogEnabled reports whether per-request access logging is on
// (server.access_log or logging.access_log).
func (c *Config) AccessLogEnabled() bool {
	return c.Server.AccessLog || c.Logging.AccessLog
}

// LiveTraceGlobal is the original's top-level live_trace section.
type LiveTraceGlobal struct {
	SessionCompletionTimeout Duration `yaml:"session_completion_timeout"`
	CompletionCheckInterval  Duration `yaml:"completion_check_interval"`
}

// StorageConfig is where events go (issue 4).
type StorageConfig struct {
	// Engine is "embedded" (chDB, default), "clickhouse" or "none".
	Engine     string           `yaml:"engine"`
	Embedded   EmbeddedStorage  `yaml:"embedded"`
	ClickHouse ClickHouseConfig `yaml:"clickhouse"`
	Batch      BatchConfig      `yaml:"batch"`
	Spill      SpillConfig      `yaml:"spill"`
	// Durability is "spill" (default) or "none". With spill, every batch
	// is appended to the spill log (storage.spill.dir) before any writer
	// sees it, at least every CommitIntervalMS; a process crash (SIGKILL,
	// OOM kill) loses at most the events of the last commit interval, and
	// the next start replays the log. With none, batches wait in memory
	// for their writer (up to storage.embedded.insert_interval_ms plus
	// the batch age) and a crash loses them. Neither survives a power
	// loss: appends are not fsynced (segments are, when sealed).
	Durability string `yaml:"durability"`
	// CommitIntervalMS is how long an event may wait before it is in the
	// spill log with durability spill (it also caps the batch age,
	// storage.batch.max_delay_ms). Default 100.
	CommitIntervalMS int `yaml:"commit_interval_ms"`
	// RetentionDays adds a TTL where the server supports it; 0 keeps forever.
	RetentionDays int `yaml:"retention_days"`
	// Content is what is kept of message texts in every store, recorder
	// and export: "full" (default; credentials masked), "masked" (PII
	// and secrets replaced by typed placeholders) or "metadata" (no text:
	// roles, lengths, hashes, findings, usage). Detection always reads the
	// original text.
	Content string `yaml:"content"`
}

// Storage engines.
const (
	EngineEmbedded   = "embedded"
	EngineClickHouse = "clickhouse"
	EngineNone       = "none"
)

// Durability modes (storage.durability).
const (
	DurabilitySpill = "spill"
	DurabilityNone  = "none"
)

// CommitInterval is CommitIntervalMS as a duration.
func (s StorageConfig) CommitInterval() time.Duration {
	return time.Duration(s.CommitIntervalMS) * time.Millisecond
}

// EmbeddedStorage is the in-process chDB engine.
type EmbeddedStorage struct {
	// Path is the data directory.
	Path string `yaml:"path"`
	// Ephemeral keeps the data in a temporary directory removed at exit,
	// instead of Path: for demos and tests only, and said loudly (startup
	// WARN, /config, the dashboard's storage status). A live_trace
	// interceptor's explicit storage_mode: memory asks for the same.
	Ephemeral bool `yaml:"ephemeral"`
	// LibPath is libchdb.so; empty means CHDB_LIB_PATH or the project's
	// own install location.
	LibPath string `yaml:"lib_path"`
	// InsertIntervalMS is the least time between two inserts into the
	// engine: batches queued meanwhile go in one insert (fewer parts for
	// the engine to merge, a third of its CPU per event). 0 inserts each
	// batch as it comes. Default 1000.
	InsertIntervalMS int `yaml:"insert_interval_ms"`
}

// ClickHouseConfig is a ClickHouse server or cluster (native protocol).
type ClickHouseConfig struct {
	Addresses []string `yaml:"addresses"`
	// DSN ("clickhouse://user:pass@host:9000/db?…") is an alternative to
	// the fields below; when set it wins.
	DSN      string `yaml:"dsn"`
	Database string `yaml:"database"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	TLS      bool   `yaml:"tls"`
	// Cluster, when set, creates Replicated tables plus Distributed tables
	// ON CLUSTER this name.
	Cluster     string   `yaml:"cluster"`
	DialTimeout Duration `yaml:"dial_timeout"`
}

// BatchConfig bounds write batches by size and age.
type BatchConfig struct {
	MaxRows    int `yaml:"max_rows"`
	MaxDelayMS int `yaml:"max_delay_ms"`
	QueueSize  int `yaml:"queue_size"`
}

// MaxDelay is MaxDelayMS as a duration.
func (b BatchConfig) MaxDelay() time.Duration {
	return time.Duration(b.MaxDelayMS) * time.Millisecond
}

// SpillConfig is the local disk buffer used while a store is down.
type SpillConfig struct {
	Dir string `yaml:"dir"`
	// MaxBytes is the disk budget; 0 disables spilling (events beyond the
	// queue are dropped and counted).
	MaxBytes ByteSize `yaml:"max_bytes"`
}

// DetectConfig controls security and PII detection (issue 5).
type DetectConfig struct {
	// Enabled runs detection in the sink pipeline, off the hot path.
	Enabled bool `yaml:"enabled"`
	// Guard is "off" (default), "block" (403 before forwarding) or
	// "redact" (PII and secrets masked before forwarding).
	Guard string `yaml:"guard"`
	// GuardMinSeverity is the lowest severity guard mode acts on:
	// low, medium, high (default) or critical.
	GuardMinSeverity string `yaml:"guard_min_severity"`
}

// Default returns the configuration used when nothing is configured. It is
// the only place defaults live.
func Default() *Config {
	return &Config{
		Server: ServerConfig{
			Host:                 "127.0.0.1",
			Port:                 4000,
			Workers:              1,
			MaxRequestBodySize:   32 * MiB,
			MaxRequestHeaderSize: 8 * KiB,
			ReadTimeout:          Seconds(60),
			IdleTimeout:          Seconds(120),
			WriteIdleTimeout:     Seconds(60),
			ShutdownTimeout:      Seconds(30),

			MaxInflightBodyBytes: 256 * MiB,
		},
		LLM: LLMConfig{
			Timeout:               Seconds(30),
			MaxRetries:            3,
			ConnectTimeout:        Seconds(10),
			MaxConns:              1024,
			MaxIdleConnDuration:   Seconds(90),
			MaxResponseBufferSize: 64 * MiB,

			MaxBufferedResponseBytes: 256 * MiB,
		},
		Session: SessionConfig{
			Enabled:           true,
			MaxSessions:       10000,
			SessionTTLSeconds: 3600,
			MemoryMB:          0,
			Fuzzy:             true,
			Peers:             SessionPeers{Timeout: Duration(25 * time.Millisecond), DownFor: Seconds(5)},
		},
		Logging: LoggingConfig{
			Level:       "INFO",
			Format:      "text",
			MaxFileSize: 10 * MiB,
			BackupCount: 5,
		},
		LiveTrace: LiveTraceGlobal{
			SessionCompletionTimeout: Seconds(30),
			CompletionCheckInterval:  Seconds(10),
		},
		Storage: StorageConfig{
			Engine:   EngineEmbedded,
			Embedded: EmbeddedStorage{Path: "./data/perimeter", InsertIntervalMS: 1000},
			ClickHouse: ClickHouseConfig{
				Addresses:   []string{"127.0.0.1:9000"},
				Database:    "perimeter",
				Username:    "default",
				DialTimeout: Seconds(10),
			},
			Batch:            BatchConfig{MaxRows: 1000, MaxDelayMS: 200, QueueSize: 100000},
			Spill:            SpillConfig{Dir: "./data/spill", MaxBytes: GiB},
			Durability:       DurabilitySpill,
			CommitIntervalMS: 100,
			Content:          ContentFull,
		},
		Telemetry: defaultTelemetry(),
		Pricing:   PricingConfig{RefreshInterval: Duration(DefaultPricingRefresh)},
		Alerts:    defaultAlerts(),
		Detect: DetectConfig{
			Enabled:          true,
			Guard:            "off",
			GuardMinSeverity: "high",
		},
	}
}
