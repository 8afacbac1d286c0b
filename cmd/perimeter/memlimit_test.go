package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/internal/testkit"
)

// TestApplyMemoryLimit: server.memory_limit_mb reaches the runtime,
// derived from the session table and capture when 0, none at -1, and
// GOMEMLIMIT in the environment is left in force whatever the file says.
func TestApplyMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	t.Setenv("GOMEMLIMIT", "")
	for _, tc := range []struct {
		name      string
		mb        int
		sessionMB int
		capture   bool
		want      int64
	}{
		{"derived, full capture", 0, 25, true, 185 << 20},
		{"derived, capture off", 0, 25, false, 89 << 20},
		{"derived, production table", 0, 512, true, 672 << 20},
		{"explicit", 300, 25, true, 300 << 20},
		{"off", configs.MemoryLimitOff, 25, true, math.MaxInt64},
	} {
		got, stop := applyMemoryLimit(configs.ServerConfig{MemoryLimitMB: tc.mb}, tc.sessionMB, tc.capture, zerolog.Nop())
		stop()
		if inForce := debug.SetMemoryLimit(-1); got != tc.want || inForce != tc.want {
			t.Errorf("%s: returned %d, in force %d, want %d", tc.name, got, inForce, tc.want)
		}
	}

	t.Setenv("GOMEMLIMIT", "123MiB")
	debug.SetMemoryLimit(123 << 20) // what the runtime did at start
	got, stop := applyMemoryLimit(configs.ServerConfig{MemoryLimitMB: 300}, 25, true, zerolog.Nop())
	stop()
	if got != 123<<20 || debug.SetMemoryLimit(-1) != 123<<20 {
		t.Errorf("GOMEMLIMIT=123MiB replaced by %d", debug.SetMemoryLimit(-1))
	}
}

// TestMemoryGuardFollowsLiveHeap: with more live than the configured limit
// the limit in force becomes 3/2 of what is live, so the collector does not
// run back to back, and it returns to the configured limit once the live
// heap shrinks.
func TestMemoryGuardFollowsLiveHeap(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	const limit = 32 << 20
	debug.SetMemoryLimit(limit)
	g := &memoryGuard{limit: limit, inForce: limit, log: zerolog.Nop()}
	stop := g.run(5 * time.Millisecond)
	defer stop()

	backlog := make([]byte, 96<<20)
	for i := range backlog {
		backlog[i] = byte(i) // resident, not only reserved
	}
	runtime.GC()
	waitLimit := func(ok func(int64) bool) (l int64) {
		testkit.Eventually(5*time.Second, 5*time.Millisecond, func() bool {
			l = debug.SetMemoryLimit(-1)
			return ok(l)
		})
		return l
	}
	if l := waitLimit(func(l int64) bool { return l >= 144<<20 }); l < 144<<20 {
		t.Fatalf("96 MiB live under a 32 MiB limit: limit in force %d MiB, want at least 144 (3/2 of live)", l>>20)
	}
	runtime.KeepAlive(backlog)
	backlog = nil
	runtime.GC()
	if l := waitLimit(func(l int64) bool { return l == limit }); l != limit {
		t.Fatalf("backlog gone: limit in force %d MiB, want the configured %d", l>>20, limit>>20)
	}

	for _, tc := range [][3]int64{{100, 50, 100}, {100, 120, 180}, {100, 66, 100}, {100, 68, 102}} {
		if got := guardedLimit(tc[0]<<20, tc[1]<<20); got != tc[2]<<20 {
			t.Errorf("limit %d MiB, live %d MiB: %d MiB in force, want %d", tc[0], tc[1], got>>20, tc[2])
		}
	}
}
