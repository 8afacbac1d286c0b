package dashboard

import (
	"context"
	"encoding/hex"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/cylestio/perimeter/dashboard/workflow"
	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/detect/behavior"
)

// maxCheckSessions bounds the dynamic checks and the behavioural analysis
// to an agent's most recent completed sessions.
const maxCheckSessions = 2000

// maxToolSequence bounds the tool calls read per session for the
// behavioural shingles (RESOURCE_002 counts them all).
const maxToolSequence = 1000

// confidenceSlack absorbs the float32 round trip of a finding's
// confidence through risk_score, so that a 0.8 stays high-confidence.
const confidenceSlack = 1e-4

// checkSessions picks the agent's most recent completed sessions, by their
// last event; its arguments are the agent and the active threshold.
const checkSessions = `SELECT sid FROM (SELECT session_id AS sid, max(ts_us) AS last_us FROM %[1]s
    WHERE agent_id = ? AND session_id != '' GROUP BY session_id HAVING last_us < ?
    ORDER BY last_us DESC, sid LIMIT %[2]d)`

// sessionFeatures aggregates each checked session's features in one pass.
// String arrays travel hex-encoded and comma-joined: the engines print
// arrays differently and chDB's text form loses escapes.
const sessionFeatures = `SELECT session_id AS sid, min(ts_us) AS first_us, max(ts_us) AS last_us,
  countIf(name != %[2]s) AS events,
  countIf(name = %[3]s) AS llm_calls,
  arrayStringConcat(arrayMap(x -> hex(x), groupUniqArrayIf(model, name IN (%[3]s, %[4]s, %[5]s) AND model != '')), ',') AS models,
  sumIf(input_tokens, name = %[4]s) AS tokens_in, sumIf(output_tokens, name = %[4]s) AS tokens_out,
  countIf(name = %[4]s AND input_tokens > 0) AS calls_in, countIf(name = %[4]s AND output_tokens > 0) AS calls_out,
  countIf(name = %[6]s) AS tool_calls,
  arrayStringConcat(arrayMap(x -> hex(x.2), arraySort(groupArrayIf(%[8]d)((ts_us, tool_name), name = %[6]s AND tool_name != ''))), ',') AS tools,
  countIf(name = %[2]s AND %[7]s = 'pii') AS pii
FROM %[1]s WHERE agent_id = ? AND session_id %[9]s
GROUP BY session_id ORDER BY last_us DESC, sid`

// sessionStarts reads the tools offered and the system prompt of the
// checked sessions, grouped by distinct pair (an agent has few). The
// tools are the first "tools" key (the edge writes it before any other
// nested JSON); the prompt is read from the text after the tools, since a
// tool may declare a parameter named "prompt". (18.16's replaceOne wants
// a constant needle, so the tools are skipped by position.)
const sessionStarts = `SELECT visitParamExtractRaw(attributes, 'tools') AS tools,
  visitParamExtractString(if(tools = '', attributes,
    substring(attributes, position(attributes, '"tools":') + 8 + length(tools))), 'prompt') AS prompt,
  arrayStringConcat(arrayMap(x -> hex(x), groupArray(session_id)), ',') AS sids
FROM %[1]s PREWHERE name = %[2]s WHERE agent_id = ? AND session_id %[3]s
GROUP BY tools, prompt`

// piiByRule counts the checked sessions' personal-data findings per rule
// and confidence band.
const piiByRule = `SELECT %[3]s AS r, count() AS n, countIf(%[4]s >= %[5]g) AS high,
  countIf(%[4]s >= %[9]g AND %[4]s < %[5]g) AS medium, countIf(%[4]s >= %[5]g AND %[3]s IN (%[6]s)) AS high_risk
FROM %[1]s PREWHERE name = %[2]s WHERE agent_id = ? AND %[7]s = 'pii' AND session_id %[8]s
GROUP BY r`

// piiStrongest lists the most confident of them, with their redacted
// evidence.
const piiStrongest = `SELECT %[3]s AS r, %[4]s AS c, session_id AS sid,
  ` + `visitParamExtractString(attributes, 'finding.evidence') AS ev, visitParamExtractString(attributes, 'finding.event_name') AS src
FROM %[1]s PREWHERE name = %[2]s WHERE agent_id = ? AND %[5]s = 'pii' AND session_id %[6]s
ORDER BY c DESC, ts_us DESC, sid LIMIT %[7]d`

// ChecksResponse is /api/agent/{id}/checks.
type ChecksResponse struct {
	AgentID string `json:"agent_id"`
	// EvaluationStatus is COMPLETE (≥ 2 completed sessions analysed),
	// PARTIAL (one) or INSUFFICIENT_DATA (none).
	EvaluationStatus   string             `json:"evaluation_status"`
	TotalSessions      int64              `json:"total_sessions"`
	CompletedSessions  int64              `json:"completed_sessions"`
	ActiveSessions     int64              `json:"active_sessions"`
	SessionsAnalyzed   int                `json:"sessions_analyzed"`
	MaxSessions        int                `json:"max_sessions"`
	SecurityReport     *behavior.Report   `json:"security_report"`
	BehavioralAnalysis *behavior.Analysis `json:"behavioral_analysis"`
	Envelope
}

func emptyChecks() *ChecksResponse {
	return &ChecksResponse{EvaluationStatus: "INSUFFICIENT_DATA", MaxSessions: maxCheckSessions}
}

func (s *Server) apiAgentChecks(ctx context.Context, p params, q *querier) (enveloped, error) {
	id, err := pathID("agent_id", p.id)
	if err != nil {
		return nil, err
	}
	res, err := q.run(ctx, `SELECT count() AS groups, countIf(sid != '') AS sessions, countIf(sid != '' AND last_us >= ?) AS active
FROM (SELECT session_id AS sid, max(ts_us) AS last_us FROM `+q.src+` WHERE agent_id = ? GROUP BY session_id)`, q.active, id)
	if err != nil {
		return nil, err
	}
	if res.len() == 0 || res.row(0).int("groups") == 0 {
		return nil, notFound("agent", id)
	}
	r := res.row(0)
	out := emptyChecks()
	out.AgentID, out.TotalSessions, out.ActiveSessions = id, r.int("sessions"), r.int("active")
	out.CompletedSessions = out.TotalSessions - out.ActiveSessions
	if err := q.checks(ctx, id, out); err != nil {
		return nil, err
	}
	return out, nil
}

// checks evaluates the agent's most recent completed sessions into out
// (whose session counts are set).
func (q *querier) checks(ctx context.Context, id string, out *ChecksResponse) error {
	out.AgentID, out.MaxSessions = id, maxCheckSessions
	if out.CompletedSessions <= 0 {
		out.EvaluationStatus = "INSUFFICIENT_DATA"
		return nil
	}
	return q.checksOver(ctx, id, q.schema.In(false)+" ("+sprintf(checkSessions, q.src, maxCheckSessions)+")", []any{id, q.active}, out)
}

// checksOver evaluates the agent's sessions that sel (SQL: the operator
// and its operand, "IN (literals)" or, with q.schema.In, a subquery; with
// selArgs) picks into out. A dynamic analysis of
// a workflow passes the sessions it has not analysed yet.
func (q *querier) checksOver(ctx context.Context, id, sel string, selArgs []any, out *ChecksResponse) error {
	args := append([]any{id}, selArgs...)
	res, err := q.run(ctx, sprintf(sessionFeatures, q.src, qFinding, qStart, qFinish, qError, qToolExe, q.f.cat, maxToolSequence, sel),
		args...)
	if err != nil {
		return err
	}
	sessions := make([]behavior.Session, res.len())
	at := make(map[string]int, res.len())
	for i := range res.len() {
		r := res.row(i)
		s := &sessions[i]
		s.ID = r.str("sid")
		at[s.ID] = i
		s.DurationSeconds = float64(r.int("last_us")-r.int("first_us")) / 1e6
		s.Events, s.LLMRequests, s.ToolCalls, s.PIIFindings = r.int("events"), r.int("llm_calls"), r.int("tool_calls"), r.int("pii")
		s.InputTokens, s.OutputTokens = r.int("tokens_in"), r.int("tokens_out")
		s.MeanInputTokens = ratio(float64(s.InputTokens), r.int("calls_in"))
		s.MeanOutputTokens = ratio(float64(s.OutputTokens), r.int("calls_out"))
		s.Models = hexList(r.str("models"))
		sort.Strings(s.Models)
		s.ToolSequence = hexList(r.str("tools"))
	}
	if len(sessions) == 0 {
		out.EvaluationStatus = "INSUFFICIENT_DATA"
		return nil
	}

	res, err = q.run(ctx, sprintf(sessionStarts, q.src, qSession, sel), args...)
	if err != nil {
		return err
	}
	pii := &behavior.PIISummary{ByType: map[string]int64{}}
	for i := range res.len() {
		r := res.row(i)
		sids := hexList(r.str("sids"))
		if tools := workflow.ToolNames(r.str("tools")); len(tools) > 0 {
			for _, sid := range sids {
				if j, ok := at[sid]; ok {
					sessions[j].AvailableTools = append(sessions[j].AvailableTools, tools...)
				}
			}
		}
		pii.SystemPrompt = append(pii.SystemPrompt, promptPII(r.str("prompt"), int64(len(sids)))...)
	}
	for i := range sessions {
		if t := sessions[i].AvailableTools; len(t) > 1 {
			sort.Strings(t)
			sessions[i].AvailableTools = slices.Compact(t)
		}
	}

	risky := make([]string, len(behavior.HighRiskPII))
	for i, r := range behavior.HighRiskPII {
		risky[i] = sqlString(r)
	}
	res, err = q.run(ctx, sprintf(piiByRule, q.src, qFinding, q.f.rule, q.f.conf, behavior.HighConfidence-confidenceSlack,
		strings.Join(risky, ", "), q.f.cat, sel, 0.5-confidenceSlack), args...)
	if err != nil {
		return err
	}
	for i := range res.len() {
		r := res.row(i)
		pii.ByType[r.str("r")] += r.int("n")
		pii.Total += r.int("n")
		pii.High += r.int("high")
		pii.Medium += r.int("medium")
		pii.HighRisk += r.int("high_risk")
	}
	if pii.Total > 0 {
		res, err = q.run(ctx, sprintf(piiStrongest, q.src, qFinding, q.f.rule, q.f.conf, q.f.cat, sel, 20), args...)
		if err != nil {
			return err
		}
		for i := range res.len() {
			r := res.row(i)
			pii.Detailed = append(pii.Detailed, behavior.PIIFinding{Type: r.str("r"), Text: r.str("ev"),
				Score: round(r.float("c"), 3), SessionID: r.str("sid"), Location: r.str("src")})
		}
	}

	if q.noDetection {
		// Without detection there are no pii findings to read: leave
		// the category out, as the original does when its PII engine is
		// off, rather than report a pass.
		pii = nil
	}
	rep, an := behavior.Evaluate(&behavior.Input{AgentID: id, Sessions: sessions, ActiveSessions: int(out.ActiveSessions),
		PII: pii, Now: q.now})
	if pii == nil {
		rep.Summary.PIIDisabled = true
		rep.Summary.PIIDisabledReason = "PII analysis disabled by configuration (detect.enabled: false)"
	}
	out.SecurityReport, out.BehavioralAnalysis, out.SessionsAnalyzed = rep, an, len(sessions)
	out.EvaluationStatus = "COMPLETE"
	if len(sessions) < 2 {
		out.EvaluationStatus = "PARTIAL"
	}
	return nil
}

// piiScanner looks for personal data in system prompts, which the
// pipeline does not scan (they are the operator's, not the user's).
var piiScanner = sync.OnceValue(func() *detect.Scanner {
	return detect.NewScanner(detect.Options{Categories: detect.CategoriesOf(detect.CategoryPII)})
})

// promptPII are the personal-data findings in one system prompt, used by
// the given number of sessions.
func promptPII(prompt string, sessions int64) []behavior.PIIFinding {
	if prompt == "" {
		return nil
	}
	var out []behavior.PIIFinding
	for _, f := range piiScanner().Scan(&detect.Input{Text: prompt, Role: detect.RoleUser, Direction: detect.Request}) {
		out = append(out, behavior.PIIFinding{Type: f.Rule, Text: f.Evidence, Score: round(float64(f.Confidence), 3),
			Location: "system_prompt", Sessions: sessions})
	}
	return out
}

// hexList decodes a comma-joined list of hex strings.
func hexList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		b, err := hex.DecodeString(p)
		if err == nil {
			out = append(out, string(b))
		}
	}
	return out
}
