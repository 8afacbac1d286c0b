package dashboard

import (
	"context"
	"encoding/json"
	"strings"
)

// A session's events, one event by id, and the original's timeline view
// of them.

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
