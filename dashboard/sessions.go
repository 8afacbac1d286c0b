package dashboard

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/cylestio/perimeter/detect"
)

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
	var b strings.Builder
	var args []any
	b.WriteString("SELECT session_id AS sid, any(agent_id) AS agent, max(ts_us) AS last_us")
	b.WriteString("\nFROM ")
	b.WriteString(q.src)
	b.WriteString("\nWHERE session_id != ''")
	if f.agent != "" {
		b.WriteString(" AND agent_id = ?")
		args = append(args, f.agent)
	}
	if len(f.ids) > 0 {
		b.WriteString(" AND session_id IN ?")
		args = append(args, f.ids)
	}
	if f.workflow != "" {
		cond, wargs := q.workflowSessions(f.workflow)
		b.WriteString(" AND " + cond)
		args = append(args, wargs...)
	}
	b.WriteString("\nGROUP BY session_id")
	var having []string
	switch f.status {
	case "ACTIVE":
		having = append(having, "last_us >= ?")
		args = append(args, q.active)
	case "COMPLETED":
		having = append(having, "last_us < ?")
		args = append(args, q.active)
	case "INACTIVE":
		having = append(having, "0")
	}
	if f.none {
		having = append(having, "0")
	}
	if !f.from.IsZero() {
		having = append(having, "last_us >= ?")
		args = append(args, f.from.UnixMicro())
	}
	if !f.to.IsZero() {
		having = append(having, "last_us < ?")
		args = append(args, f.to.UnixMicro())
	}
	if len(having) > 0 {
		b.WriteString("\nHAVING ")
		b.WriteString(strings.Join(having, " AND "))
	}
	return b.String(), args
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
		if a := r.str("agent"); !seen[a] {
			seen[a] = true
			agents = append(agents, a)
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
		LastActivityRelative: relative(last, q.now),
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
	res, err := q.run(ctx, "SELECT session_id AS sid, attributes FROM "+q.src+
		"\nPREWHERE name = "+qSession+" WHERE agent_id IN ? AND session_id IN ? AND position(attributes, '\"tags\":') > 0", agentList, ids)
	if err != nil {
		return err
	}
	for i := range res.len() {
		r := res.row(i)
		if j, ok := at[r.str("sid")]; ok {
			mergeTags(rows[j].Tags, tagsOf(r.str("attributes")))
		}
	}
	return nil
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

// tagsOf is the top-level "tags" object of an event's attributes.
func tagsOf(attrs string) string {
	var a struct {
		Tags json.RawMessage `json:"tags"`
	}
	_ = json.Unmarshal([]byte(attrs), &a)
	return string(a.Tags)
}

// maxTagCandidates bounds the sessions a tags filter considers.
const maxTagCandidates = 100000

// resolveTags turns a tags filter into the list of matching sessions: those
// whose session.start carries every wanted tag (the x-cylestio-tags of the
// session's first request, as the list shows them). SQL narrows the
// session starts to those whose text holds a wanted "key":"value" (a
// superset); Go then reads each candidate's real top-level tags, exactly on
// every engine.
func (q *querier) resolveTags(ctx context.Context, f *sessionFilter) error {
	if len(f.tags) == 0 {
		return nil
	}
	var ors []string
	var args []any
	for _, t := range f.tags {
		ors = append(ors, "position(attributes, ?) > 0")
		args = append(args, tagNeedle(t))
	}
	where := "PREWHERE name = " + qSession + " WHERE (" + strings.Join(ors, " OR ") + ")"
	if f.agent != "" {
		where += " AND agent_id = ?"
		args = append(args, f.agent)
	}
	res, err := q.run(ctx, "SELECT session_id AS sid, attributes FROM "+q.src+"\n"+where+"\nLIMIT ?", append(args, maxTagCandidates)...)
	if err != nil {
		return err
	}
	seen := map[string]map[string]string{}
	var order []string
	for i := range res.len() {
		r := res.row(i)
		sid := r.str("sid")
		m := seen[sid]
		if m == nil {
			m = map[string]string{}
			seen[sid] = m
			order = append(order, sid)
		}
		mergeTags(m, tagsOf(r.str("attributes")))
	}
	ids := []string{}
	for _, sid := range order {
		if matchTags(seen[sid], f.tags) && (len(f.ids) == 0 || contains(f.ids, sid)) {
			ids = append(ids, sid)
		}
	}
	f.tags, f.ids, f.none = nil, ids, len(ids) == 0
	return nil
}

func matchTags(m map[string]string, want []tagFilter) bool {
	for _, t := range want {
		v, ok := m[t.key]
		if !ok || (!t.any && v != t.value) {
			return false
		}
	}
	return true
}

// tagNeedle is how a wanted tag appears in stored JSON: "key":"value" (or
// "key": for a bare key), escaped as JSON writers escape it.
func tagNeedle(t tagFilter) string {
	k := jsonString(t.key)
	if t.any {
		return k + ":"
	}
	return k + ":" + jsonString(t.value)
}

func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// mergeTags adds the tags of a stored {"k":"v"} object to m.
func mergeTags(m map[string]string, raw string) {
	var t map[string]any
	if json.Unmarshal([]byte(raw), &t) != nil {
		return
	}
	for k, v := range t {
		if s, ok := v.(string); ok {
			m[k] = s
		} else if v != nil {
			b, _ := json.Marshal(v)
			m[k] = string(b)
		}
	}
}

// TagValue is one value of a session tag and how many sessions carry it.
type TagValue struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// TagKey is a session tag key and its values.
type TagKey struct {
	Key    string     `json:"key"`
	Values []TagValue `json:"values"`
}

func (q *querier) sessionTags(ctx context.Context) ([]TagKey, error) {
	res, err := q.run(ctx, "SELECT session_id AS sid, attributes FROM "+q.src+
		"\nPREWHERE name = "+qSession+" WHERE position(attributes, '\"tags\":') > 0\nORDER BY ts_us DESC LIMIT 10000")
	if err != nil {
		return nil, err
	}
	counts := map[string]map[string]int64{}
	for i := range res.len() {
		m := map[string]string{}
		mergeTags(m, tagsOf(res.row(i).str("attributes")))
		for k, v := range m {
			if counts[k] == nil {
				counts[k] = map[string]int64{}
			}
			counts[k][v]++
		}
	}
	out := make([]TagKey, 0, len(counts))
	for k, vs := range counts {
		tk := TagKey{Key: k, Values: make([]TagValue, 0, len(vs))}
		for v, n := range vs {
			tk.Values = append(tk.Values, TagValue{Value: v, Count: n})
		}
		sort.Slice(tk.Values, func(i, j int) bool {
			if tk.Values[i].Count != tk.Values[j].Count {
				return tk.Values[i].Count > tk.Values[j].Count
			}
			return tk.Values[i].Value < tk.Values[j].Value
		})
		out = append(out, tk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
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
		d.AvailableTools = toolNames(string(a.Tools))
		if a.Prompt != nil && *a.Prompt != "" {
			d.SystemPrompt = a.Prompt
		}
		mergeTags(d.Tags, string(a.Tags))
	}
	return d, true, nil
}

// toolNames lists the tool names a request declares: OpenAI's
// {"type":"function","function":{"name":…}}, Responses' and Anthropic's
// {"name":…}.
func toolNames(raw string) []string {
	var tools []struct {
		Name     string `json:"name"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	out := []string{}
	if raw == "" || json.Unmarshal([]byte(raw), &tools) != nil {
		return out
	}
	for _, t := range tools {
		n := t.Name
		if n == "" {
			n = t.Function.Name
		}
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// eventCols is how events are read.
const eventCols = `toString(id) AS eid, ts_us, name, level, trace_id, span_id, session_id, agent_id, vendor, model,
  status, duration_ms, input_tokens, output_tokens, total_tokens, cached_tokens, tool_name, finish_reason,
  error_type, error_message, risk_score, cost_usd, cost_status, attributes`

// eventOrder puts events of the same microsecond in the order they were
// emitted: a request's session.start, tool results and call start, then its
// response's finish or error, tool calls, and findings last.
var eventOrder = "ts_us, multiIf(name = " + qSession + ", 0, name = " + qToolRes + ", 1, name = " + qStart + ", 2, name = " + qFinish +
	", 3, name = " + qError + ", 3, name = " + qToolExe + ", 4, name = " + qFinding + ", 6, 5), eid"

func (q *querier) sessionEvents(ctx context.Context, agent, id string, types []string, limit, offset int) ([]Event, error) {
	sql := "SELECT " + eventCols + " FROM " + q.src + "\nWHERE agent_id = ? AND session_id = ?"
	args := []any{agent, id}
	if len(types) > 0 {
		sql += " AND name IN ?"
		args = append(args, types)
	}
	sql += "\nORDER BY " + eventOrder + "\nLIMIT ?, ?"
	args = append(args, offset, limit)
	res, err := q.run(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, res.len())
	for i := range res.len() {
		out = append(out, eventOf(res.row(i)))
	}
	return out, nil
}

func (q *querier) countEvents(ctx context.Context, agent, id string, types []string) (int64, error) {
	res, err := q.run(ctx, "SELECT count() AS n FROM "+q.src+" WHERE agent_id = ? AND session_id = ? AND name IN ?", agent, id, types)
	if err != nil || res.len() == 0 {
		return 0, err
	}
	return res.row(0).int("n"), nil
}

func eventOf(r rec) Event {
	e := Event{
		ID: r.str("span_id"), EventID: r.str("eid"), TraceID: r.str("trace_id"),
		Name: r.str("name"), Level: r.str("level"), Timestamp: Time(r.time("ts_us")),
		SessionID: r.str("session_id"), AgentID: r.str("agent_id"),
		Vendor: r.str("vendor"), Model: r.str("model"), Status: r.int("status"),
		DurationMs: r.float("duration_ms"), InputTokens: r.int("input_tokens"),
		OutputTokens: r.int("output_tokens"), TotalTokens: r.int("total_tokens"),
		CachedTokens: r.int("cached_tokens"), ToolName: r.str("tool_name"),
		FinishReason: r.str("finish_reason"), ErrorType: r.str("error_type"),
		ErrorMessage: r.str("error_message"), RiskScore: round(r.float("risk_score"), 2),
		Attributes: rawJSON(r.str("attributes")),
	}
	e.CostUSD, e.CostStatus = callCost(e.Name, r.v("cost_usd"), r.str("cost_status"))
	if e.Name == "security.finding" {
		f := findingOf(r)
		f.ID, f.SessionID, f.AgentID = "", "", ""
		e.Finding = &f
	}
	return e
}

// rawJSON passes stored JSON through, or the text as a JSON string when it
// is not valid JSON.
func rawJSON(s string) json.RawMessage {
	if s == "" {
		return json.RawMessage("{}")
	}
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

// TimelineItem is the original's timeline entry.
type TimelineItem struct {
	ID          string          `json:"id"`
	EventID     string          `json:"event_id"`
	Timestamp   Time            `json:"timestamp"`
	EventType   string          `json:"event_type"`
	Description string          `json:"description"`
	Level       string          `json:"level"`
	Details     json.RawMessage `json:"details"`
	RiskScore   float64         `json:"risk_score"`
	Severity    string          `json:"severity,omitempty"`
	// A finished call's cost (API.md "Event").
	CostUSD    *float64 `json:"cost_usd,omitempty"`
	CostStatus string   `json:"cost_status,omitempty"`
}

func timeline(events []Event) []TimelineItem {
	out := make([]TimelineItem, 0, len(events))
	for _, e := range events {
		it := TimelineItem{ID: e.ID, EventID: e.EventID, Timestamp: e.Timestamp, EventType: e.Name,
			Level: e.Level, Details: e.Attributes, RiskScore: e.RiskScore, Description: describe(&e),
			CostUSD: e.CostUSD, CostStatus: e.CostStatus}
		if e.Finding != nil {
			it.Severity = e.Finding.Severity
		}
		out = append(out, it)
	}
	return out
}

func describe(e *Event) string {
	switch {
	case e.Name == "llm.call.start":
		m := e.Model
		if m == "" {
			m = "unknown"
		}
		return "Started LLM call to " + m
	case e.Name == "llm.call.finish":
		return "Completed LLM call (" + itoa(int64(e.DurationMs+0.5)) + "ms, " + itoa(e.TotalTokens) + " tokens)"
	case e.Name == "tool.execution":
		return "Executed tool: " + e.ToolName
	case e.Name == "tool.result":
		var a struct {
			Status string `json:"tool.status"`
		}
		_ = json.Unmarshal(e.Attributes, &a)
		return "Tool result: " + e.ToolName + " (" + a.Status + ")"
	case e.Name == "session.start":
		return "Session started"
	case e.Name == "session.end":
		return "Session ended"
	case e.Name == "security.finding" && e.Finding != nil:
		return "Finding: " + e.Finding.Rule + " (" + e.Finding.Severity + ")"
	case strings.HasSuffix(e.Name, ".error"):
		msg := e.ErrorMessage
		if msg == "" {
			msg = e.ErrorType
		}
		return "Error: " + msg
	}
	return "Event: " + e.Name
}

// severityRank orders severities for min_severity filters.
func severityRank(s string) int {
	sev, ok := detect.ParseSeverity(s)
	if !ok {
		return -1
	}
	return int(sev)
}

// event finds one event by its UUID (or sink's 32-hex form of it), or by a
// span id, preferring the event over findings that share its span.
func (q *querier) event(ctx context.Context, id, session string) (*Event, error) {
	id = strings.ToLower(id)
	if len(id) == 32 && isHex(id) {
		id = uuidOfHex(id)
	}
	var where string
	switch {
	case len(id) == 36 && isHex(strings.ReplaceAll(id, "-", "")) && strings.Count(id, "-") == 4:
		where = "id = toUUID(?)"
	case len(id) == 16 && isHex(id):
		where = "span_id = ?"
	default:
		return nil, badParam("event_id", "want an event UUID (event_id) or a 16-hex span id (id)")
	}
	args := []any{id}
	if session != "" {
		where += " AND session_id = ?"
		args = append(args, session)
	}
	res, err := q.run(ctx, "SELECT "+eventCols+" FROM "+q.src+"\nWHERE "+where+
		"\nORDER BY name = "+qFinding+", "+eventOrder+" LIMIT 1", args...)
	if err != nil {
		return nil, err
	}
	if res.len() == 0 {
		return nil, notFound("event", id)
	}
	e := eventOf(res.row(0))
	return &e, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}
