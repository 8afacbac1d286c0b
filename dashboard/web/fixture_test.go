package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cylestio/perimeter/dashboard/web"
)

// fixture is a stand-in for the dashboard server: it serves the UI and
// answers the JSON API of dashboard/API.md from an in-memory list of events.
// It lets the UI be tested in a browser without the store, and pins the
// shapes the UI reads. The real server is tested in ui_real_test.go.
type fixture struct {
	mu       sync.Mutex
	events   []fxEvent
	storage  map[string]any
	version  int
	changed  chan struct{}
	now      func() time.Time
	sqlCalls int
	wf       *fxWorkflows
	scope    string       // the request's agent_workflow_id: sessions() keeps that workflow's
	streams  atomic.Int32 // live streams open now
}

type fxEvent struct {
	ID, Span, Name, Session, Agent, Model, Tool string
	Time                                        time.Time
	In, Out                                     int
	DurationMs                                  float64
	Status                                      int
	Attrs                                       map[string]any
	Finding                                     map[string]any // security.finding only
}

func newFixture(available bool) *fixture {
	fx := &fixture{changed: make(chan struct{}, 1), now: time.Now}
	fx.wf = newFxWorkflows(func() time.Time { return fx.now() })
	fx.storage = map[string]any{"engine": "embedded", "available": true, "version": "chDB 26.7.3 (fixture)"}
	if !available {
		fx.storage = map[string]any{"engine": "embedded", "available": false,
			"reason": "Libchdb.so was not found in third_party/chdb or CHDB_LIB_PATH",
			"fix":    `run "make chdb" (downloads the embedded ClickHouse) or set CHDB_LIB_PATH`}
	}
	return fx
}

func (fx *fixture) start(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler())
	mux.HandleFunc("/api/", fx.serveAPI)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

var fxSeq int

func fxID(prefix string) string {
	fxSeq++
	return fmt.Sprintf("%s%012x", prefix, fxSeq*7919)
}

// addConversation appends a tool-using conversation: a request, an answer
// calling a tool, the tool's result and the final answer. userText is the
// user's message (tests put markup in it); risky adds a finding on it.
func (fx *fixture) addConversation(agent, session, model, userText string, risky bool, at time.Time) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	t := at
	next := func(d time.Duration) time.Time { t = t.Add(d); return t }
	start := fxEvent{ID: fxID("e1-"), Span: fxID("s"), Name: "llm.call.start", Session: session, Agent: agent, Model: model, Time: next(0),
		Attrs: map[string]any{"llm.vendor": "openai", "llm.model": model, "llm.request.data": map[string]any{
			"model": model, "messages": []any{
				map[string]any{"role": "system", "content": "You are a helpful support agent for Acme."},
				map[string]any{"role": "user", "content": userText},
			},
			"tools": []any{map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}},
		}}}
	fx.events = append(fx.events,
		fxEvent{ID: fxID("e0-"), Span: fxID("s"), Name: "session.start", Session: session, Agent: agent, Model: model, Time: next(0),
			Attrs: map[string]any{"llm.vendor": "openai", "llm.model": model, "prompt": "You are a helpful support agent for Acme."}},
		start)
	if risky {
		fx.events = append(fx.events, fxEvent{ID: fxID("f-"), Span: start.Span, Name: "security.finding", Session: session, Agent: agent, Model: model, Time: next(2 * time.Millisecond),
			Finding: map[string]any{"category": "prompt_injection", "rule": "llm01.instruction_override", "severity": "high", "confidence": 0.9,
				"evidence": "ignore all previous instructions", "owasp": "LLM01", "source": "text", "decoded": false,
				"source_event_id": start.ID, "source_event_name": "llm.call.start", "span_id": start.Span, "risk_score": 55.0}})
	}
	fx.events = append(fx.events,
		fxEvent{ID: fxID("e2-"), Span: start.Span, Name: "llm.call.finish", Session: session, Agent: agent, Model: model, Time: next(640 * time.Millisecond),
			In: 120, Out: 18, DurationMs: 640, Status: 200,
			Attrs: map[string]any{"llm.response.content": []any{map[string]any{"role": "assistant", "content": nil,
				"tool_calls": []any{map[string]any{"id": "call_1", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": `{"location":"Paris","unit":"celsius"}`}}}}},
				"finish_reason": "tool_calls"}},
		fxEvent{ID: fxID("e3-"), Span: fxID("s"), Name: "tool.execution", Session: session, Agent: agent, Model: model, Tool: "get_weather", Time: next(time.Millisecond),
			Attrs: map[string]any{"tool.name": "get_weather", "tool.params": map[string]any{"location": "Paris", "unit": "celsius"}}},
		fxEvent{ID: fxID("e4-"), Span: fxID("s"), Name: "tool.result", Session: session, Agent: agent, Model: model, Tool: "get_weather", Time: next(900 * time.Millisecond),
			Attrs: map[string]any{"tool.name": "get_weather", "tool.status": "success", "tool.result": `{"temp":21,"sky":"clear"}`}},
		fxEvent{ID: fxID("e5-"), Span: fxID("s"), Name: "llm.call.finish", Session: session, Agent: agent, Model: model, Time: next(820 * time.Millisecond),
			In: 180, Out: 42, DurationMs: 820, Status: 200,
			Attrs: map[string]any{"llm.response.content": []any{map[string]any{"role": "assistant", "content": "It is 21 °C and clear in Paris."}}, "finish_reason": "stop"}},
	)
	fx.version++
	select {
	case fx.changed <- struct{}{}:
	default:
	}
}

func (fx *fixture) addError(agent, session, model string, at time.Time) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	fx.events = append(fx.events, fxEvent{ID: fxID("x-"), Span: fxID("s"), Name: "llm.call.error", Session: session, Agent: agent, Model: model, Time: at,
		Status: 429, DurationMs: 35, Attrs: map[string]any{"error.message": "Rate limit reached for requests", "error.type": "rate_limit_error", "http.status_code": 429}})
	fx.version++
}

func (fx *fixture) serveAPI(w http.ResponseWriter, r *http.Request) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	q := r.URL.Query()
	p := r.URL.Path
	if fx.serveWorkflow(w, r) {
		return
	}
	fx.scope = q.Get("agent_workflow_id")
	defer func() { fx.scope = "" }()
	var out map[string]any
	switch {
	case p == "/api/events/stream":
		fx.mu.Unlock()
		fx.stream(w, r)
		fx.mu.Lock()
		return
	case p == "/api/dashboard":
		out = fx.dashboard()
	case p == "/api/agents":
		ag := fx.agents()
		out = map[string]any{"agents": ag, "total_count": len(ag)}
	case p == "/api/sessions/list":
		out = fx.sessionsList(q)
	case strings.HasPrefix(p, "/api/agent/"):
		out = fx.agent(strings.TrimPrefix(p, "/api/agent/"))
	case strings.HasPrefix(p, "/api/session/") && fx.off():
		out = emptySession()
	case strings.HasPrefix(p, "/api/session/"):
		out = fx.session(strings.TrimPrefix(p, "/api/session/"))
	case p == "/api/timeseries":
		out = fx.timeseries(q)
	case p == "/api/findings":
		out = fx.findings(q)
	case p == "/api/config":
		out = map[string]any{"provider_type": "openai", "proxy_host": "127.0.0.1", "proxy_port": 4000}
	case p == "/api/sql/schema":
		out = map[string]any{"tables": []any{map[string]any{"name": "perimeter.events", "columns": []any{
			map[string]any{"name": "name", "type": "LowCardinality(String)"}, map[string]any{"name": "total_tokens", "type": "Int64"}}}},
			"examples": []any{map[string]any{"title": "Events by name", "query": "SELECT name, count() FROM perimeter.events GROUP BY name"}}}
	case p == "/api/sql" && r.Method == http.MethodPost:
		fx.sqlCalls++
		var body struct{ Query string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		switch {
		case strings.Contains(body.Query, "DROP"):
			writeJSON(w, 400, map[string]any{"error": "only SELECT statements are allowed", "param": "query"})
			return
		case body.Query == sqlWide:
			out = sqlWideAnswer()
		case body.Query == sqlHuge:
			rows := make([][]any, 16)
			for i := range rows {
				rows[i] = []any{strings.Repeat("x", 64)}
			}
			out = map[string]any{"columns": []string{"body"}, "types": []string{"String"}, "rows": rows, "row_count": len(rows), "truncated": true,
				"truncated_reason": sqlHugeReason, "elapsed_ms": 41.0}
		default:
			out = map[string]any{"columns": []string{"name", "events"}, "types": []string{"String", "UInt64"},
				"rows": [][]any{{"llm.call.finish", len(fx.events)}, {"<b>not bold</b>", nil}}, "row_count": 2, "elapsed_ms": 3.2}
		}
	default:
		writeJSON(w, 404, map[string]any{"error": "not found"})
		return
	}
	if out == nil {
		writeJSON(w, 404, map[string]any{"error": "not found"})
		return
	}
	out["storage"] = fx.storage
	out["last_updated"] = fx.now().UTC().Format(time.RFC3339Nano)
	writeJSON(w, 200, out)
}

// off reports whether the fixture stands for a server whose store is off
// or down: its reads answer 200 with their shape, empty, as the real
// server's do.
func (fx *fixture) off() bool {
	return fx.storage["available"] == false
}

// emptySession is /api/session/{id} with the store off (dashboard's
// emptySession): zero values, whatever the id.
func emptySession() map[string]any {
	return map[string]any{"session": map[string]any{"id": "", "agent_id": "", "is_active": false, "is_completed": false, "status": "",
		"message_count": 0, "tool_uses": 0, "total_tokens": 0, "risk_score": 0, "risk_level": "none", "tags": map[string]any{},
		"models": []any{}, "tool_usage_details": map[string]any{}, "available_tools": []any{}, "findings_by_severity": map[string]any{}},
		"events": []any{}, "timeline": []any{}, "findings": []any{}, "events_total": 0, "limit": 500, "offset": 0, "has_more": false}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (fx *fixture) stream(w http.ResponseWriter, r *http.Request) {
	fx.streams.Add(1)
	defer fx.streams.Add(-1)
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	fmt.Fprintf(w, "event: hello\ndata: {\"refresh_interval\":2}\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-fx.changed:
			fmt.Fprintf(w, "event: change\ndata: {\"reason\":\"write\"}\n\n")
			fl.Flush()
		}
	}
}

// Aggregations over fx.events, in the API's shapes.

type fxSession struct {
	ID, Agent, Model      string
	First, Last           time.Time
	Messages, Responses   int
	Tools, Errors, Tokens int
	In, Out, Findings     int
	Risk                  float64
	ToolUse               map[string]int
	DurSum                float64
}

func (fx *fixture) sessions() []*fxSession {
	byID := map[string]*fxSession{}
	var order []*fxSession
	for _, e := range fx.events {
		if fx.scope != "" && fx.wf.sessionWF[e.Session] != strings.TrimPrefix(fx.scope, "unassigned") {
			continue
		}
		s := byID[e.Session]
		if s == nil {
			s = &fxSession{ID: e.Session, Agent: e.Agent, First: e.Time, ToolUse: map[string]int{}}
			byID[e.Session] = s
			order = append(order, s)
		}
		s.Last = e.Time
		s.Model = e.Model
		switch e.Name {
		case "llm.call.start":
			s.Messages++
		case "llm.call.finish":
			s.Responses++
			s.In += e.In
			s.Out += e.Out
			s.Tokens += e.In + e.Out
			s.DurSum += e.DurationMs
		case "llm.call.error":
			s.Errors++
		case "tool.execution":
			s.Tools++
			s.ToolUse[e.Tool]++
		case "security.finding":
			s.Findings++
			s.Risk = 55
		}
	}
	sort.Slice(order, func(i, j int) bool { return order[i].Last.After(order[j].Last) })
	return order
}

func (fx *fixture) sessionRow(s *fxSession) map[string]any {
	active := fx.now().Sub(s.Last) < 30*time.Second
	status := "COMPLETED"
	if active {
		status = "ACTIVE"
	}
	level := "none"
	if s.Risk > 0 {
		level = "high"
	}
	return map[string]any{"id": s.ID, "id_short": s.ID[:12], "agent_id": s.Agent, "created_at": s.First, "last_activity": s.Last,
		"duration_minutes": s.Last.Sub(s.First).Minutes(), "is_active": active, "is_completed": !active, "status": status,
		"message_count": s.Messages, "response_count": s.Responses, "tool_uses": s.Tools, "errors": s.Errors,
		"total_tokens": s.Tokens, "model": s.Model, "findings_count": s.Findings, "risk_score": s.Risk, "risk_level": level, "tags": map[string]any{}}
}

func (fx *fixture) agents() []map[string]any {
	type agg struct {
		id                                              string
		sessions, active, reqs, tokens, tools, errs, fn int
		last                                            time.Time
		risk                                            float64
		dur                                             float64
	}
	by := map[string]*agg{}
	var order []*agg
	for _, s := range fx.sessions() {
		a := by[s.Agent]
		if a == nil {
			a = &agg{id: s.Agent}
			by[s.Agent] = a
			order = append(order, a)
		}
		a.sessions++
		if fx.now().Sub(s.Last) < 30*time.Second {
			a.active++
		}
		a.reqs += s.Responses + s.Errors
		a.tokens += s.Tokens
		a.tools += s.Tools
		a.errs += s.Errors
		a.fn += s.Findings
		a.dur += s.DurSum
		a.risk = max(a.risk, s.Risk)
		if s.Last.After(a.last) {
			a.last = s.Last
		}
	}
	out := []map[string]any{}
	for _, a := range order {
		level := "none"
		if a.risk > 0 {
			level = "medium"
		}
		out = append(out, map[string]any{"id": a.id, "id_short": a.id, "total_sessions": a.sessions, "active_sessions": a.active,
			"total_requests": a.reqs, "total_tokens": a.tokens, "input_tokens": a.tokens * 3 / 4, "output_tokens": a.tokens / 4,
			"total_tools": a.tools, "unique_tools": 1, "total_errors": a.errs, "error_rate": pctOf(a.errs, a.reqs),
			"avg_response_time_ms": a.dur / float64(max(1, a.reqs-a.errs)), "last_seen": a.last, "last_seen_relative": "just now",
			"findings_count": a.fn, "risk_score": a.risk / 2, "risk_level": level})
	}
	return out
}

func pctOf(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) * 100 / float64(b)
}

func (fx *fixture) dashboard() map[string]any {
	ss := fx.sessions()
	rows := []any{}
	k := map[string]any{}
	var reqs, toks, tools, errs, findings, events int
	for i, s := range ss {
		if i < 10 {
			rows = append(rows, fx.sessionRow(s))
		}
		reqs += s.Responses + s.Errors
		toks += s.Tokens
		tools += s.Tools
		errs += s.Errors
		findings += s.Findings
	}
	events = len(fx.events)
	k["total_agents"] = len(fx.agents())
	k["total_sessions"] = len(ss)
	k["active_sessions"] = 0
	k["total_events"] = events
	k["total_requests"] = reqs
	k["total_tokens"] = toks
	k["input_tokens"] = toks * 3 / 4
	k["output_tokens"] = toks / 4
	k["total_tool_calls"] = tools
	k["total_errors"] = errs
	k["error_rate"] = pctOf(errs, reqs)
	k["avg_response_time_ms"] = 730.0
	k["p50_response_time_ms"] = 640.0
	k["p99_response_time_ms"] = 820.0
	k["total_findings"] = findings
	k["high_findings"] = findings
	k["risky_sessions"] = findings
	var latest any
	if len(ss) > 0 {
		latest = map[string]any{"id": ss[0].ID, "agent_id": ss[0].Agent, "last_activity": "just now"}
	}
	return map[string]any{"agents": fx.agents(), "sessions_count": len(ss), "recent_sessions": rows, "kpis": k, "latest_session": latest}
}

func (fx *fixture) sessionsList(q map[string][]string) map[string]any {
	rows := []any{}
	agent := first(q["agent_id"])
	for _, s := range fx.sessions() {
		if agent != "" && s.Agent != agent {
			continue
		}
		rows = append(rows, fx.sessionRow(s))
	}
	limit, _ := strconv.Atoi(first(q["limit"]))
	total := len(rows)
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	return map[string]any{"sessions": rows, "total_count": total, "limit": limit, "offset": 0, "has_more": total > len(rows)}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (fx *fixture) agent(id string) map[string]any {
	for _, a := range fx.agents() {
		if a["id"] != id {
			continue
		}
		a["models"] = []string{"gpt-4o-mini"}
		a["available_tools"] = []string{"get_weather", "search_kb"}
		a["used_tools"] = []string{"get_weather"}
		a["tools_utilization_percent"] = 50.0
		var calls int
		for _, s := range fx.sessions() {
			if s.Agent == id {
				calls += s.Messages
			}
		}
		a["avg_messages_per_session"] = float64(calls) / float64(a["total_sessions"].(int))
		return map[string]any{"agent": a,
			"analytics": map[string]any{
				"models": []any{map[string]any{"model": "gpt-4o-mini", "vendor": "openai", "requests": a["total_requests"], "errors": a["total_errors"],
					"input_tokens": a["input_tokens"], "output_tokens": a["output_tokens"], "total_tokens": a["total_tokens"],
					"p50_response_time_ms": 640.0, "p95_response_time_ms": 810.0, "p99_response_time_ms": 820.0}},
				"tools": []any{map[string]any{"tool": "get_weather", "executions": a["total_tools"], "results": a["total_tools"], "successes": a["total_tools"], "failures": 0, "failure_rate": 0.0}},
			},
			"risk_analysis": map[string]any{"evaluation_status": "COMPLETE", "risk_score": a["risk_score"], "risk_level": a["risk_level"],
				"findings_count": a["findings_count"], "sessions_analyzed": a["total_sessions"], "sessions_with_findings": 1, "risky_sessions": 1,
				"by_severity": map[string]any{"high": a["findings_count"]}, "by_category": map[string]any{"prompt_injection": a["findings_count"]},
				"top_rules": []any{map[string]any{"rule": "llm01.instruction_override", "category": "prompt_injection", "severity": "high", "count": a["findings_count"], "sessions": 1}},
				"security_report": map[string]any{"sessions_analyzed": 2, "critical_issues": 1, "warnings": 0, "passed_checks": 1, "categories": map[string]any{
					"ENVIRONMENT": map[string]any{"category_name": "Environment & Supply Chain", "order": 2, "checks": []any{
						map[string]any{"check_id": "ENV_001_CONSISTENT_MODEL", "name": "Pinned Model Versions", "status": "critical", "value": "1 unpinned model(s)"}}},
					"RESOURCE_MANAGEMENT": map[string]any{"category_name": "Resource Management", "order": 1, "checks": []any{
						map[string]any{"check_id": "RESOURCE_002_TOOL_CALL_BOUNDS", "name": "Tool Call Bounds", "status": "passed", "value": "1 max calls"}}}}},
				"behavioral_analysis": map[string]any{"total_sessions": 2, "num_clusters": 1, "num_outliers": 0,
					"interpretation": "Highly stable agent with highly predictable behavior - single dominant pattern"}},
		}
	}
	return nil
}

func (fx *fixture) eventJSON(e fxEvent) map[string]any {
	attrs := map[string]any{"session.id": e.Session}
	for k, v := range e.Attrs {
		attrs[k] = v
	}
	m := map[string]any{"id": e.Span, "event_id": e.ID, "name": e.Name, "level": "INFO", "timestamp": e.Time, "session_id": e.Session,
		"agent_id": e.Agent, "vendor": "openai", "model": e.Model, "status": e.Status, "duration_ms": e.DurationMs,
		"input_tokens": e.In, "output_tokens": e.Out, "total_tokens": e.In + e.Out, "tool_name": e.Tool, "attributes": attrs}
	if e.Finding != nil {
		m["finding"] = e.Finding
	}
	return m
}

func (fx *fixture) findingJSON(e fxEvent) map[string]any {
	f := map[string]any{"id": e.ID, "timestamp": e.Time, "agent_id": e.Agent, "session_id": e.Session}
	for k, v := range e.Finding {
		f[k] = v
	}
	return f
}

func (fx *fixture) session(id string) map[string]any {
	var s *fxSession
	for _, x := range fx.sessions() {
		if x.ID == id {
			s = x
		}
	}
	if s == nil {
		return nil
	}
	row := fx.sessionRow(s)
	row["input_tokens"], row["output_tokens"] = s.In, s.Out
	row["tool_usage_details"] = s.ToolUse
	row["available_tools"] = []string{"get_weather"}
	row["system_prompt"] = "You are a helpful support agent for Acme."
	row["provider"] = "openai"
	row["findings_by_severity"] = map[string]any{"high": s.Findings}
	events, findings := []any{}, []any{}
	for _, e := range fx.events {
		if e.Session != id {
			continue
		}
		events = append(events, fx.eventJSON(e))
		if e.Finding != nil {
			findings = append(findings, fx.findingJSON(e))
		}
	}
	return map[string]any{"session": row, "events": events, "events_total": len(events), "limit": 500, "offset": 0, "has_more": false, "findings": findings}
}

func (fx *fixture) findings(q map[string][]string) map[string]any {
	out := []any{}
	for i := len(fx.events) - 1; i >= 0; i-- {
		e := fx.events[i]
		if fx.scope != "" && fx.wf.sessionWF[e.Session] != strings.TrimPrefix(fx.scope, "unassigned") {
			continue
		}
		if e.Finding != nil {
			out = append(out, fx.findingJSON(e))
		}
	}
	return map[string]any{"findings": out, "total_count": len(out), "limit": 50, "offset": 0, "has_more": false,
		"filters": map[string]any{"agent_workflow_id": nilIfEmpty(fx.scope)},
		"summary": map[string]any{"by_severity": map[string]any{"high": len(out)}, "by_category": map[string]any{"prompt_injection": len(out)}}}
}

func (fx *fixture) timeseries(q map[string][]string) map[string]any {
	end := fx.now().UTC().Truncate(time.Minute)
	start := end.Add(-59 * time.Minute)
	points := make([]map[string]any, 60)
	for i := range points {
		t := start.Add(time.Duration(i) * time.Minute)
		points[i] = map[string]any{"t": t.Format("2006-01-02T15:04:05.000Z"), "ts": t.Unix(), "requests": 0, "errors": 0, "input_tokens": 0,
			"output_tokens": 0, "tokens": 0, "p50_ms": 0.0, "p99_ms": 0.0, "avg_ms": 0.0, "tool_calls": 0, "findings": 0, "high_findings": 0, "risk_max": 0.0}
	}
	for _, e := range fx.events {
		i := int(e.Time.UTC().Sub(start) / time.Minute)
		if i < 0 || i >= len(points) {
			continue
		}
		p := points[i]
		switch e.Name {
		case "llm.call.finish":
			p["requests"] = p["requests"].(int) + 1
			p["input_tokens"] = p["input_tokens"].(int) + e.In
			p["output_tokens"] = p["output_tokens"].(int) + e.Out
			p["tokens"] = p["tokens"].(int) + e.In + e.Out
			p["p50_ms"], p["p99_ms"], p["avg_ms"] = e.DurationMs, e.DurationMs*1.3, e.DurationMs*1.05
		case "llm.call.error":
			p["requests"] = p["requests"].(int) + 1
			p["errors"] = p["errors"].(int) + 1
		case "tool.execution":
			p["tool_calls"] = p["tool_calls"].(int) + 1
		case "security.finding":
			p["findings"] = p["findings"].(int) + 1
			p["high_findings"] = p["high_findings"].(int) + 1
			p["risk_max"] = 55.0
		}
	}
	return map[string]any{"from": start, "to": end, "bucket_seconds": 60, "points": points}
}

// The SQL explorer's answers to two queries the tests send.
const (
	// sqlWide's values are the ones JSON numbers cannot carry exactly, which
	// the API sends as strings.
	sqlWide = "SELECT wide values"
	// sqlHuge's answer is cut by size.
	sqlHuge       = "SELECT huge rows"
	sqlHugeReason = "result larger than 16 MiB: showing the rows that fit (select fewer or narrower columns, or add a LIMIT)"
)

func sqlWideAnswer() map[string]any {
	return map[string]any{"columns": []string{"big", "small", "ratio", "maybe"}, "types": []string{"Int64", "UInt64", "Float64", "Nullable(Float64)"},
		"rows": [][]any{
			{"9007199254740993", 1234567, "NaN", nil},
			{"-9223372036854775808", 0, "-Infinity", "Infinity"},
			{"18446744073709551615", 42, 0.5, 1.5},
		}, "row_count": 3, "elapsed_ms": 2.0}
}
