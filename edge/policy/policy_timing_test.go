package policy

import (
	"testing"

	"github.com/cylestio/perimeter/detect"
)

func benchSet(b testing.TB) (*Set, *Limiter) {
	set, err := NewSet([]Spec{
		{Name: "a", Action: Block, Match: Match{Agents: []string{"support-*"}, Rules: []string{"secret.*"}}},
		{Name: "b", Action: Redact, Match: Match{Workflows: []string{"wf-*"}}},
		{Name: "c", Action: Monitor, Match: Match{Tags: []string{"env:prod"}}},
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	lim := NewLimiter([]LimitSpec{
		{Name: "rpm", Scope: ScopeAgent, Match: "support-*", RequestsPerMinute: 100},
		{Name: "tag", Scope: ScopeTag, Match: "team:billing", TokensPerHour: 1000},
	}, nil, 0)
	return set, lim
}

// BenchmarkNoMatch is what a request none of the policies and limits
// apply to pays: the subject is compared with every match.
func BenchmarkNoMatch(b *testing.B) {
	set, lim := benchSet(b)
	sub := subject("sales-bot", "", "team:sales")
	b.ReportAllocs()
	for b.Loop() {
		if set.Candidates(sub, detect.Request)|set.Candidates(sub, detect.Response) != 0 || lim.Applicable(sub) != 0 {
			b.Fatal("matched")
		}
	}
}

// BenchmarkAdmit is a request one rate limit applies to, admitted.
func BenchmarkAdmit(b *testing.B) {
	_, lim := benchSet(b)
	lim.limits[0].Spec.RequestsPerMinute = 1 << 60
	sub := subject("support-1", "")
	m := lim.Applicable(sub)
	b.ReportAllocs()
	for b.Loop() {
		if lim.Admit(m, sub, ToolUse{}).Limit != nil {
			b.Fatal("refused")
		}
	}
}

// BenchmarkDecideBlock is the decision for a finding a block policy
// matches.
func BenchmarkDecideBlock(b *testing.B) {
	set, _ := benchSet(b)
	sub := subject("support-1", "")
	f := &detect.Finding{Rule: "secret.github-pat", Category: detect.CategorySecret, Severity: detect.SeverityCritical}
	b.ReportAllocs()
	for b.Loop() {
		m := set.Candidates(sub, detect.Request)
		if p := set.Decide(m, f, SourceUser); p == nil || p.Action != Block {
			b.Fatal("no block")
		}
	}
}
