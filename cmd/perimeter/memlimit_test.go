package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
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
		{"derived, full capture", 0, 25, true, 249 << 20},
		{"derived, capture off", 0, 25, false, 89 << 20},
		{"derived, production table", 0, 512, true, 736 << 20},
		{"explicit", 300, 25, true, 300 << 20},
		{"off", configs.MemoryLimitOff, 25, true, math.MaxInt64},
	} {
		got := applyMemoryLimit(configs.ServerConfig{MemoryLimitMB: tc.mb}, tc.sessionMB, tc.capture, zerolog.Nop())
		if inForce := debug.SetMemoryLimit(-1); got != tc.want || inForce != tc.want {
			t.Errorf("%s: returned %d, in force %d, want %d", tc.name, got, inForce, tc.want)
		}
	}

	t.Setenv("GOMEMLIMIT", "123MiB")
	debug.SetMemoryLimit(123 << 20) // what the runtime did at start
	if got := applyMemoryLimit(configs.ServerConfig{MemoryLimitMB: 300}, 25, true, zerolog.Nop()); got != 123<<20 || debug.SetMemoryLimit(-1) != 123<<20 {
		t.Errorf("GOMEMLIMIT=123MiB replaced by %d", debug.SetMemoryLimit(-1))
	}
}
