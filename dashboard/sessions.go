package dashboard

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/cylestio/perimeter/dashboard/workflow"
)

// The session list and one session's summary: which sessions a filter
// keeps, their per-session aggregates, risk and tags. A session's events
// and timeline are in session_timeline.go, its tags in session_tags.go.

// tagFilter is one k:v (or bare k) of the tags filter.
type tagFilter struct {
	key, value string
	any        bool // bare key: any value
}

// sessionFilter narrows session lists.
type sessionFilter struct {
	agent    string
	status   string // "", ACTIVE, COMPLETED, INACTIVE
	tags     []tagFilter
	from, to time.Time // on last activity; zero = open
	ids      []string
	none     bool // matches nothing (a tags filter no session passes)
	// workflow keeps the sessions of one agent workflow (calls made
	// through /agent-workflow/{id}/); unassignedWorkflow keeps those of
	// none.
	workflow string
}

// sessionAggCols are the per-session aggregates every session list reads.
const sessionAggCols = `session_id AS sid, argMin(agent_id, ts_us) AS agent,
  min(ts_us) AS first_us, max(ts_us) AS last_us, count() AS events,
  countIf(name = ` + "%[1]s" + `) AS messages,
  countIf(name = %[2]s) AS responses,
  countIf(name = %[3]s) AS tool_uses,
  countIf(` + isError + `) AS errors,
  sumIf(total_tokens, name = %[2]s) AS tokens,
  sumIf(input_tokens, name = %[2]s) AS tokens_in,
  sumIf(output_tokens, name = %[2]s) AS tokens_out,
  sumIf(duration_ms, name = %[2]s) AS dur_sum,
  countIf(name = %[4]s) AS findings,
  argMaxIf(model, ts_us, model != '') AS last_model`

var sessionAgg = sprintf(sessionAggCols, qStart, qFinish, qToolExe, qFinding) + ",\n  " + costAgg("")

// sessionQuery renders the sessions matching f (without ORDER BY and
// LIMIT), with only what filtering and ordering need: their agent and last
// activity. Lists then aggregate the page's sessions alone.
func (q *querier) sessionQuery(f sessionFilter) (string, []any) {
	w := conds{list: []string{"session_id != ''"}}
	w.eq("agent_id", f.agent)
	if len(f.ids) > 0 {
		w.add("session_id IN ?", f.ids)
	}
	w.workflow(q, f.workflow)
	var h conds
	switch f.status {
	case "ACTIVE":
		h.add("last_us >= ?", q.active)
	case "COMPLETED":
		h.add("last_us < ?", q.active)
	case "INACTIVE":
		h.add("0")
	}
	if f.none {
		h.add("0")
	}
	if !f.from.IsZero() {
		h.add("last_us >= ?", f.from.UnixMicro())
	}
	if !f.to.IsZero() {
		h.add("last_us < ?", f.to.UnixMicro())
	}
	// A session's events may carry several agent ids (the original's id
	// is the system prompt's hash, and a summarising agent's prompt
	// grows): the page's sessions are aggregated over all of them.
	sql := "SELECT session_id AS sid, arrayStringConcat(arrayMap(x -> hex(x), groupUniqArray(agent_id)), ',') AS agents, max(ts_us) AS last_us\nFROM " + q.src + "\n" + strings.TrimPrefix(w.where(), " ") +
		"\nGROUP BY session_id"
	if len(h.list) > 0 {
		sql += "\nHAVING " + h.and()
	}
	return sql, append(w.args, h.args...)
}

// sessions lists sessions newest first, with their risk and tags.
func (q *querier) sessions(ctx context.Context, f sessionFilter, limit, offset int) ([]SessionRow, error) {
	if err := q.resolveTags(ctx, &f); err != nil {
		return nil, err
	}
	sql, args := q.sessionQuery(f)
	sql += "\nORDER BY last_us DESC, sid\nLIMIT ?, ?"
	args = append(args, offset, limit)
	res, err := q.run(ctx, sql, args...)
	if err != nil || res.len() == 0 {
		return []SessionRow{}, err
	}
	ids := make([]string, 0, res.len())
	var agents []string
	seen := map[string]bool{}
	at := make(map[string]int, res.len())
	for i := range res.len() {
		r := res.row(i)
		at[r.str("sid")] = i
		ids = append(ids, r.str("sid"))
		for _, a := range hexList(r.str("agents")) {
			if !seen[a] {
				seen[a] = true
				agents = append(agents, a)
			}
		}
	}
	res, err = q.run(ctx, "SELECT "+sessionAgg+"\nFROM "+q.src+"\nWHERE agent_id IN ? AND session_id IN ?\nGROUP BY session_id", agents, ids)
	if err != nil {
		return nil, err
	}
	out := make([]SessionRow, len(ids))
	for i := range res.len() {
		row := q.sessionRow(res.row(i))
		if j, ok := at[row.ID]; ok {
			out[j] = row
		}
	}
	if err := q.decorateSessions(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (q *querier) countSessions(ctx context.Context, f sessionFilter) (int64, error) {
	if err := q.resolveTags(ctx, &f); err != nil {
		return 0, err
	}
	sql, args := q.sessionQuery(f)
	res, err := q.run(ctx, "SELECT count() AS n FROM ("+sql+")", args...)
	if err != nil || res.len() == 0 {
		return 0, err
	}
	return res.row(0).int("n"), nil
}

func (q *querier) sessionRow(r rec) SessionRow {
	first, last := r.time("first_us"), r.time("last_us")
	active := uint64(r.int("last_us")) >= q.active
	status := "COMPLETED"
	if active {
		status = "ACTIVE"
	}
	msgs := r.int("messages")
	s := SessionRow{
		ID: r.str("sid"), AgentID: r.str("agent"),
		CreatedAt: Time(first), LastActivity: Time(last),
		LastActivityRelative: workflow.Relative(last, q.now),
		DurationMinutes:      round(last.Sub(first).Minutes(), 1),
		IsActive:             active, IsCompleted: !active, Status: status,
		MessageCount: msgs, ResponseCount: r.int("responses"),
		ToolUses: r.int("tool_uses"), Errors: r.int("errors"),
		TotalTokens: r.int("tokens"), Model: r.str("last_model"),
		FindingsCount: r.int("findings"), RiskLevel: "none",
		Tags: map[string]string{},
	}
	s.ErrorRate = pct(s.Errors, msgs)
	s.cost = readCost(r, "")
	s.Cost = s.cost.cost()
	s.IDShort, s.AgentIDShort = short(s.ID, 12, false), short(s.AgentID, 12, false)
	return s
}

// decorateSessions adds risk scores and tags to a page of sessions.
func (q *querier) decorateSessions(ctx context.Context, rows []SessionRow) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]string, 0, len(rows))
	agents := map[string]bool{}
	var agentList []string
	at := make(map[string]int, len(rows))
	withFindings := false
	for i, r := range rows {
		ids = append(ids, r.ID)
		at[r.ID] = i
		if !agents[r.AgentID] {
			agents[r.AgentID] = true
			agentList = append(agentList, r.AgentID)
		}
		withFindings = withFindings || r.FindingsCount > 0
	}
	if withFindings {
		risks, err := q.sessionRisks(ctx, riskScope{agents: agentList, sessions: ids})
		if err != nil {
			return err
		}
		for _, sr := range risks {
			if i, ok := at[sr.SessionID]; ok {
				rows[i].RiskScore, rows[i].RiskLevel = sr.RiskScore, sr.RiskLevel
			}
		}
	}
	res, err := q.run(ctx, "SELECT session_id AS sid, "+storedTags+" FROM "+q.src+
		"\nPREWHERE name = "+qSession+" WHERE agent_id IN ? AND session_id IN ? AND "+hasStoredTags, agentList, ids)
	if err != nil {
		return err
	}
	for i := range res.len() {
		r := res.row(i)
		if j, ok := at[r.str("sid")]; ok {
			mergeTags(rows[j].Tags, tagsOfRow(r))
		}
	}
	return nil
}

// SessionDetail is the session object of /api/session/{id}.
type SessionDetail struct {
	SessionRow
	Provider           string           `json:"provider"`
	Models             []string         `json:"models"`
	TotalEvents        int64            `json:"total_events"`
	InputTokens        int64            `json:"input_tokens"`
	OutputTokens       int64            `json:"output_tokens"`
	AvgResponseTimeMs  float64          `json:"avg_response_time_ms"`
	ToolUsageDetails   map[string]int64 `json:"tool_usage_details"`
	AvailableTools     []string         `json:"available_tools"`
	SystemPrompt       *string          `json:"system_prompt"`
	FindingsBySeverity map[string]int64 `json:"findings_by_severity"`
	CostCalls
}

// session returns one session's summary, or ok=false when it has no events.
func (q *querier) session(ctx context.Context, id string) (SessionDetail, bool, error) {
	res, err := q.run(ctx, "SELECT "+sessionAgg+
		",\n  argMinIf(vendor, ts_us, vendor != '') AS provider, argMinIf(model, ts_us, model != '') AS first_model"+
		"\nFROM "+q.src+"\nWHERE session_id = ?\nGROUP BY session_id", id)
	if err != nil || res.len() == 0 {
		return SessionDetail{}, false, err
	}
	r := res.row(0)
	d := SessionDetail{
		SessionRow: q.sessionRow(r), Provider: r.str("provider"),
		TotalEvents: r.int("events"), InputTokens: r.int("tokens_in"), OutputTokens: r.int("tokens_out"),
		AvgResponseTimeMs:  round(ratio(r.float("dur_sum"), r.int("responses")), 1),
		ToolUsageDetails:   map[string]int64{},
		AvailableTools:     []string{},
		Models:             []string{},
		FindingsBySeverity: severityCounts(),
	}
	d.CostCalls = d.cost.calls
	if m := r.str("first_model"); m != "" {
		d.Model = m
	}
	agent := d.AgentID

	res, err = q.run(ctx, "SELECT model AS m, countIf(name = "+qToolExe+") AS x, tool_name AS tool, count() AS n FROM "+q.src+
		"\nWHERE agent_id = ? AND session_id = ? AND (model != '' OR name = "+qToolExe+")\nGROUP BY m, tool ORDER BY m, tool", agent, id)
	if err != nil {
		return d, true, err
	}
	seen := map[string]bool{}
	for i := range res.len() {
		r := res.row(i)
		if m := r.str("m"); m != "" && !seen[m] {
			seen[m] = true
			d.Models = append(d.Models, m)
		}
		if n := r.int("x"); n > 0 && r.str("tool") != "" {
			d.ToolUsageDetails[r.str("tool")] += n
		}
	}

	res, err = q.run(ctx, "SELECT attributes FROM "+q.src+
		"\nPREWHERE name = "+qSession+" WHERE agent_id = ? AND session_id = ?\nORDER BY ts_us LIMIT 1", agent, id)
	if err != nil {
		return d, true, err
	}
	if res.len() > 0 {
		a := parseStart(res.row(0).str("attributes"))
		d.AvailableTools = workflow.ToolNames(string(a.Tools))
		if a.Prompt != nil && *a.Prompt != "" {
			d.SystemPrompt = a.Prompt
		}
		mergeTags(d.Tags, string(a.Tags))
	}
	return d, true, nil
}

// startAttrs are the session.start attributes the dashboard reads. They are
// parsed here rather than in SQL: ClickHouse 18.16's JSON functions find
// the first "key" anywhere, and these keys follow the raw tool schemas.
type startAttrs struct {
	Prompt *string         `json:"prompt"`
	Tools  json.RawMessage `json:"tools"`
	Tags   json.RawMessage `json:"tags"`
}

func parseStart(attrs string) startAttrs {
	var a startAttrs
	_ = json.Unmarshal([]byte(attrs), &a)
	return a
}
