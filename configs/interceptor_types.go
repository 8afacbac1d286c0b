package configs

import (
	"net"
	"strings"
)

// PrinterConfig is the printer interceptor.
type PrinterConfig struct {
	LogRequests  bool `yaml:"log_requests"`
	LogResponses bool `yaml:"log_responses"`
	LogBody      bool `yaml:"log_body"`
	ShowSessions bool `yaml:"show_sessions"`
	ShowLLMCalls bool `yaml:"show_llm_calls"`
	ShowTools    bool `yaml:"show_tools"`
}

func defaultPrinter() PrinterConfig {
	return PrinterConfig{LogRequests: true, LogResponses: true, ShowSessions: true, ShowLLMCalls: true, ShowTools: true}
}

func (p PrinterConfig) checked(*problems, string) PrinterConfig { return p }

// MessageLoggerConfig is the message_logger interceptor: JSONL
// conversations with credentials redacted.
type MessageLoggerConfig struct {
	Directory            string `yaml:"directory"`
	Filename             string `yaml:"filename"`
	IncludeSystemPrompts bool   `yaml:"include_system_prompts"`
	IncludeMetadata      bool   `yaml:"include_metadata"`
	BufferSize           int    `yaml:"buffer_size"`
	RedactCredentials    bool   `yaml:"redact_credentials"`
	// FlushInterval flushes a partly filled buffer (the original lost up
	// to buffer_size-1 entries at shutdown).
	FlushInterval Duration `yaml:"flush_interval"`
}

func defaultMessageLogger() MessageLoggerConfig {
	return MessageLoggerConfig{
		Directory:            "./message_logs",
		Filename:             "message_log.jsonl",
		IncludeSystemPrompts: true,
		IncludeMetadata:      true,
		BufferSize:           10,
		RedactCredentials:    true,
		FlushInterval:        Seconds(1),
	}
}

func (m MessageLoggerConfig) checked(ps *problems, path string) MessageLoggerConfig {
	nonEmpty(ps, keyPath(path, "directory"), m.Directory)
	if nonEmpty(ps, keyPath(path, "filename"), m.Filename) && strings.ContainsAny(m.Filename, `/\`) {
		ps.errorf(keyPath(path, "filename"), "must be a file name, not a path (put the folder in directory)")
	}
	atLeast(ps, keyPath(path, "buffer_size"), m.BufferSize, 1)
	nonNegative(ps, keyPath(path, "flush_interval"), m.FlushInterval)
	return m
}

// EventRecorderConfig is the event_recorder interceptor.
type EventRecorderConfig struct {
	OutputDir string `yaml:"output_dir"`
	// FileFormat is "jsonl" or "json".
	FileFormat      string `yaml:"file_format"`
	PrettyPrint     bool   `yaml:"pretty_print"`
	IncludeMetadata bool   `yaml:"include_metadata"`
}

func defaultEventRecorder() EventRecorderConfig {
	return EventRecorderConfig{OutputDir: "./event_logs", FileFormat: "jsonl", IncludeMetadata: true}
}

func (e EventRecorderConfig) checked(ps *problems, path string) EventRecorderConfig {
	nonEmpty(ps, keyPath(path, "output_dir"), e.OutputDir)
	oneOfLower(ps, keyPath(path, "file_format"), &e.FileFormat, "jsonl", "json")
	return e
}

// HTTPRecorderConfig is the http_recorder interceptor.
type HTTPRecorderConfig struct {
	OutputDir              string  `yaml:"output_dir"`
	MaxEventsPerFile       int     `yaml:"max_events_per_file"`
	IncludeHeaders         bool    `yaml:"include_headers"`
	IncludeTiming          bool    `yaml:"include_timing"`
	MaxBodySizeMB          float64 `yaml:"max_body_size_mb"`
	RedactSensitiveHeaders bool    `yaml:"redact_sensitive_headers"`
}

// MaxBodySize is MaxBodySizeMB in bytes.
func (h HTTPRecorderConfig) MaxBodySize() ByteSize { return ByteSize(h.MaxBodySizeMB * float64(MiB)) }

func defaultHTTPRecorder() HTTPRecorderConfig {
	return HTTPRecorderConfig{
		OutputDir:              "./http_recordings",
		MaxEventsPerFile:       100,
		IncludeHeaders:         true,
		IncludeTiming:          true,
		MaxBodySizeMB:          100,
		RedactSensitiveHeaders: true,
	}
}

func (h HTTPRecorderConfig) checked(ps *problems, path string) HTTPRecorderConfig {
	nonEmpty(ps, keyPath(path, "output_dir"), h.OutputDir)
	atLeast(ps, keyPath(path, "max_events_per_file"), h.MaxEventsPerFile, 1)
	if !(h.MaxBodySizeMB > 0) || h.MaxBodySizeMB > 1<<20 {
		ps.errorf(keyPath(path, "max_body_size_mb"), "must be more than 0 (megabytes)")
	}
	if !h.RedactSensitiveHeaders {
		ps.warnf(keyPath(path, "redact_sensitive_headers"), "is false: recordings will contain API keys and cookies")
	}
	return h
}

// LiveTraceConfig is the live_trace interceptor: the dashboard and
// MCP server.
type LiveTraceConfig struct {
	ServerPort      int    `yaml:"server_port"`
	ServerHost      string `yaml:"server_host"`
	AutoOpenBrowser bool   `yaml:"auto_open_browser"`
	MaxEvents       int    `yaml:"max_events"`
	// RetentionMinutes drops incomplete sessions idle longer than this.
	RetentionMinutes int      `yaml:"retention_minutes"`
	RefreshInterval  Duration `yaml:"refresh_interval"`
	// StorageMode, when written, is the original's choice of store:
	// "memory" keeps the embedded engine's data in a temporary directory
	// removed at exit (said loudly at start, in /config and the
	// dashboard); "sqlite" (its persistent mode) puts it on disk next to
	// DBPath. Unset (the default) leaves storage.embedded.path in charge:
	// analytics persist unless asked not to.
	StorageMode              string   `yaml:"storage_mode"`
	DBPath                   string   `yaml:"db_path"`
	SessionCompletionTimeout Duration `yaml:"session_completion_timeout"`
	CompletionCheckInterval  Duration `yaml:"completion_check_interval"`
	EnablePresidio           bool     `yaml:"enable_presidio"`
	// Token is required for non-loopback binds: clients send it as
	// "Authorization: Bearer <token>".
	Token string `yaml:"token"`
}

func defaultLiveTrace() LiveTraceConfig {
	return LiveTraceConfig{
		ServerPort:               7100,
		ServerHost:               "127.0.0.1",
		AutoOpenBrowser:          true,
		MaxEvents:                10000,
		RetentionMinutes:         30,
		RefreshInterval:          Seconds(2),
		DBPath:                   "./trace_data/live_trace.db",
		SessionCompletionTimeout: Seconds(30),
		CompletionCheckInterval:  Seconds(10),
		EnablePresidio:           true,
	}
}

func (l LiveTraceConfig) checked(ps *problems, path string) LiveTraceConfig {
	port(ps, keyPath(path, "server_port"), l.ServerPort)
	l.ServerHost = strings.TrimSpace(l.ServerHost)
	if nonEmpty(ps, keyPath(path, "server_host"), l.ServerHost) && !isLoopback(l.ServerHost) && l.Token == "" {
		ps.errorf(keyPath(path, "token"), "required when server_host (%s) is not a loopback address: the dashboard and /mcp show every prompt", l.ServerHost)
	}
	atLeast(ps, keyPath(path, "max_events"), l.MaxEvents, 1)
	atLeast(ps, keyPath(path, "retention_minutes"), l.RetentionMinutes, 1)
	positive(ps, keyPath(path, "refresh_interval"), l.RefreshInterval)
	positive(ps, keyPath(path, "session_completion_timeout"), l.SessionCompletionTimeout)
	positive(ps, keyPath(path, "completion_check_interval"), l.CompletionCheckInterval)
	l.StorageMode = strings.ToLower(strings.TrimSpace(l.StorageMode))
	switch l.StorageMode {
	case "", "memory":
	case "sqlite":
		nonEmpty(ps, keyPath(path, "db_path"), l.DBPath)
	default:
		ps.warnf(keyPath(path, "storage_mode"), "%q is not memory or sqlite; treated as sqlite (on disk at db_path), like the original", l.StorageMode)
		l.StorageMode = "sqlite"
	}
	return l
}

// isLoopback reports whether host only listens locally. It does not
// resolve names: "localhost" is the one name trusted.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
