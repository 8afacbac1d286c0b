package dashboard

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cylestio/perimeter/detect"
)

// findingFilter narrows security.finding events.
type findingFilter struct {
	severities []string
	categories []string
	rule       string
	agent      string
	session    string
	from, to   time.Time
	workflow   string // only sessions of this agent workflow (unassignedWorkflow: of none)
}

// where renders the filter as "PREWHERE name = 'security.finding' WHERE …":
// the prewhere keeps the engine from reading the big columns of other
// events. (With FINAL, a prewhere runs before copies are collapsed; copies
// of an event are identical, so it selects the same rows.)
func (f findingFilter) where(q *querier) (string, []any) {
	c := conds{list: []string{"1"}}
	c.eq("agent_id", f.agent)
	c.eq("session_id", f.session)
	c.workflow(q, f.workflow)
	c.window(f.from, f.to)
	if len(f.severities) > 0 {
		c.add(q.f.sev+" IN ?", f.severities)
	}
	if len(f.categories) > 0 {
		c.add(q.f.cat+" IN ?", f.categories)
	}
	if prefix, ok := strings.CutSuffix(f.rule, "*"); ok {
		// rule=llm01.tool_* : a family of rules.
		c.add("substring("+q.f.rule+", 1, "+strconv.Itoa(len(prefix))+") = ?", prefix)
	} else {
		c.eq(q.f.rule, f.rule)
	}
	return "PREWHERE name = " + qFinding + c.where(), c.args
}

const findingCols = "toString(id) AS eid, ts_us, agent_id, session_id, span_id, model, tool_name, risk_score, attributes"

// findings lists a page of findings: the page's ids first, from small
// columns, then only those rows' attributes.
func (q *querier) findings(ctx context.Context, f findingFilter, limit, offset int, oldestFirst bool) ([]Finding, error) {
	where, args := f.where(q)
	order := "ts_us DESC, eid"
	if oldestFirst {
		order = "ts_us, eid"
	}
	res, err := q.run(ctx, "SELECT toString(id) AS eid, ts_us FROM "+q.src+"\n"+where+"\nORDER BY "+order+"\nLIMIT ?, ?",
		append(args, offset, limit)...)
	if err != nil || res.len() == 0 {
		return []Finding{}, err
	}
	ids := make([]string, 0, res.len())
	var times []int64
	at := make(map[string]int, res.len())
	for i := range res.len() {
		r := res.row(i)
		at[r.str("eid")] = i
		ids = append(ids, r.str("eid"))
		times = append(times, r.int("ts_us"))
	}
	res, err = q.run(ctx, "SELECT "+findingCols+" FROM "+q.src+"\nPREWHERE name = "+qFinding+" AND ts_us IN ? WHERE toString(id) IN ?", times, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Finding, len(ids))
	for i := range res.len() {
		fd := findingOf(res.row(i))
		if j, ok := at[fd.ID]; ok {
			out[j] = fd
		}
	}
	return out, nil
}

// findingOf reads a finding from a row with findingCols (or eventCols).
func findingOf(r rec) Finding {
	var a struct {
		Category   string  `json:"finding.category"`
		Rule       string  `json:"finding.rule"`
		Severity   string  `json:"finding.severity"`
		Confidence float64 `json:"finding.confidence"`
		Evidence   string  `json:"finding.evidence"`
		OWASP      string  `json:"finding.owasp"`
		Source     string  `json:"finding.source"`
		Decoded    bool    `json:"finding.decoded"`
		EventID    string  `json:"finding.event_id"`
		EventName  string  `json:"finding.event_name"`
	}
	_ = json.Unmarshal([]byte(r.str("attributes")), &a)
	return Finding{
		ID: r.str("eid"), Timestamp: Time(r.time("ts_us")), AgentID: r.str("agent_id"),
		SessionID: r.str("session_id"), Category: a.Category, Rule: a.Rule, Severity: a.Severity,
		Confidence: a.Confidence, Evidence: a.Evidence, OWASP: a.OWASP, Source: a.Source,
		Decoded: a.Decoded, SourceEventID: uuidOfHex(a.EventID), SourceEventName: a.EventName,
		SpanID: r.str("span_id"), RiskScore: round(r.float("risk_score"), 2),
		Model: r.str("model"), ToolName: r.str("tool_name"),
	}
}

// uuidOfHex turns sink's 32-hex event id (finding.event_id) into the UUID
// form the id column prints.
func uuidOfHex(h string) string {
	if len(h) != 32 {
		return h
	}
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// FindingSummary counts findings by severity and category.
type FindingSummary struct {
	BySeverity map[string]int64 `json:"by_severity"`
	ByCategory map[string]int64 `json:"by_category"`
}

func (q *querier) findingSummary(ctx context.Context, f findingFilter) (FindingSummary, int64, error) {
	where, args := f.where(q)
	res, err := q.run(ctx, "SELECT "+q.f.sev+" AS sev, "+q.f.cat+" AS cat, count() AS n FROM "+q.src+
		"\n"+where+"\nGROUP BY sev, cat", args...)
	s := FindingSummary{BySeverity: severityCounts(), ByCategory: map[string]int64{}}
	if err != nil {
		return s, 0, err
	}
	var total int64
	for i := range res.len() {
		r := res.row(i)
		n := r.int("n")
		s.BySeverity[r.str("sev")] += n
		s.ByCategory[r.str("cat")] += n
		total += n
	}
	return s, total, nil
}

// SessionRisk is one session's score over its findings.
type SessionRisk struct {
	SessionID    string           `json:"session_id"`
	AgentID      string           `json:"agent_id"`
	RiskScore    float64          `json:"risk_score"`
	RiskLevel    string           `json:"risk_level"`
	Findings     int64            `json:"findings"`
	BySeverity   map[string]int64 `json:"by_severity,omitempty"`
	TopRule      string           `json:"top_rule,omitempty"`
	LastActivity Time             `json:"last_activity"`
}

// riskScope limits risk queries; empty fields do not narrow.
type riskScope struct {
	agents   []string
	sessions []string
	from, to time.Time
}

func (s riskScope) filter() findingFilter {
	f := findingFilter{from: s.from, to: s.to}
	if len(s.agents) == 1 {
		f.agent = s.agents[0]
	}
	return f
}

// where is the WHERE clause of the findings in scope, with its arguments.
func (s riskScope) where(q *querier) (string, []any) {
	where, args := s.filter().where(q)
	if len(s.agents) > 1 {
		where += " AND agent_id IN ?"
		args = append(args, s.agents)
	}
	if len(s.sessions) > 0 {
		where += " AND session_id IN ?"
		args = append(args, s.sessions)
	}
	return where, args
}

// sessionRisks scores sessions with detect's formula, in SQL, riskiest
// first.
func (q *querier) sessionRisks(ctx context.Context, s riskScope) ([]SessionRisk, error) {
	where, args := s.where(q)
	res, err := q.run(ctx, "SELECT sid, argMin(agent, ts_us) AS agent, count() AS n, max(ts_us) AS last_us, "+riskExpr("sev", "conf", "")+" AS risk"+
		"\nFROM (SELECT session_id AS sid, agent_id AS agent, ts_us, "+q.f.sev+" AS sev, "+q.f.conf+" AS conf"+
		"\n  FROM "+q.src+" "+where+")"+
		"\nGROUP BY sid ORDER BY risk DESC, sid", args...)
	if err != nil {
		return nil, err
	}
	out := make([]SessionRisk, 0, res.len())
	for i := range res.len() {
		r := res.row(i)
		score := round(r.float("risk"), 2)
		out = append(out, SessionRisk{SessionID: r.str("sid"), AgentID: r.str("agent"), RiskScore: score,
			RiskLevel: detect.RiskLevel(score), Findings: r.int("n"), LastActivity: Time(r.time("last_us"))})
	}
	return out, nil
}

// RuleCount is a rule and how often it fired.
type RuleCount struct {
	Rule     string `json:"rule"`
	Category string `json:"category,omitempty"`
	Severity string `json:"severity,omitempty"`
	Count    int64  `json:"count"`
	Sessions int64  `json:"sessions,omitempty"`
}

// ruleStats counts findings per (agent, session?, severity, rule, category).
type ruleStat struct {
	agent, session, sev, rule, cat string
	n, sessions                    int64
}

func (q *querier) ruleStats(ctx context.Context, s riskScope, bySession bool) ([]ruleStat, error) {
	where, args := s.where(q)
	group := "agent_id, sev, f_rule, cat"
	sel := "agent_id, '' AS sid"
	if bySession {
		group = "agent_id, session_id, sev, f_rule, cat"
		sel = "agent_id, session_id AS sid"
	}
	res, err := q.run(ctx, "SELECT "+sel+", "+q.f.sev+" AS sev, "+q.f.rule+" AS f_rule, "+q.f.cat+" AS cat, count() AS n, uniqExact(session_id) AS sessions"+
		"\nFROM "+q.src+"\n"+where+"\nGROUP BY "+group+"\nORDER BY n DESC, f_rule", args...)
	if err != nil {
		return nil, err
	}
	out := make([]ruleStat, 0, res.len())
	for i := range res.len() {
		r := res.row(i)
		out = append(out, ruleStat{agent: r.str("agent_id"), session: r.str("sid"), sev: r.str("sev"), rule: r.str("f_rule"),
			cat: r.str("cat"), n: r.int("n"), sessions: r.int("sessions")})
	}
	return out, nil
}

// AgentRisk is an agent's row in /api/risk.
type AgentRisk struct {
	AgentID             string           `json:"agent_id"`
	RiskScore           float64          `json:"risk_score"`
	RiskLevel           string           `json:"risk_level"`
	Sessions            int64            `json:"sessions"`
	SessionsWithFinding int64            `json:"sessions_with_findings"`
	RiskySessions       int64            `json:"risky_sessions"`
	MaxSessionRisk      float64          `json:"max_session_risk"`
	AvgSessionRisk      float64          `json:"avg_session_risk"`
	Findings            int64            `json:"findings"`
	BySeverity          map[string]int64 `json:"by_severity"`
	TopRules            []RuleCount      `json:"top_rules"`
}

// agentScore is detect.AgentScore when the sessions without findings (which
// score 0) are only counted, not listed.
func agentScore(risks []float64, sessions int64) (score, mx, avg float64) {
	sum := 0.0
	for _, r := range risks {
		mx = max(mx, r)
		sum += r
	}
	n := max(sessions, int64(len(risks)))
	if n == 0 {
		return 0, 0, 0
	}
	avg = sum / float64(n)
	return round(0.5*mx+0.5*avg, 2), round(mx, 2), round(avg, 2)
}

// sessionsPerAgent counts sessions with events in the scope, per agent.
func (q *querier) sessionsPerAgent(ctx context.Context, s riskScope) (map[string]int64, error) {
	c := conds{list: []string{"session_id != ''"}}
	if len(s.agents) > 0 {
		c.add("agent_id IN ?", s.agents)
	}
	c.window(s.from, s.to)
	res, err := q.run(ctx, "SELECT agent_id, uniqExact(session_id) AS n FROM "+q.src+c.where()+" GROUP BY agent_id", c.args...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, res.len())
	for i := range res.len() {
		out[res.row(i).str("agent_id")] = res.row(i).int("n")
	}
	return out, nil
}

// agentRisks scores every agent in scope (agents without findings too).
func (q *querier) agentRisks(ctx context.Context, s riskScope) ([]AgentRisk, []SessionRisk, error) {
	sessions, err := q.sessionsPerAgent(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	srisks, err := q.sessionRisks(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	rules, err := q.ruleStats(ctx, s, false)
	if err != nil {
		return nil, nil, err
	}
	byAgent := map[string]*AgentRisk{}
	scores := map[string][]float64{}
	get := func(id string) *AgentRisk {
		a := byAgent[id]
		if a == nil {
			a = &AgentRisk{AgentID: id, BySeverity: severityCounts(), TopRules: []RuleCount{}}
			byAgent[id] = a
		}
		return a
	}
	for id, n := range sessions {
		get(id).Sessions = n
	}
	for _, sr := range srisks {
		a := get(sr.AgentID)
		a.SessionsWithFinding++
		if sr.RiskScore >= riskyScore {
			a.RiskySessions++
		}
		a.Findings += sr.Findings
		scores[sr.AgentID] = append(scores[sr.AgentID], sr.RiskScore)
	}
	for _, rs := range rules {
		a := get(rs.agent)
		a.BySeverity[rs.sev] += rs.n
		if len(a.TopRules) < 5 {
			a.TopRules = append(a.TopRules, RuleCount{Rule: rs.rule, Count: rs.n})
		}
	}
	out := make([]AgentRisk, 0, len(byAgent))
	for id, a := range byAgent {
		a.RiskScore, a.MaxSessionRisk, a.AvgSessionRisk = agentScore(scores[id], a.Sessions)
		a.RiskLevel = detect.RiskLevel(a.RiskScore)
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].RiskScore != out[j].RiskScore {
			return out[i].RiskScore > out[j].RiskScore
		}
		return out[i].AgentID < out[j].AgentID
	})
	return out, srisks, nil
}

// riskFormula is shown with every risk answer.
const riskFormula = "session risk = min(100, 80·log2(1+C_critical) + 35·log2(1+C_high) + 12·log2(1+C_medium) + 3·log2(1+C_low)), " +
	"C_s = sum of the confidences of the session's findings of severity s; agent risk = 0.5·max + 0.5·mean of its sessions' risks " +
	"(sessions without findings count as 0); risky session: risk ≥ 50"
