package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
)

// TestCostAndReplayAgainstRealServer: calls through the perimeter binary
// to the mock provider are priced, and the dashboard's API returns their
// cost per call, session, agent and model as computed here by hand from
// the usage they reported (gpt-4o-mini: 0.15 USD per 1M input tokens,
// 0.075 cached, 0.6 output). In the browser the overview and the session
// show it, and the session page's replay panel re-sends a request, edited,
// through the API to the mock: the answer shows beside the original with
// its cost, an unpriced model shows "unpriced", and nothing of it is
// recorded as agent traffic.
func TestCostAndReplayAgainstRealServer(t *testing.T) {
	b := newBrowser(t)
	// No key configured anywhere: the panel asks for one.
	inst := startWithStore(t, mockllm.Config{Chunks: 6}, "", "OPENAI_API_KEY=", "LLM_API_KEY=")

	const agent = "cost-test-agent"
	inst.conversation(t, agent, "You are the cost test's assistant.", "What will the weather be? Use the tool.")
	sid := inst.sessionOf(t, agent)
	inst.waitStored(t, "/api/session/"+sid, `"cost_status":"priced"`)

	// The API, against hand-computed costs.
	var sess struct {
		Session struct {
			CostUSD     *float64 `json:"cost_usd"`
			CostStatus  string   `json:"cost_status"`
			PricedCalls int64    `json:"priced_calls"`
		} `json:"session"`
		Events []struct {
			Name         string   `json:"name"`
			InputTokens  float64  `json:"input_tokens"`
			OutputTokens float64  `json:"output_tokens"`
			CachedTokens float64  `json:"cached_tokens"`
			CostUSD      *float64 `json:"cost_usd"`
			CostStatus   string   `json:"cost_status"`
		} `json:"events"`
	}
	inst.getJSON(t, "/api/session/"+sid, &sess)
	var total float64
	calls := 0
	for _, e := range sess.Events {
		if e.Name != "llm.call.finish" {
			continue
		}
		calls++
		want := ((e.InputTokens-e.CachedTokens)*0.15 + e.CachedTokens*0.075 + e.OutputTokens*0.6) / 1e6
		if e.InputTokens == 0 || e.CostUSD == nil || math.Abs(*e.CostUSD-want) > 1e-10 || e.CostStatus != "priced" {
			t.Fatalf("call: %+v, want cost %g", e, want)
		}
		total += want
	}
	if calls != 2 || sess.Session.CostUSD == nil || math.Abs(*sess.Session.CostUSD-total) > 1e-10 || sess.Session.PricedCalls != 2 {
		t.Fatalf("session cost %v (%d calls), want %g", sess.Session.CostUSD, calls, total)
	}
	var ag struct {
		Analytics struct {
			TokenSummary struct {
				CostUSD *float64 `json:"cost_usd"`
			} `json:"token_summary"`
			Models []struct {
				Model   string   `json:"model"`
				CostUSD *float64 `json:"cost_usd"`
			} `json:"models"`
		} `json:"analytics"`
	}
	inst.getJSON(t, "/api/agent/"+agent, &ag)
	if c := ag.Analytics.TokenSummary.CostUSD; c == nil || math.Abs(*c-total) > 1e-10 || len(ag.Analytics.Models) != 1 ||
		ag.Analytics.Models[0].CostUSD == nil || math.Abs(*ag.Analytics.Models[0].CostUSD-total) > 1e-10 {
		t.Fatalf("agent cost %+v, want %g", ag.Analytics, total)
	}
	var before struct {
		KPIs struct {
			TotalRequests int64 `json:"total_requests"`
		} `json:"kpis"`
	}
	inst.getJSON(t, "/api/dashboard", &before)

	// A replay through the API: the original's shape, with cost.
	body := `{"request_data":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"again"}]},"api_key":"sk-cost-test-key-0123456789"}`
	raw := inst.api(t, http.MethodPost, "/api/replay", json.RawMessage(body))
	var rp map[string]any
	_ = json.Unmarshal(raw, &rp)
	cost, _ := rp["cost"].(map[string]any)
	if rp["provider"] != "openai" || rp["raw_response"] == nil || rp["parsed"] == nil || cost == nil ||
		cost["total"] == nil || rp["elapsed_ms"] == nil || bytes.Contains(raw, []byte("sk-cost-test-key")) {
		t.Fatalf("replay: %s", raw)
	}

	tb := b.tab(t, inst.dashboard)
	tb.step(t, "overview", func(t *testing.T) {
		tb.open("/")
		tb.waitText("[data-kpi=cost] .kpi-value", "$", 10*time.Second)
		tb.waitText("#agents", "$", 5*time.Second)
	})

	tb.step(t, "session and replay", func(t *testing.T) {
		tb.open("/session/" + sid)
		tb.waitText("[data-testid=session-cost]", "$", 10*time.Second)
		if n := tb.count("[data-testid=call-cost]"); n != 2 {
			t.Fatalf("%d calls show a cost, want 2", n)
		}
		tb.click("[data-testid=replay-open]")
		tb.waitVisible("#replay [data-testid=replay-body]")
		var placeholder, sent string
		tb.evalInto(`document.querySelector('[data-testid=replay-key]').placeholder`, &placeholder)
		if !strings.Contains(placeholder, "required") {
			t.Errorf("key field says %q with no key configured", placeholder)
		}
		tb.evalInto(`document.querySelector('[data-testid=replay-body]').value`, &sent)
		if !strings.Contains(sent, `"gpt-4o-mini"`) || strings.Contains(sent, "_cylestio_metadata") {
			t.Fatalf("replay body: %s", sent)
		}
		// Sent without a key first: the API's refusal is shown.
		tb.click("[data-testid=replay-send]")
		tb.waitText("[data-testid=replay-error]", "No API key available", 10*time.Second)
		tb.eval(`document.querySelector('[data-testid=replay-key]').value = 'sk-browser-test-key-0123456789'`)
		tb.click("[data-testid=replay-send]")
		tb.waitText("[data-testid=replay-answer]", "replay", 15*time.Second)
		tb.waitText("[data-testid=replay-answer-cost]", "$", time.Second)
		tb.waitText("[data-testid=replay-original-cost]", "$", time.Second)
		tb.shot("session-replay")

		// Edited to a model without a price: no cost, never $0.
		tb.eval(`(() => { const t = document.querySelector('[data-testid=replay-body]'); const v = JSON.parse(t.value); v.model = 'mystery-model-x'; t.value = JSON.stringify(v); })()`)
		tb.click("[data-testid=replay-send]")
		tb.waitText("[data-testid=replay-answer]", "mystery-model-x", 15*time.Second)
		tb.waitText("[data-testid=replay-answer-cost]", "unpriced", time.Second)

		// Another upstream for one replay: a second mock, spoken to as
		// Anthropic.
		other, otherBase, err := mockllm.Start(mockllm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		tb.eval(fmt.Sprintf(`(() => {
			document.querySelector('[data-testid=replay-base-url]').value = %q;
			document.querySelector('[data-testid=replay-provider]').value = 'anthropic';
			const t = document.querySelector('[data-testid=replay-body]');
			t.value = JSON.stringify({model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{role: 'user', content: 'hi'}]});
			document.querySelector('[data-testid=replay-send]').click();
		})()`, otherBase))
		tb.waitText("[data-testid=replay-answer]", "claude-sonnet-4-5", 15*time.Second)
		tb.waitText("[data-testid=replay-answer-cost]", "$", time.Second)
	})

	// The replays were not agent traffic.
	time.Sleep(1500 * time.Millisecond)
	var after struct {
		KPIs struct {
			TotalRequests int64 `json:"total_requests"`
		} `json:"kpis"`
	}
	inst.getJSON(t, "/api/dashboard", &after)
	if after.KPIs.TotalRequests != before.KPIs.TotalRequests {
		t.Fatalf("replays were recorded: %d requests, then %d", before.KPIs.TotalRequests, after.KPIs.TotalRequests)
	}
}
