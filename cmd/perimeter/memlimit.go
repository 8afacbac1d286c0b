package main

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
)

// applyMemoryLimit sets the soft limit of the proxy's Go memory from
// server.memory_limit_mb (0: configs.MemoryLimitAuto of the session table,
// sessionMB, and whether events are captured) and returns the limit in
// force in bytes, math.MaxInt64 for none, and a stop function for the
// guard that keeps it from starving the proxy (memoryGuard). GOMEMLIMIT in
// the environment wins: the runtime has applied it already and it is left
// alone, unguarded.
//
// The limit is soft: the collector runs more often as the heap nears it,
// instead of letting it grow to twice what is live (GOGC=100).
func applyMemoryLimit(cfg configs.ServerConfig, sessionMB int, capture bool, log zerolog.Logger) (int64, func()) {
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		limit := debug.SetMemoryLimit(-1)
		log.Info().Str("GOMEMLIMIT", env).Int64("memory_limit_bytes", limit).
			Msg("the proxy's memory limit comes from GOMEMLIMIT; server.memory_limit_mb is not used")
		return limit, func() {}
	}
	mb := cfg.MemoryLimitMB
	switch mb {
	case configs.MemoryLimitOff:
		debug.SetMemoryLimit(math.MaxInt64)
		return math.MaxInt64, func() {}
	case 0:
		mb = configs.MemoryLimitAuto(sessionMB, capture)
	}
	limit := int64(mb) << 20
	debug.SetMemoryLimit(limit)
	log.Debug().Int("memory_limit_mb", mb).Bool("derived", cfg.MemoryLimitMB == 0).Msg("soft limit on the proxy's memory")
	g := &memoryGuard{limit: limit, inForce: limit, log: log}
	return limit, g.run(time.Second)
}

// memoryGuard keeps the soft limit from turning into constant collection.
// With more live than the limit allows (a backlog of events while the
// store catches up), Go's collector would run back to back, up to half of
// the CPU, and the proxy would fall further behind. After each check the
// limit in force is the configured one or, when more is live, half as much
// again as what is live (as GOGC=50 would allow), whichever is larger; it
// comes back down as the backlog drains.
type memoryGuard struct {
	limit   int64 // configured
	inForce int64
	log     zerolog.Logger
}

// guardedLimit is the limit in force for a configured limit and what is
// live: the larger of limit and live·3/2.
func guardedLimit(limit, live int64) int64 { return max(limit, live+live/2) }

func (g *memoryGuard) step(live int64) {
	next := guardedLimit(g.limit, live)
	if next == g.inForce {
		return
	}
	if next > g.limit && g.inForce == g.limit {
		g.log.Info().Int64("live_mb", live>>20).Int64("memory_limit_mb", g.limit>>20).Int64("in_force_mb", next>>20).
			Msg("more is live than server.memory_limit_mb allows (a backlog?): the limit follows the live heap until it drains")
	}
	g.inForce = next
	debug.SetMemoryLimit(next)
}

// run checks the live heap every interval until the returned stop is
// called.
func (g *memoryGuard) run(every time.Duration) func() {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				g.step(int64(sample[0].Value.Uint64()))
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-exited }) }
}
