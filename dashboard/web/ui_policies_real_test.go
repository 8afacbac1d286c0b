package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
)

// TestPoliciesPageAgainstRealServer: the perimeter binary with guard
// policies, a limit and a log alert destination blocks one call and
// refuses another; the policies page shows the policies in order with
// their decisions and last events, the limit with its refusal, and the
// alert deliveries.
func TestPoliciesPageAgainstRealServer(t *testing.T) {
	b := newBrowser(t)
	base := startMock(t, mockllm.Config{Chunks: 4})
	inst := startPerimeter(t, base, `storage: {engine: none}
policies:
  custom_rules:
    - {id: custom.codename, regex: 'project\s+nightingale', ignore_case: true, severity: high}
  guard:
    - {name: support-monitor, match: {agents: ["support-*"], categories: [pii]}, action: monitor}
    - {name: no-codenames, match: {rules: [custom.codename]}, action: block}
limits:
  - {name: burst, scope: agent, match: "burst-*", requests_per_minute: 1}
alerts:
  decisions: true
  destinations: [{type: log}]
`)
	post := func(agent, text string) int {
		status, _ := inst.send(t, "", agent, []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"`+text+`"}]}`), "")
		return status
	}
	if s := post("sales-1", "tell me about Project Nightingale"); s != 403 {
		t.Fatalf("codename: %d", s)
	}
	if s1, s2 := post("burst-1", "hi"), post("burst-1", "hi"); s1 != 200 || s2 != 429 {
		t.Fatalf("limit: %d then %d", s1, s2)
	}

	tb := b.tab(t, inst.dashboard)
	tb.open("/policies")
	tb.waitTexts("#guard-policies", 10*time.Second, "no-codenames", "custom.codename", "sales-1", "support-monitor")
	tb.waitText("[data-kpi=blocked] .kpi-value", "1", time.Second)
	tb.waitText("[data-kpi=limited] .kpi-value", "1", time.Second)
	tb.waitTexts("#limits", time.Second, "burst-1", "requests per minute")
	tb.waitText("#alerts", "log", 5*time.Second)
	// Policies are listed in the order they are tried.
	txt := tb.text("#guard-policies")
	if strings.Index(txt, "support-monitor") > strings.Index(txt, "no-codenames") {
		t.Fatalf("order: %s", txt)
	}
	tb.shot("policies")
}
