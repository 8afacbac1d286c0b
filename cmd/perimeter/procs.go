package main

import (
	"os"
	"runtime"

	"github.com/cylestio/perimeter/internal/sched"
	"github.com/rs/zerolog"
)

// minProcs is the fewest Go processors the proxy runs with. With one (a
// one-CPU container or taskset), a goroutine busy with analytics — even
// one that yields every 100 µs — keeps the scheduler from polling the
// network: a yielded goroutine is found runnable first, so requests that
// arrived meanwhile wait for the runtime's background poll, up to 10 ms.
// With two, the second processor's thread sleeps in the network poller and
// the kernel wakes it as soon as a request arrives. An explicit GOMAXPROCS
// in the environment is respected.
const minProcs = 2

func ensureProcs() {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < minProcs {
		runtime.GOMAXPROCS(minProcs)
	}
}

// shortenSlices gives the proxy's threads a short scheduling slice, so that
// a request arriving while a background thread runs preempts it
// (sched.LatencySlice explains why). It runs before the pipeline and the
// embedded engine's worker start: their threads set their own priority.
func shortenSlices(log zerolog.Logger) {
	if failed := sched.ShortenSlices(sched.LatencySlice); failed != 0 {
		log.Debug().Int("threads", failed).Msg("could not shorten the scheduling slice of some threads; tail latency may suffer under load")
	}
}
