//go:build !race

package edge

import (
	"testing"
)

func TestAllocsGuardNoMatch(t *testing.T) {
	g := benchGuard(t)
	if n := testing.AllocsPerRun(200, guardCall(t, g, "sales-bot", string(benchRequest), true)); n != 0 {
		t.Fatalf("a call no policy or limit applies to: %v allocations", n)
	}
	g.lim = unboundedBurst()
	if n := testing.AllocsPerRun(200, guardCall(t, g, "burst-1", string(benchRequest), true)); n != 0 {
		t.Fatalf("a call one rate limit admits: %v allocations", n)
	}
}
