package workflow

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/cylestio/perimeter/detect/behavior"
)

// AgentRun is one agent's part of a dynamic analysis: the runtime
// sessions it covered and the results of the checks over them (the
// caller evaluates them with detect/behavior).
type AgentRun struct {
	AgentID    string
	SessionIDs []string
	Checks     []behavior.Check
}

// DynamicResult is trigger_dynamic_analysis's answer.
type DynamicResult struct {
	Status             string `json:"status"` // completed, no_new_sessions, already_running
	Message            string `json:"message"`
	AnalysisSessionID  string `json:"analysis_session_id,omitempty"`
	SessionsAnalyzed   int    `json:"sessions_analyzed"`
	AgentsAnalyzed     int    `json:"agents_analyzed"`
	FindingsCreated    int    `json:"findings_created"`
	IssuesAutoResolved int    `json:"issues_auto_resolved"`
	IssuesSuperseded   int    `json:"issues_superseded"`
}

// owasp2025 maps the dynamic checks' OWASP ids (the 2023 list the
// original used) to the 2025 list this package files everything under.
var owasp2025 = map[string]string{"Supply Chain Vulnerabilities": "LLM03", "Sensitive Information Disclosure": "LLM02", "Excessive Agency": "LLM06"}

// RecordDynamicAnalysis stores a dynamic analysis of a workflow as a
// DYNAMIC analysis session ("dynamic_{wf}_{YYYYmmdd_HHMMSS}"): every
// check (id "{analysis}_{agent}_{check}", so two agents never collide),
// a finding (FND-DYN-…) and a recommendation (REC-DYN-…) for each
// critical or warning check (CRITICAL and MEDIUM), and the sessions as
// analysed. The analysed agents' earlier PENDING or FIXING dynamic
// recommendations are SUPERSEDED when their check still fails and
// RESOLVED when it passes now. An empty run answers no_new_sessions.
func (s *Service) RecordDynamicAnalysis(ctx context.Context, wf string, runs []AgentRun) (*DynamicResult, error) {
	if err := s.begin(ctx, "workflow_id", wf); err != nil {
		return nil, err
	}
	n := 0
	for _, r := range runs {
		n += len(r.SessionIDs)
	}
	if n == 0 {
		return &DynamicResult{Status: "no_new_sessions", Message: "All sessions have already been analyzed. Run more test sessions first."}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	id := "dynamic_" + wf + "_" + now.UTC().Format("20060102_150405")
	if _, err := s.session(ctx, id); err == nil {
		id += "_" + randomHex(2)
	} else if !IsNotFound(err) {
		return nil, err
	}
	a := &AnalysisSession{SessionID: id, AgentWorkflowID: wf, AgentWorkflowName: &wf, SessionType: "DYNAMIC", Status: "IN_PROGRESS", createdUS: now.UnixMicro()}
	a.CreatedAt = isoUS(a.createdUS)
	if err := s.insert(ctx, sessionsT, "analysis session "+id, a.row()); err != nil {
		return nil, err
	}
	out := &DynamicResult{Status: "completed", AnalysisSessionID: id}

	failing := map[string]bool{} // agent|check
	analysed := map[string]bool{}
	for _, r := range runs {
		analysed[r.AgentID] = true
		for _, c := range r.Checks {
			if c.Status == "critical" || c.Status == "warning" {
				failing[r.AgentID+"|"+c.CheckID] = true
			}
		}
	}
	if err := s.retireDynamic(ctx, wf, id, analysed, failing, out); err != nil {
		return nil, err
	}

	risk := 0
	for _, r := range runs {
		if len(r.SessionIDs) == 0 {
			continue
		}
		checks := make([][]any, 0, len(r.Checks))
		for _, c := range r.Checks {
			checks = append(checks, s.checkRow(wf, id, r.AgentID, c))
		}
		// One insert for the agent's checks, not one part per check.
		if err := s.insert(ctx, checksT, "security checks of agent "+r.AgentID, checks...); err != nil {
			return nil, err
		}
		for _, c := range r.Checks {
			if c.Status != "critical" && c.Status != "warning" {
				continue
			}
			f, err := s.dynamicFinding(ctx, wf, id, r.AgentID, c)
			if err != nil {
				return nil, err
			}
			out.FindingsCreated++
			risk += riskWeight(f.Severity)
		}
		rows := make([][]any, 0, len(r.SessionIDs))
		for _, sid := range r.SessionIDs {
			rows = append(rows, []any{sid, r.AgentID, wf, id, now.UnixMicro()})
		}
		for i := 0; i < len(rows); i += 200 {
			if err := s.insert(ctx, analyzedT, "analysed sessions of agent "+r.AgentID, rows[i:min(i+200, len(rows))]...); err != nil {
				return nil, err
			}
		}
		out.AgentsAnalyzed++
		out.SessionsAnalyzed += len(r.SessionIDs)
	}
	a.Status, a.completedUS, a.FindingsCount = "COMPLETED", s.nowUS(), int64(out.FindingsCreated)
	a.CompletedAt = isoUS(a.completedUS)
	risk = min(risk, 100)
	a.RiskScore = &risk
	sa := int64(out.SessionsAnalyzed)
	a.SessionsAnalyzed = &sa
	if err := s.insert(ctx, sessionsT, "analysis session "+id, a.row()); err != nil {
		return nil, err
	}
	out.Message = "Analysis completed for " + strconv.Itoa(out.AgentsAnalyzed) + " agent(s)"
	return out, nil
}

// retireDynamic closes the analysed agents' open dynamic
// recommendations: SUPERSEDED when their check fails again (a new one is
// created), RESOLVED when it passes now.
func (s *Service) retireDynamic(ctx context.Context, wf, id string, analysed, failing map[string]bool, out *DynamicResult) error {
	recs, err := s.recs(ctx, wf)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.SourceType != "DYNAMIC" || (r.Status != "PENDING" && r.Status != "FIXING") {
			continue
		}
		agent := strings.TrimPrefix(deref(r.FilePath), "runtime:")
		if !analysed[agent] {
			continue
		}
		f, err := s.finding(ctx, r.SourceFindingID)
		if err != nil && !IsNotFound(err) {
			return err
		}
		status, method, note := "RESOLVED", "AUTO_RESOLVED", "Auto-resolved: not detected in analysis "+id
		if f != nil && failing[agent+"|"+deref(f.CheckID)] {
			status, method, note = "SUPERSEDED", "SUPERSEDED", "Superseded by new analysis "+id
			out.IssuesSuperseded++
		} else {
			out.IssuesAutoResolved++
		}
		if f != nil {
			if err := s.moveFinding(ctx, f, status, "", method, "system", note); err != nil {
				return err
			}
		}
		old := r.Status
		r.Status, r.FixMethod, r.FixNotes, r.fixedUS = status, &method, &note, s.nowUS()
		if err := s.saveRec(ctx, r, old, method, "system", note, nil); err != nil {
			return err
		}
	}
	return nil
}

// checkRow is a check's stored row; its id carries the agent, so two
// agents of one analysis never collide.
func (s *Service) checkRow(wf, analysis, agent string, c behavior.Check) []any {
	ev, _ := json.Marshal(c.Evidence)
	sc := &SecurityCheck{CheckID: analysis + "_" + agent + "_" + c.CheckID, AgentID: agent, AgentWorkflowID: &wf, AnalysisSessionID: analysis,
		CategoryID: c.Category, CheckType: c.CheckID, Status: c.Status, Title: c.Name, Description: opt(c.Description), Value: opt(c.Value),
		Evidence: ev, Recommendations: nonNil(c.Recommendations), createdUS: s.nowUS()}
	return sc.row()
}

func (s *Service) dynamicFinding(ctx context.Context, wf, analysis, agent string, c behavior.Check) (*Finding, error) {
	now := s.nowUS()
	sev := "MEDIUM"
	if c.Status == "critical" {
		sev = "CRITICAL"
	}
	owasp := []string{}
	if c.OWASPLLM != "" {
		id := c.OWASPLLM
		if x, ok := owasp2025[c.OWASPLLMName]; ok {
			id = x
		}
		owasp = append(owasp, id)
	}
	ev, _ := json.Marshal(map[string]any{"check_id": c.CheckID, "value": c.Value, "evidence": c.Evidence, "recommendations": c.Recommendations})
	var cvss *float64
	if c.CVSSScore > 0 {
		cvss = &c.CVSSScore
	}
	recID := "REC-DYN-" + strings.ToUpper(randomHex(4))
	f := &Finding{FindingID: "FND-DYN-" + strings.ToUpper(randomHex(4)), SessionID: analysis, AgentWorkflowID: wf, SourceType: "DYNAMIC",
		Category: opt(c.Category), CheckID: opt(c.CheckID), FilePath: "runtime:" + agent, FindingType: c.CheckID, Severity: sev,
		CVSSScore: cvss, Title: c.Name, Description: opt(c.Description), Evidence: ev, OWASPMapping: owasp, CWE: opt(c.CWE),
		SOC2Controls: nonNil(c.SOC2Controls), RecommendationID: &recID, Status: "OPEN", CorrelationEvidence: json.RawMessage("null"),
		createdUS: now, updatedUS: now}
	f.CreatedAt, f.UpdatedAt = isoUS(now), isoUS(now)
	r := recFor(f, recID, FindingParams{FixHints: strings.Join(c.Recommendations, "\n"), CodeSnippet: c.Value,
		Impact: "Detected in runtime analysis: " + c.Value, FixComplexity: "MEDIUM"})
	if err := s.insert(ctx, findingsT, "finding "+f.FindingID, f.row()); err != nil {
		return nil, err
	}
	if err := s.saveRec(ctx, r, "", "CREATED", "system", "", map[string]string{"finding_id": f.FindingID, "analysis_session_id": analysis}); err != nil {
		return nil, err
	}
	return f, nil
}

// AgentDynamicStatus is one agent of DynamicStatus.
type AgentDynamicStatus struct {
	AgentID         string  `json:"agent_id"`
	DisplayName     *string `json:"display_name"`
	TotalSessions   int     `json:"total_sessions"`
	UnanalyzedCount int     `json:"unanalyzed_count"`
}

// DynamicStatus is GET /api/workflow/{wf}/dynamic-analysis-status.
type DynamicStatus struct {
	WorkflowID              string               `json:"workflow_id"`
	CanTrigger              bool                 `json:"can_trigger"`
	IsRunning               bool                 `json:"is_running"`
	TotalUnanalyzedSessions int                  `json:"total_unanalyzed_sessions"`
	AgentsWithNewSessions   int                  `json:"agents_with_new_sessions"`
	AgentsStatus            []AgentDynamicStatus `json:"agents_status"`
	LastAnalysis            *AnalysisSession     `json:"last_analysis"`
	Message                 string               `json:"message"`

	unanalyzed map[string][]string
}

// DynamicAnalysisStatus counts the workflow's completed runtime sessions
// no dynamic analysis has covered yet, per agent.
func (s *Service) DynamicAnalysisStatus(ctx context.Context, wf string) (*DynamicStatus, error) {
	return s.dynamicStatus(ctx, wf, false)
}

// UnanalyzedSessions lists, per agent, the completed runtime sessions a
// dynamic analysis should cover: those not yet analysed, or all of them
// with force.
func (s *Service) UnanalyzedSessions(ctx context.Context, wf string, force bool) (map[string][]string, error) {
	st, err := s.dynamicStatus(ctx, wf, force)
	if err != nil {
		return nil, err
	}
	return st.unanalyzed, nil
}

func (s *Service) dynamicStatus(ctx context.Context, wf string, force bool) (*DynamicStatus, error) {
	ss, err := lookup(ctx, s, "workflow_id", wf, s.runtimeSessions)
	if err != nil {
		return nil, err
	}
	rows, err := s.selectRows(ctx, analyzedT, "analysed sessions", "agent_workflow_id = ?", wf)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, r := range rows {
		d := reader{r: r}
		sid := d.str()
		d.str()
		d.str()
		if d.str() != "" {
			done[sid] = true
		}
	}
	out := &DynamicStatus{WorkflowID: wf, AgentsStatus: []AgentDynamicStatus{}, unanalyzed: map[string][]string{}}
	cut := s.opts.Now().Add(-s.opts.SessionTimeout).UnixMicro()
	byAgent := map[string]*AgentDynamicStatus{}
	sort.Slice(ss, func(i, j int) bool { return ss[i].lastUS < ss[j].lastUS })
	for _, x := range ss {
		a := byAgent[x.agent]
		if a == nil {
			a = &AgentDynamicStatus{AgentID: x.agent}
			byAgent[x.agent] = a
		}
		a.TotalSessions++
		if x.lastUS < cut && (force || !done[x.id]) {
			a.UnanalyzedCount++
			out.unanalyzed[x.agent] = append(out.unanalyzed[x.agent], x.id)
		}
	}
	infos, err := s.agentInfos(ctx, sortedKeys(byAgent))
	if err != nil {
		return nil, err
	}
	for _, id := range sortedKeys(byAgent) {
		a := byAgent[id]
		if info := infos[id]; info != nil {
			a.DisplayName = info.DisplayName
		}
		out.AgentsStatus = append(out.AgentsStatus, *a)
		out.TotalUnanalyzedSessions += a.UnanalyzedCount
		if a.UnanalyzedCount > 0 {
			out.AgentsWithNewSessions++
		}
	}
	sessions, err := s.sessions(ctx, wf)
	if err != nil {
		return nil, err
	}
	for _, a := range sessions {
		if a.SessionType == "DYNAMIC" {
			out.LastAnalysis = a
			out.IsRunning = a.Status == "IN_PROGRESS"
			break
		}
	}
	out.CanTrigger = out.TotalUnanalyzedSessions > 0 && !out.IsRunning
	switch {
	case out.IsRunning:
		out.Message = "🔵 A dynamic analysis is running."
	case out.TotalUnanalyzedSessions > 0:
		out.Message = "🟡 " + strconv.Itoa(out.TotalUnanalyzedSessions) + " new session(s) to analyse from " + strconv.Itoa(out.AgentsWithNewSessions) + " agent(s)."
	case len(ss) > 0:
		out.Message = "✅ Dynamic analysis is up to date."
	default:
		out.Message = "⚪ No runtime sessions yet. " + s.setupHint(wf)
	}
	return out, nil
}

// AnalysisHistory is GET /api/workflow/{wf}/analysis-history.
type AnalysisHistory struct {
	WorkflowID  string             `json:"workflow_id"`
	SessionType string             `json:"session_type"`
	Analyses    []*AnalysisSession `json:"analyses"`
	LatestID    *string            `json:"latest_id"` // most recent COMPLETED
	TotalCount  int                `json:"total_count"`
	Message     string             `json:"message"`
}

// AnalysisHistoryOf lists a workflow's analyses of a type (default
// DYNAMIC), newest first.
func (s *Service) AnalysisHistoryOf(ctx context.Context, wf, sessionType string, limit int) (*AnalysisHistory, error) {
	if err := required("workflow_id", wf); err != nil {
		return nil, err
	}
	typ, err := enum("session_type", sessionType, "DYNAMIC", SessionTypes)
	if err != nil {
		return nil, err
	}
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	all, err := s.sessions(ctx, wf)
	if err != nil {
		return nil, err
	}
	out := &AnalysisHistory{WorkflowID: wf, SessionType: typ, Analyses: []*AnalysisSession{}}
	for _, a := range all {
		if a.SessionType != typ {
			continue
		}
		out.Analyses = append(out.Analyses, a)
		if out.LatestID == nil && a.Status == "COMPLETED" {
			out.LatestID = &a.SessionID
		}
	}
	out.TotalCount = len(out.Analyses)
	out.Analyses = head(out.Analyses, limit, 20)
	out.Message = strconv.Itoa(out.TotalCount) + " " + strings.ToLower(typ) + " analysis session(s)"
	return out, nil
}

// CheckFilter narrows SecurityChecks. Empty fields match all.
type CheckFilter struct {
	AgentID           string
	AnalysisSessionID string
	CategoryID        string
	Status            string
	Limit             int // default 100
}

// CheckList is GET /api/security-checks.
type CheckList struct {
	Checks     []*SecurityCheck `json:"checks"`
	TotalCount int              `json:"total_count"`
}

// SecurityChecks lists stored check results, newest first.
func (s *Service) SecurityChecks(ctx context.Context, f CheckFilter) (*CheckList, error) {
	status, err := optLower("status", f.Status, CheckStatuses)
	if err != nil {
		return nil, err
	}
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	var conds []string
	var args []any
	for _, c := range [][2]string{{"agent_id", f.AgentID}, {"analysis_session_id", f.AnalysisSessionID}, {"category_id", f.CategoryID}, {"status", status}} {
		if c[1] != "" {
			conds = append(conds, c[0]+" = ?")
			args = append(args, c[1])
		}
	}
	rows, err := s.selectRows(ctx, checksT, "security checks", strings.Join(conds, " AND "), args...)
	if err != nil {
		return nil, err
	}
	out := &CheckList{Checks: make([]*SecurityCheck, 0, len(rows))}
	for _, r := range rows {
		out.Checks = append(out.Checks, scanCheck(r))
	}
	sort.Slice(out.Checks, func(i, j int) bool {
		if out.Checks[i].createdUS != out.Checks[j].createdUS {
			return out.Checks[i].createdUS > out.Checks[j].createdUS
		}
		return out.Checks[i].CheckID < out.Checks[j].CheckID
	})
	out.TotalCount = len(out.Checks)
	out.Checks = head(out.Checks, f.Limit, 100)
	return out, nil
}

// optLower validates a lower-case enum (the checks' statuses).
func optLower(param, v string, valid []string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return "", nil
	}
	for _, x := range valid {
		if v == x {
			return v, nil
		}
	}
	return "", &BadParamError{Param: param, Value: v, Valid: valid}
}

// CheckCounts count check results by status.
type CheckCounts struct {
	Total    int `json:"total"`
	Passed   int `json:"passed"`
	Warnings int `json:"warnings"`
	Critical int `json:"critical"`
}

func (c *CheckCounts) add(status string) {
	c.Total++
	switch status {
	case "passed":
		c.Passed++
	case "warning":
		c.Warnings++
	case "critical":
		c.Critical++
	}
}

// AgentChecks is one agent's latest dynamic analysis.
type AgentChecks struct {
	AgentID       string           `json:"agent_id"`
	AgentName     string           `json:"agent_name"`
	Checks        []*SecurityCheck `json:"checks"`
	LatestCheckAt *string          `json:"latest_check_at"`
	Summary       CheckCounts      `json:"summary"`
}

// WorkflowChecks is GET /api/agent-workflow/{wf}/security-checks.
type WorkflowChecks struct {
	AgentWorkflowID string        `json:"agent_workflow_id"`
	Agents          []AgentChecks `json:"agents"`
	TotalSummary    struct {
		TotalChecks    int `json:"total_checks"`
		Passed         int `json:"passed"`
		Warnings       int `json:"warnings"`
		Critical       int `json:"critical"`
		AgentsAnalyzed int `json:"agents_analyzed"`
	} `json:"total_summary"`
}

// WorkflowSecurityChecks returns each agent's checks from its latest
// dynamic analysis (the analysis of its most recent check), filtered by
// category and status; the summaries count the unfiltered latest checks.
func (s *Service) WorkflowSecurityChecks(ctx context.Context, wf, category, status string, limit int) (*WorkflowChecks, error) {
	if err := required("agent_workflow_id", wf); err != nil {
		return nil, err
	}
	st, err := optLower("status", status, CheckStatuses)
	if err != nil {
		return nil, err
	}
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	rows, err := s.selectRows(ctx, checksT, "security checks", "agent_workflow_id = ?", wf)
	if err != nil {
		return nil, err
	}
	latest := map[string]*SecurityCheck{} // agent → its newest check
	var all []*SecurityCheck
	for _, r := range rows {
		c := scanCheck(r)
		all = append(all, c)
		if l := latest[c.AgentID]; l == nil || c.createdUS > l.createdUS {
			latest[c.AgentID] = c
		}
	}
	out := &WorkflowChecks{AgentWorkflowID: wf, Agents: []AgentChecks{}}
	for _, agent := range sortedKeys(latest) {
		ac := AgentChecks{AgentID: agent, AgentName: agent, Checks: []*SecurityCheck{}, LatestCheckAt: latest[agent].CreatedAt}
		if len(ac.AgentName) > 12 {
			ac.AgentName = ac.AgentName[:12]
		}
		for _, c := range all {
			if c.AgentID != agent || c.AnalysisSessionID != latest[agent].AnalysisSessionID {
				continue
			}
			ac.Summary.add(c.Status)
			if (category == "" || c.CategoryID == category) && (st == "" || c.Status == st) {
				ac.Checks = append(ac.Checks, c)
			}
		}
		sort.Slice(ac.Checks, func(i, j int) bool { return ac.Checks[i].CheckID < ac.Checks[j].CheckID })
		ac.Checks = head(ac.Checks, limit, 100)
		ts := &out.TotalSummary
		ts.TotalChecks += ac.Summary.Total
		ts.Passed += ac.Summary.Passed
		ts.Warnings += ac.Summary.Warnings
		ts.Critical += ac.Summary.Critical
		ts.AgentsAnalyzed++
		out.Agents = append(out.Agents, ac)
	}
	return out, nil
}
