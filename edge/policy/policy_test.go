package policy

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/session"
)

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"secret.*", "secret.github-pat", true}, {"secret.*", "pii.email", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*-prod", "billing-prod", true}, {"*-prod", "billing-prod2", false},
		{"a*b*c", "aXbYc", true}, {"a*b*c", "aXcYb", false}, {"exact", "exact", true}, {"exact", "exactly", false},
	} {
		if got := glob(c.p, c.s); got != c.ok {
			t.Errorf("glob(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

func TestCustomRules(t *testing.T) {
	rs, err := CompileRules([]RuleSpec{
		{ID: "custom.codename", Literal: "Nightingale", IgnoreCase: true, Severity: detect.SeverityHigh, Category: detect.CategorySecret, OWASP: "LLM02:2025"},
		{ID: "custom.ticket", Regex: `TCK-[0-9]{6}`, Severity: detect.SeverityMedium, Category: detect.CategoryPII, OWASP: "LLM02:2025"},
		{ID: "custom.exact", Literal: "s3cr3t-value-123456", Severity: detect.SeverityCritical, Category: detect.CategorySecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	text := "project NIGHTINGALE ships; see TCK-123456 and TCK-999999, token s3cr3t-value-123456"
	fs := rs.AppendScan(nil, text, detect.SourceText)
	got := map[string]int{}
	for _, f := range fs {
		got[f.Rule]++
		if text[f.Start:f.End] == "" || strings.Contains(f.Evidence, text[f.Start:f.End]) && f.End-f.Start > 6 {
			t.Errorf("%s: evidence %q reveals the match %q", f.Rule, f.Evidence, text[f.Start:f.End])
		}
	}
	if got["custom.codename"] != 1 || got["custom.ticket"] != 2 || got["custom.exact"] != 1 {
		t.Fatalf("findings %v", got)
	}
	if _, err := CompileRules([]RuleSpec{{ID: "x", Regex: "(?<=a)b"}}); err == nil {
		t.Fatal("a look-behind compiled")
	}
}

func subject(agent, wf string, tags ...string) *Subject {
	s := &Subject{Agent: []byte(agent), Workflow: []byte(wf)}
	for _, t := range tags {
		k, v, ok := strings.Cut(t, ":")
		if !ok {
			v = "true"
		}
		s.Tags = append(s.Tags, session.Tag{Key: []byte(k), Value: []byte(v)})
	}
	return s
}

func TestSetFirstMatchWins(t *testing.T) {
	set, err := NewSet([]Spec{
		{Name: "support-monitor-pii", Action: Monitor, Match: Match{Categories: []string{"pii"}, Agents: []string{"support-*"}}},
		{Name: "prod-secrets", Action: Block, Match: Match{Rules: []string{"secret.*"}, Tags: []string{"env:prod*"}}},
		{Name: "answers", Action: Redact, Match: Match{Directions: []detect.Direction{detect.Response}, Sources: SourceModel}},
		{Name: "tools-high", Action: Block, Match: Match{MinSeverity: detect.SeverityHigh, Sources: SourceToolResult, Workflows: []string{"wf-1"}}},
		{Name: "rest", Action: Redact, Match: Match{Categories: []string{"pii", "secret"}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	email := &detect.Finding{Rule: "pii.email", Category: detect.CategoryPII, Severity: detect.SeverityMedium}
	key := &detect.Finding{Rule: "secret.github-pat", Category: detect.CategorySecret, Severity: detect.SeverityCritical}
	inj := &detect.Finding{Rule: "llm01.instruction_override", Category: detect.CategoryInjection, Severity: detect.SeverityHigh}
	for _, c := range []struct {
		sub  *Subject
		dir  detect.Direction
		f    *detect.Finding
		src  Source
		want string
	}{
		{subject("support-bot", ""), detect.Request, email, SourceUser, "support-monitor-pii"},
		{subject("billing", ""), detect.Request, email, SourceUser, "rest"},
		{subject("billing", "", "env:production"), detect.Request, key, SourceUser, "prod-secrets"},
		{subject("billing", "", "env:dev"), detect.Request, key, SourceUser, "rest"},
		{subject("billing", ""), detect.Response, email, SourceModel, "answers"},
		{subject("billing", ""), detect.Response, email, SourceToolArgs, ""},
		{subject("billing", "wf-1"), detect.Request, inj, SourceToolResult, "tools-high"},
		{subject("billing", "wf-1"), detect.Request, inj, SourceUser, ""},
		{subject("billing", "wf-2"), detect.Request, inj, SourceToolResult, ""},
	} {
		m := set.Candidates(c.sub, c.dir)
		p := set.Decide(m, c.f, c.src)
		got := ""
		if p != nil {
			got = p.Name
		}
		if got != c.want {
			t.Errorf("agent %s wf %s tags %d dir %d %s from %s: got %q, want %q", c.sub.Agent, c.sub.Workflow, len(c.sub.Tags), c.dir, c.f.Rule, c.src, got, c.want)
		}
	}
}

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d)) }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	return c
}

// N concurrent requests against a limit of L admit exactly L.
func TestLimiterExactUnderConcurrency(t *testing.T) {
	l := NewLimiter([]LimitSpec{
		{Name: "rpm", Scope: ScopeAgent, Match: "bot-*", RequestsPerMinute: 37},
		{Name: "tag", Scope: ScopeTag, Match: "team", RequestsPerMinute: 1000},
	}, nil, 0)
	c := newClock()
	l.Now = c.now
	sub := subject("bot-1", "", "team:a")
	m := l.Applicable(sub)
	if m != 3 {
		t.Fatalf("applicable %b", m)
	}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				if v := l.Admit(m, sub, ToolUse{}); v.Limit == nil {
					ok.Add(1)
				} else {
					if v.Kind != KindRequestsPerMinute || v.RetryAfter != 60 {
						t.Errorf("verdict %+v", v)
					}
					refused.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 37 || refused.Load() != 200-37 {
		t.Fatalf("admitted %d, refused %d", ok.Load(), refused.Load())
	}
	// A refused request counts nothing: the tag limit saw 37.
	views := l.View()
	if views[0].Limited != 163 || views[1].Limited != 0 {
		t.Fatalf("views %+v", views)
	}
	c.add(time.Minute)
	if v := l.Admit(m, sub, ToolUse{}); v.Limit != nil {
		t.Fatalf("next minute refused: %+v", v)
	}
	if l.Applicable(subject("other", "")) != 0 {
		t.Fatal("a limit applied to an agent it does not match")
	}
}

func TestLimiterTokensAndThresholds(t *testing.T) {
	l := NewLimiter([]LimitSpec{{Name: "tok", Scope: ScopeSession, Match: "*", TokensPerHour: 100, CostPerDay: 1}}, []float64{0.8, 1}, 0)
	c := newClock()
	l.Now = c.now
	var evs []LimitEvent
	var mu sync.Mutex
	l.OnEvent = func(e *LimitEvent) { mu.Lock(); evs = append(evs, *e); mu.Unlock() }
	sub := &Subject{Session: []byte("s1")}
	m := l.Applicable(sub)
	admitted := 0
	for range 10 {
		if v := l.Admit(m, sub, ToolUse{}); v.Limit != nil {
			if v.Kind != KindTokensPerHour || v.RetryAfter != 3600 {
				t.Fatalf("verdict %+v", v)
			}
			break
		}
		admitted++
		l.Charge(m, sub, 30, 0.01)
	}
	if admitted != 4 { // 0, 30, 60, 90 are below 100; 120 is not
		t.Fatalf("admitted %d", admitted)
	}
	var th []float64
	for _, e := range evs {
		if e.Action == "threshold" {
			th = append(th, e.Fraction)
		}
	}
	if len(th) != 2 || th[0] != 0.8 || th[1] != 1 {
		t.Fatalf("thresholds %v (events %+v)", th, evs)
	}
	c.add(time.Hour)
	if v := l.Admit(m, sub, ToolUse{}); v.Limit != nil {
		t.Fatalf("next hour refused: %+v", v)
	}
}

// TestLimiterThresholdsPerWindow: each usage window reports a threshold
// once per period: an hourly one again in the next hour, a daily one not.
func TestLimiterThresholdsPerWindow(t *testing.T) {
	l := NewLimiter([]LimitSpec{{Name: "use", Scope: ScopeSession, Match: "*", TokensPerDay: 100, CostPerHour: 1}}, []float64{0.5}, 0)
	c := newClock()
	l.Now = c.now
	var got []string
	l.OnEvent = func(e *LimitEvent) { got = append(got, fmt.Sprintf("%s %s %g/%g", e.Action, e.Kind, e.Used, e.Max)) }
	sub := &Subject{Session: []byte("s1")}
	m := l.Applicable(sub)
	for range 3 {
		l.Charge(m, sub, 30, 0.25)
	}
	want := "threshold tokens_per_day 60/100, threshold cost_per_hour_usd 0.5/1"
	if s := strings.Join(got, ", "); s != want {
		t.Fatalf("in the first hour: %s, want %s", s, want)
	}
	got = nil
	c.add(time.Hour)
	for range 2 {
		l.Charge(m, sub, 1, 0.25)
	}
	if s := strings.Join(got, ", "); s != "threshold cost_per_hour_usd 0.5/1" {
		t.Fatalf("in the next hour: %s, want the hourly threshold again only", s)
	}
}

func TestLimiterToolLoop(t *testing.T) {
	l := NewLimiter([]LimitSpec{{Name: "loop", Scope: ScopeSession, Match: "*", ToolCallsPerSession: 10, IdenticalToolCalls: 3}}, nil, 0)
	sub := &Subject{Session: []byte("s1")}
	m := l.Applicable(sub)
	same := ToolUse{Results: 1, Call: 42}
	for i := range 3 {
		if v := l.Admit(m, sub, same); v.Limit != nil {
			t.Fatalf("identical call %d refused", i+1)
		}
	}
	if v := l.Admit(m, sub, same); v.Kind != KindIdenticalToolCalls {
		t.Fatalf("4th identical call: %+v", v)
	}
	// A different call breaks the run; the session total still counts.
	for i := range 7 {
		if v := l.Admit(m, sub, ToolUse{Results: 1, Call: uint64(100 + i)}); v.Limit != nil {
			t.Fatalf("call %d refused: %+v", 4+i, v)
		}
	}
	if v := l.Admit(m, sub, ToolUse{Results: 1, Call: 7}); v.Kind != KindToolCallsPerSession {
		t.Fatalf("11th tool call: %+v", v)
	}
	// A turn without tool results passes.
	if v := l.Admit(m, sub, ToolUse{}); v.Limit != nil {
		t.Fatalf("plain turn refused: %+v", v)
	}
}

func TestLimiterMonitorPasses(t *testing.T) {
	l := NewLimiter([]LimitSpec{{Name: "m", Scope: ScopeAgent, Match: "*", RequestsPerSecond: 1, Monitor: true}}, nil, 0)
	var n atomic.Int64
	l.OnEvent = func(e *LimitEvent) {
		if e.Action == "monitored" {
			n.Add(1)
		}
	}
	sub := subject("a", "")
	m := l.Applicable(sub)
	for range 5 {
		if v := l.Admit(m, sub, ToolUse{}); v.Limit != nil {
			t.Fatal("monitor refused")
		}
	}
	if n.Load() == 0 || l.View()[0].Monitored != uint64(n.Load()) {
		t.Fatalf("monitored %d, view %+v", n.Load(), l.View()[0])
	}
}

func TestLimiterBoundsKeys(t *testing.T) {
	l := NewLimiter([]LimitSpec{{Name: "s", Scope: ScopeSession, Match: "*", RequestsPerMinute: 1}}, nil, 32)
	for i := range 200 {
		sub := &Subject{Session: []byte("s" + string(rune('a'+i%26)) + string(rune('a'+i/26)))}
		l.Admit(l.Applicable(sub), sub, ToolUse{})
	}
	v := l.View()[0]
	if v.Keys > 32+numShards || v.Untracked == 0 {
		t.Fatalf("keys %d untracked %d", v.Keys, v.Untracked)
	}
}

func TestNamesRoundTrip(t *testing.T) {
	for _, a := range []Action{Monitor, Block, Redact} {
		if got, ok := ParseAction(a.String()); !ok || got != a {
			t.Errorf("action %d: %q reads back as %d, %v", a, a.String(), got, ok)
		}
	}
	for _, s := range []Scope{ScopeAgent, ScopeWorkflow, ScopeSession, ScopeTag} {
		if got, ok := ParseScope(s.String()); !ok || got != s {
			t.Errorf("scope %d: %q reads back as %d, %v", s, s.String(), got, ok)
		}
	}
	if Action(0).String() != "none" || Action(9).String() != "none" || Scope(0).String() != "unknown" || Scope(9).String() != "unknown" {
		t.Errorf("unnamed values: %q %q %q %q", Action(0), Action(9), Scope(0), Scope(9))
	}
	for _, name := range []string{"", "none", "unknown", "Block", "agents"} {
		if _, ok := ParseAction(name); ok {
			t.Errorf("ParseAction(%q) accepted", name)
		}
		if _, ok := ParseScope(name); ok {
			t.Errorf("ParseScope(%q) accepted", name)
		}
	}
	if Block.String() != "block" || ScopeTag.String() != "tag" {
		t.Errorf("names: %s %s", Block, ScopeTag)
	}
}

// A refusal's message writes amounts to 6 significant digits, not the
// float's shortest exact form (0.00037799999999999997).
func TestVerdictMessageAmounts(t *testing.T) {
	a, b := 0.0001, 0.000278 // summed at run time: 0.00037799999999999997
	v := &Verdict{Limit: &Limit{Spec: LimitSpec{Name: "cost", Scope: ScopeAgent}}, Kind: "cost_per_day", Used: a + b, Max: 0.0003}
	if msg := v.Message(); !strings.Contains(msg, "0.000378 of 0.0003)") {
		t.Fatalf("%s", msg)
	}
	v.Used, v.Max = 1200345, 1000000 // whole counts, never 1e+06
	if msg := v.Message(); !strings.Contains(msg, "1200345 of 1000000)") {
		t.Fatalf("%s", msg)
	}
}

// TestAmount: a limit's used and max values in alert titles read as
// people write them, whatever the float sums left behind.
func TestAmount(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0.00037799999999999997, "0.000378"},
		{0.1 + 0.2, "0.3"},
		{12.3456789, "12.3457"},
		{0.5, "0.5"},
		{100, "100"},
		{123456789, "123456789"},
		{0, "0"},
		{-2.5, "-2.5"},
		{1e20, "100000000000000000000"},
		{math.Inf(1), "+Inf"},
	} {
		if got := Amount(tc.v); got != tc.want {
			t.Errorf("Amount(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
