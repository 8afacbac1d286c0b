package configs

import (
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks every value and returns every problem at once, errors
// and warnings, each with its YAML path (and line when it came from the
// file). It also normalises: trailing "/" stripped from llm.base_url,
// llm.type, storage.engine and interceptor types lower-cased,
// logging.level upper-cased (WARN becomes WARNING), logging.format
// "console" becomes "text".
func (c *Config) Validate() []Problem {
	ps := &problems{lines: c.lines}
	c.validateServer(ps)
	c.validateLLM(ps)
	c.validateSession(ps)
	c.validateLogging(ps)
	positive(ps, "live_trace.session_completion_timeout", c.LiveTrace.SessionCompletionTimeout)
	positive(ps, "live_trace.completion_check_interval", c.LiveTrace.CompletionCheckInterval)
	c.validateInterceptors(ps)
	c.validateStorage(ps)
	c.validateDetect(ps)
	c.validatePricing(ps)
	c.validateTelemetry(ps)
	c.validatePolicies(ps)
	c.validateLimits(ps)
	c.validateAlerts(ps)
	return ps.list
}

func (c *Config) validateServer(ps *problems) {
	s := &c.Server
	s.Host = strings.TrimSpace(s.Host)
	if s.Host == "" {
		ps.errorf("server.host", "must not be empty (use 0.0.0.0 to listen on every interface)")
	}
	port(ps, "server.port", s.Port)
	if s.InstanceID != "" && !instanceID.MatchString(s.InstanceID) {
		ps.errorf("server.instance_id", "must be 1..64 letters, digits, '.', '_', ':' or '-' starting with a letter or digit, got %q (or leave it empty for <hostname>:<port>)", s.InstanceID)
	}
	atLeast(ps, "server.workers", s.Workers, 1)
	if s.Workers > 1 {
		ps.warnf("server.workers", "is %d but ignored: one Perimeter process already uses every core", s.Workers)
	}
	if s.MaxRequestBodySize <= 0 {
		ps.errorf("server.max_request_body_size", "must be more than 0")
	}
	if s.MaxRequestHeaderSize < KiB || s.MaxRequestHeaderSize > MiB {
		ps.errorf("server.max_request_header_size", "must be 1KB..1MB, got %s (8KB takes what clients send; every client connection holds this much)", s.MaxRequestHeaderSize)
	}
	nonNegative(ps, "server.read_timeout", s.ReadTimeout)
	nonNegative(ps, "server.idle_timeout", s.IdleTimeout)
	nonNegative(ps, "server.write_idle_timeout", s.WriteIdleTimeout)
	nonNegative(ps, "server.shutdown_timeout", s.ShutdownTimeout)
	atLeast(ps, "server.max_conns", s.MaxConns, 0)
	atLeast(ps, "server.max_conns_per_ip", s.MaxConnsPerIP, 0)
	if s.MaxInflightBodyBytes < s.MaxRequestBodySize {
		ps.errorf("server.max_inflight_body_bytes", "must be at least server.max_request_body_size (%s), or no body of the largest size could ever be read", s.MaxRequestBodySize)
	}
	if m := s.MemoryLimitMB; m != 0 && m != MemoryLimitOff && m < minMemoryLimitMB {
		ps.errorf("server.memory_limit_mb", "must be at least %d (MiB), 0 to derive it from the other budgets or -1 for no limit, got %d", minMemoryLimitMB, m)
	}
}

func (c *Config) validateLLM(ps *problems) {
	l := &c.LLM
	l.BaseURL = trimTrailingSlash(strings.TrimSpace(l.BaseURL))
	validateBaseURL(ps, l.BaseURL)

	l.Type = strings.ToLower(strings.TrimSpace(l.Type))
	switch l.Type {
	case "openai", "anthropic":
	case "":
		ps.errorf("llm.type", "required: openai or anthropic (set it in the file, with --type or with LLM_TYPE)")
	default:
		ps.errorf("llm.type", "must be openai or anthropic, got %q", l.Type)
	}

	l.APIKey = strings.TrimSpace(l.APIKey)
	if strings.ContainsFunc(l.APIKey, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		ps.errorf("llm.api_key", "contains control characters (a stray newline?); it would break the request headers")
	}
	positive(ps, "llm.timeout", l.Timeout)
	if _, written := c.lines["llm.max_retries"]; written && l.MaxRetries >= 0 {
		ps.warnf("llm.max_retries", "is accepted for compatibility with the original and ignored: Perimeter does not retry failed calls, which could bill a completion twice (remove it)")
	}
	atLeast(ps, "llm.max_retries", l.MaxRetries, 0)
	nonNegative(ps, "llm.connect_timeout", l.ConnectTimeout)
	nonNegative(ps, "llm.response_header_timeout", l.ResponseHeaderTimeout)
	nonNegative(ps, "llm.stream_idle_timeout", l.StreamIdleTimeout)
	atLeast(ps, "llm.max_conns", l.MaxConns, 0)
	nonNegative(ps, "llm.max_idle_conn_duration", l.MaxIdleConnDuration)
	if l.MaxResponseBufferSize < 0 {
		ps.errorf("llm.max_response_buffer_size", "must not be negative")
	}
	if l.MaxBufferedResponseBytes < l.MaxResponseBufferSize {
		ps.errorf("llm.max_buffered_response_bytes", "must be at least llm.max_response_buffer_size (%s), or no answer of the largest size could ever be buffered", l.MaxResponseBufferSize)
	}
	if l.InsecureSkipVerify {
		ps.warnf("llm.insecure_skip_verify", "is true: the upstream's TLS certificate is NOT verified, so anyone on the network path can read prompts and the API key")
	}
}

// trimTrailingSlash strips trailing "/" but never into the "://".
func trimTrailingSlash(u string) string {
	t := strings.TrimRight(u, "/")
	if i := strings.Index(u, "://"); i >= 0 && len(t) < i+3 {
		return u
	}
	return t
}

func validateBaseURL(ps *problems, raw string) {
	const path = "llm.base_url"
	if raw == "" {
		ps.errorf(path, "required (set it in the file, with --base-url or with LLM_BASE_URL)")
		return
	}
	shown := redactString(raw)
	if strings.Contains(raw, "${") {
		ps.errorf(path, "contains an unresolved ${VAR}: %q", shown)
		return
	}
	if !strings.Contains(raw, "://") {
		ps.errorf(path, "must start with http:// or https:// (did you mean %q?)", "https://"+shown)
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		ps.errorf(path, "must be an http:// or https:// URL, got %q", shown)
		return
	}
	if u.Host == "" || u.Hostname() == "" {
		ps.errorf(path, "has no host: %q", shown)
		return
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			ps.errorf(path, "port must be 1..65535, got %q", p)
		}
	}
	// Neither is sent upstream; the proxy refuses to start with them (edge),
	// and a credential there would be dropped without a word. The messages
	// leave the URL out: a query often carries a key.
	if u.User != nil {
		ps.errorf(path, "must not carry user:password@: Perimeter sends no Basic auth upstream, so it would be dropped; remove it and put the provider key in llm.api_key")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		ps.errorf(path, "must not carry a query string or fragment (\"?…\" or \"#…\"): only scheme, host and path prefix are used; remove it and put a key in llm.api_key")
	}
}

func (c *Config) validateSession(ps *problems) {
	s := c.Session
	if !s.Enabled {
		return
	}
	atLeast(ps, "session.max_sessions", s.MaxSessions, 1)
	atLeast(ps, "session.session_ttl_seconds", s.SessionTTLSeconds, 1)
	atLeast(ps, "session.memory_mb", s.MemoryMB, 0)
	c.validateSessionPeers(ps)
}

// minPeerToken is the shortest session.peers.token (session/peer's
// MinTokenLength; configs imports no other package of the module).
const minPeerToken = 16

// maxPeers is the most session.peers.addresses (session/peer's limit).
const maxPeers = 64

func (c *Config) validateSessionPeers(ps *problems) {
	p := c.Session.Peers
	if !p.Enabled() {
		return
	}
	if len(p.Token) < minPeerToken {
		ps.errorf("session.peers.token", "required with session.peers (at least %d characters, the same on every instance, e.g. \"${PERIMETER_PEER_TOKEN}\")", minPeerToken)
	}
	if p.Listen != "" {
		host, port, err := net.SplitHostPort(p.Listen)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil || n < 1 || n > 65535:
			ps.errorf("session.peers.listen", "must be host:port (e.g. 0.0.0.0:4101), got %q", p.Listen)
		case ListenersClash(host, n, c.Server.Host, c.Server.Port):
			ps.errorf("session.peers.listen", "must not be the proxy's port %d: agents must not reach session lookups", n)
		}
	} else {
		ps.warnf("session.peers.listen", "empty: this instance asks its peers but answers none of them (give every instance a listen address)")
	}
	if len(p.Addresses) > maxPeers {
		ps.errorf("session.peers.addresses", "at most %d peers, got %d (route by a header hash instead, see docs/sessions.md)", maxPeers, len(p.Addresses))
	}
	for i, addr := range p.Addresses {
		host, port, err := net.SplitHostPort(addr)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			ps.errorf(indexPath("session.peers.addresses", i), "must be host:port of a peer's session.peers.listen, got %q", addr)
		}
	}
	if p.Timeout < Duration(time.Millisecond) || p.Timeout > Seconds(10) {
		ps.errorf("session.peers.timeout", "must be 1ms..10s (a lookup waits this long at most; a few ms suit one data centre), got %v", p.Timeout)
	}
	if p.DownFor < 0 {
		ps.errorf("session.peers.down_for", "must not be negative, got %v", p.DownFor)
	}
}

var logLevels = []string{"TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}

func normaliseLevel(s string) string {
	l := strings.ToUpper(strings.TrimSpace(s))
	switch l {
	case "WARN":
		return "WARNING"
	case "FATAL":
		return "CRITICAL"
	}
	return l
}

func (c *Config) validateLogging(ps *problems) {
	l := &c.Logging
	l.Level = normaliseLevel(l.Level)
	oneOf(ps, "logging.level", l.Level, logLevels...)
	l.Format = strings.ToLower(strings.TrimSpace(l.Format))
	if l.Format == "console" {
		l.Format = "text"
	}
	oneOf(ps, "logging.format", l.Format, "text", "json")
	if l.MaxFileSize <= 0 {
		ps.errorf("logging.max_file_size", "must be more than 0")
	} else if l.MaxFileSize%MiB != 0 {
		ps.warnf("logging.max_file_size", "%s is rounded up to %d MiB: log files rotate at whole MiB", l.MaxFileSize, l.RotateMiB())
	}
	atLeast(ps, "logging.backup_count", l.BackupCount, 0)
}

func (c *Config) validateInterceptors(ps *problems) {
	liveTraces := 0
	for i := range c.Interceptors {
		ic := &c.Interceptors[i]
		path := indexPath("interceptors", i)
		ic.Type = strings.ToLower(strings.TrimSpace(ic.Type))
		if ic.Type == "" {
			ps.errorf(keyPath(path, "type"), "required (one of %s)", strings.Join(KnownInterceptorTypes(), ", "))
			continue
		}
		sub := &problems{lines: c.lines}
		cfgPath := keyPath(path, "config")
		switch ic.Type {
		case TypePrinter:
			decodeTyped(ic.Config, defaultPrinter(), cfgPath, sub, c.lines)
		case TypeMessageLogger:
			decodeTyped(ic.Config, defaultMessageLogger(), cfgPath, sub, c.lines)
		case TypeEventRecorder:
			decodeTyped(ic.Config, defaultEventRecorder(), cfgPath, sub, c.lines)
		case TypeHTTPRecorder:
			decodeTyped(ic.Config, defaultHTTPRecorder(), cfgPath, sub, c.lines)
		case TypeLiveTrace:
			lt := decodeTyped(ic.Config, defaultLiveTrace(), cfgPath, sub, c.lines)
			if ic.Enabled {
				liveTraces++
				switch {
				case liveTraces > 1:
					ps.warnf(path, "a second enabled live_trace interceptor is ignored: only the first one runs the dashboard")
				case !HasErrors(sub.list) && ListenersClash(lt.ServerHost, lt.ServerPort, c.Server.Host, c.Server.Port):
					sub.errorf(keyPath(cfgPath, "server_port"), "must not be the proxy's port %d (server.port): the dashboard would take it and the proxy could not listen", lt.ServerPort)
				}
			}
		case "cylestio_trace":
			ps.warnf(keyPath(path, "type"), "cylestio_trace was removed from the original gateway and is not supported — skipped")
		default:
			ps.warnf(keyPath(path, "type"), "unknown interceptor type %q — skipped (known: %s)", ic.Type, strings.Join(KnownInterceptorTypes(), ", "))
		}
		for _, p := range sub.list {
			if !ic.Enabled && !p.Warning {
				p.Warning = true
				p.Message += " (interceptor disabled; this becomes an error when it is enabled)"
			}
			ps.list = append(ps.list, p)
		}
	}
}

// ListenersClash reports whether listeners on host1:port1 and host2:port2
// would want the same socket: the same port on hosts that overlap (the
// same, either one empty or a wildcard, or localhost and a loopback
// address). It resolves no names.
func ListenersClash(host1 string, port1 int, host2 string, port2 int) bool {
	if port1 != port2 {
		return false
	}
	h1, h2 := normaliseListenHost(host1), normaliseListenHost(host2)
	switch {
	case h1 == "" || h2 == "" || h1 == h2:
		return true
	case h1 == "localhost":
		return isLoopback(h2)
	case h2 == "localhost":
		return isLoopback(h1)
	}
	return false
}

// normaliseListenHost is host without brackets, lower-cased, with every
// wildcard address as "".
func normaliseListenHost(host string) string {
	h := strings.ToLower(strings.Trim(strings.TrimSpace(host), "[]"))
	if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
		return ""
	}
	return h
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// instanceID is what server.instance_id may be: short, printable, safe in
// a metric label, a log field and a file name.
var instanceID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// DefaultInstanceID is the instance id of a proxy on host listening on
// port: "host:port", with every character server.instance_id does not
// allow replaced by '-' and the host cut so that the whole fits; an empty
// host name is "perimeter".
func DefaultInstanceID(host string, port int) string {
	suffix := ":" + strconv.Itoa(port)
	b := []byte(host)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) == 0 || !(b[0] >= 'a' && b[0] <= 'z' || b[0] >= 'A' && b[0] <= 'Z' || b[0] >= '0' && b[0] <= '9') {
		b = append([]byte("perimeter"), b...)
	}
	if len(b) > 64-len(suffix) {
		b = b[:64-len(suffix)]
	}
	return string(b) + suffix
}

func (c *Config) validateStorage(ps *problems) {
	s := &c.Storage
	s.Engine = strings.ToLower(strings.TrimSpace(s.Engine))
	if s.Engine == "" {
		s.Engine = EngineEmbedded
	}
	s.Durability = strings.ToLower(strings.TrimSpace(s.Durability))
	switch s.Durability {
	case "":
		s.Durability = DurabilitySpill
		fallthrough
	case DurabilitySpill:
		if s.Spill.MaxBytes <= 0 {
			if _, written := c.lines["storage.durability"]; written {
				ps.errorf("storage.durability", "spill needs a spill log: set storage.spill.max_bytes (and storage.spill.dir), or durability: none to keep batches in memory only (a crash loses them)")
			} else {
				// Spilling turned off and durability left to its default:
				// batches wait in memory, as storage.spill.max_bytes says.
				s.Durability = DurabilityNone
			}
		}
		if s.CommitIntervalMS < 1 || s.CommitIntervalMS > 60000 {
			ps.errorf("storage.commit_interval_ms", "must be 1..60000 (milliseconds a crash may lose), got %d", s.CommitIntervalMS)
		}
	case DurabilityNone:
	default:
		ps.errorf("storage.durability", "must be spill or none, got %q", s.Durability)
	}
	switch s.Engine {
	case EngineNone:
		return
	case EngineEmbedded:
		nonEmpty(ps, "storage.embedded.path", s.Embedded.Path)
		atLeast(ps, "storage.embedded.insert_interval_ms", s.Embedded.InsertIntervalMS, 0)
	case EngineClickHouse:
		validateClickHouse(ps, s.ClickHouse)
	default:
		ps.errorf("storage.engine", "must be embedded, clickhouse or none, got %q", s.Engine)
		return
	}
	atLeast(ps, "storage.batch.max_rows", s.Batch.MaxRows, 1)
	atLeast(ps, "storage.batch.max_delay_ms", s.Batch.MaxDelayMS, 1)
	if s.Batch.QueueSize < s.Batch.MaxRows {
		ps.errorf("storage.batch.queue_size", "must be at least batch.max_rows (%d), got %d", s.Batch.MaxRows, s.Batch.QueueSize)
	}
	if s.Spill.MaxBytes < 0 {
		ps.errorf("storage.spill.max_bytes", "must not be negative")
	} else if s.Spill.MaxBytes > 0 {
		nonEmpty(ps, "storage.spill.dir", s.Spill.Dir)
	}
	atLeast(ps, "storage.retention_days", s.RetentionDays, 0)
}

func validateClickHouse(ps *problems, ch ClickHouseConfig) {
	if ch.DSN != "" {
		u, err := url.Parse(ch.DSN)
		if err != nil || u.Host == "" || !slices.Contains([]string{"clickhouse", "tcp", "http", "https"}, u.Scheme) {
			ps.errorf("storage.clickhouse.dsn", "must look like clickhouse://user:password@host:9000/database")
		}
	} else if len(ch.Addresses) == 0 {
		ps.errorf("storage.clickhouse.addresses", "required when storage.engine is clickhouse (host:port of the native protocol, usually 9000)")
	}
	for i, addr := range ch.Addresses {
		path := indexPath("storage.clickhouse.addresses", i)
		host, p, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			ps.errorf(path, "must be host:port, got %q", addr)
			continue
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			ps.errorf(path, "port must be 1..65535, got %q", p)
		}
	}
	if ch.DSN == "" && !identifier.MatchString(ch.Database) {
		ps.errorf("storage.clickhouse.database", "must be a plain identifier (letters, digits, _), got %q", ch.Database)
	}
	if ch.Cluster != "" && !identifier.MatchString(ch.Cluster) {
		ps.errorf("storage.clickhouse.cluster", "must be a plain identifier (letters, digits, _), got %q", ch.Cluster)
	}
	nonNegative(ps, "storage.clickhouse.dial_timeout", ch.DialTimeout)
}

func (c *Config) validateDetect(ps *problems) {
	d := &c.Detect
	d.Guard = strings.ToLower(strings.TrimSpace(d.Guard))
	if d.Guard == "" {
		d.Guard = "off"
	}
	oneOf(ps, "detect.guard", d.Guard, "off", "block", "redact")
	oneOfLower(ps, "detect.guard_min_severity", &d.GuardMinSeverity, "low", "medium", "high", "critical")
	if d.Guard != "off" && !d.Enabled {
		ps.errorf("detect.guard", "is %s but detect.enabled is false", d.Guard)
	}
}

func port(ps *problems, path string, p int) {
	if p < 1 || p > 65535 {
		ps.errorf(path, "must be 1..65535, got %d", p)
	}
}

func atLeast(ps *problems, path string, v, least int) {
	if v < least {
		if least == 0 {
			ps.errorf(path, "must not be negative, got %d", v)
			return
		}
		ps.errorf(path, "must be at least %d, got %d", least, v)
	}
}

func nonNegative(ps *problems, path string, d Duration) {
	if d < 0 {
		ps.errorf(path, "must not be negative, got %s", d)
	}
}

func positive(ps *problems, path string, d Duration) {
	if d <= 0 {
		ps.errorf(path, "must be more than 0, got %s", d)
	}
}

func nonEmpty(ps *problems, path, v string) bool {
	if strings.TrimSpace(v) == "" {
		ps.errorf(path, "must not be empty")
		return false
	}
	return true
}

// oneOfLower lower-cases and trims *v, then checks it as oneOf does.
func oneOfLower(ps *problems, path string, v *string, allowed ...string) {
	*v = strings.ToLower(strings.TrimSpace(*v))
	oneOf(ps, path, *v, allowed...)
}

func oneOf(ps *problems, path, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		ps.errorf(path, "must be one of %s, got %s", strings.Join(allowed, ", "), strconv.Quote(v))
	}
}
