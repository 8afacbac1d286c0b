package session

import (
	"time"
	"unsafe"
)

// Config sizes and switches a Table. The wiring maps the YAML `session`
// section onto it (enabled, max_sessions, session_ttl_seconds, memory_mb,
// fuzzy); this package does not read configuration itself.
type Config struct {
	// Enabled turns detection on. A disabled Table resolves nothing: every
	// Result is the zero Result (Match == MatchDisabled, empty ID).
	Enabled bool

	// MaxSessions bounds the sessions tracked at once. Creating one more
	// evicts the least recently used (sampled, see docs/sessions.md). 0 means
	// DefaultMaxSessions.
	MaxSessions int

	// TTL is how long an idle session stays resumable. 0 means DefaultTTL.
	TTL time.Duration

	// MemoryMB bounds the session table, in MiB: the session slots (about
	// 350 bytes each), the fuzzy tail index (128 bytes per slot) and, with
	// the rest but never less than 2 MiB, the fingerprint index (freecache).
	// When full, the index forgets its least recently used fingerprints
	// first. 0 means MemoryMBFor(MaxSessions).
	MemoryMB int

	// Fuzzy enables the matching rules of docs/sessions.md beyond the original
	// algorithm. Off, Resolve behaves exactly as the original.
	Fuzzy bool

	// Peers, when set, is asked for the session of a request that carries
	// history this Table does not know (see "Several instances" in
	// docs/sessions.md). nil, the default, is a single instance: Resolve never
	// leaves the process.
	Peers Peers
}

// Defaults of the original (session_utils.py) and of the Perimeter config.
const (
	DefaultMaxSessions = 10000
	DefaultTTL         = time.Hour
)

// indexBytesPerSession is the fingerprint index's share of the default
// size per session: about 40 fingerprints of 49 bytes (a signature and a
// reply anchor per turn), so that every one of MaxSessions sessions can
// keep its last 20 turns resumable before the index forgets any.
const indexBytesPerSession = 2 << 10

// MemoryMBFor is the default size in MiB of a table of maxSessions
// sessions (25 MiB for the original's 10,000): their slots, the fuzzy tail
// index and indexBytesPerSession of fingerprints each. Past about 20 turns
// per live session the index forgets the least recently used states
// first; the latest state of a session is the most recently used, so
// follow-ups still resolve, only jumps back to older states may not.
func MemoryMBFor(maxSessions int) int {
	if maxSessions <= 0 {
		maxSessions = DefaultMaxSessions
	}
	b := maxSessions*(int(unsafe.Sizeof(slot{}))+indexBytesPerSession) + int(tailsLen(maxSessions))*int(unsafe.Sizeof(tailEntry{}))
	return max((b+1<<20-1)>>20, (minIndexBytes>>20)+1)
}

// DefaultConfig is detection on, the original's limits, fuzzy matching on,
// and the table sized for them (MemoryMBFor).
func DefaultConfig() Config {
	return Config{Enabled: true, MaxSessions: DefaultMaxSessions, TTL: DefaultTTL, MemoryMB: MemoryMBFor(DefaultMaxSessions), Fuzzy: true}
}

func (c Config) withDefaults() Config {
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.MemoryMB <= 0 {
		c.MemoryMB = MemoryMBFor(c.MaxSessions)
	}
	return c
}
