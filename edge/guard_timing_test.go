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

// BenchmarkGuardNoMatch is what policies and limits cost a call none of
// them applies to: header lookups and the comparison of the caller with
// every match; nothing is parsed or scanned.
func BenchmarkGuardNoMatch(b *testing.B) {
	g := benchGuard(b)
	ctx := guardCtx("sales-bot", string(benchRequest))
	ex := &exchange{}
	body := ctx.Request.Body()
	b.ReportAllocs()
	for b.Loop() {
		if !g.admit(ctx, ex, provider.OpenAIChat, body) {
			b.Fatal("refused")
		}
		ex.pol.reset()
	}
}

// BenchmarkGuardBlock is a call a block policy applies to and blocks:
// parse, scan of the new input (built-in and custom rules), decision and
// the error answer.
func BenchmarkGuardBlock(b *testing.B) {
	g := benchGuard(b)
	ctx := guardCtx("support-1", `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is project nightingale?"}]}`)
	ex := &exchange{}
	body := ctx.Request.Body()
	b.ReportAllocs()
	for b.Loop() {
		if g.admit(ctx, ex, provider.OpenAIChat, body) {
			b.Fatal("not blocked")
		}
		ex.pol.reset()
	}
}

// BenchmarkGuardLimitAdmit is a call one rate limit applies to, admitted.
func BenchmarkGuardLimitAdmit(b *testing.B) {
	g := benchGuard(b)
	g.lim = policy.NewLimiter([]policy.LimitSpec{{Name: "burst", Scope: policy.ScopeAgent, Match: "burst-*", RequestsPerMinute: 1 << 60}}, nil, 0)
	ctx := guardCtx("burst-1", string(benchRequest))
	ex := &exchange{}
	body := ctx.Request.Body()
	b.ReportAllocs()
	for b.Loop() {
		if !g.admit(ctx, ex, provider.OpenAIChat, body) {
			b.Fatal("refused")
		}
		ex.pol.reset()
	}
}

// BenchmarkProxyJSONPoliciesNoMatch is BenchmarkProxyJSON with policies
// and limits that do not apply to the caller.
func BenchmarkProxyJSONPoliciesNoMatch(b *testing.B) {
	benchRun(b, benchProxyOpts(b, Options{Guard: benchGuard(b)}), benchRequest, len(benchJSON))
}
