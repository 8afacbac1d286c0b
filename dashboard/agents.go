package dashboard

import (
	"context"
	"sort"
	"time"

	"github.com/cylestio/perimeter/dashboard/workflow"
	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/detect/behavior"
)

// agentAgg are the per-agent aggregates of agent lists, in two levels:
// per session first (GROUP BY the sorting key's prefix, cheap), then per
// agent, which is several times faster than distinct counts over every
// event. A session is active when its last event is recent; its risk is
// detect's score over its findings (riskExpr), and the agent's is half its
// worst session's plus half the mean over all its sessions.
var agentAgg = `SELECT agent, countIf(sid != '') AS sessions, countIf(sid != '' AND s_last >= ?) AS active,
  sum(s_events) AS events, sum(s_messages) AS messages, sum(s_requests) AS requests, sum(s_tokens) AS tokens,
  sum(s_in) AS tokens_in, sum(s_out) AS tokens_out, sum(s_cached) AS tokens_cached, sum(s_tools) AS tools,
  length(groupUniqArrayArray(s_toolset)) AS unique_tools, sum(s_errors) AS errors, sum(s_dur) AS dur_sum,
  sum(s_responses) AS responses, min(s_first) AS first_us, max(s_last) AS last_us, sum(s_findings) AS findings,
  sum(s_high) AS high, maxIf(s_risk, sid != '') AS max_risk, sumIf(s_risk, sid != '') AS sum_risk,
  countIf(sid != '' AND s_risk >= %[3]d) AS risky, ` + costOuter + `
FROM (SELECT agent_id AS agent, session_id AS sid, min(ts_us) AS s_first, max(ts_us) AS s_last, count() AS s_events,
    countIf(name = %[4]s) AS s_messages,
    countIf(name IN (%[5]s, %[6]s)) AS s_requests,
    countIf(name = %[5]s) AS s_responses,
    sumIf(total_tokens, name = %[5]s) AS s_tokens,
    sumIf(input_tokens, name = %[5]s) AS s_in,
    sumIf(output_tokens, name = %[5]s) AS s_out,
    sumIf(cached_tokens, name = %[5]s) AS s_cached,
    sumIf(duration_ms, name = %[5]s) AS s_dur,
    countIf(name = %[7]s) AS s_tools,
    groupUniqArrayIf(tool_name, name = %[7]s AND tool_name != '') AS s_toolset,
    countIf(` + isError + `) AS s_errors,
    countIf(name = %[8]s) AS s_findings,
    countIf(name = %[8]s AND %[9]s IN ('high', 'critical')) AS s_high,
    %[10]s AS s_risk, ` + costInner + `
  FROM %[1]s %[2]s GROUP BY agent_id, session_id)
GROUP BY agent ORDER BY last_us DESC, agent`

var costInner, costOuter = costAgg("s_"), costSums("s_", "")

// agents lists agents, most recently seen first, with their risk.
func (q *querier) agents(ctx context.Context, only string) ([]AgentSummary, error) {
	return q.agentsIn(ctx, only, "")
}

// agentsIn lists agents over the sessions of one agent workflow (all when
// wf is empty): their totals count those sessions only.
func (q *querier) agentsIn(ctx context.Context, only, wf string) ([]AgentSummary, error) {
	c := conds{args: []any{q.active}}
	c.eq("agent_id", only)
	c.workflow(q, wf)
	where, args := c.where(), c.args
	sql := sprintf(agentAgg, q.src, where, riskyScore, qStart, qFinish, qError, qToolExe, qFinding, q.f.sev,
		riskExpr(q.f.sev, q.f.conf, "name = "+qFinding))
	res, err := q.run(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out := make([]AgentSummary, 0, res.len())
	for i := range res.len() {
		a := q.agentSummary(res.row(i))
		if wf != "" && wf != unassignedWorkflow {
			a.AgentWorkflowID = &wf
		}
		out = append(out, a)
	}
	return out, nil
}

func (q *querier) agentSummary(r rec) AgentSummary {
	last := r.time("last_us")
	a := AgentSummary{
		ID: r.str("agent"), TotalSessions: r.int("sessions"), ActiveSessions: r.int("active"),
		TotalMessages: r.int("messages"), TotalRequests: r.int("requests"),
		TotalTokens: r.int("tokens"), InputTokens: r.int("tokens_in"), OutputTokens: r.int("tokens_out"),
		TotalTools: r.int("tools"), UniqueTools: r.int("unique_tools"), TotalErrors: r.int("errors"),
		AvgResponseTimeMs: round(ratio(r.float("dur_sum"), r.int("responses")), 1),
		FirstSeen:         Time(r.time("first_us")), LastSeen: Time(last),
		LastSeenRelative: workflow.Relative(last, q.now), FindingsCount: r.int("findings"),
		MinSessionsRequired: 1, RiskySessions: r.int("risky"),
		maxRisk: r.float("max_risk"), durSum: r.float("dur_sum"), events: r.int("events"), high: r.int("high"),
		cached: r.int("tokens_cached"), responses: r.int("responses"), cost: readCost(r, ""),
	}
	a.Cost = a.cost.cost()
	if a.TotalSessions > 0 {
		a.RiskScore = round(0.5*a.maxRisk+0.5*r.float("sum_risk")/float64(a.TotalSessions), 2)
	}
	a.RiskLevel = detect.RiskLevel(a.RiskScore)
	a.RiskStatus = riskStatus(a.TotalSessions, a.RiskScore)
	a.IDShort = short(a.ID, 8, true)
	a.CompletedSessions = a.TotalSessions - a.ActiveSessions
	a.CurrentSessions = a.TotalSessions
	a.ErrorRate = pct(a.TotalErrors, a.TotalRequests)
	return a
}

// AgentDetail is the agent object of /api/agent/{id}.
type AgentDetail struct {
	AgentSummary
	AvgMessagesPerSession   float64          `json:"avg_messages_per_session"`
	AvgDurationMinutes      float64          `json:"avg_duration_minutes"`
	ToolUsageDetails        map[string]int64 `json:"tool_usage_details"`
	AvailableTools          []string         `json:"available_tools"`
	UsedTools               []string         `json:"used_tools"`
	ToolsUtilizationPercent float64          `json:"tools_utilization_percent"`
	Models                  []string         `json:"models"`
}

// Patterns are the original's session patterns of an agent.
type Patterns struct {
	AvgSessionDuration    float64     `json:"avg_session_duration"`
	MaxSessionDuration    float64     `json:"max_session_duration"`
	AvgMessagesPerSession float64     `json:"avg_messages_per_session"`
	MaxMessagesPerSession int64       `json:"max_messages_per_session"`
	ToolUsageRate         float64     `json:"tool_usage_rate"`
	AvgToolsPerSession    float64     `json:"avg_tools_per_session"`
	SessionsWithErrors    int64       `json:"sessions_with_errors"`
	MostProductiveSession *Productive `json:"most_productive_session"`
}

// Productive names the session with the most messages.
type Productive struct {
	ID           string `json:"id"`
	MessageCount int64  `json:"message_count"`
}

// ModelStats are one model's calls.
type ModelStats struct {
	Model             string  `json:"model"`
	Vendor            string  `json:"vendor"`
	Requests          int64   `json:"requests"`
	Errors            int64   `json:"errors"`
	InputTokens       int64   `json:"input_tokens"`
	OutputTokens      int64   `json:"output_tokens"`
	TotalTokens       int64   `json:"total_tokens"`
	AvgResponseTimeMs float64 `json:"avg_response_time_ms"`
	P50ResponseTimeMs float64 `json:"p50_response_time_ms"`
	P95ResponseTimeMs float64 `json:"p95_response_time_ms"`
	P99ResponseTimeMs float64 `json:"p99_response_time_ms"`
	CachedTokens      int64   `json:"cached_tokens"`
	Cost
	CostCalls
}

// ToolStats are one tool's calls and results.
type ToolStats struct {
	Tool        string  `json:"tool"`
	Executions  int64   `json:"executions"`
	Results     int64   `json:"results"`
	Successes   int64   `json:"successes"`
	Failures    int64   `json:"failures"`
	FailureRate float64 `json:"failure_rate"`
}

// DayStats are one day's calls.
type DayStats struct {
	Date         string `json:"date"`
	Requests     int64  `json:"requests"`
	Tokens       int64  `json:"tokens"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	Cost
}

// Analytics is the agent page's usage breakdown.
type Analytics struct {
	TokenSummary TokenSummary `json:"token_summary"`
	Models       []ModelStats `json:"models"`
	Tools        []ToolStats  `json:"tools"`
	Timeline     []DayStats   `json:"timeline"`
}

// TokenSummary totals an agent's tokens.
type TokenSummary struct {
	TotalTokens  int64 `json:"total_tokens"`
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	CachedTokens int64 `json:"cached_tokens"`
	ModelsUsed   int   `json:"models_used"`
	// The agent's cost (null when no call was priced) and the date of
	// the price table in use.
	Cost
	CostCalls
	PricingLastUpdated string `json:"pricing_last_updated"`
}

// RiskAnalysis is an agent's risk from its stored findings.
type RiskAnalysis struct {
	EvaluationStatus     string           `json:"evaluation_status"`
	AgentID              string           `json:"agent_id"`
	RiskScore            float64          `json:"risk_score"`
	RiskLevel            string           `json:"risk_level"`
	Formula              string           `json:"formula"`
	SessionsAnalyzed     int64            `json:"sessions_analyzed"`
	SessionsWithFindings int64            `json:"sessions_with_findings"`
	RiskySessions        int64            `json:"risky_sessions"`
	FindingsCount        int64            `json:"findings_count"`
	BySeverity           map[string]int64 `json:"by_severity"`
	ByCategory           map[string]int64 `json:"by_category"`
	TopRules             []RuleCount      `json:"top_rules"`
	RiskiestSessions     []SessionRisk    `json:"riskiest_sessions"`
	Summary              RiskSummary      `json:"summary"`
	// The dynamic checks and behavioural analysis of the most recent
	// completed sessions (checks.go); null without completed sessions.
	SecurityReport     *behavior.Report   `json:"security_report"`
	BehavioralAnalysis *behavior.Analysis `json:"behavioral_analysis"`
}

// RiskSummary is the original's risk_analysis.summary.
type RiskSummary struct {
	CriticalIssues    int64  `json:"critical_issues"`
	Warnings          int64  `json:"warnings"`
	TotalSessions     int64  `json:"total_sessions"`
	CompletedSessions int64  `json:"completed_sessions"`
	ActiveSessions    int64  `json:"active_sessions"`
	Message           string `json:"message"`
}

// AgentResponse is /api/agent/{id}.
type AgentResponse struct {
	Agent        AgentDetail  `json:"agent"`
	Patterns     Patterns     `json:"patterns"`
	Analytics    Analytics    `json:"analytics"`
	RiskAnalysis RiskAnalysis `json:"risk_analysis"`
	Envelope
}

func emptyAgentResponse() *AgentResponse {
	return &AgentResponse{
		Agent: AgentDetail{AgentSummary: AgentSummary{RiskLevel: "none", MinSessionsRequired: 1, Cost: Cost{Status: costNone}},
			ToolUsageDetails: map[string]int64{}, AvailableTools: []string{}, UsedTools: []string{}, Models: []string{}},
		Analytics: Analytics{Models: []ModelStats{}, Tools: []ToolStats{}, Timeline: []DayStats{},
			TokenSummary: TokenSummary{Cost: Cost{Status: costNone}}},
		RiskAnalysis: RiskAnalysis{EvaluationStatus: "INSUFFICIENT_DATA", RiskLevel: "none", Formula: riskFormula, BySeverity: severityCounts(), ByCategory: map[string]int64{}, TopRules: []RuleCount{}, RiskiestSessions: []SessionRisk{}},
	}
}

// agent answers /api/agent/{id}; ok is false for an agent without events.
func (q *querier) agent(ctx context.Context, id string) (*AgentResponse, bool, error) {
	list, err := q.agents(ctx, id)
	if err != nil || len(list) == 0 {
		return nil, false, err
	}
	out := emptyAgentResponse()
	out.Agent.AgentSummary = list[0]
	a := &out.Agent

	// Session patterns, over per-session aggregates.
	res, err := q.run(ctx, `SELECT count() AS n, avgIf(d, d > 0) AS avg_d, max(d) AS max_d, max(messages) AS max_m,
  countIf(tool_uses > 0) AS with_tools, avg(tool_uses) AS avg_tools, countIf(errors > 0) AS with_errors,
  argMax(sid, messages) AS top_sid
FROM (SELECT session_id AS sid, (max(ts_us) - min(ts_us)) / 60000000 AS d,
    countIf(name = `+qStart+`) AS messages, countIf(name = `+qToolExe+`) AS tool_uses, countIf(`+isError+`) AS errors
  FROM `+q.src+` WHERE agent_id = ? AND session_id != '' GROUP BY session_id)`, id)
	if err != nil {
		return nil, true, err
	}
	if res.len() > 0 {
		r := res.row(0)
		n := r.int("n")
		p := &out.Patterns
		p.AvgSessionDuration = round(r.float("avg_d"), 1)
		p.MaxSessionDuration = round(r.float("max_d"), 1)
		p.AvgMessagesPerSession = round(ratio(float64(a.TotalMessages), n), 1)
		p.MaxMessagesPerSession = r.int("max_m")
		p.ToolUsageRate = pct(r.int("with_tools"), n)
		p.AvgToolsPerSession = round(r.float("avg_tools"), 1)
		p.SessionsWithErrors = r.int("with_errors")
		if p.MaxMessagesPerSession > 0 {
			p.MostProductiveSession = &Productive{ID: r.str("top_sid"), MessageCount: p.MaxMessagesPerSession}
		}
		a.AvgMessagesPerSession = p.AvgMessagesPerSession
		a.AvgDurationMinutes = round(r.float("avg_d"), 2)
	}

	// Per model: calls, tokens and latency percentiles of finished calls.
	res, err = q.run(ctx, `SELECT model AS m, any(vendor) AS v,
  count() AS requests, countIf(name = `+qError+`) AS errors,
  sumIf(input_tokens, name = `+qFinish+`) AS tokens_in, sumIf(output_tokens, name = `+qFinish+`) AS tokens_out,
  sumIf(total_tokens, name = `+qFinish+`) AS tokens, sumIf(cached_tokens, name = `+qFinish+`) AS tokens_cached,
  avgIf(duration_ms, name = `+qFinish+`) AS avg_ms,
  quantileIf(0.5)(duration_ms, name = `+qFinish+`) AS p50,
  quantileIf(0.95)(duration_ms, name = `+qFinish+`) AS p95,
  quantileIf(0.99)(duration_ms, name = `+qFinish+`) AS p99, `+costAgg("")+`
FROM `+q.src+` WHERE agent_id = ? AND name IN (`+qFinish+`, `+qError+`)
GROUP BY model ORDER BY tokens DESC, m`, id)
	if err != nil {
		return nil, true, err
	}
	ts := &out.Analytics.TokenSummary
	var cost costSum
	for i := range res.len() {
		r := res.row(i)
		c := readCost(r, "")
		cost.add(c)
		m := ModelStats{Model: r.str("m"), Vendor: r.str("v"), Requests: r.int("requests"), Errors: r.int("errors"),
			InputTokens: r.int("tokens_in"), OutputTokens: r.int("tokens_out"), TotalTokens: r.int("tokens"),
			AvgResponseTimeMs: round(r.float("avg_ms"), 1), P50ResponseTimeMs: round(r.float("p50"), 1),
			P95ResponseTimeMs: round(r.float("p95"), 1), P99ResponseTimeMs: round(r.float("p99"), 1),
			CachedTokens: r.int("tokens_cached"), Cost: c.cost(), CostCalls: c.calls}
		if m.Model == "" {
			m.Model = "unknown"
		} else {
			a.Models = append(a.Models, m.Model)
		}
		out.Analytics.Models = append(out.Analytics.Models, m)
		ts.TotalTokens += m.TotalTokens
		ts.InputTokens += m.InputTokens
		ts.OutputTokens += m.OutputTokens
		ts.CachedTokens += r.int("tokens_cached")
	}
	ts.ModelsUsed = len(a.Models)
	ts.Cost, ts.CostCalls = cost.cost(), cost.calls

	// Tools: calls the model made and the results the agent sent back.
	status := first("attributes", "tool.status")
	res, err = q.run(ctx, `SELECT tool_name AS tool, countIf(name = `+qToolExe+`) AS executions, countIf(name = `+qToolRes+`) AS results,
  countIf(name = `+qToolRes+` AND `+status+` = 'success') AS ok, countIf(name = `+qToolRes+` AND `+status+` = 'error') AS failed
FROM `+q.src+` WHERE agent_id = ? AND name IN (`+qToolExe+`, `+qToolRes+`) AND tool_name != ''
GROUP BY tool_name ORDER BY executions DESC, results DESC, tool`, id)
	if err != nil {
		return nil, true, err
	}
	for i := range res.len() {
		r := res.row(i)
		t := ToolStats{Tool: r.str("tool"), Executions: r.int("executions"), Results: r.int("results"),
			Successes: r.int("ok"), Failures: r.int("failed")}
		t.FailureRate = pct(t.Failures, t.Successes+t.Failures)
		out.Analytics.Tools = append(out.Analytics.Tools, t)
		if t.Executions > 0 {
			a.ToolUsageDetails[t.Tool] = t.Executions
			a.UsedTools = append(a.UsedTools, t.Tool)
		}
	}
	sort.Strings(a.UsedTools)

	// Per day.
	res, err = q.run(ctx, `SELECT date AS d, count() AS requests, sumIf(total_tokens, name = `+qFinish+`) AS tokens,
  sumIf(input_tokens, name = `+qFinish+`) AS tokens_in, sumIf(output_tokens, name = `+qFinish+`) AS tokens_out, `+costAgg("")+`
FROM `+q.src+` WHERE agent_id = ? AND name IN (`+qFinish+`, `+qError+`) GROUP BY date ORDER BY date`, id)
	if err != nil {
		return nil, true, err
	}
	for i := range res.len() {
		r := res.row(i)
		d, _ := r.v("d").(time.Time)
		out.Analytics.Timeline = append(out.Analytics.Timeline, DayStats{Date: dateOf(d, r.str("d")),
			Requests: r.int("requests"), Tokens: r.int("tokens"), InputTokens: r.int("tokens_in"), OutputTokens: r.int("tokens_out"),
			Cost: readCost(r, "").cost()})
	}

	// Declared tools, from the tool lists of its latest session starts.
	res, err = q.run(ctx, "SELECT attributes FROM "+q.src+
		"\nPREWHERE name = "+qSession+" WHERE agent_id = ? AND position(attributes, '\"tools\":') > 0 ORDER BY ts_us DESC LIMIT 200", id)
	if err != nil {
		return nil, true, err
	}
	avail := map[string]bool{}
	for i := range res.len() {
		for _, n := range workflow.ToolNames(string(parseStart(res.row(i).str("attributes")).Tools)) {
			avail[n] = true
		}
	}
	for n := range avail {
		a.AvailableTools = append(a.AvailableTools, n)
	}
	sort.Strings(a.AvailableTools)
	if len(a.AvailableTools) > 0 {
		used := 0
		for _, t := range a.UsedTools {
			if avail[t] {
				used++
			}
		}
		a.ToolsUtilizationPercent = pct(int64(used), int64(len(a.AvailableTools)))
	}

	if err := q.riskAnalysis(ctx, out); err != nil {
		return nil, true, err
	}
	checks := ChecksResponse{TotalSessions: a.TotalSessions, ActiveSessions: a.ActiveSessions, CompletedSessions: a.CompletedSessions}
	if err := q.checks(ctx, a.ID, &checks); err != nil {
		return nil, true, err
	}
	out.RiskAnalysis.SecurityReport, out.RiskAnalysis.BehavioralAnalysis = checks.SecurityReport, checks.BehavioralAnalysis
	return out, true, nil
}

func dateOf(t time.Time, fallback string) string {
	if t.IsZero() {
		return fallback
	}
	return t.UTC().Format("2006-01-02")
}

func (q *querier) riskAnalysis(ctx context.Context, out *AgentResponse) error {
	a := &out.Agent
	ra := &out.RiskAnalysis
	ra.AgentID = a.ID
	scope := riskScope{agents: []string{a.ID}}
	risks, err := q.sessionRisks(ctx, scope)
	if err != nil {
		return err
	}
	rules, err := q.ruleStats(ctx, scope, false)
	if err != nil {
		return err
	}
	scores := make([]float64, 0, len(risks))
	for _, r := range risks {
		scores = append(scores, r.RiskScore)
		ra.FindingsCount += r.Findings
		if r.RiskScore >= riskyScore {
			ra.RiskySessions++
		}
		if len(ra.RiskiestSessions) < 5 {
			ra.RiskiestSessions = append(ra.RiskiestSessions, r)
		}
	}
	ra.SessionsWithFindings = int64(len(risks))
	ra.SessionsAnalyzed = a.TotalSessions
	ra.RiskScore, _, _ = agentScore(scores, a.TotalSessions)
	ra.RiskLevel = detect.RiskLevel(ra.RiskScore)
	for _, r := range rules {
		ra.BySeverity[r.sev] += r.n
		ra.ByCategory[r.cat] += r.n
		if len(ra.TopRules) < 10 {
			ra.TopRules = append(ra.TopRules, RuleCount{Rule: r.rule, Category: r.cat, Severity: r.sev, Count: r.n, Sessions: r.sessions})
		}
	}
	s := &ra.Summary
	s.CriticalIssues = ra.BySeverity["critical"] + ra.BySeverity["high"]
	s.Warnings = ra.BySeverity["medium"]
	s.TotalSessions, s.ActiveSessions, s.CompletedSessions = a.TotalSessions, a.ActiveSessions, a.CompletedSessions
	switch {
	case a.TotalSessions == 0:
		ra.EvaluationStatus = "INSUFFICIENT_DATA"
		s.Message = "No sessions yet."
	case ra.FindingsCount == 0:
		ra.EvaluationStatus = "NO_FINDINGS"
		s.Message = "No security findings in " + itoa(a.TotalSessions) + " session(s)."
	default:
		ra.EvaluationStatus = "COMPLETE"
		s.Message = itoa(ra.FindingsCount) + " finding(s) in " + itoa(ra.SessionsWithFindings) + " of " + itoa(a.TotalSessions) +
			" session(s); " + itoa(ra.RiskySessions) + " risky."
	}
	return nil
}
