package dashboard

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cylestio/perimeter/dashboard/web"
	"github.com/cylestio/perimeter/detect"
)

// jsonMisses answers JSON 404s and 405s under /api/ (the mux's own are
// plain text, and its "GET /" would hand /api/ misses to the UI).
func jsonMisses(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			mux.ServeHTTP(w, r)
			return
		}
		if _, pattern := mux.Handler(r); pattern != "" && pattern != "GET /" {
			mux.ServeHTTP(w, r)
			return
		}
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, pattern := mux.Handler(r2); pattern != "" && pattern != "GET /" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed", "allow": strings.Join(allow, ", ")})
			return
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found", "path": r.URL.Path})
	})
}

func (s *Server) routes(mux *http.ServeMux) {
	get := func(path string, empty func() enveloped, fn func(ctx context.Context, p params, q *querier) (enveloped, error)) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) { s.answer(w, r, empty, fn) })
	}
	get("/api/dashboard", func() enveloped { return emptyDashboard(s.opts.RefreshInterval) }, s.apiDashboard)
	get("/api/agents", func() enveloped { return emptyAgents() }, s.apiAgents)
	get("/api/sessions", func() enveloped { return &SessionsResponse{Sessions: []SessionRow{}} }, s.apiSessions)
	get("/api/sessions/list", func() enveloped { return emptySessionList() }, s.apiSessionList)
	get("/api/sessions/tags", func() enveloped { return &TagsResponse{Tags: []TagKey{}} }, s.apiSessionTags)
	get("/api/agent/{id}", func() enveloped { return emptyAgentResponse() }, s.apiAgent)
	get("/api/agent/{id}/checks", func() enveloped { return emptyChecks() }, s.apiAgentChecks)
	get("/api/session/{id}", func() enveloped { return emptySession() }, s.apiSession)
	get("/api/event/{id}", func() enveloped { return &EventResponse{} }, s.apiEvent)
	get("/api/stats", func() enveloped {
		e := emptyStats(s.opts.Now().Sub(s.started))
		e.ServedBy = s.opts.Instance
		return e
	}, s.apiStats)
	get("/api/config", func() enveloped { return s.config() }, func(context.Context, params, *querier) (enveloped, error) { return s.config(), nil })
	get("/api/findings", func() enveloped { return emptyFindings() }, s.apiFindings)
	get("/api/risk", func() enveloped { return emptyRisk() }, s.apiRisk)
	get("/api/timeseries", func() enveloped { return &TimeseriesResponse{Points: []Point{}} }, s.apiTimeseries)
	get("/api/sql/schema", func() enveloped { return emptySchema() }, s.apiSQLSchema)
	get("/api/cost", func() enveloped { return emptyCost() }, s.apiCost)
	mux.HandleFunc("GET /api/models", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.models()) })
	mux.HandleFunc("GET /api/replay/config", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.replay.config()) })
	mux.HandleFunc("POST /api/replay", s.apiReplay)
	mux.HandleFunc("POST /api/sql", s.gateSQL(s.apiSQL))
	mux.HandleFunc("GET /api/events/stream", s.hub.serve)
	s.wf = newWorkflowAPI(s)
	s.wf.routes(mux)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "service": "live_trace", "version": s.opts.Version, "storage": s.status()})
	})
	mcpH := s.mcpHandler()
	for _, m := range []string{"POST", "GET", "DELETE"} {
		mux.Handle(m+" /mcp", mcpH)
	}
	ui := s.opts.UI
	if ui == nil {
		ui = web.Handler()
	}
	mux.Handle("GET /", ui)
}

// AgentsResponse is /api/agents.
type AgentsResponse struct {
	Agents     []AgentSummary `json:"agents"`
	TotalCount int            `json:"total_count"`
	Envelope
}

func emptyAgents() *AgentsResponse { return &AgentsResponse{Agents: []AgentSummary{}} }

// SessionsResponse is /api/sessions.
type SessionsResponse struct {
	Sessions []SessionRow `json:"sessions"`
	Envelope
}

// Page says which part of a list an answer holds.
type Page struct {
	Limit   int  `json:"limit"`
	Offset  int  `json:"offset"`
	HasMore bool `json:"has_more"`
}

// pageOf is the page of n items from offset of a list of total items.
func pageOf(limit, offset, n int, total int64) Page {
	return Page{Limit: limit, Offset: offset, HasMore: int64(offset+n) < total}
}

// SessionListResponse is /api/sessions/list.
type SessionListResponse struct {
	Sessions   []SessionRow `json:"sessions"`
	TotalCount int64        `json:"total_count"`
	Page
	Filters map[string]any `json:"filters"`
	Envelope
}

func emptySessionList() *SessionListResponse {
	return &SessionListResponse{Sessions: []SessionRow{}, Page: Page{Limit: 10}, Filters: map[string]any{}}
}

// TagsResponse is /api/sessions/tags.
type TagsResponse struct {
	Tags []TagKey `json:"tags"`
	Envelope
}

// SessionResponse is /api/session/{id}.
type SessionResponse struct {
	Session     SessionDetail `json:"session"`
	Events      []Event       `json:"events"`
	EventsTotal int64         `json:"events_total"`
	Page
	Timeline []TimelineItem `json:"timeline"`
	Findings []Finding      `json:"findings"`
	Envelope
}

func emptySession() *SessionResponse {
	return &SessionResponse{
		Session: SessionDetail{SessionRow: SessionRow{Tags: map[string]string{}, RiskLevel: "none", Cost: Cost{Status: costNone}},
			Models: []string{}, ToolUsageDetails: map[string]int64{}, AvailableTools: []string{}, FindingsBySeverity: severityCounts()},
		Events: []Event{}, Timeline: []TimelineItem{}, Findings: []Finding{}, Page: Page{Limit: 500},
	}
}

// EventResponse is /api/event/{id}.
type EventResponse struct {
	Event *Event `json:"event"`
	Envelope
}

// FindingsResponse is /api/findings.
type FindingsResponse struct {
	Findings   []Finding `json:"findings"`
	TotalCount int64     `json:"total_count"`
	Page
	Summary FindingSummary `json:"summary"`
	Filters map[string]any `json:"filters"`
	Envelope
}

func emptyFindings() *FindingsResponse {
	return &FindingsResponse{Findings: []Finding{}, Page: Page{Limit: 100}, Filters: map[string]any{},
		Summary: FindingSummary{BySeverity: severityCounts(), ByCategory: map[string]int64{}}}
}

// RiskResponse is /api/risk.
type RiskResponse struct {
	Formula  string        `json:"formula"`
	From     Time          `json:"from"`
	To       Time          `json:"to"`
	Agents   []AgentRisk   `json:"agents"`
	Sessions []SessionRisk `json:"sessions"`
	Envelope
}

func emptyRisk() *RiskResponse {
	return &RiskResponse{Formula: riskFormula, Agents: []AgentRisk{}, Sessions: []SessionRisk{}}
}

// ConfigResponse is /api/config.
type ConfigResponse struct {
	ProxyInfo
	Dashboard DashboardInfo `json:"dashboard"`
	Config    any           `json:"config"`
	Envelope
}

// DashboardInfo describes this server.
type DashboardInfo struct {
	Host                     string  `json:"host"`
	Port                     int     `json:"port"`
	URL                      string  `json:"url"`
	TokenRequired            bool    `json:"token_required"`
	RefreshInterval          float64 `json:"refresh_interval"`
	SessionCompletionTimeout float64 `json:"session_completion_timeout"`
}

func (s *Server) config() *ConfigResponse {
	out := &ConfigResponse{ProxyInfo: s.opts.Proxy, Config: map[string]any{}}
	if s.opts.ConfigView != nil {
		out.Config = s.opts.ConfigView()
	}
	host, port := s.opts.Host, s.opts.Port
	if h, p, err := splitHostPort(s.Addr()); err == nil {
		host, port = h, p
	}
	out.Dashboard = DashboardInfo{Host: host, Port: port, URL: s.URL(), TokenRequired: s.opts.Token != "",
		RefreshInterval: s.opts.RefreshInterval.Seconds(), SessionCompletionTimeout: s.opts.SessionTimeout.Seconds()}
	return out
}

func (s *Server) apiDashboard(ctx context.Context, p params, q *querier) (enveloped, error) {
	agent, err := p.firstStr("agent_id", "agent")
	if err != nil {
		return nil, err
	}
	wf, err := p.firstStr("agent_workflow_id", "workflow")
	if err != nil {
		return nil, err
	}
	return q.dashboard(ctx, agent, wf, s.opts.RefreshInterval)
}

func (s *Server) apiAgents(ctx context.Context, p params, q *querier) (enveloped, error) {
	wf, err := p.firstStr("agent_workflow_id", "workflow")
	if err != nil {
		return nil, err
	}
	list, err := q.agentsIn(ctx, "", wf)
	if err != nil {
		return nil, err
	}
	return &AgentsResponse{Agents: list, TotalCount: len(list)}, nil
}

func (s *Server) apiSessions(ctx context.Context, p params, q *querier) (enveloped, error) {
	list, err := q.sessions(ctx, sessionFilter{}, 100, 0)
	if err != nil {
		return nil, err
	}
	return &SessionsResponse{Sessions: list}, nil
}

// sessionListArgs reads the session list's filters (shared with MCP).
type sessionListArgs struct {
	f             sessionFilter
	limit, offset int
	echo          map[string]any
}

func (p params) sessionList() (sessionListArgs, error) {
	var a sessionListArgs
	var err error
	if a.f.agent, err = p.firstStr("agent_id", "agent"); err != nil {
		return a, err
	}
	if a.f.status, err = p.status(); err != nil {
		return a, err
	}
	if a.f.tags, err = p.tags(); err != nil {
		return a, err
	}
	if a.f.workflow, err = p.firstStr("agent_workflow_id", "workflow"); err != nil {
		return a, err
	}
	if a.f.from, a.f.to, _, err = p.window(0); err != nil {
		return a, err
	}
	if a.limit, a.offset, err = p.page(10, 500); err != nil {
		return a, err
	}
	a.echo = map[string]any{"agent_id": nilIfEmpty(a.f.agent), "status": nilIfEmpty(a.f.status), "agent_workflow_id": nilIfEmpty(a.f.workflow),
		"tags": tagStrings(a.f.tags), "from": Time(a.f.from), "to": Time(a.f.to)}
	return a, nil
}

func (s *Server) apiSessionList(ctx context.Context, p params, q *querier) (enveloped, error) {
	a, err := p.sessionList()
	if err != nil {
		return nil, err
	}
	out, err := q.sessionList(ctx, a)
	if err == nil {
		setWorkflow(out.Sessions, a.f.workflow)
	}
	return out, err
}

func (q *querier) sessionList(ctx context.Context, a sessionListArgs) (*SessionListResponse, error) {
	total, err := q.countSessions(ctx, a.f)
	if err != nil {
		return nil, err
	}
	out := &SessionListResponse{Sessions: []SessionRow{}, TotalCount: total, Filters: a.echo}
	if total > int64(a.offset) {
		if out.Sessions, err = q.sessions(ctx, a.f, a.limit, a.offset); err != nil {
			return nil, err
		}
	}
	out.Page = pageOf(a.limit, a.offset, len(out.Sessions), total)
	return out, nil
}

func (s *Server) apiSessionTags(ctx context.Context, p params, q *querier) (enveloped, error) {
	tags, err := q.sessionTags(ctx)
	if err != nil {
		return nil, err
	}
	return &TagsResponse{Tags: tags}, nil
}

func (s *Server) apiAgent(ctx context.Context, p params, q *querier) (enveloped, error) {
	id, err := pathID("agent_id", p.id)
	if err != nil {
		return nil, err
	}
	out, ok, err := q.agent(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("agent", id)
	}
	out.Analytics.TokenSummary.PricingLastUpdated = s.prices.Table().LastUpdated
	return out, nil
}

// sessionArgs are /api/session/{id}'s paging and type filter.
type sessionArgs struct {
	limit, offset int
	types         []string
}

func (p params) sessionArgs(maxLimit int) (sessionArgs, error) {
	var a sessionArgs
	var err error
	if a.limit, a.offset, err = p.page(min(500, maxLimit), maxLimit); err != nil {
		return a, err
	}
	a.types, err = p.list("types")
	if err == nil {
		for _, t := range a.types {
			if !eventName.MatchString(t) {
				return a, badParam("types", "%q is not an event name (llm.call.start, tool.execution, …)", t)
			}
		}
	}
	return a, err
}

var eventName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)

func (q *querier) sessionDetail(ctx context.Context, id string, a sessionArgs) (*SessionResponse, error) {
	d, ok, err := q.session(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("session", id)
	}
	out := emptySession()
	out.Session = d
	out.EventsTotal = d.TotalEvents
	if len(a.types) > 0 {
		if out.EventsTotal, err = q.countEvents(ctx, d.AgentID, id, a.types); err != nil {
			return nil, err
		}
	}
	if out.EventsTotal > int64(a.offset) {
		if out.Events, err = q.sessionEvents(ctx, d.AgentID, id, a.types, a.limit, a.offset); err != nil {
			return nil, err
		}
	}
	out.Page = pageOf(a.limit, a.offset, len(out.Events), out.EventsTotal)
	out.Timeline = timeline(out.Events)
	if d.FindingsCount > 0 {
		if out.Findings, err = q.findings(ctx, findingFilter{agent: d.AgentID, session: id}, 1000, 0, true); err != nil {
			return nil, err
		}
		var sum detect.SeverityTotals
		for _, f := range out.Findings {
			out.Session.FindingsBySeverity[f.Severity]++
			if sev, ok := detect.ParseSeverity(f.Severity); ok {
				sum[sev] += f.Confidence
			}
		}
		out.Session.RiskScore = round(sum.Score(), 2)
		out.Session.RiskLevel = detect.RiskLevel(out.Session.RiskScore)
	}
	return out, nil
}

func (s *Server) apiSession(ctx context.Context, p params, q *querier) (enveloped, error) {
	d, err := q.sessionOf(ctx, p, 5000)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// sessionOf reads the session p names with a page of its events (at most
// maxLimit).
func (q *querier) sessionOf(ctx context.Context, p params, maxLimit int) (*SessionResponse, error) {
	id, err := pathID("session_id", p.id)
	if err != nil {
		return nil, err
	}
	a, err := p.sessionArgs(maxLimit)
	if err != nil {
		return nil, err
	}
	return q.sessionDetail(ctx, id, a)
}

func (s *Server) apiEvent(ctx context.Context, p params, q *querier) (enveloped, error) {
	id, err := pathID("event_id", p.id)
	if err != nil {
		return nil, err
	}
	session, err := p.firstStr("session_id")
	if err != nil {
		return nil, err
	}
	ev, err := q.event(ctx, id, session)
	if err != nil {
		return nil, err
	}
	return &EventResponse{Event: ev}, nil
}

func (s *Server) apiStats(ctx context.Context, p params, q *querier) (enveloped, error) {
	out, err := q.stats(ctx, q.now.Sub(s.started))
	if out != nil {
		out.ServedBy = s.opts.Instance
	}
	return out, err
}

// findingArgs reads the findings filters (shared with MCP).
type findingArgs struct {
	f             findingFilter
	limit, offset int
	echo          map[string]any
}

func (p params) findingArgs() (findingArgs, error) {
	var a findingArgs
	sevs, err := p.list("severity")
	if err != nil {
		return a, err
	}
	min, err := p.str("min_severity")
	if err != nil {
		return a, err
	}
	if a.f.severities, err = severities(sevs, min); err != nil {
		return a, err
	}
	cats, err := p.list("category")
	if err != nil {
		return a, err
	}
	if a.f.categories, err = categories(cats); err != nil {
		return a, err
	}
	if a.f.rule, err = p.str("rule"); err != nil {
		return a, err
	}
	if a.f.agent, err = p.firstStr("agent_id", "agent"); err != nil {
		return a, err
	}
	if a.f.session, err = p.firstStr("session_id", "session"); err != nil {
		return a, err
	}
	if a.f.workflow, err = p.firstStr("agent_workflow_id", "workflow"); err != nil {
		return a, err
	}
	if a.f.from, a.f.to, _, err = p.window(0); err != nil {
		return a, err
	}
	if a.limit, a.offset, err = p.page(100, 1000); err != nil {
		return a, err
	}
	a.echo = map[string]any{"severity": nonNil(a.f.severities), "category": nonNil(a.f.categories), "rule": nilIfEmpty(a.f.rule),
		"agent_id": nilIfEmpty(a.f.agent), "session_id": nilIfEmpty(a.f.session), "agent_workflow_id": nilIfEmpty(a.f.workflow),
		"from": Time(a.f.from), "to": Time(a.f.to)}
	return a, nil
}

func (s *Server) apiFindings(ctx context.Context, p params, q *querier) (enveloped, error) {
	a, err := p.findingArgs()
	if err != nil {
		return nil, err
	}
	return q.findingList(ctx, a)
}

func (q *querier) findingList(ctx context.Context, a findingArgs) (*FindingsResponse, error) {
	sum, total, err := q.findingSummary(ctx, a.f)
	if err != nil {
		return nil, err
	}
	out := &FindingsResponse{Findings: []Finding{}, TotalCount: total, Summary: sum, Filters: a.echo}
	if total > int64(a.offset) {
		if out.Findings, err = q.findings(ctx, a.f, a.limit, a.offset, false); err != nil {
			return nil, err
		}
	}
	out.Page = pageOf(a.limit, a.offset, len(out.Findings), total)
	return out, nil
}

// riskArgs reads /api/risk's filters (shared with MCP).
type riskArgs struct {
	scope riskScope
	limit int
}

func (p params) riskArgs() (riskArgs, error) {
	var a riskArgs
	agent, err := p.firstStr("agent_id", "agent")
	if err != nil {
		return a, err
	}
	if agent != "" {
		a.scope.agents = []string{agent}
	}
	if a.scope.from, a.scope.to, _, err = p.window(0); err != nil {
		return a, err
	}
	a.limit, err = p.intIn("limit", 20, 1, 500)
	return a, err
}

func (s *Server) apiRisk(ctx context.Context, p params, q *querier) (enveloped, error) {
	a, err := p.riskArgs()
	if err != nil {
		return nil, err
	}
	return q.risk(ctx, a)
}

func (q *querier) risk(ctx context.Context, a riskArgs) (*RiskResponse, error) {
	agents, sessions, err := q.agentRisks(ctx, a.scope)
	if err != nil {
		return nil, err
	}
	out := emptyRisk()
	out.From, out.To, out.Agents = Time(a.scope.from), Time(a.scope.to), agents
	if len(sessions) > a.limit {
		sessions = sessions[:a.limit]
	}
	if len(sessions) > 0 {
		ids := make([]string, 0, len(sessions))
		at := map[string]int{}
		for i, sr := range sessions {
			ids = append(ids, sr.SessionID)
			at[sr.SessionID] = i
			sessions[i].BySeverity = severityCounts()
		}
		stats, err := q.ruleStats(ctx, riskScope{agents: a.scope.agents, sessions: ids, from: a.scope.from, to: a.scope.to}, true)
		if err != nil {
			return nil, err
		}
		for _, st := range stats {
			i, ok := at[st.session]
			if !ok {
				continue
			}
			sessions[i].BySeverity[st.sev] += st.n
			if sessions[i].TopRule == "" {
				sessions[i].TopRule = st.rule // stats are by count, descending
			}
		}
	}
	out.Sessions = sessions
	return out, nil
}

func (s *Server) apiTimeseries(ctx context.Context, p params, q *querier) (enveloped, error) {
	from, to, _, err := p.window(time.Hour)
	if err != nil {
		return nil, err
	}
	bucket, err := p.bucket(from, to)
	if err != nil {
		return nil, err
	}
	agent, err := p.firstStr("agent_id", "agent")
	if err != nil {
		return nil, err
	}
	session, err := p.firstStr("session_id", "session")
	if err != nil {
		return nil, err
	}
	wf, err := p.firstStr("agent_workflow_id", "workflow")
	if err != nil {
		return nil, err
	}
	out := &TimeseriesResponse{From: Time(from), To: Time(to), BucketSeconds: bucket}
	if out.Points, err = q.timeseries(ctx, from, to, bucket, agent, session, wf); err != nil {
		return nil, err
	}
	return out, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func tagStrings(ts []tagFilter) []string {
	out := []string{}
	for _, t := range ts {
		if t.any {
			out = append(out, t.key)
		} else {
			out = append(out, t.key+":"+t.value)
		}
	}
	return out
}

func splitHostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	return strings.Trim(h, "[]"), n, err
}
