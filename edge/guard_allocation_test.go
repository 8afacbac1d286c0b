//go:build !race

package edge

import (
	"testing"

	"github.com/cylestio/perimeter/edge/policy"
	"github.com/cylestio/perimeter/edge/provider"
)

func TestAllocsGuardNoMatch(t *testing.T) {
	g := benchGuard(t)
	ctx := guardCtx("sales-bot", string(benchRequest))
	ex := &exchange{}
	body := ctx.Request.Body()
	if n := testing.AllocsPerRun(200, func() {
		if !g.admit(ctx, ex, provider.OpenAIChat, body) {
			t.Fatal("refused")
		}
		ex.pol.reset()
	}); n != 0 {
		t.Fatalf("a call no policy or limit applies to: %v allocations", n)
	}
	g.lim = policy.NewLimiter([]policy.LimitSpec{{Name: "burst", Scope: policy.ScopeAgent, Match: "burst-*", RequestsPerMinute: 1 << 60}}, nil, 0)
	ctx = guardCtx("burst-1", string(benchRequest))
	if n := testing.AllocsPerRun(200, func() {
		if !g.admit(ctx, ex, provider.OpenAIChat, body) {
			t.Fatal("refused")
		}
		ex.pol.reset()
	}); n != 0 {
		t.Fatalf("a call one rate limit admits: %v allocations", n)
	}
}
