package main

import (
	"fmt"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/edge"
	"github.com/cylestio/perimeter/edge/policy"
	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/sink/pricing"
)

// guardHooks receive the guard's decisions (alerts, the dashboard).
type guardHooks struct {
	onDecision func(*policy.Event)
	onLimit    func(*policy.LimitEvent)
}

// newGuard builds the inline guard from policies:, limits: and the
// detect.guard shorthand; nil when none of them is set. pricer prices
// calls for cost limits (nil: cost limits count nothing).
func newGuard(cfg *configs.Config, pricer *pricing.Pricer, hooks guardHooks, log zerolog.Logger) (*edge.Guard, error) {
	gc, err := guardConfig(cfg)
	if err != nil {
		return nil, err
	}
	if pricer != nil {
		gc.Cost = func(model []byte, u *provider.Usage, kind provider.Kind) float64 {
			pu := pricing.Usage{Input: u.InputTokens, Output: u.OutputTokens, Cached: u.CachedTokens, CacheWrite: u.CacheCreationTokens,
				CacheWrite1h: u.CacheCreation1hTokens, Reasoning: u.ReasoningTokens, InputIncludesCache: pricing.UsageShape(kind.Vendor())}
			b, _, ok := pricer.CostOf(string(model), pu)
			if !ok {
				return 0
			}
			return b.Total()
		}
	}
	gc.OnDecision, gc.OnLimit = hooks.onDecision, hooks.onLimit
	g, err := edge.NewPolicyGuard(gc)
	if err != nil || g == nil {
		return nil, err
	}
	log.Info().Int("policies", g.Policies().Len()).Int("custom_rules", g.Policies().Rules().Len()).Int("limits", len(cfg.Limits)).
		Str("detect.guard", cfg.Detect.Guard).Msg("inline guard on: policies and limits apply before calls are forwarded")
	return g, nil
}

// guardConfig maps the validated config onto edge.GuardConfig.
func guardConfig(cfg *configs.Config) (edge.GuardConfig, error) {
	var gc edge.GuardConfig
	rules, err := customRules(cfg)
	if err != nil {
		return gc, err
	}
	gc.Rules = rules
	for _, p := range cfg.Policies.Guard {
		act, _ := policy.ParseAction(p.Action)
		m := policy.Match{Rules: p.Match.Rules, Categories: p.Match.Categories, Agents: p.Match.Agents, Workflows: p.Match.Workflows, Tags: p.Match.Tags}
		if p.Match.MinSeverity != "" {
			m.MinSeverity, _ = detect.ParseSeverity(p.Match.MinSeverity)
		}
		for _, d := range p.Match.Directions {
			if d == "response" {
				m.Directions = append(m.Directions, detect.Response)
			} else {
				m.Directions = append(m.Directions, detect.Request)
			}
		}
		for _, s := range p.Match.Sources {
			src, _ := policy.ParseSource(s)
			m.Sources |= src
		}
		gc.Policies = append(gc.Policies, policy.Spec{Name: p.Name, Match: m, Action: act})
	}
	for _, l := range cfg.Limits {
		scope, _ := policy.ParseScope(l.Scope)
		gc.Limits = append(gc.Limits, policy.LimitSpec{Name: l.Name, Scope: scope, Match: l.Match,
			RequestsPerSecond: int64(l.RequestsPerSecond), RequestsPerMinute: int64(l.RequestsPerMinute),
			TokensPerHour: l.TokensPerHour, TokensPerDay: l.TokensPerDay, CostPerHour: l.CostPerHourUSD, CostPerDay: l.CostPerDayUSD,
			ToolCallsPerSession: int64(l.ToolCallsPerSession), IdenticalToolCalls: int64(l.IdenticalToolCalls), Monitor: l.Action == "monitor"})
	}
	gc.Thresholds = cfg.Alerts.BudgetThresholds
	gc.HoldbackBytes = int(cfg.Policies.StreamHoldbackBytes)
	switch cfg.Detect.Guard {
	case "block":
		gc.Mode = edge.GuardBlock
	case "redact":
		gc.Mode = edge.GuardRedact
	}
	gc.MinSeverity = detect.SeverityHigh
	if s, ok := detect.ParseSeverity(cfg.Detect.GuardMinSeverity); ok {
		gc.MinSeverity = s
	}
	return gc, nil
}

// effectivePolicies is /config's view of what the guard does: policies in
// the order they are tried (detect.guard last) and limits, with counters.
func effectivePolicies(g *edge.Guard) map[string]any {
	if g == nil {
		return map[string]any{"policies": []any{}, "limits": []any{}, "note": "no policies: nothing is blocked, redacted or limited inline (see policies:, limits: and detect.guard)"}
	}
	return g.View()
}

// customRules compiles policies.custom_rules; nil without any.
func customRules(cfg *configs.Config) (*policy.Rules, error) {
	var specs []policy.RuleSpec
	for _, r := range cfg.Policies.CustomRules {
		sev, _ := detect.ParseSeverity(r.Severity)
		cat, _ := detect.ParseCategory(r.Category)
		specs = append(specs, policy.RuleSpec{ID: r.ID, Literal: r.Literal, Regex: r.Regex, IgnoreCase: r.IgnoreCase, Severity: sev, Category: cat, OWASP: r.OWASP})
	}
	if len(specs) == 0 {
		return nil, nil
	}
	rules, err := policy.CompileRules(specs)
	if err != nil {
		return nil, fmt.Errorf("policies.custom_rules: %w", err)
	}
	return rules, nil
}

// pipelineRules scans the custom rules in the pipeline's detection step
// too, so that their findings are stored and alerted on like the built-in
// ones whether or not a policy acts on them. The config is valid, so the
// rules compile.
func pipelineRules(cfg *configs.Config) func([]detect.Finding, *detect.Input) []detect.Finding {
	rules, err := customRules(cfg)
	if err != nil || rules == nil {
		return nil
	}
	return func(dst []detect.Finding, in *detect.Input) []detect.Finding {
		if in.Text != "" {
			dst = rules.AppendScan(dst, in.Text, detect.SourceText)
		}
		if in.ToolArgs != "" {
			dst = rules.AppendScan(dst, in.ToolArgs, detect.SourceToolArgs)
		}
		return dst
	}
}
