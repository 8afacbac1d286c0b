package dashboard

import (
	"context"
	"strconv"
	"time"
)

// KPIs are the overview's cards.
type KPIs struct {
	TotalAgents       int64   `json:"total_agents"`
	TotalSessions     int64   `json:"total_sessions"`
	ActiveSessions    int64   `json:"active_sessions"`
	TotalEvents       int64   `json:"total_events"`
	TotalRequests     int64   `json:"total_requests"`
	TotalTokens       int64   `json:"total_tokens"`
	InputTokens       int64   `json:"input_tokens"`
	OutputTokens      int64   `json:"output_tokens"`
	CachedTokens      int64   `json:"cached_tokens"`
	TotalToolCalls    int64   `json:"total_tool_calls"`
	TotalErrors       int64   `json:"total_errors"`
	ErrorRate         float64 `json:"error_rate"`
	AvgResponseTimeMs float64 `json:"avg_response_time_ms"`
	P50ResponseTimeMs float64 `json:"p50_response_time_ms"`
	P99ResponseTimeMs float64 `json:"p99_response_time_ms"`
	TotalFindings     int64   `json:"total_findings"`
	HighFindings      int64   `json:"high_findings"`
	RiskySessions     int64   `json:"risky_sessions"`
	MaxSessionRisk    float64 `json:"max_session_risk"`
	// The "est. cost" card: null when no call was priced.
	Cost
	CostCalls
}

// LatestSession is /api/dashboard's latest_session.
type LatestSession struct {
	ID              string  `json:"id"`
	AgentID         string  `json:"agent_id"`
	MessageCount    int64   `json:"message_count"`
	DurationMinutes float64 `json:"duration_minutes"`
	IsActive        bool    `json:"is_active"`
	LastActivity    string  `json:"last_activity"`
	LastActivityAt  Time    `json:"last_activity_at"`
}

// DashboardResponse is /api/dashboard.
type DashboardResponse struct {
	Agents          []AgentSummary `json:"agents"`
	SessionsCount   int64          `json:"sessions_count"`
	LatestSession   *LatestSession `json:"latest_session"`
	RecentSessions  []SessionRow   `json:"recent_sessions"`
	KPIs            KPIs           `json:"kpis"`
	AgentWorkflowID *string        `json:"agent_workflow_id"`
	RefreshInterval float64        `json:"refresh_interval"`
	Envelope
}

// totals is one pass over the events for /api/stats; session and agent
// counts come from a per-session aggregation instead (distinct counts over
// every event cost several times more).
type totals struct {
	events, requests, tokens, in, out, cached, tools, errors, findings, high, recent int64
	avg, p50, p99                                                                    float64
}

func (q *querier) totals(ctx context.Context, agent string, recentUs int64) (totals, error) {
	sql := `SELECT count() AS events,
  countIf(name IN (` + qFinish + `, ` + qError + `)) AS requests,
  sumIf(total_tokens, name = ` + qFinish + `) AS tokens,
  sumIf(input_tokens, name = ` + qFinish + `) AS tokens_in,
  sumIf(output_tokens, name = ` + qFinish + `) AS tokens_out,
  sumIf(cached_tokens, name = ` + qFinish + `) AS tokens_cached,
  countIf(name = ` + qToolExe + `) AS tools,
  countIf(` + isError + `) AS errors,
  countIf(name = ` + qFinding + `) AS findings,
  countIf(name = ` + qFinding + ` AND level = 'WARNING') AS high,
  countIf(ts_us >= ?) AS recent,
  avgIf(duration_ms, name = ` + qFinish + `) AS avg_ms,
  quantileIf(0.5)(duration_ms, name = ` + qFinish + `) AS p50,
  quantileIf(0.99)(duration_ms, name = ` + qFinish + `) AS p99
FROM ` + q.src
	args := []any{recentUs}
	if agent != "" {
		sql += " WHERE agent_id = ?"
		args = append(args, agent)
	}
	res, err := q.run(ctx, sql, args...)
	if err != nil || res.len() == 0 {
		return totals{}, err
	}
	r := res.row(0)
	return totals{
		events:   r.int("events"),
		requests: r.int("requests"), tokens: r.int("tokens"), in: r.int("tokens_in"), out: r.int("tokens_out"),
		cached: r.int("tokens_cached"), tools: r.int("tools"), errors: r.int("errors"), findings: r.int("findings"),
		high: r.int("high"), recent: r.int("recent"),
		avg: round(r.float("avg_ms"), 1), p50: round(r.float("p50"), 1), p99: round(r.float("p99"), 1),
	}, nil
}

func emptyDashboard(refresh time.Duration) *DashboardResponse {
	return &DashboardResponse{Agents: []AgentSummary{}, RecentSessions: []SessionRow{}, RefreshInterval: refresh.Seconds(),
		KPIs: KPIs{Cost: Cost{Status: costNone}}}
}

func (q *querier) dashboard(ctx context.Context, agent, wf string, refresh time.Duration) (*DashboardResponse, error) {
	out := emptyDashboard(refresh)
	if wf != "" {
		out.AgentWorkflowID = &wf
	}
	var err error
	if out.Agents, err = q.agentsIn(ctx, agent, wf); err != nil || len(out.Agents) == 0 {
		return out, err
	}
	// The totals are the agents' sums; only the latency percentiles need a
	// pass of their own.
	k := &out.KPIs
	var dur float64
	var responses int64
	var cost costSum
	k.TotalAgents = int64(len(out.Agents))
	for _, a := range out.Agents {
		k.TotalSessions += a.TotalSessions
		k.ActiveSessions += a.ActiveSessions
		k.TotalEvents += a.events
		k.TotalRequests += a.TotalRequests
		k.TotalTokens += a.TotalTokens
		k.InputTokens += a.InputTokens
		k.OutputTokens += a.OutputTokens
		k.CachedTokens += a.cached
		k.TotalToolCalls += a.TotalTools
		k.TotalErrors += a.TotalErrors
		k.TotalFindings += a.FindingsCount
		k.HighFindings += a.high
		k.RiskySessions += a.RiskySessions
		k.MaxSessionRisk = max(k.MaxSessionRisk, round(a.maxRisk, 2))
		dur += a.durSum
		responses += a.responses
		cost.add(a.cost)
	}
	k.Cost, k.CostCalls = cost.cost(), cost.calls
	k.ErrorRate = pct(k.TotalErrors, k.TotalRequests)
	k.AvgResponseTimeMs = round(ratio(dur, responses), 1)
	sql := "SELECT quantile(0.5)(duration_ms) AS p50, quantile(0.99)(duration_ms) AS p99 FROM " + q.src + " PREWHERE name = " + qFinish
	var c conds
	c.eq("agent_id", agent)
	c.workflow(q, wf)
	res, err := q.run(ctx, sql+c.where(), c.args...)
	if err != nil {
		return nil, err
	}
	if res.len() > 0 {
		k.P50ResponseTimeMs, k.P99ResponseTimeMs = round(res.row(0).float("p50"), 1), round(res.row(0).float("p99"), 1)
	}
	out.SessionsCount = k.TotalSessions
	if out.RecentSessions, err = q.sessions(ctx, sessionFilter{agent: agent, workflow: wf}, 10, 0); err != nil {
		return nil, err
	}
	setWorkflow(out.RecentSessions, wf)
	if len(out.RecentSessions) > 0 {
		s := out.RecentSessions[0]
		out.LatestSession = &LatestSession{ID: s.ID, AgentID: s.AgentID, MessageCount: s.MessageCount,
			DurationMinutes: s.DurationMinutes, IsActive: s.IsActive, LastActivity: s.LastActivityRelative, LastActivityAt: s.LastActivity}
	}
	return out, nil
}

// StatsResponse is /api/stats: the original's get_global_stats.
type StatsResponse struct {
	TotalEvents       int64            `json:"total_events"`
	TotalSessions     int64            `json:"total_sessions"`
	ActiveSessions    int64            `json:"active_sessions"`
	TotalAgents       int64            `json:"total_agents"`
	TotalTokens       int64            `json:"total_tokens"`
	AvgResponseTimeMs float64          `json:"avg_response_time_ms"`
	ErrorRate         float64          `json:"error_rate"`
	UptimeMinutes     float64          `json:"uptime_minutes"`
	EventsPerMinute   float64          `json:"events_per_minute"`
	TopTools          map[string]int64 `json:"top_tools"`
	TopErrors         map[string]int64 `json:"top_errors"`
	TotalFindings     int64            `json:"total_findings"`
	// Instances are the proxies whose events the store holds (several
	// behind a load balancer, writing one cluster); ServedBy is the one
	// answering.
	Instances []InstanceStats `json:"instances"`
	ServedBy  string          `json:"served_by"`
	Envelope
}

// InstanceStats is one proxy instance's share of the stored events, by
// the server.instance_id it stamped on them ("" for events stored before
// instance ids existed).
type InstanceStats struct {
	ID       string `json:"instance_id"`
	Events   int64  `json:"events"`
	Requests int64  `json:"requests"`
	Sessions int64  `json:"sessions"`
	LastSeen Time   `json:"last_seen"`
}

func emptyStats(uptime time.Duration) *StatsResponse {
	return &StatsResponse{TopTools: map[string]int64{}, TopErrors: map[string]int64{}, UptimeMinutes: round(uptime.Minutes(), 1),
		Instances: []InstanceStats{}}
}

// statsWindow is the window of events_per_minute.
const statsWindow = 5 * time.Minute

func (q *querier) stats(ctx context.Context, uptime time.Duration) (*StatsResponse, error) {
	out := emptyStats(uptime)
	t, err := q.totals(ctx, "", q.now.Add(-statsWindow).UnixMicro())
	if err != nil {
		return nil, err
	}
	out.TotalEvents = t.events
	// Sessions are counted once each, however many agent ids their events
	// carry.
	res, err := q.run(ctx, `SELECT (SELECT uniqExact(agent_id) FROM `+q.src+`) AS agents,
  countIf(sid != '') AS sessions, countIf(sid != '' AND s_last >= ?) AS active
FROM (SELECT session_id AS sid, max(ts_us) AS s_last FROM `+q.src+` GROUP BY session_id)`, q.active)
	if err != nil {
		return nil, err
	}
	if res.len() > 0 {
		r := res.row(0)
		out.TotalAgents, out.TotalSessions, out.ActiveSessions = r.int("agents"), r.int("sessions"), r.int("active")
	}
	out.TotalTokens, out.AvgResponseTimeMs, out.ErrorRate = t.tokens, t.avg, pct(t.errors, t.events)
	out.EventsPerMinute = round(float64(t.recent)/statsWindow.Minutes(), 1)
	out.TotalFindings = t.findings
	for _, top := range []struct {
		col, where string
		into       map[string]int64
	}{
		{"tool_name", "name = " + qToolExe, out.TopTools},
		{"error_type", isError, out.TopErrors},
	} {
		res, err := q.run(ctx, "SELECT "+top.col+" AS k, count() AS n FROM "+q.src+" WHERE "+top.where+" GROUP BY k ORDER BY n DESC, k LIMIT 5")
		if err != nil {
			return nil, err
		}
		for i := range res.len() {
			k := res.row(i).str("k")
			if k == "" {
				k = "unknown"
			}
			top.into[k] += res.row(i).int("n")
		}
	}
	// A session whose calls were balanced over several instances counts
	// once for each.
	res, err = q.run(ctx, `SELECT instance_id AS i, count() AS n, countIf(name IN (`+qFinish+`, `+qError+`)) AS requests,
  uniqExactIf(session_id, session_id != '') AS sessions, max(ts_us) AS last_us
FROM `+q.src+` GROUP BY instance_id ORDER BY instance_id`)
	if err != nil {
		return nil, err
	}
	for i := range res.len() {
		r := res.row(i)
		out.Instances = append(out.Instances, InstanceStats{ID: r.str("i"), Events: r.int("n"), Requests: r.int("requests"),
			Sessions: r.int("sessions"), LastSeen: Time(fromMicros(r.int("last_us")))})
	}
	return out, nil
}

// Point is one bucket of /api/timeseries.
type Point struct {
	T            Time    `json:"t"`
	TS           int64   `json:"ts"`
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	Tokens       int64   `json:"tokens"`
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
	AvgMs        float64 `json:"avg_ms"`
	ToolCalls    int64   `json:"tool_calls"`
	Findings     int64   `json:"findings"`
	HighFindings int64   `json:"high_findings"`
	RiskMax      float64 `json:"risk_max"`
	Cost
}

// TimeseriesResponse is /api/timeseries.
type TimeseriesResponse struct {
	From          Time    `json:"from"`
	To            Time    `json:"to"`
	BucketSeconds int64   `json:"bucket_seconds"`
	Points        []Point `json:"points"`
	Envelope
}

// bucketsFor fills the window with empty buckets, oldest first.
func bucketsFor(from, to time.Time, bucket int64) []Point {
	start := from.Unix() / bucket * bucket
	var out []Point
	for b := start; b < to.Unix(); b += bucket {
		out = append(out, Point{T: Time(time.Unix(b, 0)), TS: b, Cost: Cost{Status: costNone}})
	}
	if out == nil {
		out = []Point{}
	}
	return out
}

func (q *querier) timeseries(ctx context.Context, from, to time.Time, bucket int64, agent, session, wf string) ([]Point, error) {
	points := bucketsFor(from, to, bucket)
	b := strconv.FormatInt(bucket, 10)
	sql := `SELECT intDiv(toUInt32(ts), ` + b + `) * ` + b + ` AS bucket,
  countIf(name IN (` + qFinish + `, ` + qError + `)) AS requests, countIf(` + isError + `) AS errors,
  sumIf(input_tokens, name = ` + qFinish + `) AS tokens_in, sumIf(output_tokens, name = ` + qFinish + `) AS tokens_out,
  sumIf(total_tokens, name = ` + qFinish + `) AS tokens,
  quantileIf(0.5)(duration_ms, name = ` + qFinish + `) AS p50, quantileIf(0.99)(duration_ms, name = ` + qFinish + `) AS p99,
  avgIf(duration_ms, name = ` + qFinish + `) AS avg_ms,
  countIf(name = ` + qToolExe + `) AS tools, countIf(name = ` + qFinding + `) AS findings,
  countIf(name = ` + qFinding + ` AND level = 'WARNING') AS high, max(risk_score) AS risk, ` + costAgg("") + `
FROM ` + q.src + `
WHERE date >= toDate(?) AND date <= toDate(?) AND ts >= ? AND ts < ?`
	c := conds{args: []any{day(from), day(to), from, to}}
	c.eq("agent_id", agent)
	c.eq("session_id", session)
	c.workflow(q, wf)
	for _, cond := range c.list {
		sql += " AND " + cond
	}
	sql += "\nGROUP BY bucket ORDER BY bucket"
	res, err := q.run(ctx, sql, c.args...)
	if err != nil {
		return nil, err
	}
	if len(points) == 0 {
		return points, nil
	}
	start := points[0].TS
	for i := range res.len() {
		r := res.row(i)
		j := (r.int("bucket") - start) / bucket
		if j < 0 || j >= int64(len(points)) {
			continue
		}
		p := &points[j]
		p.Requests, p.Errors = r.int("requests"), r.int("errors")
		p.InputTokens, p.OutputTokens, p.Tokens = r.int("tokens_in"), r.int("tokens_out"), r.int("tokens")
		p.P50Ms, p.P99Ms, p.AvgMs = round(r.float("p50"), 1), round(r.float("p99"), 1), round(r.float("avg_ms"), 1)
		p.ToolCalls, p.Findings, p.HighFindings = r.int("tools"), r.int("findings"), r.int("high")
		p.RiskMax = round(r.float("risk"), 2)
		p.Cost = readCost(r, "").cost()
	}
	return points, nil
}
