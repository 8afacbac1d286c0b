package edge

import (
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/edge/policy"
	"github.com/cylestio/perimeter/edge/provider"
)

// benchGuard has policies and limits for agents, workflows and tags the
// benchmark's caller is not, plus one block policy for agent "support-1".
func benchGuard(tb testing.TB) *Guard {
	rules, err := policy.CompileRules([]policy.RuleSpec{{ID: "custom.codename", Literal: "nightingale", Severity: detect.SeverityHigh, Category: detect.CategorySecret}})
	if err != nil {
		tb.Fatal(err)
	}
	g, err := NewPolicyGuard(GuardConfig{
		Rules: rules,
		Policies: []policy.Spec{
			{Name: "support-block", Action: policy.Block, Match: policy.Match{Agents: []string{"support-*"}, Rules: []string{"custom.*"}}},
			{Name: "wf", Action: policy.Redact, Match: policy.Match{Workflows: []string{"wf-*"}, Categories: []string{"pii"}}},
			{Name: "prod", Action: policy.Monitor, Match: policy.Match{Tags: []string{"env:prod"}}},
			{Name: "answers", Action: policy.Redact, Match: policy.Match{Agents: []string{"support-*"}, Directions: []detect.Direction{detect.Response}}},
		},
		Limits: []policy.LimitSpec{
			{Name: "burst", Scope: policy.ScopeAgent, Match: "burst-*", RequestsPerMinute: 100},
			{Name: "team", Scope: policy.ScopeTag, Match: "team:billing", TokensPerHour: 1000},
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func guardCtx(agent, body string) *fasthttp.RequestCtx {
	ctx := &fasthttp.RequestCtx{}
	ctx.Request.Header.SetMethod("POST")
	ctx.Request.SetRequestURI("/v1/chat/completions")
	ctx.Request.Header.Set("X-Cylestio-Agent-Id", agent)
	ctx.Request.Header.Set("X-Cylestio-Session-Id", "bench-session")
	ctx.Request.Header.Set("X-Cylestio-Tags", "team:sales,env:dev")
	ctx.Request.SetBodyString(body)
	return ctx
}

// guardCall returns one call of agent with body through g's admission,
// which fails tb unless admission answers admit.
func guardCall(tb testing.TB, g *Guard, agent, body string, admit bool) func() {
	ctx := guardCtx(agent, body)
	ex := &exchange{}
	b := ctx.Request.Body()
	return func() {
		if g.admit(ctx, ex, provider.OpenAIChat, b) != admit {
			tb.Fatalf("%s: admitted %v, want %v", agent, !admit, admit)
		}
		ex.pol.reset()
	}
}

// unboundedBurst is a rate limit for agents "burst-*" that never refuses.
func unboundedBurst() *policy.Limiter {
	return policy.NewLimiter([]policy.LimitSpec{{Name: "burst", Scope: policy.ScopeAgent, Match: "burst-*", RequestsPerMinute: 1 << 60}}, nil, 0)
}

func benchGuardCall(b *testing.B, call func()) {
	b.ReportAllocs()
	for b.Loop() {
		call()
	}
}

// BenchmarkGuardNoMatch is what policies and limits cost a call none of
// them applies to: header lookups and the comparison of the caller with
// every match; nothing is parsed or scanned.
func BenchmarkGuardNoMatch(b *testing.B) {
	benchGuardCall(b, guardCall(b, benchGuard(b), "sales-bot", string(benchRequest), true))
}

// BenchmarkGuardBlock is a call a block policy applies to and blocks:
// parse, scan of the new input (built-in and custom rules), decision and
// the error answer.
func BenchmarkGuardBlock(b *testing.B) {
	benchGuardCall(b, guardCall(b, benchGuard(b), "support-1", `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is project nightingale?"}]}`, false))
}

// BenchmarkGuardLimitAdmit is a call one rate limit applies to, admitted.
func BenchmarkGuardLimitAdmit(b *testing.B) {
	g := benchGuard(b)
	g.lim = unboundedBurst()
	benchGuardCall(b, guardCall(b, g, "burst-1", string(benchRequest), true))
}

// BenchmarkProxyJSONPoliciesNoMatch is BenchmarkProxyJSON with policies
// and limits that do not apply to the caller.
func BenchmarkProxyJSONPoliciesNoMatch(b *testing.B) {
	benchRun(b, benchProxyOpts(b, Options{Guard: benchGuard(b)}), benchRequest, len(benchJSON))
}
