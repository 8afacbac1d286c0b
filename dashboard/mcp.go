package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cylestio/perimeter/sink"
)

// MCP at /mcp, with the Go SDK's Streamable HTTP transport. The SDK serves
// the 2026-07-28 per-request style (no handshake; _meta, MCP-Protocol-Version
// and Mcp-Method headers; server/discover) only from a stateless handler,
// and the legacy initialize handshake with Mcp-Session-Id from a stateful
// one, so /mcp routes each request to the handler of its era: an
// initialize, or anything carrying an Mcp-Session-Id (and GET/DELETE, which
// only sessions use), goes to the stateful handler; the rest to the
// stateless one, which also answers a legacy client that never initialized
// or dropped its session id. Tools are the same on both.

const mcpInstructions = "Perimeter records every call agents make to LLM providers through its proxy: sessions, " +
	"tool calls, tokens, cost, latency, errors and security findings (PII, secrets, prompt injection, OWASP LLM Top 10). " +
	"Start with get_dashboard_summary, get_risk_summary or get_cost_summary (range=24h for today); drill into get_agent, get_agent_checks, list_sessions, " +
	"get_session_events and get_findings; query_sql runs read-only ClickHouse SQL over perimeter.events (read it as " +
	"perimeter.events FINAL). Risk: " + riskFormula + "."

func (s *Server) mcpHandler() http.Handler {
	srv := mcp.NewServer(&mcp.Implementation{Name: "perimeter", Title: "Perimeter dashboard", Version: s.opts.Version},
		&mcp.ServerOptions{Instructions: mcpInstructions})
	s.addTools(srv)
	s.addWorkflowTools(srv)
	get := func(*http.Request) *mcp.Server { return srv }
	stateful := mcp.NewStreamableHTTPHandler(get, &mcp.StreamableHTTPOptions{JSONResponse: true, SessionTimeout: 30 * time.Minute})
	stateless := mcp.NewStreamableHTTPHandler(get, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Be lenient with hand-written clients (curl): JSON is the only
		// body we read, and JSON is what we answer.
		if r.Header.Get("Accept") == "" {
			r.Header.Set("Accept", "application/json, text/event-stream")
		}
		if ct := r.Header.Get("Content-Type"); r.Method == http.MethodPost && (ct == "" || strings.HasPrefix(ct, "application/x-www-form-urlencoded")) {
			r.Header.Set("Content-Type", "application/json")
		}
		if r.Method != http.MethodPost {
			stateful.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, mcp.DefaultMaxRequestBodyBytes+1))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "read body: " + err.Error()})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if n := callsQuerySQL(body); n > 1 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "send one query_sql call per request (this batch has " + strconv.Itoa(n) + ")"})
			return
		} else if n == 1 {
			// The answer is written after the tool returns: the gate
			// holds the result's reservation until then.
			t, r2 := s.admitExplorer(w, r, mcpShare)
			if t == nil {
				return
			}
			defer t.done()
			r = r2
		}
		if r.Header.Get("Mcp-Session-Id") != "" || isInitialize(body) {
			stateful.ServeHTTP(w, r)
			return
		}
		stateless.ServeHTTP(w, r)
	})
}

// isInitialize reports whether a JSON-RPC message (or batch) holds an
// initialize request.
func isInitialize(body []byte) bool {
	body = bytes.TrimSpace(body)
	var msgs []struct {
		Method string `json:"method"`
	}
	if len(body) > 0 && body[0] == '[' {
		_ = json.Unmarshal(body, &msgs)
	} else {
		msgs = make([]struct {
			Method string `json:"method"`
		}, 1)
		_ = json.Unmarshal(body, &msgs[0])
	}
	for _, m := range msgs {
		if m.Method == "initialize" {
			return true
		}
	}
	return false
}

// Tool inputs. Their JSON schemas are inferred, then constrained (enums,
// ranges) by schemaFor; the SDK validates arguments against them and
// reports violations as tool errors. The tools then go through the same
// parameter checks as the HTTP API.

type agentFilterArgs struct {
	AgentID string `json:"agent_id,omitempty" jsonschema:"only this agent"`
}

type noArgs struct{}

type agentArgs struct {
	AgentID string `json:"agent_id" jsonschema:"the agent id (from list_agents)"`
}

type windowArgs struct {
	Range string `json:"range,omitempty" jsonschema:"a window ending now: 15m, 1h, 24h, 7d"`
	From  string `json:"from,omitempty" jsonschema:"window start: RFC 3339 or unix seconds (instead of range)"`
	To    string `json:"to,omitempty" jsonschema:"window end: RFC 3339 or unix seconds (default now)"`
}

type listSessionsArgs struct {
	AgentID string   `json:"agent_id,omitempty" jsonschema:"only this agent's sessions"`
	Status  string   `json:"status,omitempty" jsonschema:"ACTIVE (events in the last session_completion_timeout) or COMPLETED"`
	Tags    []string `json:"tags,omitempty" jsonschema:"session tags that must all be present: key:value or key"`
	windowArgs
	Limit  int `json:"limit,omitempty" jsonschema:"page size (default 10)"`
	Offset int `json:"offset,omitempty" jsonschema:"page offset"`
}

type sessionEventsArgs struct {
	SessionID  string   `json:"session_id" jsonschema:"the session id (from list_sessions)"`
	Limit      int      `json:"limit,omitempty" jsonschema:"events per page (default 50)"`
	Offset     int      `json:"offset,omitempty" jsonschema:"page offset"`
	EventTypes []string `json:"event_types,omitempty" jsonschema:"only these event names, e.g. llm.call.start, tool.execution, security.finding"`
}

type eventArgs struct {
	EventID   string `json:"event_id" jsonschema:"the event UUID (event_id) or its 16-hex span id (id)"`
	SessionID string `json:"session_id,omitempty" jsonschema:"the session, to disambiguate a span id"`
}

type findingsArgs struct {
	Severity    strOrList `json:"severity,omitempty" jsonschema:"only these severities (a list, or one value)"`
	MinSeverity string    `json:"min_severity,omitempty" jsonschema:"this severity and above"`
	Category    []string  `json:"category,omitempty" jsonschema:"only these detector families: pii, secret, prompt_injection, …"`
	Rule        string    `json:"rule,omitempty" jsonschema:"only this rule id, e.g. llm01.instruction_override"`
	AgentID     string    `json:"agent_id,omitempty" jsonschema:"only this agent"`
	SessionID   string    `json:"session_id,omitempty" jsonschema:"only this session"`
	windowArgs
	Limit  int `json:"limit,omitempty" jsonschema:"page size (default 100)"`
	Offset int `json:"offset,omitempty" jsonschema:"page offset"`
	// The security workflow's findings (of an agent workflow or an
	// analysis session), as the original's get_findings.
	AgentWorkflowID string `json:"agent_workflow_id,omitempty" jsonschema:"a workflow's findings from analyses (static and dynamic) instead of runtime detections"`
	WorkflowID      string `json:"workflow_id,omitempty" jsonschema:"alias of agent_workflow_id"`
	Status          string `json:"status,omitempty" jsonschema:"analysis findings with this status: OPEN, FIXED, IGNORED, DISMISSED, RESOLVED, SUPERSEDED"`
}

type riskArgsIn struct {
	AgentID string `json:"agent_id,omitempty" jsonschema:"only this agent"`
	windowArgs
	Limit int `json:"limit,omitempty" jsonschema:"riskiest sessions listed (default 20)"`
}

type costArgsIn struct {
	AgentID         string `json:"agent_id,omitempty" jsonschema:"only this agent"`
	AgentWorkflowID string `json:"agent_workflow_id,omitempty" jsonschema:"only the sessions of this agent workflow (unassigned: of none)"`
	windowArgs
}

type sqlArgs struct {
	Query string `json:"query" jsonschema:"one read-only SELECT (or WITH … SELECT) over perimeter.events; use perimeter.events FINAL to count retried batches once"`
	Limit int    `json:"limit,omitempty" jsonschema:"rows returned at most (default 1000)"`
}

var severityEnum = []any{"info", "low", "medium", "high", "critical"}

// schemaFor infers In's schema and lets mod constrain its properties.
func schemaFor[In any](mod func(props map[string]*jsonschema.Schema)) *jsonschema.Schema {
	sch, err := jsonschema.For[In](nil)
	if err != nil {
		panic(err) // the argument types above always infer
	}
	if mod != nil {
		mod(sch.Properties)
	}
	return sch
}

func ptr(f float64) *float64 { return &f }

func limitProp(props map[string]*jsonschema.Schema, max float64) {
	if p := props["limit"]; p != nil {
		p.Minimum, p.Maximum = ptr(1), ptr(max)
	}
	if p := props["offset"]; p != nil {
		p.Minimum, p.Maximum = ptr(0), ptr(maxOffset)
	}
}

func nonEmpty(props map[string]*jsonschema.Schema, names ...string) {
	for _, n := range names {
		if p := props[n]; p != nil {
			p.MinLength = new(int)
			*p.MinLength = 1
		}
	}
}

func (s *Server) addTools(srv *mcp.Server) {
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(bool)}
	tool := func(name, desc string, in *jsonschema.Schema) *mcp.Tool {
		return &mcp.Tool{Name: name, Description: desc, InputSchema: in, Annotations: readOnly}
	}
	mcp.AddTool(srv, tool("get_dashboard_summary",
		"Overview: KPIs (agents, sessions, requests, tokens, estimated cost, errors, latency p50/p99, findings, risky sessions), agents with cost and risk, the 10 latest sessions.",
		schemaFor[agentFilterArgs](nil)),
		func(ctx context.Context, _ *mcp.CallToolRequest, in agentFilterArgs) (*mcp.CallToolResult, any, error) {
			return s.callTool(ctx, s.apiDashboard, func() enveloped { return emptyDashboard(s.opts.RefreshInterval) }, "", url.Values{"agent_id": {in.AgentID}})
		})
	mcp.AddTool(srv, tool("list_agents", "Every agent with sessions, messages, tokens, tools, errors, latency, findings and risk score, most recent first.",
		schemaFor[noArgs](nil)),
		func(ctx context.Context, _ *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			return s.callTool(ctx, s.apiAgents, func() enveloped { return emptyAgents() }, "", nil)
		})
	mcp.AddTool(srv, tool("get_agent",
		"One agent: totals, session patterns, per-model tokens and latency percentiles, tool usage, and risk analysis (findings by severity/category, top rules, riskiest sessions).",
		schemaFor[agentArgs](func(p map[string]*jsonschema.Schema) { nonEmpty(p, "agent_id") })),
		func(ctx context.Context, _ *mcp.CallToolRequest, in agentArgs) (*mcp.CallToolResult, any, error) {
			return s.callTool(ctx, s.apiAgent, func() enveloped { return emptyAgentResponse() }, in.AgentID, nil)
		})
	mcp.AddTool(srv, tool("get_agent_checks",
		"One agent's 16 dynamic security checks (resource bounds and variance, pinned models, tool coverage, behavioural stability and outliers, PII exposure; status passed/warning/critical, value, evidence, OWASP/SOC2/CWE mappings) and its behavioural clusters and outliers, over its most recent completed sessions.",
		schemaFor[agentArgs](func(p map[string]*jsonschema.Schema) { nonEmpty(p, "agent_id") })),
		func(ctx context.Context, _ *mcp.CallToolRequest, in agentArgs) (*mcp.CallToolResult, any, error) {
			return s.callTool(ctx, s.apiAgentChecks, func() enveloped { return emptyChecks() }, in.AgentID, nil)
		})
	mcp.AddTool(srv, tool("list_sessions", "Sessions, newest first, filtered by agent, status, tags and time window, with tokens, errors, findings and risk.",
		schemaFor[listSessionsArgs](func(p map[string]*jsonschema.Schema) {
			p["status"].Enum = []any{"ACTIVE", "COMPLETED", "INACTIVE"}
			limitProp(p, 500)
		})),
		func(ctx context.Context, _ *mcp.CallToolRequest, in listSessionsArgs) (*mcp.CallToolResult, any, error) {
			v := url.Values{"agent_id": {in.AgentID}, "status": {in.Status}, "tags": {strings.Join(in.Tags, ",")}}
			in.windowArgs.set(v)
			setInt(v, "limit", in.Limit)
			setInt(v, "offset", in.Offset)
			return s.callTool(ctx, s.apiSessionList, func() enveloped { return emptySessionList() }, "", v)
		})
	mcp.AddTool(srv, tool("get_session_events",
		"A session's summary and its events in order (paged): prompts and answers (attributes), tool calls with arguments and results, usage, errors, findings.",
		schemaFor[sessionEventsArgs](func(p map[string]*jsonschema.Schema) { nonEmpty(p, "session_id"); limitProp(p, 1000) })),
		func(ctx context.Context, _ *mcp.CallToolRequest, in sessionEventsArgs) (*mcp.CallToolResult, any, error) {
			v := url.Values{"types": {strings.Join(in.EventTypes, ",")}}
			if in.Limit == 0 {
				in.Limit = 50
			}
			setInt(v, "limit", in.Limit)
			setInt(v, "offset", in.Offset)
			return s.callTool(ctx, func(ctx context.Context, p params, q *querier) (enveloped, error) {
				d, err := q.sessionOf(ctx, p, 1000)
				if err != nil {
					return nil, err
				}
				return &SessionEventsResult{Session: d.Session, Events: d.Events, EventsTotal: d.EventsTotal,
					Page: d.Page}, nil
			}, func() enveloped { return &SessionEventsResult{Events: []Event{}} }, in.SessionID, v)
		})
	mcp.AddTool(srv, tool("get_event", "One event with all its attributes, by event UUID or span id.",
		schemaFor[eventArgs](func(p map[string]*jsonschema.Schema) { nonEmpty(p, "event_id") })),
		func(ctx context.Context, _ *mcp.CallToolRequest, in eventArgs) (*mcp.CallToolResult, any, error) {
			return s.callTool(ctx, s.apiEvent, func() enveloped { return &EventResponse{} }, in.EventID, url.Values{"session_id": {in.SessionID}})
		})
	mcp.AddTool(srv, tool("get_findings",
		"Security findings (newest first) with rule, severity, confidence, redacted evidence and OWASP id, filtered by severity, category, rule, agent, session and window; with counts by severity and category. "+
			"With agent_workflow_id (or status, or the session_id of an analysis session): the findings analyses stored for the workflow (store_finding, dynamic analyses), with status and recommendation.",
		schemaFor[findingsArgs](func(p map[string]*jsonschema.Schema) {
			p["severity"].Type, p["severity"].Types = "", []string{"array", "string"}
			p["min_severity"].Enum = severityEnum
			limitProp(p, 1000)
		})),
		func(ctx context.Context, _ *mcp.CallToolRequest, in findingsArgs) (*mcp.CallToolResult, any, error) {
			if ok, res, out, err := s.workflowFindings(ctx, in); ok {
				return res, out, err
			}
			v := url.Values{"severity": {strings.Join(in.Severity, ",")}, "min_severity": {in.MinSeverity},
				"category": {strings.Join(in.Category, ",")}, "rule": {in.Rule}, "agent_id": {in.AgentID}, "session_id": {in.SessionID}}
			in.windowArgs.set(v)
			setInt(v, "limit", in.Limit)
			setInt(v, "offset", in.Offset)
			return s.callTool(ctx, s.apiFindings, func() enveloped { return emptyFindings() }, "", v)
		})
	mcp.AddTool(srv, tool("get_risk_summary",
		"Risk per agent (score, risky sessions, findings by severity, top rules) and the riskiest sessions (with their top rule), over a window (e.g. range=24h) or all time.",
		schemaFor[riskArgsIn](func(p map[string]*jsonschema.Schema) { limitProp(p, 500) })),
		func(ctx context.Context, _ *mcp.CallToolRequest, in riskArgsIn) (*mcp.CallToolResult, any, error) {
			v := url.Values{"agent_id": {in.AgentID}}
			in.windowArgs.set(v)
			setInt(v, "limit", in.Limit)
			return s.callTool(ctx, s.apiRisk, func() enveloped { return emptyRisk() }, "", v)
		})
	mcp.AddTool(srv, tool("get_cost_summary",
		"What LLM calls cost (USD, from each call's reported usage at its model's price): total, per model and per agent, over a window (e.g. range=24h) or all time, "+
			"with the count of calls priced, partial (cut streams), unpriced (model without a price) and without usage. cost_usd is null when no call was priced, never 0 for unknown; "+
			"unpriced_models names the models to add to pricing.models.",
		schemaFor[costArgsIn](nil)),
		func(ctx context.Context, _ *mcp.CallToolRequest, in costArgsIn) (*mcp.CallToolResult, any, error) {
			v := url.Values{"agent_id": {in.AgentID}, "agent_workflow_id": {in.AgentWorkflowID}}
			in.windowArgs.set(v)
			return s.callTool(ctx, s.apiCost, func() enveloped { return emptyCost() }, "", v)
		})
	mcp.AddTool(srv, tool("query_sql",
		"Run one read-only ClickHouse SELECT over perimeter.events (columns: id, ts, ts_us, name, level, session_id, agent_id, vendor, model, status, duration_ms, input_tokens, output_tokens, total_tokens, cached_tokens, cost_usd (NULL unless priced), cost_status, tool_name, error_type, error_message, risk_score, attributes JSON). "+
			"Limited to 10 s and at most limit rows; no SETTINGS, files, URLs or other servers.",
		schemaFor[sqlArgs](func(p map[string]*jsonschema.Schema) {
			nonEmpty(p, "query")
			if l := p["limit"]; l != nil {
				l.Minimum, l.Maximum = ptr(1), ptr(float64(s.opts.SQLMaxRows))
			}
		})),
		func(ctx context.Context, _ *mcp.CallToolRequest, in sqlArgs) (*mcp.CallToolResult, any, error) {
			st := s.status()
			v, err := s.runSQL(mcpCall(queryContext(ctx)), st, in.Query, in.Limit)
			return s.toolAnswer(st, v, err, func() enveloped { return s.emptySQL(s.sqlLimit(in.Limit)) })
		})
}

// SessionEventsResult is get_session_events' answer.
type SessionEventsResult struct {
	Session     SessionDetail `json:"session"`
	Events      []Event       `json:"events"`
	EventsTotal int64         `json:"events_total"`
	Page
	Envelope
}

func (w windowArgs) set(v url.Values) {
	v.Set("range", w.Range)
	v.Set("from", w.From)
	v.Set("to", w.To)
}

func setInt(v url.Values, k string, n int) {
	if n != 0 {
		v.Set(k, strconv.Itoa(n))
	}
}

// callTool runs an API handler for a tool.
func (s *Server) callTool(ctx context.Context, fn func(ctx context.Context, p params, q *querier) (enveloped, error),
	empty func() enveloped, id string, vals url.Values) (*mcp.CallToolResult, any, error) {
	release, err := s.pages.acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	ctx = queryContext(ctx)
	st := s.status()
	q := s.querier(ctx, st)
	for k, vs := range vals {
		if len(vs) == 1 && vs[0] == "" {
			delete(vals, k)
		}
	}
	v, err := fn(ctx, params{q: vals, now: q.now, id: id}, q)
	return s.toolAnswer(st, v, err, empty)
}

// toolAnswer is answer for MCP: bad arguments, unknown ids and failed
// queries are tool errors; a store that is down gives the empty state.
func (s *Server) toolAnswer(st sink.Status, v enveloped, err error, empty func() enveloped) (*mcp.CallToolResult, any, error) {
	var ae *apiError
	switch {
	case err == nil:
	case errors.Is(err, errUnavailable):
		if st.Available {
			st.Available, st.Reason = false, unavailableReason(err)
		}
		v = empty()
	case errors.As(err, &ae):
		if ae.id != "" {
			return nil, nil, errors.New(ae.msg + ": " + ae.id)
		}
		return nil, nil, ae
	default:
		return nil, nil, errors.New("query failed: " + err.Error())
	}
	e := v.envelope()
	e.Storage, e.LastUpdated = st, Time(s.opts.Now())
	return nil, v, nil
}
