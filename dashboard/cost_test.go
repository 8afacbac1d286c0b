package dashboard

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/pricing"
)

// costWorld is traffic priced as sink/pricing stores it (cost_usd, and
// cost_status on every finished call), with the costs written here by
// hand:
//
//	ag-cost-a  c-1  via wf-cost, 1 h ago: gpt-4o-mini priced 0.0012, gpt-4o cut (partial) 0.0005, mystery-x unpriced
//	ag-cost-b  c-2  no workflow, 30 min ago: mystery-x unpriced, gpt-4o-mini without usage, an error
//	ag-cost-c  c-3  2 days ago: old-model stored before pricing (no cost_status)
func costWorld() []*sink.Event {
	var sd seed
	ev := sd.raw
	call := func(agent, session, wf string, at time.Time, model, status string, usd float64, in, o int64) {
		tail := ""
		if wf != "" {
			tail = `,"agent_workflow.id":"` + wf + `"`
		}
		ev(sink.SessionStart, agent, session, at, `{"prompt":"You price things"}`)
		s := ev(sink.LLMCallStart, agent, session, at, `{"llm.model":"`+model+`"}`)
		s.Model, s.Vendor = model, "openai"
		f := ev(sink.LLMCallFinish, agent, session, at.Add(time.Second), `{"llm.model":"`+model+`"`+tail+`}`)
		f.Model, f.Vendor, f.InputTokens, f.OutputTokens, f.TotalTokens, f.DurationMs = model, "openai", in, o, in+o, 300
		f.CostStatus, f.CostUSD = status, usd
	}
	h1, m30 := t0.Add(-time.Hour), t0.Add(-30*time.Minute)
	call("ag-cost-a", "c-1", "wf-cost", h1, "gpt-4o-mini", sink.CostPriced, 0.0012, 1000, 1750)
	call("ag-cost-a", "c-1", "wf-cost", h1.Add(time.Minute), "gpt-4o", sink.CostPartial, 0.0005, 100, 25)
	call("ag-cost-a", "c-1", "wf-cost", h1.Add(2*time.Minute), "mystery-x", sink.CostUnpriced, 0, 10, 10)
	call("ag-cost-b", "c-2", "", m30, "mystery-x", sink.CostUnpriced, 0, 20, 20)
	call("ag-cost-b", "c-2", "", m30.Add(time.Minute), "gpt-4o-mini", sink.CostNoUsage, 0, 0, 0)
	e := ev(sink.LLMCallError, "ag-cost-b", "c-2", m30.Add(2*time.Minute), `{"error.type":"rate_limit_error"}`)
	e.Level, e.Model, e.Status = sink.LevelError, "gpt-4o-mini", 429
	call("ag-cost-c", "c-3", "", t0.Add(-48*time.Hour), "old-model", "", 0, 5, 5)
	return sd.events
}

// zeroCost finds a cost reported as 0: nothing in costWorld costs $0, so
// any would be an unpriced or unknown cost read as zero.
var zeroCost = regexp.MustCompile(`"(cost_usd|total)":0[,}]`)

// TestCost drives every surface that shows cost on both engines: sums
// match the hand-written costs, calls without a price stay null with
// their status, and nothing unpriced reads as $0.
func TestCost(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		st := storeWith(t, engine, costWorld())
		// pricing.models prices mystery-x from now on: stored calls stay
		// unpriced, and /api/cost says the table prices it now.
		in, o := 1.0, 2.0
		p, err := pricing.New(pricing.Options{Models: map[string]pricing.Rates{"mystery-x": {Input: &in, Output: &o}}})
		if err != nil {
			t.Fatal(err)
		}
		testCost(t, testServer(t, st, func(o *Options) { o.Pricer = p }))
	})
}

func testCost(t *testing.T, s *Server) {
	const a, partial = 0.0012, 0.0005
	getCost := func(path string, v any) {
		t.Helper()
		code, raw := call(t, s, "GET", path, nil, nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, raw)
		}
		if m := zeroCost.Find(raw); m != nil {
			t.Fatalf("%s: a cost reads %s: %s", path, m, raw)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}

	var d DashboardResponse
	getCost("/api/dashboard", &d)
	if k := d.KPIs; !usdIs(k.USD, a+partial) || k.Status != "partial" || k.CostCalls != (CostCalls{Priced: 1, Partial: 1, Unpriced: 3, NoUsage: 1}) {
		t.Fatalf("kpis %v %+v", usd(k.USD), k)
	}
	var ag AgentsResponse
	getCost("/api/agents", &ag)
	byAgent := map[string]AgentSummary{}
	for _, x := range ag.Agents {
		byAgent[x.ID] = x
	}
	if x := byAgent["ag-cost-a"]; !usdIs(x.USD, a+partial) || x.Status != "partial" {
		t.Errorf("ag-cost-a %v %s", usd(x.USD), x.Status)
	}
	if x := byAgent["ag-cost-b"]; x.USD != nil || x.Status != "unpriced" {
		t.Errorf("ag-cost-b: unpriced and no usage must be null/unpriced, got %v %s", usd(x.USD), x.Status)
	}
	if x := byAgent["ag-cost-c"]; x.USD != nil || x.Status != "unpriced" {
		t.Errorf("ag-cost-c: a call stored before pricing must be unpriced, got %v %s", usd(x.USD), x.Status)
	}

	var sl SessionListResponse
	getCost("/api/sessions/list?limit=10", &sl)
	bySession := map[string]SessionRow{}
	for _, x := range sl.Sessions {
		bySession[x.ID] = x
	}
	if x := bySession["c-1"]; !usdIs(x.USD, a+partial) || x.Cost.Status != "partial" || bySession["c-2"].USD != nil || bySession["c-2"].Cost.Status != "unpriced" {
		t.Errorf("sessions: c-1 %v %s, c-2 %v %s", usd(bySession["c-1"].USD), bySession["c-1"].Cost.Status, usd(bySession["c-2"].USD), bySession["c-2"].Cost.Status)
	}

	var sd SessionResponse
	getCost("/api/session/c-1", &sd)
	if x := sd.Session; !usdIs(x.USD, a+partial) || x.CostCalls != (CostCalls{Priced: 1, Partial: 1, Unpriced: 1}) {
		t.Errorf("session c-1 %v %+v", usd(x.USD), x.CostCalls)
	}
	var calls []string
	for i, e := range sd.Events {
		tl := sd.Timeline[i]
		if e.Name != sink.LLMCallFinish {
			if e.CostUSD != nil || e.CostStatus != "" || tl.CostStatus != "" {
				t.Errorf("%s carries a cost", e.Name)
			}
			continue
		}
		calls = append(calls, e.Model+" "+e.CostStatus)
		if (e.CostUSD == nil) != (tl.CostUSD == nil) || e.CostStatus != tl.CostStatus {
			t.Errorf("timeline %+v != event %+v", tl, e)
		}
		switch e.Model {
		case "gpt-4o-mini":
			if !usdIs(e.CostUSD, a) {
				t.Errorf("gpt-4o-mini call %v", usd(e.CostUSD))
			}
		case "gpt-4o":
			if !usdIs(e.CostUSD, partial) {
				t.Errorf("gpt-4o call %v", usd(e.CostUSD))
			}
		default:
			if e.CostUSD != nil {
				t.Errorf("unpriced call costs %v", usd(e.CostUSD))
			}
		}
	}
	if len(calls) != 3 || calls[0] != "gpt-4o-mini priced" || calls[1] != "gpt-4o partial" || calls[2] != "mystery-x unpriced" {
		t.Errorf("calls %v", calls)
	}

	var ar AgentResponse
	getCost("/api/agent/ag-cost-a", &ar)
	ts := ar.Analytics.TokenSummary
	if !usdIs(ts.USD, a+partial) || ts.Status != "partial" || ts.PricingLastUpdated == "" {
		t.Errorf("token summary %+v", ts)
	}
	models := map[string]ModelStats{}
	for _, m := range ar.Analytics.Models {
		models[m.Model] = m
	}
	if m := models["gpt-4o-mini"]; !usdIs(m.USD, a) || m.Status != "priced" || m.Priced != 1 {
		t.Errorf("model gpt-4o-mini %+v", m)
	}
	if m := models["mystery-x"]; m.USD != nil || m.Status != "unpriced" || m.Unpriced != 1 {
		t.Errorf("model mystery-x %+v", m)
	}
	if len(ar.Analytics.Timeline) != 1 || !usdIs(ar.Analytics.Timeline[0].USD, a+partial) {
		t.Errorf("agent timeline %+v", ar.Analytics.Timeline)
	}

	// Cost over time: buckets with priced calls sum to the total, a bucket
	// with only an unpriced call is null, an empty one none.
	var tsr TimeseriesResponse
	getCost("/api/timeseries?range=2h&bucket=60", &tsr)
	var sum float64
	statuses := map[string]int{}
	for _, p := range tsr.Points {
		statuses[p.Status]++
		if p.USD != nil {
			sum += *p.USD
		}
	}
	if !usdIs(&sum, a+partial) || statuses["priced"] != 1 || statuses["partial"] != 1 || statuses["unpriced"] != 2 || statuses["no_usage"] != 1 {
		t.Errorf("timeseries sum %v statuses %v", sum, statuses)
	}

	// Per model, per agent, the unpriced models and their hint.
	var c CostResponse
	getCost("/api/cost", &c)
	if !usdIs(c.USD, a+partial) || c.Status != "partial" || c.Calls != 6 || c.CostCalls != (CostCalls{Priced: 1, Partial: 1, Unpriced: 3, NoUsage: 1}) {
		t.Fatalf("cost %v %+v", usd(c.USD), c)
	}
	if len(c.Models) != 4 || c.Models[0].Model != "gpt-4o-mini" || !usdIs(c.Models[0].USD, a) || c.Models[0].Status != "partial" ||
		c.Models[0].PricedAs == nil || *c.Models[0].PricedAs != "gpt-4o-mini" || c.Models[1].Model != "gpt-4o" {
		t.Errorf("models %+v", c.Models)
	}
	if len(c.Agents) != 3 || c.Agents[0].AgentID != "ag-cost-a" || c.Agents[1].USD != nil {
		t.Errorf("agents %+v", c.Agents)
	}
	if len(c.UnpricedModels) != 2 || c.UnpricedModels[0].Model != "mystery-x" || c.UnpricedModels[0].Calls != 2 || !c.UnpricedModels[0].PricedNow ||
		c.UnpricedModels[1].Model != "old-model" || c.UnpricedModels[1].PricedNow || !contains([]string{c.UnpricedModels[1].Hint}, unpricedHint) ||
		!regexp.MustCompile(`pricing\.models`).MatchString(c.Hint) {
		t.Errorf("unpriced %+v hint %q", c.UnpricedModels, c.Hint)
	}
	if c.Pricing.Overrides != 1 || c.Pricing.LastUpdated == "" {
		t.Errorf("pricing %+v", c.Pricing)
	}
	var win CostResponse
	getCost("/api/cost?range=24h&agent_id=ag-cost-b", &win)
	if win.USD != nil || win.Status != "unpriced" || win.Calls != 2 || len(win.UnpricedModels) != 1 {
		t.Errorf("window %+v", win)
	}
	var wf CostResponse
	getCost("/api/cost?agent_workflow_id=wf-cost", &wf)
	if !usdIs(wf.USD, a+partial) || wf.Calls != 3 {
		t.Errorf("workflow %+v", wf)
	}

	// The workflows home.
	var home struct {
		AgentWorkflows []struct {
			ID *string `json:"id"`
			Cost
		} `json:"agent_workflows"`
	}
	getCost("/api/agent-workflows", &home)
	if len(home.AgentWorkflows) != 2 || home.AgentWorkflows[0].ID == nil || !usdIs(home.AgentWorkflows[0].USD, a+partial) ||
		home.AgentWorkflows[1].ID != nil || home.AgentWorkflows[1].USD != nil || home.AgentWorkflows[1].Status != "unpriced" {
		t.Errorf("workflows %+v", home)
	}

	// The price table, in the original's shape with the configured model.
	var mr ModelsResponse
	getCost("/api/models", &mr)
	found := map[string]ModelPrice{}
	for prov, list := range mr.Models {
		for _, m := range list {
			found[prov+"/"+m.ID] = m
		}
	}
	if m := found["openai/gpt-4o-mini"]; m.Input != 0.15 || m.Output != 0.6 || m.CachedInput != 0.075 || mr.LastUpdated == "" || mr.InUse != "built-in" {
		t.Errorf("gpt-4o-mini %+v (%s)", m, mr.LastUpdated)
	}
	if m := found[pricing.OverrideProvider+"/mystery-x"]; m.Input != 1 || m.Output != 2 {
		t.Errorf("configured model %+v", m)
	}

	// The SQL explorer's cost example runs (where the engine can vet it).
	if explorerRuns(s) {
		for _, ex := range s.examples() {
			if !strings.Contains(ex.Query, "cost_usd") {
				continue
			}
			body, _ := json.Marshal(map[string]any{"query": ex.Query})
			code, raw := call(t, s, "POST", "/api/sql", body, map[string]string{"Content-Type": "application/json"})
			if code != 200 || !strings.Contains(string(raw), `"gpt-4o-mini"`) || !strings.Contains(string(raw), `"mystery-x"`) {
				t.Errorf("example %q: %d %.400s", ex.Title, code, raw)
			}
		}
	}

	// MCP answers the same.
	v := url.Values{"range": {"24h"}}
	res, out, err := s.callTool(context.Background(), s.apiCost, func() enveloped { return emptyCost() }, "", v)
	if err != nil || res != nil {
		t.Fatal(err)
	}
	if cr := out.(*CostResponse); !usdIs(cr.USD, a+partial) || cr.Calls != 5 {
		t.Errorf("mcp %+v", cr)
	}
}
