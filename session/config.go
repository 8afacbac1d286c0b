package session

import "time"

// Config sizes and switches a Table. The wiring maps the YAML `session`
// section onto it (enabled, max_sessions, session_ttl_seconds, memory_mb,
// fuzzy); this package does not read configuration itself.
type Config struct {
	// Enabled turns detection on. A disabled Table resolves nothing: every
	// Result is the zero Result (Match == MatchDisabled, empty ID).
	Enabled bool

	// MaxSessions bounds the sessions tracked at once. Creating one more
	// evicts the least recently used (sampled, see doc.go). 0 means
	// DefaultMaxSessions.
	MaxSessions int

	// TTL is how long an idle session stays resumable. 0 means DefaultTTL.
	TTL time.Duration

	// MemoryMB bounds the session table, in MiB: the session slots (about
	// 350 bytes each), the fuzzy tail index (128 bytes per slot) and, with
	// the rest but never less than 2 MiB, the fingerprint index (freecache).
	// When full, the index forgets its least recently used fingerprints
	// first. 0 means DefaultMemoryMB.
	MemoryMB int

	// Fuzzy enables the matching rules of doc.go beyond the original
	// algorithm. Off, Resolve behaves exactly as the original.
	Fuzzy bool

	// Peers, when set, is asked for the session of a request that carries
	// history this Table does not know (see "Several instances" in
	// doc.go). nil, the default, is a single instance: Resolve never
	// leaves the process.
	Peers Peers
}

// Defaults of the original (session_utils.py) and of the Perimeter config.
const (
	DefaultMaxSessions = 10000
	DefaultTTL         = time.Hour
	DefaultMemoryMB    = 64
)

// DefaultConfig is detection on, the original's limits, fuzzy matching on.
func DefaultConfig() Config {
	return Config{Enabled: true, MaxSessions: DefaultMaxSessions, TTL: DefaultTTL, MemoryMB: DefaultMemoryMB, Fuzzy: true}
}

func (c Config) withDefaults() Config {
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.MemoryMB <= 0 {
		c.MemoryMB = DefaultMemoryMB
	}
	return c
}
