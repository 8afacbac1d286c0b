package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/sink"
)

// testServer starts a dashboard on a free loopback port whose clock is t0.
func testServer(t *testing.T, st sink.Store, mod func(*Options)) *Server {
	t.Helper()
	o := Options{Store: st, Host: "127.0.0.1", Port: 0, Now: func() time.Time { return t0 }, Version: "test",
		Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), PollInterval: 100 * time.Millisecond}
	if st != nil {
		o.Schema = schemaOf(st)
	}
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

// call does one request and returns the status and body.
func call(t testing.TB, s *Server, method, path string, body []byte, hdr map[string]string) (int, []byte) {
	t.Helper()
	resp, b := send(t, s, method, path, body, hdr)
	return resp.StatusCode, b
}

// send makes a request of the dashboard with the headers hdr (Host sets
// the request's host) and returns the answer with its body read.
func send(t testing.TB, s *Server, method, path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// get decodes a 200 answer into v.
func get(t *testing.T, s *Server, path string, v any) {
	t.Helper()
	code, b := call(t, s, "GET", path, nil, nil)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, b)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.011 }

func score(f map[detect.Severity]float64) float64 {
	var t detect.SeverityTotals
	for s, c := range f {
		t[s] += c
	}
	return round(t.Score(), 2)
}

// TestAPI checks every endpoint's numbers against the seeded world on
// each engine. The second batch was stored twice: every count below would
// be off if reads did not deduplicate.
func TestAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		st, w := seededStore(t, engine)
		s := testServer(t, st, nil)
		testAPI(t, s, w)
		if q := s.querier(context.Background(), st.Status()); q.f != typedFindings {
			t.Fatalf("typed finding columns not used")
		}
	})
}

func testAPI(t *testing.T, s *Server, w *world) {
	riskA2 := score(map[detect.Severity]float64{detect.SeverityHigh: 0.9, detect.SeverityMedium: 0.8})
	riskB1 := score(map[detect.Severity]float64{detect.SeverityCritical: 1})
	alphaRisk := round(0.5*riskA2+0.5*riskA2/3, 2)

	t.Run("dashboard", func(t *testing.T) {
		var d DashboardResponse
		get(t, s, "/api/dashboard", &d)
		if !d.Storage.Available || d.LastUpdated != Time(t0) {
			t.Fatalf("envelope %+v", d.Envelope)
		}
		k := d.KPIs
		// The "est. cost" card: alpha's three priced calls and its cut one
		// (a lower bound, hence partial); beta's unpriced call is counted,
		// never priced at $0.
		if !usdIs(k.USD, 0.0000045+0.000009+0.000009+0.000175) || k.Status != "partial" ||
			k.CostCalls != (CostCalls{Priced: 3, Partial: 1, Unpriced: 1}) {
			t.Fatalf("cost %v %+v", usd(k.USD), k)
		}
		k.Cost, k.CostCalls = Cost{}, CostCalls{}
		want := KPIs{TotalAgents: 2, TotalSessions: 4, ActiveSessions: 1, TotalEvents: int64(w.distinct()),
			TotalRequests: 6, TotalTokens: 15 + 30 + 30 + 40 + 150, InputTokens: 10 + 20 + 20 + 30 + 100, OutputTokens: 5 + 10 + 10 + 10 + 50,
			TotalToolCalls: 3, TotalErrors: 1, ErrorRate: round(100.0/6, 1), AvgResponseTimeMs: 300, P50ResponseTimeMs: k.P50ResponseTimeMs,
			P99ResponseTimeMs: k.P99ResponseTimeMs, TotalFindings: 3, HighFindings: 2, RiskySessions: 1, MaxSessionRisk: riskB1}
		if k != want {
			t.Fatalf("kpis\n got %+v\nwant %+v", k, want)
		}
		if k.P50ResponseTimeMs < 200 || k.P50ResponseTimeMs > 400 || k.P99ResponseTimeMs < 450 || k.P99ResponseTimeMs > 500 {
			t.Fatalf("latency percentiles %v %v", k.P50ResponseTimeMs, k.P99ResponseTimeMs)
		}
		if len(d.Agents) != 2 || d.Agents[0].ID != alpha || d.SessionsCount != 4 || d.RefreshInterval != 2 {
			t.Fatalf("agents %+v sessions %d", d.Agents, d.SessionsCount)
		}
		if d.LatestSession == nil || d.LatestSession.ID != "s-a3" || !d.LatestSession.IsActive || d.LatestSession.LastActivity != "just now" {
			t.Fatalf("latest %+v", d.LatestSession)
		}
		if len(d.RecentSessions) != 4 || d.RecentSessions[0].ID != "s-a3" || d.RecentSessions[3].ID != "s-a1" {
			t.Fatalf("recent %+v", d.RecentSessions)
		}
		var scoped DashboardResponse
		get(t, s, "/api/dashboard?agent_id="+beta, &scoped)
		if scoped.KPIs.TotalSessions != 1 || len(scoped.Agents) != 1 || scoped.KPIs.TotalTokens != 150 {
			t.Fatalf("scoped %+v", scoped.KPIs)
		}
	})

	t.Run("agents", func(t *testing.T) {
		var r AgentsResponse
		get(t, s, "/api/agents", &r)
		if r.TotalCount != 2 {
			t.Fatalf("%+v", r)
		}
		a, b := r.Agents[0], r.Agents[1]
		a.FirstSeen, a.LastSeen, b.FirstSeen, b.LastSeen = Time{}, Time{}, Time{}, Time{}
		warn, crit := "warning", "critical"
		wantA := AgentSummary{ID: alpha, IDShort: "agent-al...", TotalSessions: 3, ActiveSessions: 1, CompletedSessions: 2,
			TotalMessages: 5, TotalRequests: 5, TotalTokens: 115, InputTokens: 80, OutputTokens: 35, TotalTools: 1, UniqueTools: 1,
			TotalErrors: 1, ErrorRate: 20, AvgResponseTimeMs: 250, LastSeenRelative: "just now", FindingsCount: 2,
			RiskScore: alphaRisk, RiskLevel: detect.RiskLevel(alphaRisk), RiskySessions: 0, RiskStatus: &warn, CurrentSessions: 3, MinSessionsRequired: 1}
		wantB := AgentSummary{ID: beta, IDShort: "agent-be...", TotalSessions: 1, CompletedSessions: 1,
			TotalMessages: 1, TotalRequests: 1, TotalTokens: 150, InputTokens: 100, OutputTokens: 50, TotalTools: 2, UniqueTools: 1,
			AvgResponseTimeMs: 500, LastSeenRelative: "19m ago", FindingsCount: 1,
			RiskScore: riskB1, RiskLevel: "critical", RiskySessions: 1, RiskStatus: &crit, CurrentSessions: 1, MinSessionsRequired: 1}
		if a.RiskStatus == nil || *a.RiskStatus != warn || b.RiskStatus == nil || *b.RiskStatus != crit {
			t.Errorf("risk status %v %v", a.RiskStatus, b.RiskStatus)
		}
		a.RiskStatus, b.RiskStatus, wantA.RiskStatus, wantB.RiskStatus = nil, nil, nil, nil
		if !usdIs(a.USD, 0.0000045+0.000009+0.000009+0.000175) || a.Status != "partial" || b.USD != nil || b.Status != "unpriced" {
			t.Errorf("cost: alpha %v %s, beta %v %s", usd(a.USD), a.Status, usd(b.USD), b.Status)
		}
		a.Cost, b.Cost = Cost{}, Cost{}
		if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", wantA) {
			t.Errorf("alpha\n got %+v\nwant %+v", a, wantA)
		}
		if fmt.Sprintf("%+v", b) != fmt.Sprintf("%+v", wantB) {
			t.Errorf("beta\n got %+v\nwant %+v", b, wantB)
		}
	})

	t.Run("agent", func(t *testing.T) {
		var r AgentResponse
		get(t, s, "/api/agent/"+alpha, &r)
		ag := r.Agent
		if ag.ID != alpha || ag.TotalSessions != 3 || strings.Join(ag.AvailableTools, ",") != "get_weather,search" ||
			strings.Join(ag.UsedTools, ",") != "get_weather" || ag.ToolsUtilizationPercent != 50 || ag.ToolUsageDetails["get_weather"] != 1 {
			t.Errorf("agent %+v", ag)
		}
		p := r.Patterns
		if p.MaxMessagesPerSession != 2 || p.SessionsWithErrors != 1 || p.ToolUsageRate != 33.3 || p.AvgMessagesPerSession != 1.7 ||
			p.MostProductiveSession == nil || p.MostProductiveSession.MessageCount != 2 {
			t.Errorf("patterns %+v", p)
		}
		if len(r.Analytics.Models) != 2 {
			t.Fatalf("models %+v", r.Analytics.Models)
		}
		mini := r.Analytics.Models[0]
		if mini.Model != "gpt-4o-mini" || mini.Requests != 4 || mini.Errors != 1 || mini.TotalTokens != 75 || mini.AvgResponseTimeMs != 200 ||
			mini.P50ResponseTimeMs != 200 || mini.P99ResponseTimeMs < 290 || mini.P99ResponseTimeMs > 300 || mini.Vendor != "openai" {
			t.Errorf("gpt-4o-mini %+v", mini)
		}
		if r.Analytics.TokenSummary.TotalTokens != 115 || r.Analytics.TokenSummary.ModelsUsed != 2 {
			t.Errorf("token summary %+v", r.Analytics.TokenSummary)
		}
		if len(r.Analytics.Tools) != 1 || r.Analytics.Tools[0] != (ToolStats{Tool: "get_weather", Executions: 1, Results: 1, Successes: 1}) {
			t.Errorf("tools %+v", r.Analytics.Tools)
		}
		if len(r.Analytics.Timeline) != 1 || r.Analytics.Timeline[0].Date != "2026-05-01" || r.Analytics.Timeline[0].Requests != 5 {
			t.Errorf("timeline %+v", r.Analytics.Timeline)
		}
		ra := r.RiskAnalysis
		if ra.EvaluationStatus != "COMPLETE" || ra.RiskScore != alphaRisk || ra.FindingsCount != 2 || ra.SessionsWithFindings != 1 ||
			ra.BySeverity["high"] != 1 || ra.BySeverity["medium"] != 1 || ra.ByCategory["pii"] != 1 || len(ra.TopRules) != 2 ||
			len(ra.RiskiestSessions) != 1 || ra.RiskiestSessions[0].SessionID != "s-a2" || ra.RiskiestSessions[0].RiskScore != riskA2 ||
			ra.Summary.CriticalIssues != 1 || ra.Summary.Warnings != 1 {
			t.Errorf("risk analysis %+v", ra)
		}
		var rb AgentResponse
		get(t, s, "/api/agent/"+beta, &rb)
		if len(rb.Analytics.Tools) != 1 || rb.Analytics.Tools[0] != (ToolStats{Tool: "search", Executions: 2, Results: 1, Failures: 1, FailureRate: 100}) {
			t.Errorf("beta tools %+v", rb.Analytics.Tools)
		}
		if m := rb.Analytics.Models; len(m) != 1 || m[0].Model != "claude-3-5-haiku" || m[0].Vendor != "anthropic" || m[0].P95ResponseTimeMs != 500 {
			t.Errorf("beta models %+v", m)
		}
	})

	t.Run("sessions", func(t *testing.T) {
		var r SessionsResponse
		get(t, s, "/api/sessions", &r)
		if len(r.Sessions) != 4 {
			t.Fatalf("%+v", r)
		}
		a2 := r.Sessions[2]
		if a2.ID != "s-a2" || a2.MessageCount != 2 || a2.Errors != 1 || a2.ErrorRate != 50 || a2.TotalTokens != 30 || a2.FindingsCount != 2 ||
			a2.RiskScore != riskA2 || a2.RiskLevel != "medium" || a2.Status != "COMPLETED" || a2.Tags["env"] != "dev" || a2.DurationMinutes != 1 {
			t.Errorf("s-a2 %+v", a2)
		}
		if a1 := r.Sessions[3]; a1.Tags["env"] != "prod" || a1.Tags["team"] != "blue" || len(a1.Tags) != 2 || a1.RiskLevel != "none" || a1.ToolUses != 1 {
			t.Errorf("s-a1 %+v", a1)
		}
	})

	t.Run("sessions/list", func(t *testing.T) {
		for _, c := range []struct {
			q     string
			want  []string
			total int64
			more  bool
		}{
			{"", []string{"s-a3", "s-b1", "s-a2", "s-a1"}, 4, false},
			{"?limit=2", []string{"s-a3", "s-b1"}, 4, true},
			{"?limit=2&offset=2", []string{"s-a2", "s-a1"}, 4, false},
			{"?offset=9", nil, 4, false},
			{"?agent_id=" + alpha, []string{"s-a3", "s-a2", "s-a1"}, 3, false},
			{"?agent=" + beta, []string{"s-b1"}, 1, false},
			{"?status=active", []string{"s-a3"}, 1, false},
			{"?status=COMPLETED&agent_id=" + alpha, []string{"s-a2", "s-a1"}, 2, false},
			{"?status=INACTIVE", nil, 0, false},
			{"?tags=env:prod", []string{"s-a1"}, 1, false},
			{"?tags=env:prod,team:blue", []string{"s-a1"}, 1, false},
			{"?tags=env", []string{"s-a2", "s-a1"}, 2, false},
			{"?tags=env:prod,team:red", nil, 0, false},
			{"?tags=prompt", nil, 0, false}, // a tool parameter, not a tag
			{"?range=30m", []string{"s-a3", "s-b1"}, 2, false},
			{"?from=" + url.QueryEscape(t0.Add(-45*time.Minute).Format(time.RFC3339)) + "&to=" + fmt.Sprint(t0.Add(-30*time.Minute).Unix()), []string{"s-a2"}, 1, false},
		} {
			var r SessionListResponse
			get(t, s, "/api/sessions/list"+c.q, &r)
			var ids []string
			for _, x := range r.Sessions {
				ids = append(ids, x.ID)
			}
			if strings.Join(ids, ",") != strings.Join(c.want, ",") || r.TotalCount != c.total || r.HasMore != c.more {
				t.Errorf("%s: got %v total %d more %v; want %v %d %v", c.q, ids, r.TotalCount, r.HasMore, c.want, c.total, c.more)
			}
			if r.Sessions == nil || r.Filters == nil {
				t.Errorf("%s: nil list or filters", c.q)
			}
		}
		var tags TagsResponse
		get(t, s, "/api/sessions/tags", &tags)
		if fmt.Sprint(tags.Tags) != "[{env [{dev 1} {prod 1}]} {team [{blue 1}]}]" {
			t.Errorf("tags %v", tags.Tags)
		}
	})

	t.Run("session", func(t *testing.T) {
		var r SessionResponse
		get(t, s, "/api/session/s-a2", &r)
		d := r.Session
		if d.ID != "s-a2" || d.AgentID != alpha || d.Provider != "openai" || d.Model != "gpt-4o-mini" || d.SystemPrompt == nil ||
			*d.SystemPrompt != "You are a helper." || d.TotalEvents != 7 || d.Tags["env"] != "dev" || d.RiskScore != riskA2 ||
			d.FindingsBySeverity["high"] != 1 || d.AvgResponseTimeMs != 200 || len(d.AvailableTools) != 0 {
			t.Errorf("session %+v", d)
		}
		var names []string
		for _, e := range r.Events {
			names = append(names, e.Name)
		}
		if strings.Join(names, " ") != "session.start llm.call.start llm.call.error llm.call.start security.finding security.finding llm.call.finish" ||
			r.EventsTotal != 7 || r.HasMore || len(r.Timeline) != 7 {
			t.Fatalf("events %v total %d", names, r.EventsTotal)
		}
		risky := w.byName["risky"]
		if len(r.Findings) != 2 || r.Findings[0].SourceEventID != r.Events[3].EventID || r.Events[3].EventID != uuidOfHex(risky.IDString()) ||
			r.Events[3].RiskScore == 0 || r.Findings[0].SpanID != r.Events[3].ID {
			t.Errorf("findings %+v vs event %+v", r.Findings, r.Events[3])
		}
		if r.Timeline[2].Description != "Error: Rate limit reached" || r.Timeline[1].Description != "Started LLM call to gpt-4o-mini" ||
			r.Timeline[6].Description != "Completed LLM call (200ms, 30 tokens)" || r.Timeline[5].Severity == "" || r.Timeline[4].Description != "Finding: llm01.instruction_override (high)" {
			t.Errorf("timeline %+v", r.Timeline)
		}
		if r.Events[2].Status != 429 || r.Events[2].ErrorType != "rate_limit_error" || r.Events[5].Finding == nil {
			t.Errorf("typed fields %+v %+v", r.Events[2], r.Events[5])
		}
		var page SessionResponse
		get(t, s, "/api/session/s-a2?limit=2&offset=1&types=llm.call.start,llm.call.error,llm.call.finish", &page)
		if page.EventsTotal != 4 || len(page.Events) != 2 || !page.HasMore || page.Events[0].Name != "llm.call.error" {
			t.Errorf("page %d %v %+v", page.EventsTotal, page.HasMore, page.Events)
		}
		var a1 SessionResponse
		get(t, s, "/api/session/s-a1", &a1)
		if strings.Join(a1.Session.AvailableTools, ",") != "get_weather,search" || *a1.Session.SystemPrompt != "You are a weather bot." ||
			a1.Session.ToolUsageDetails["get_weather"] != 1 || len(a1.Findings) != 0 || a1.Timeline[4].Description != "Tool result: get_weather (success)" {
			t.Errorf("s-a1 %+v %+v", a1.Session, a1.Timeline)
		}
	})

	t.Run("event", func(t *testing.T) {
		risky := w.byName["risky"]
		for _, id := range []string{uuidOfHex(risky.IDString()), risky.IDString(), risky.SpanID} {
			var r EventResponse
			get(t, s, "/api/event/"+id+"?session_id=s-a2", &r)
			if r.Event == nil || r.Event.Name != sink.LLMCallStart || r.Event.SessionID != "s-a2" || !strings.Contains(string(r.Event.Attributes), "Ignore all") {
				t.Errorf("%s: %+v", id, r.Event)
			}
		}
	})

	t.Run("stats", func(t *testing.T) {
		var r StatsResponse
		get(t, s, "/api/stats", &r)
		if r.TotalEvents != int64(w.distinct()) || r.TotalSessions != 4 || r.ActiveSessions != 1 || r.TotalAgents != 2 || r.TotalTokens != 265 ||
			r.AvgResponseTimeMs != 300 || r.TotalFindings != 3 || r.TopTools["search"] != 2 || r.TopTools["get_weather"] != 1 ||
			r.TopErrors["rate_limit_error"] != 1 || r.EventsPerMinute != 3.0/5 || r.ErrorRate != round(100/float64(w.distinct()), 1) {
			t.Errorf("stats %+v", r)
		}
	})

	t.Run("findings", func(t *testing.T) {
		for _, c := range []struct {
			q     string
			rules string
		}{
			{"", "secret.aws-access-key,pii.credit_card,llm01.instruction_override"},
			{"?severity=high,critical", "secret.aws-access-key,llm01.instruction_override"},
			{"?min_severity=high", "secret.aws-access-key,llm01.instruction_override"},
			{"?severity=medium&min_severity=high", ""},
			{"?category=pii", "pii.credit_card"},
			{"?agent_id=" + beta, "secret.aws-access-key"},
			{"?session_id=s-a2&limit=1", "pii.credit_card"},
			{"?session_id=s-a2&limit=1&offset=1", "llm01.instruction_override"},
			{"?rule=pii.credit_card", "pii.credit_card"},
			{"?range=30m", "secret.aws-access-key"},
		} {
			var r FindingsResponse
			get(t, s, "/api/findings"+c.q, &r)
			var rules []string
			for _, f := range r.Findings {
				rules = append(rules, f.Rule)
			}
			if strings.Join(rules, ",") != c.rules {
				t.Errorf("%s: %v, want %s", c.q, rules, c.rules)
			}
		}
		var all FindingsResponse
		get(t, s, "/api/findings", &all)
		f := all.Findings[0]
		if all.TotalCount != 3 || all.Summary.BySeverity["critical"] != 1 || all.Summary.ByCategory["secret"] != 1 || f.Confidence != 1 ||
			f.OWASP != "LLM02" || f.Evidence == "" || f.SourceEventName != sink.LLMCallStart || f.AgentID != beta || f.RiskScore != 80 {
			t.Errorf("findings %+v", all)
		}
	})

	t.Run("risk", func(t *testing.T) {
		var r RiskResponse
		get(t, s, "/api/risk", &r)
		if len(r.Agents) != 2 || r.Agents[0].AgentID != beta || r.Agents[0].RiskScore != riskB1 || r.Agents[0].RiskySessions != 1 ||
			r.Agents[1].RiskScore != alphaRisk || r.Agents[1].Sessions != 3 || r.Agents[1].SessionsWithFinding != 1 ||
			r.Agents[1].MaxSessionRisk != riskA2 || !near(r.Agents[1].AvgSessionRisk, riskA2/3) || r.Agents[1].BySeverity["high"] != 1 ||
			len(r.Agents[1].TopRules) != 2 || r.Formula == "" {
			t.Errorf("agents %+v", r.Agents)
		}
		if len(r.Sessions) != 2 || r.Sessions[0].SessionID != "s-b1" || r.Sessions[0].TopRule != "secret.aws-access-key" ||
			r.Sessions[1].RiskScore != riskA2 || r.Sessions[1].BySeverity["medium"] != 1 || r.Sessions[1].Findings != 2 {
			t.Errorf("sessions %+v", r.Sessions)
		}
		var today RiskResponse
		get(t, s, "/api/risk?range=30m&limit=1", &today)
		if len(today.Sessions) != 1 || today.Sessions[0].SessionID != "s-b1" || len(today.Agents) != 2 || today.Agents[1].Sessions != 1 ||
			today.Agents[1].RiskScore != 0 || time.Time(today.From).IsZero() {
			t.Errorf("30m %+v %+v", today.Agents, today.Sessions)
		}
	})

	t.Run("timeseries", func(t *testing.T) {
		var r TimeseriesResponse
		get(t, s, "/api/timeseries?range=1h&bucket=10m", &r)
		if r.BucketSeconds != 600 || len(r.Points) != 6 {
			t.Fatalf("%+v", r)
		}
		var req, tok, finds int64
		var riskMax float64
		for _, p := range r.Points {
			req += p.Requests
			tok += p.Tokens
			finds += p.Findings
			riskMax = max(riskMax, p.RiskMax)
		}
		if req != 6 || tok != 265 || finds != 3 || riskMax != 80 {
			t.Errorf("sums %d %d %d %v in %+v", req, tok, finds, riskMax, r.Points)
		}
		last := r.Points[5]
		if last.Requests != 1 || last.P50Ms != 400 || last.AvgMs != 400 {
			t.Errorf("last bucket %+v", last)
		}
		var auto TimeseriesResponse
		get(t, s, "/api/timeseries", &auto)
		if auto.BucketSeconds != 10 || len(auto.Points) != 360 {
			t.Errorf("default window: bucket %d points %d", auto.BucketSeconds, len(auto.Points))
		}
	})

	t.Run("sql", func(t *testing.T) {
		src := sink.EventsSource(s.opts.Schema)
		if !explorerRuns(s) { // TestExplorerOnServer checks the notice
			return
		}
		body, _ := json.Marshal(SQLRequest{Query: "SELECT agent_id, count() AS n FROM " + src + " GROUP BY agent_id ORDER BY agent_id;"})
		code, b := call(t, s, "POST", "/api/sql", body, nil)
		var r SQLResponse
		if code != 200 || json.Unmarshal(b, &r) != nil {
			t.Fatalf("%d %s", code, b)
		}
		if fmt.Sprint(r.Columns, r.Rows) != fmt.Sprintf("[agent_id n] [[%s %d] [%s %d]]", alpha, len(w.first), beta, len(w.dup)) || r.Truncated {
			t.Errorf("sql %+v", r)
		}
		body, _ = json.Marshal(SQLRequest{Query: "SELECT number FROM numbers(10)", Limit: 3})
		_, b = call(t, s, "POST", "/api/sql", body, nil)
		if json.Unmarshal(b, &r) != nil || r.RowCount != 3 || !r.Truncated || !strings.Contains(r.TruncatedReason, "more than 3 rows") {
			t.Errorf("limit: %s", b)
		}
		for _, q := range []string{
			"INSERT INTO " + src + " (id) VALUES (generateUUIDv4())",
			"DROP TABLE " + s.opts.Schema.Table(sink.EventsTable),
			"SELECT 1; SELECT 2",
			"SELECT 1 SETTINGS max_execution_time = 1000",
			"SELECT * FROM file('/etc/passwd', 'LineAsString')",
			"SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'a String')",
			"SELECT 1 FORMAT JSON",
			"SELECT nosuchcolumn FROM " + src,
			"",
		} {
			body, _ := json.Marshal(SQLRequest{Query: q})
			code, b := call(t, s, "POST", "/api/sql", body, nil)
			var e map[string]string
			_ = json.Unmarshal(b, &e)
			if code != 400 || e["param"] != "query" || e["error"] == "" {
				t.Errorf("%q: %d %s", q, code, b)
			}
		}
		if s.status().Engine == "embedded" { // a server store's own timeout (20 s in these tests) stops it there
			slow := testServer(t, s.opts.Store, func(o *Options) { o.SQLTimeout = time.Second; o.Schema = s.opts.Schema })
			body, _ = json.Marshal(SQLRequest{Query: "SELECT count() FROM numbers(1000000000000) WHERE sipHash64(number) = 1"})
			start := time.Now()
			code, b = call(t, slow, "POST", "/api/sql", body, nil)
			if code != 400 || !strings.Contains(string(b), `"param":"query"`) || time.Since(start) > 5*time.Second {
				t.Errorf("endless query: %d %s after %s", code, b, time.Since(start))
			}
		}
		code, b = call(t, s, "POST", "/api/sql", []byte("not json"), nil)
		if code != 400 || !strings.Contains(string(b), `"param":"body"`) {
			t.Errorf("bad body: %d %s", code, b)
		}
		var schema SchemaResponse
		get(t, s, "/api/sql/schema", &schema)
		if len(schema.Tables) != 1 || len(schema.Tables[0].Columns) < 20 || len(schema.Examples) == 0 {
			t.Errorf("schema %+v", schema)
		}
		for _, ex := range schema.Examples {
			body, _ := json.Marshal(SQLRequest{Query: ex.Query})
			if code, b := call(t, s, "POST", "/api/sql", body, nil); code != 200 {
				t.Errorf("example %q: %d %s", ex.Title, code, b)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct {
			path  string
			code  int
			param string
		}{
			{"/api/agent/nobody", 404, ""},
			{"/api/session/nothing", 404, ""},
			{"/api/event/00000000-0000-0000-0000-000000000000", 404, ""},
			{"/api/event/not-an-id", 400, "event_id"},
			{"/api/nosuch", 404, ""},
			{"/api/sessions/list?limit=0", 400, "limit"},
			{"/api/sessions/list?limit=501", 400, "limit"},
			{"/api/sessions/list?limit=ten", 400, "limit"},
			{"/api/sessions/list?offset=-1", 400, "offset"},
			{"/api/sessions/list?status=SLEEPING", 400, "status"},
			{"/api/sessions/list?tags=:v", 400, "tags"},
			{"/api/sessions/list?range=forever", 400, "range"},
			{"/api/sessions/list?range=1h&from=1", 400, "range"},
			{"/api/sessions/list?from=yesterday", 400, "from"},
			{"/api/sessions/list?to=1", 400, "from"},
			{"/api/sessions/list?from=2000&to=1000", 400, "from"},
			{"/api/findings?severity=urgent", 400, "severity"},
			{"/api/findings?min_severity=x", 400, "min_severity"},
			{"/api/findings?category=gossip", 400, "category"},
			{"/api/findings?limit=1001", 400, "limit"},
			{"/api/timeseries?bucket=1s&range=24h", 400, "bucket"},
			{"/api/timeseries?bucket=abc", 400, "bucket"},
			{"/api/session/s-a2?types=DROP%20TABLE", 400, "types"},
			{"/api/session/s-a2?limit=5001", 400, "limit"},
			{"/api/risk?limit=0", 400, "limit"},
		} {
			code, b := call(t, s, "GET", c.path, nil, nil)
			var e map[string]string
			if err := json.Unmarshal(b, &e); err != nil || code != c.code || e["param"] != c.param || e["error"] == "" {
				t.Errorf("%s: %d %s (want %d, param %q)", c.path, code, b, c.code, c.param)
			}
		}
		code, b := call(t, s, "DELETE", "/api/agents", nil, nil)
		if code != http.StatusMethodNotAllowed {
			t.Errorf("DELETE /api/agents: %d %s", code, b)
		}
	})
}

// TestAPILegacyFindings runs the same checks over findings stored before
// schema migration 2 (no typed category, rule or severity): the queries
// fall back to the attributes and every number stays the same.
func TestAPILegacyFindings(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		st := openStore(t, engine)
		w := newWorld()
		for _, b := range [][]*sink.Event{w.first, w.dup} {
			for _, e := range b {
				if e.Name == sink.SecurityFinding {
					e.Category, e.Rule, e.Severity = "", "", ""
				}
			}
		}
		w.write(t, st)
		s := testServer(t, st, nil)
		testAPI(t, s, w)
		if q := s.querier(context.Background(), st.Status()); q.f != legacyFindings {
			t.Fatalf("typed finding columns used over legacy findings")
		}
	})
}

// usdIs reports whether a cost is want (to the 10 decimals the dashboard
// rounds to); a null cost is never a number.
func usdIs(got *float64, want float64) bool {
	return got != nil && math.Abs(*got-want) < 1e-10
}

func usd(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// TestSessionOfSeveralAgentIDs: a session whose events carry several agent
// ids (the id hashes the system prompt, and a summarising agent's prompt
// grows) is listed once, whole, and counted once.
func TestSessionOfSeveralAgentIDs(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		st := openStore(t, engine)
		var sd seed
		t0 := time.Now().Add(-time.Hour)
		for i, agent := range []string{"prompt-aaaa", "prompt-bbbb", "prompt-cccc"} {
			at := t0.Add(time.Duration(i) * time.Minute)
			if i == 0 {
				sd.ev(sink.SessionStart, agent, "s-multi", at, nil)
			}
			sd.ev(sink.LLMCallStart, agent, "s-multi", at.Add(time.Second), nil)
			fin := sd.ev(sink.LLMCallFinish, agent, "s-multi", at.Add(2*time.Second), nil)
			fin.InputTokens, fin.OutputTokens, fin.TotalTokens = 10, 5, 15
		}
		if err := st.WriteBatch(context.Background(), sd.events); err != nil {
			t.Fatal(err)
		}
		s := testServer(t, st, nil)
		var list SessionListResponse
		get(t, s, "/api/sessions/list", &list)
		if len(list.Sessions) != 1 || list.TotalCount != 1 {
			t.Fatalf("sessions %+v", list)
		}
		if r := list.Sessions[0]; r.MessageCount != 3 || r.TotalTokens != 45 || r.AgentID != "prompt-aaaa" {
			t.Errorf("the session over its three agent ids: messages %d tokens %d agent %s", r.MessageCount, r.TotalTokens, r.AgentID)
		}
		var stats StatsResponse
		get(t, s, "/api/stats", &stats)
		if stats.TotalSessions != 1 || stats.TotalAgents != 3 {
			t.Errorf("stats: %d sessions, %d agents; want 1 and 3", stats.TotalSessions, stats.TotalAgents)
		}
	})
}

// An agent or session id as long as a request header allows (the proxy
// takes x-cylestio-agent-id and -session-id of any length it accepts) can
// be opened.
func TestLongIDsOpen(t *testing.T) {
	st := openStore(t, engineEmbedded)
	var sd seed
	agent, session := "agent-"+strings.Repeat("A", 600), "session-"+strings.Repeat("S", 600)
	at := time.Now().Add(-time.Minute)
	sd.ev(sink.SessionStart, agent, session, at, nil)
	sd.ev(sink.LLMCallStart, agent, session, at.Add(time.Second), nil)
	if err := st.WriteBatch(context.Background(), sd.events); err != nil {
		t.Fatal(err)
	}
	s := testServer(t, st, nil)
	for _, path := range []string{"/api/agent/" + agent, "/api/session/" + session, "/api/sessions/list?agent_id=" + agent} {
		if code, body := call(t, s, "GET", path, nil, nil); code != 200 {
			t.Errorf("%.40s…: %d %.200s", path, code, body)
		}
	}
}
