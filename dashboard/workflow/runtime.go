package workflow

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// WorkflowExpr is the SQL expression of an event's agent workflow id, ""
// when it has none. The edge writes agent_workflow.id as the last key of
// the attributes of llm.call.finish, llm.call.error and tool.execution
// events of calls made through /agent-workflow/{id}/; the expression reads
// it from the end of the text, where a key planted in a tool's arguments
// or a model's answer (raw JSON earlier in the text) cannot reach. Ids
// that need JSON escapes read as "".
var WorkflowExpr = func() string {
	re, err := sink.Bind("?", `"agent_workflow\.id":"([^"\\]*)"}$`)
	if err != nil {
		panic(err)
	}
	return "extract(substring(attributes, greatest(1, length(attributes) - 511), 512), " + re + ")"
}()

// WorkflowEvents is the SQL list of the event names that carry the
// workflow id (for "name IN "+WorkflowEvents).
var WorkflowEvents = func() string {
	q, _ := sink.Bind("?", []string{sink.LLMCallFinish, sink.LLMCallError, sink.ToolExecution})
	return q
}()

func lit(s string) string {
	q, _ := sink.Bind("?", s)
	return q
}

// rtSession is a runtime session of a workflow.
type rtSession struct {
	id, agent       string
	firstUS, lastUS int64
}

// runtimeSessions lists the workflow's runtime sessions (those with at
// least one call through its route).
func (s *Service) runtimeSessions(ctx context.Context, wf string) ([]rtSession, error) {
	rows, err := s.query(ctx, "runtime sessions of workflow "+wf,
		"SELECT session_id, any(agent_id), min(ts_us), max(ts_us) FROM "+sink.EventsSource(s.o)+
			"\nPREWHERE name IN "+WorkflowEvents+" WHERE "+WorkflowExpr+" = ?\nGROUP BY session_id", wf)
	if err != nil {
		return nil, err
	}
	out := make([]rtSession, 0, len(rows.Data))
	for _, r := range rows.Data {
		d := reader{r: r}
		out = append(out, rtSession{id: d.str(), agent: d.str(), firstUS: d.i64(), lastUS: d.i64()})
	}
	return out, nil
}

// findingsAndRuntime reads what correlation compares: the workflow's
// findings and its runtime sessions.
func (s *Service) findingsAndRuntime(ctx context.Context, wf string) ([]*Finding, []rtSession, error) {
	fs, err := s.findings(ctx, "agent_workflow_id = ?", wf)
	if err != nil {
		return nil, nil, err
	}
	ss, err := s.runtimeSessions(ctx, wf)
	if err != nil {
		return nil, nil, err
	}
	return fs, ss, nil
}

func sessionIDs(ss []rtSession) []string {
	ids := make([]string, len(ss))
	for i, x := range ss {
		ids[i] = x.id
	}
	return ids
}

// toolCounts reads tool calls per tool name in the workflow.
func (s *Service) toolCounts(ctx context.Context, wf string) (Counts, error) {
	rows, err := s.query(ctx, "tool calls of workflow "+wf,
		"SELECT tool_name, count() AS n FROM "+sink.EventsSource(s.o)+"\nPREWHERE name = "+lit(sink.ToolExecution)+
			" WHERE tool_name != '' AND "+WorkflowExpr+" = ?\nGROUP BY tool_name ORDER BY n DESC, tool_name", wf)
	if err != nil {
		return nil, err
	}
	out := Counts{}
	for _, r := range rows.Data {
		d := reader{r: r}
		out = append(out, Count{Name: d.str(), Count: d.i64()})
	}
	return out, nil
}

// toolsDefined reads the tools offered in the sessions' starts.
func (s *Service) toolsDefined(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return []string{}, nil
	}
	rows, err := s.query(ctx, "tools offered",
		"SELECT visitParamExtractRaw(attributes, 'tools') AS tools FROM "+sink.EventsSource(s.o)+
			"\nPREWHERE name = "+lit(sink.SessionStart)+" WHERE session_id IN ?\nGROUP BY tools", ids)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, r := range rows.Data {
		for _, n := range ToolNames((&reader{r: r}).str()) {
			set[n] = true
		}
	}
	return sortedKeys(set), nil
}

// runtimeFinding is what detection saw at runtime in a workflow.
type runtimeFinding struct {
	category, rule string
	count          int64
}

func (s *Service) runtimeFindings(ctx context.Context, ids []string) ([]runtimeFinding, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.query(ctx, "runtime findings",
		"SELECT category, rule, count() FROM "+sink.EventsSource(s.o)+"\nPREWHERE name = "+lit(sink.SecurityFinding)+
			" WHERE session_id IN ? AND category != ''\nGROUP BY category, rule ORDER BY category, rule", ids)
	if err != nil {
		return nil, err
	}
	out := make([]runtimeFinding, 0, len(rows.Data))
	for _, r := range rows.Data {
		d := reader{r: r}
		out = append(out, runtimeFinding{category: d.str(), rule: d.str(), count: d.i64()})
	}
	return out, nil
}

// categoryControl maps detect's categories to OWASP LLM Top 10 (2025).
var categoryControl = map[string]string{
	"pii": "LLM02", "secret": "LLM02", "prompt_injection": "LLM01", "improper_output": "LLM05",
	"excessive_agency": "LLM06", "system_prompt_leakage": "LLM07", "unbounded_consumption": "LLM10",
}

// Count is one name and its count; Counts marshal as a JSON object in
// their order ({"search": {"count": 12}, …}), most used first.
type Count struct {
	Name  string
	Count int64
}

// Counts is an ordered name → {count} object.
type Counts []Count

// MarshalJSON writes the counts as an object, in order.
func (c Counts) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, x := range c {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(x.Name)
		b = append(b, k...)
		b = append(b, `:{"count":`...)
		b = strconv.AppendInt(b, x.Count, 10)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// ToolUsage is get_tool_usage_summary.
type ToolUsage struct {
	AgentWorkflowID string   `json:"agent_workflow_id"`
	TotalSessions   int      `json:"total_sessions"`
	ToolUsage       Counts   `json:"tool_usage"`
	ToolsDefined    []string `json:"tools_defined"`
	ToolsUsed       []string `json:"tools_used"`
	ToolsUnused     []string `json:"tools_unused"`
	CoveragePercent float64  `json:"coverage_percent"`
	Message         string   `json:"message,omitempty"`
	SetupHint       string   `json:"setup_hint,omitempty"`
}

// ToolUsageSummary compares the tools a workflow's agents are offered
// with the tools they call.
func (s *Service) ToolUsageSummary(ctx context.Context, wf string) (*ToolUsage, error) {
	if err := required("agent_workflow_id", wf); err != nil {
		return nil, err
	}
	ss, err := s.runtimeSessions(ctx, wf)
	if err != nil {
		return nil, err
	}
	out := &ToolUsage{AgentWorkflowID: wf, TotalSessions: len(ss), ToolUsage: Counts{}, ToolsDefined: []string{}, ToolsUsed: []string{}, ToolsUnused: []string{}}
	if len(ss) == 0 {
		out.Message = "No runtime sessions for workflow " + wf + " yet."
		out.SetupHint = s.setupHint(wf)
		return out, nil
	}
	if out.ToolUsage, err = s.toolCounts(ctx, wf); err != nil {
		return nil, err
	}
	if out.ToolsDefined, err = s.toolsDefined(ctx, sessionIDs(ss)); err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, c := range out.ToolUsage {
		used[c.Name] = true
	}
	out.ToolsUsed = sortedKeys(used)
	n := 0
	for _, t := range out.ToolsDefined {
		if used[t] {
			n++
		} else {
			out.ToolsUnused = append(out.ToolsUnused, t)
		}
	}
	if len(out.ToolsDefined) > 0 {
		out.CoveragePercent = round1(float64(n) * 100 / float64(len(out.ToolsDefined)))
	}
	return out, nil
}

func (s *Service) setupHint(wf string) string {
	return "Point the agent at the proxy through its workflow route, e.g. base URL http://127.0.0.1:4000/agent-workflow/" + wf +
		", and run it; its sessions then appear here."
}

// CorrelationSummary is get_correlation_summary /
// GET /api/workflow/{wf}/correlation-summary (OPEN findings only).
type CorrelationSummary struct {
	AgentWorkflowID string `json:"agent_workflow_id"`
	Validated       int    `json:"validated"`
	Unexercised     int    `json:"unexercised"`
	RuntimeOnly     int    `json:"runtime_only"`
	Theoretical     int    `json:"theoretical"`
	Uncorrelated    int    `json:"uncorrelated"`
	SessionsCount   int    `json:"sessions_count"` // completed runtime sessions
	IsCorrelated    bool   `json:"is_correlated"`
	Message         string `json:"message"`
}

// CorrelationSummary counts the workflow's OPEN findings by correlation
// state.
func (s *Service) CorrelationSummary(ctx context.Context, wf string) (*CorrelationSummary, error) {
	if err := s.begin(ctx, "workflow_id", wf); err != nil {
		return nil, err
	}
	fs, ss, err := s.findingsAndRuntime(ctx, wf)
	if err != nil {
		return nil, err
	}
	return s.correlationSummary(wf, fs, ss), nil
}

func (s *Service) correlationSummary(wf string, fs []*Finding, ss []rtSession) *CorrelationSummary {
	out := &CorrelationSummary{AgentWorkflowID: wf}
	cut := s.opts.Now().Add(-s.opts.SessionTimeout).UnixMicro()
	for _, x := range ss {
		if x.lastUS < cut {
			out.SessionsCount++
		}
	}
	open := 0
	for _, f := range fs {
		if f.Status != "OPEN" {
			continue
		}
		open++
		switch deref(f.CorrelationState) {
		case "VALIDATED":
			out.Validated++
		case "UNEXERCISED":
			out.Unexercised++
		case "RUNTIME_ONLY":
			out.RuntimeOnly++
		case "THEORETICAL":
			out.Theoretical++
		default:
			out.Uncorrelated++
		}
	}
	out.IsCorrelated = out.Uncorrelated == 0 && out.Validated+out.Unexercised+out.Theoretical > 0
	switch {
	case open == 0:
		out.Message = "No findings to correlate yet."
	case out.Uncorrelated > 0:
		out.Message = "💡 " + strconv.Itoa(out.Uncorrelated) + " open finding(s) are not correlated with runtime behaviour yet."
	case out.Validated > 0:
		out.Message = "⚠️ " + strconv.Itoa(out.Validated) + " finding(s) are VALIDATED: the vulnerable path runs in production traffic. Fix them first."
	default:
		out.Message = "✅ All open findings are correlated with runtime behaviour."
	}
	return out
}

// Correlated is Correlate's answer.
type Correlated struct {
	Summary *CorrelationSummary `json:"summary"`
	Updated int                 `json:"updated"`
}

// Correlate sets the correlation state of the workflow's OPEN findings
// from its runtime data, except those an assistant set by hand:
//
//   - DYNAMIC findings are RUNTIME_ONLY, or VALIDATED when a static
//     finding maps to the same OWASP control;
//   - a STATIC finding is VALIDATED when runtime detection reported its
//     OWASP control in the workflow's sessions or a tool it names was
//     called; UNEXERCISED when it names tools that are offered but never
//     called; THEORETICAL otherwise;
//   - without runtime sessions nothing can be said: findings stay as they
//     are.
func (s *Service) Correlate(ctx context.Context, wf string) (*Correlated, error) {
	if err := s.begin(ctx, "workflow_id", wf); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fs, ss, err := s.findingsAndRuntime(ctx, wf)
	if err != nil {
		return nil, err
	}
	out := &Correlated{}
	if len(ss) > 0 {
		ids := sessionIDs(ss)
		tools, err := s.toolCounts(ctx, wf)
		if err != nil {
			return nil, err
		}
		defined, err := s.toolsDefined(ctx, ids)
		if err != nil {
			return nil, err
		}
		rf, err := s.runtimeFindings(ctx, ids)
		if err != nil {
			return nil, err
		}
		seen := map[string][]string{} // control → rules seen at runtime
		for _, x := range rf {
			if c := categoryControl[x.category]; c != "" {
				seen[c] = append(seen[c], x.rule+" ×"+strconv.FormatInt(x.count, 10))
			}
		}
		called := map[string]int64{}
		for _, t := range tools {
			called[t.Name] = t.Count
		}
		staticControls := map[string]bool{}
		for _, f := range fs {
			if f.SourceType == "STATIC" {
				for _, c := range f.OWASPMapping {
					staticControls[c] = true
				}
			}
		}
		for _, f := range fs {
			if f.Status != "OPEN" || manual(f.CorrelationEvidence) {
				continue
			}
			state, ev := correlation(f, seen, called, defined, staticControls)
			ev["source"] = "auto"
			ev["sessions"] = len(ss)
			raw, _ := json.Marshal(ev)
			if deref(f.CorrelationState) == state && string(f.CorrelationEvidence) == string(raw) {
				continue
			}
			if err := s.correlate(ctx, f, state, raw, "system"); err != nil {
				return nil, err
			}
			out.Updated++
		}
	}
	out.Summary = s.correlationSummary(wf, fs, ss)
	return out, nil
}

func correlation(f *Finding, seen map[string][]string, called map[string]int64, defined []string, staticControls map[string]bool) (string, map[string]any) {
	ev := map[string]any{}
	var controls []string
	for _, c := range f.OWASPMapping {
		if len(seen[c]) > 0 {
			controls = append(controls, c)
			ev["runtime_findings_"+c] = seen[c]
		}
	}
	if f.SourceType == "DYNAMIC" {
		for _, c := range f.OWASPMapping {
			if staticControls[c] {
				ev["static_control"] = c
				return "VALIDATED", ev
			}
		}
		return "RUNTIME_ONLY", ev
	}
	if len(controls) > 0 {
		ev["controls_seen_at_runtime"] = controls
		return "VALIDATED", ev
	}
	text := strings.ToLower(f.Title + " " + deref(f.Description) + " " + string(f.Evidence) + " " + f.FilePath)
	var usedNamed, unusedNamed []string
	for _, t := range defined {
		if len(t) < 3 || !strings.Contains(text, strings.ToLower(t)) {
			continue
		}
		if called[t] > 0 {
			usedNamed = append(usedNamed, t)
		} else {
			unusedNamed = append(unusedNamed, t)
		}
	}
	if len(usedNamed) > 0 {
		ev["tools_called"] = usedNamed
		return "VALIDATED", ev
	}
	if len(unusedNamed) > 0 {
		ev["tools_never_called"] = unusedNamed
		return "UNEXERCISED", ev
	}
	return "THEORETICAL", ev
}

// manual reports whether a correlation was set by UpdateFindingCorrelation.
func manual(ev json.RawMessage) bool {
	var m struct {
		Source string `json:"source"`
	}
	return json.Unmarshal(ev, &m) == nil && m.Source == "manual"
}

// WorkflowState is get_agent_workflow_state.
type WorkflowState struct {
	AgentWorkflowID     string `json:"agent_workflow_id"`
	State               string `json:"state"` // NO_DATA, STATIC_ONLY, DYNAMIC_ONLY, COMPLETE
	HasStaticAnalysis   bool   `json:"has_static_analysis"`
	HasDynamicSessions  bool   `json:"has_dynamic_sessions"`
	StaticSessionsCount int    `json:"static_sessions_count"`
	DynamicAgentsCount  int    `json:"dynamic_agents_count"`
	FindingsCount       int    `json:"findings_count"`
	OpenFindingsCount   int    `json:"open_findings_count"`
	Recommendation      string `json:"recommendation"`
	DashboardURL        string `json:"dashboard_url"`
}

// WorkflowStateOf says what is known about a workflow and what to do next.
func (s *Service) WorkflowStateOf(ctx context.Context, wf string) (*WorkflowState, error) {
	sessions, err := lookup(ctx, s, "agent_workflow_id", wf, s.sessions)
	if err != nil {
		return nil, err
	}
	fs, ss, err := s.findingsAndRuntime(ctx, wf)
	if err != nil {
		return nil, err
	}
	out := &WorkflowState{AgentWorkflowID: wf, FindingsCount: len(fs), DashboardURL: s.opts.DashboardURL + "/agent-workflow/" + wf}
	for _, a := range sessions {
		if a.SessionType == "STATIC" {
			out.StaticSessionsCount++
		}
	}
	agents := map[string]bool{}
	for _, x := range ss {
		agents[x.agent] = true
	}
	out.DynamicAgentsCount = len(agents)
	for _, f := range fs {
		if f.Status == "OPEN" {
			out.OpenFindingsCount++
		}
	}
	out.HasStaticAnalysis, out.HasDynamicSessions = out.StaticSessionsCount > 0, len(ss) > 0
	switch {
	case out.HasStaticAnalysis && out.HasDynamicSessions:
		out.State = "COMPLETE"
		out.Recommendation = "Both analyses have data: correlate the static findings with runtime behaviour (get_correlation_summary) and work the recommendations."
	case out.HasStaticAnalysis:
		out.State = "STATIC_ONLY"
		out.Recommendation = "Run the agent through the proxy (" + s.setupHint(wf) + ") so static findings can be checked against runtime behaviour."
	case out.HasDynamicSessions:
		out.State = "DYNAMIC_ONLY"
		out.Recommendation = "Runtime sessions exist: run a static analysis of the agent's code (create_analysis_session, store_finding, complete_analysis_session)."
	default:
		out.State = "NO_DATA"
		out.Recommendation = "Start with a static analysis of the agent's code, and " + s.setupHint(wf)
	}
	return out, nil
}

// RawCorrelation is get_agent_workflow_correlation: the data an assistant
// needs to correlate by itself.
type RawCorrelation struct {
	AgentWorkflowID       string           `json:"agent_workflow_id"`
	StaticFindings        []StaticFinding  `json:"static_findings"`
	StaticFindingsCount   int              `json:"static_findings_count"`
	DynamicToolsUsed      []string         `json:"dynamic_tools_used"`
	DynamicToolCallCounts map[string]int64 `json:"dynamic_tool_call_counts"`
	DynamicSessionsCount  int              `json:"dynamic_sessions_count"`
	HasStaticData         bool             `json:"has_static_data"`
	HasDynamicData        bool             `json:"has_dynamic_data"`
	Message               string           `json:"message"`
}

// StaticFinding is a finding as RawCorrelation lists it.
type StaticFinding struct {
	FindingID   string  `json:"finding_id"`
	Title       string  `json:"title"`
	Severity    string  `json:"severity"`
	Status      string  `json:"status"`
	FilePath    string  `json:"file_path"`
	Description *string `json:"description"`
}

// CorrelationData returns the workflow's open static findings and what
// ran.
func (s *Service) CorrelationData(ctx context.Context, wf string) (*RawCorrelation, error) {
	if err := s.begin(ctx, "agent_workflow_id", wf); err != nil {
		return nil, err
	}
	fs, ss, err := s.findingsAndRuntime(ctx, wf)
	if err != nil {
		return nil, err
	}
	tools, err := s.toolCounts(ctx, wf)
	if err != nil {
		return nil, err
	}
	out := &RawCorrelation{AgentWorkflowID: wf, StaticFindings: []StaticFinding{}, DynamicToolsUsed: []string{},
		DynamicToolCallCounts: map[string]int64{}, DynamicSessionsCount: len(ss)}
	for _, f := range fs {
		if f.SourceType == "STATIC" && f.Status == "OPEN" {
			out.StaticFindings = append(out.StaticFindings, StaticFinding{f.FindingID, f.Title, f.Severity, f.Status, f.FilePath, f.Description})
		}
	}
	for _, t := range tools {
		out.DynamicToolsUsed = append(out.DynamicToolsUsed, t.Name)
		out.DynamicToolCallCounts[t.Name] = t.Count
	}
	out.StaticFindingsCount = len(out.StaticFindings)
	out.HasStaticData, out.HasDynamicData = len(out.StaticFindings) > 0, len(ss) > 0
	switch {
	case out.HasStaticData && out.HasDynamicData:
		out.Message = "Compare each static finding with the tools used at runtime, then call update_finding_correlation."
	case out.HasStaticData:
		out.Message = "No runtime data yet. " + s.setupHint(wf)
	case out.HasDynamicData:
		out.Message = "No open static findings: run a static analysis first."
	default:
		out.Message = "No data for workflow " + wf + " yet."
	}
	return out, nil
}

// WorkflowSummary is one row of the workflows home.
type WorkflowSummary struct {
	ID                *string  `json:"id"` // null: agents called without a workflow route
	Name              string   `json:"name"`
	AgentCount        int64    `json:"agent_count"`
	SessionCount      int64    `json:"session_count"`
	ErrorCount        int64    `json:"error_count"`
	Agents            []string `json:"agents"`
	OpenFindings      int      `json:"open_findings"`
	GateState         string   `json:"gate_state"` // BLOCKED, OPEN
	BlockingCount     int      `json:"blocking_count"`
	HasStaticAnalysis bool     `json:"has_static_analysis"`
	LastSeen          *string  `json:"last_seen"`
	LastSeenRelative  *string  `json:"last_seen_relative"`
}

// WorkflowList is GET /api/agent-workflows.
type WorkflowList struct {
	AgentWorkflows []*WorkflowSummary `json:"agent_workflows"`
}

// maxListedAgents bounds the agent ids listed per workflow.
const maxListedAgents = 50

// Workflows lists every workflow seen in traffic or analyses, sorted by
// id, then "Unassigned" (traffic without a workflow route) when there is
// any.
func (s *Service) Workflows(ctx context.Context) (*WorkflowList, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, "workflows",
		"SELECT wf, uniqExact(agent_id), uniqExact(session_id), countIf(name = "+lit(sink.LLMCallError)+"), max(ts_us),\n"+
			"  arrayStringConcat(arrayMap(x -> hex(x), arraySlice(groupUniqArray(agent_id), 1, "+strconv.Itoa(maxListedAgents)+")), ',')\n"+
			"FROM (SELECT name, agent_id, session_id, ts_us, "+WorkflowExpr+" AS wf FROM "+sink.EventsSource(s.o)+
			" PREWHERE name IN "+WorkflowEvents+")\nGROUP BY wf")
	if err != nil {
		return nil, err
	}
	byID := map[string]*WorkflowSummary{}
	var unassigned *WorkflowSummary
	for _, r := range rows.Data {
		d := reader{r: r}
		wf := d.str()
		w := &WorkflowSummary{Name: wf, AgentCount: d.i64(), SessionCount: d.i64(), ErrorCount: d.i64(), GateState: "OPEN"}
		last := d.i64()
		w.LastSeen = isoUS(last)
		if last > 0 {
			w.LastSeenRelative = ptr(Relative(time.UnixMicro(last), s.opts.Now()))
		}
		w.Agents = hexList(d.str())
		if wf == "" {
			w.Name = "Unassigned"
			unassigned = w
			continue
		}
		w.ID = ptr(wf)
		byID[wf] = w
	}
	sessions, err := s.sessions(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, a := range sessions { // newest first: the latest name wins
		w := byID[a.AgentWorkflowID]
		if w == nil {
			w = &WorkflowSummary{ID: ptr(a.AgentWorkflowID), Name: a.AgentWorkflowID, Agents: []string{}, GateState: "OPEN"}
			byID[a.AgentWorkflowID] = w
		}
		if a.SessionType == "STATIC" {
			w.HasStaticAnalysis = true
		}
		if a.AgentWorkflowName != nil && w.Name == a.AgentWorkflowID {
			w.Name = *a.AgentWorkflowName
		}
	}
	if err := s.countOpen(ctx, byID); err != nil {
		return nil, err
	}
	out := &WorkflowList{AgentWorkflows: make([]*WorkflowSummary, 0, len(byID)+1)}
	for _, w := range byID {
		out.AgentWorkflows = append(out.AgentWorkflows, w)
	}
	sort.Slice(out.AgentWorkflows, func(i, j int) bool { return *out.AgentWorkflows[i].ID < *out.AgentWorkflows[j].ID })
	if unassigned != nil {
		out.AgentWorkflows = append(out.AgentWorkflows, unassigned)
	}
	return out, nil
}

// countOpen fills open findings and the gate of each workflow (the rule
// of readiness).
func (s *Service) countOpen(ctx context.Context, byID map[string]*WorkflowSummary) error {
	rrows, err := s.query(ctx, "recommendations", "SELECT recommendation_id, workflow_id, severity, status FROM "+s.o.Table(RecsTable)+" FINAL")
	if err != nil {
		return err
	}
	block := func(w *WorkflowSummary) {
		w.BlockingCount++
		w.GateState = "BLOCKED"
	}
	recIDs := make(map[string]bool, len(rrows.Data))
	for _, r := range rrows.Data {
		d := reader{r: r}
		recIDs[d.str()] = true
		w := byID[d.str()]
		rec := &Recommendation{Severity: d.str(), Status: d.str()}
		if w != nil && rec.blocking() {
			block(w)
		}
	}
	frows, err := s.query(ctx, "open findings", "SELECT agent_workflow_id, status, severity, recommendation_id FROM "+s.o.Table(FindingsTable)+" FINAL")
	if err != nil {
		return err
	}
	for _, r := range frows.Data {
		d := reader{r: r}
		w := byID[d.str()]
		f := &Finding{Status: d.str(), Severity: d.str(), RecommendationID: opt(d.str())}
		if w == nil || f.Status != "OPEN" {
			continue
		}
		w.OpenFindings++
		if f.blockingUntracked(recIDs) {
			block(w)
		}
	}
	return nil
}

// hexList decodes "hex,hex,…" (how string arrays travel: chDB's text form
// of arrays loses escapes), sorted.
func hexList(s string) []string {
	out := []string{}
	if s == "" {
		return out
	}
	for _, h := range strings.Split(s, ",") {
		if b, err := hex.DecodeString(h); err == nil {
			out = append(out, string(b))
		}
	}
	sort.Strings(out)
	return out
}

// ToolNames lists the tool names a request declares: OpenAI's
// {"type":"function","function":{"name":…}}, Responses' and Anthropic's
// {"name":…}. None is an empty list, never nil (JSON []).
func ToolNames(raw string) []string {
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

// sortedKeys lists m's keys in order, empty but not nil when m is empty.
func sortedKeys[V any](m map[string]V) []string {
	out := slices.AppendSeq(make([]string, 0, len(m)), maps.Keys(m))
	slices.Sort(out)
	return out
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
