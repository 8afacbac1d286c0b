package main

import (
	"math"
	"os"
	"runtime/debug"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
)

// applyMemoryLimit sets the soft limit of the proxy's Go memory from
// server.memory_limit_mb (0: configs.MemoryLimitAuto of the session table,
// sessionMB, and whether events are captured) and returns the limit in
// force in bytes, math.MaxInt64 for none. GOMEMLIMIT in the environment
// wins: the runtime has applied it already and it is left alone.
//
// The limit is soft: the collector runs more often as the heap nears it,
// instead of letting it grow to twice what is live (GOGC=100), and gives
// way when more is live than the limit, spending at most about half of
// the CPU on collection rather than failing or stalling.
func applyMemoryLimit(cfg configs.ServerConfig, sessionMB int, capture bool, log zerolog.Logger) int64 {
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		limit := debug.SetMemoryLimit(-1)
		log.Info().Str("GOMEMLIMIT", env).Int64("memory_limit_bytes", limit).
			Msg("the proxy's memory limit comes from GOMEMLIMIT; server.memory_limit_mb is not used")
		return limit
	}
	mb := cfg.MemoryLimitMB
	switch mb {
	case configs.MemoryLimitOff:
		debug.SetMemoryLimit(math.MaxInt64)
		return math.MaxInt64
	case 0:
		mb = configs.MemoryLimitAuto(sessionMB, capture)
	}
	limit := int64(mb) << 20
	debug.SetMemoryLimit(limit)
	log.Debug().Int("memory_limit_mb", mb).Bool("derived", cfg.MemoryLimitMB == 0).Msg("soft limit on the proxy's memory")
	return limit
}
