package main

import (
	"os"
	"runtime"
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
