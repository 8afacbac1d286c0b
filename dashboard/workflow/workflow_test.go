package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// runtimeEvents is a workflow's traffic as the edge records it: calls
// through /agent-workflow/wf-shop/ carry agent_workflow.id as the last
// attribute; one session offers two tools and calls one; detection saw a
// jailbreak. A model answer that plants the key earlier in the text must
// not move a session to another workflow.
func runtimeEvents(now time.Time) []*sink.Event {
	at := now.Add(-time.Minute)
	ev := func(name, session, attrs string) *sink.Event {
		at = at.Add(time.Millisecond)
		return &sink.Event{ID: sink.NewID(), Time: at, Name: name, Level: sink.LevelInfo, SessionID: session,
			AgentID: "agent-shop", Attributes: json.RawMessage(attrs)}
	}
	tool := ev(sink.ToolExecution, "s1", `{"tool.name":"search_orders","tool.params":{"agent_workflow.id":"evil"},"agent_workflow.id":"wf-shop"}`)
	tool.ToolName = "search_orders"
	finding := ev(sink.SecurityFinding, "s1", `{"finding.rule":"llm01.jailbreak"}`)
	finding.Category, finding.Rule, finding.Severity = "prompt_injection", "llm01.jailbreak", "high"
	other := ev(sink.LLMCallFinish, "s3", `{"llm.response.content":[{"type":"tool_use","input":{"agent_workflow.id":"evil"}}]}`)
	other.AgentID = "agent-other"
	return []*sink.Event{
		ev(sink.SessionStart, "s1", `{"tools":[{"type":"function","function":{"name":"search_orders"}},{"name":"delete_account"}],"prompt":"You sell shoes"}`),
		ev(sink.LLMCallStart, "s1", `{"llm.model":"gpt-4o"}`),
		ev(sink.LLMCallFinish, "s1", `{"llm.response.content":[{"type":"tool_use","input":{"agent_workflow.id":"evil"}}],"agent_workflow.id":"wf-shop"}`),
		tool, finding,
		ev(sink.SessionStart, "s2", `{"tools":[],"prompt":"You sell shoes"}`),
		ev(sink.LLMCallError, "s2", `{"error.type":"rate_limit","agent_workflow.id":"wf-shop"}`),
		other,
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// eachEngine runs test as a subtest on every engine.
func eachEngine(t *testing.T, test func(t *testing.T, engine string)) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { test(t, engine) })
	}
}

// runtimeService is a Service, whose sessions complete after a second
// without events, over a fresh store of the engine holding runtimeEvents.
func runtimeService(t *testing.T, ctx context.Context, engine string) *Service {
	st := openStore(t, engine)
	if err := st.WriteBatch(ctx, runtimeEvents(time.Now())); err != nil {
		t.Fatal(err)
	}
	return New(st, Options{SessionTimeout: time.Second})
}

// TestWorkflowLoop drives the whole security workflow on each engine:
// analysis → findings → recommendations → gate → fixes → gate → report →
// audit, with correlation against runtime events on the way.
func TestWorkflowLoop(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := ctxT(t)
		svc := runtimeService(t, ctx, engine)
		testLoop(t, ctx, svc)
	})
}

func testLoop(t *testing.T, ctx context.Context, svc *Service) {
	a, err := svc.CreateAnalysisSession(ctx, CreateSessionParams{WorkflowID: "wf-shop", WorkflowName: "Shop assistant"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.SessionID, "sess_") || len(a.SessionID) != 17 || a.SessionType != "STATIC" || a.Status != "IN_PROGRESS" {
		t.Fatalf("created %+v", a)
	}
	line := func(n int64) *int64 { return &n }
	cvss := 9.1
	snippet := "prompt = f\"{user}\" \\ 'quoted'\n\ttab ünïcødé"
	inputs := []FindingParams{
		{SessionID: a.SessionID, FilePath: "agent/prompt.py", FindingType: "PROMPT_INJECTION", Severity: "critical",
			Title: "User input in system prompt", Description: "search_orders results are concatenated", LineStart: line(10), LineEnd: line(12),
			CodeSnippet: snippet, OWASPMapping: []string{"LLM01:2025"}, CVSSScore: &cvss, CWE: "CWE-77", SOC2Controls: []string{"CC6.1"}},
		{SessionID: a.SessionID, FilePath: "agent/config.py", FindingType: "HARDCODED_SECRET", Severity: "HIGH",
			Title: "API key in source", OWASPMapping: []string{"LLM02"}},
		{SessionID: a.SessionID, FilePath: "agent/tools.py", FindingType: "EXCESSIVE_AGENCY", Severity: "MEDIUM",
			Title: "delete_account runs without confirmation", OWASPMapping: []string{"LLM06"}},
	}
	var findings []*Finding
	var recIDs []string
	for _, p := range inputs {
		out, err := svc.StoreFinding(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if out.RecommendationID == nil || !strings.Contains(out.Message, *out.RecommendationID) {
			t.Fatalf("no recommendation for %s: %+v", p.Title, out)
		}
		findings = append(findings, out.Finding)
		recIDs = append(recIDs, *out.RecommendationID)
	}
	if !reflect.DeepEqual(recIDs, []string{"REC-001", "REC-002", "REC-003"}) {
		t.Fatalf("recommendation ids %v", recIDs)
	}
	f0, err := svc.Finding(ctx, findings[0].FindingID)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]string
	if err := json.Unmarshal(f0.Evidence, &ev); err != nil || ev["code_snippet"] != snippet {
		t.Fatalf("snippet did not survive the store: %q (%v)", ev["code_snippet"], err)
	}
	if f0.Severity != "CRITICAL" || *f0.LineStart != 10 || *f0.CVSSScore != 9.1 || deref(f0.Category) != "PROMPT" ||
		!reflect.DeepEqual(f0.OWASPMapping, []string{"LLM01"}) || deref(f0.RecommendationID) != "REC-001" {
		t.Fatalf("finding read back as %+v", f0)
	}

	done, err := svc.CompleteAnalysisSession(ctx, a.SessionID, true)
	if err != nil {
		t.Fatal(err)
	}
	if done.RiskScore == nil || *done.RiskScore != 25+15+5 || done.Session.FindingsCount != 3 || done.Session.Status != "COMPLETED" {
		t.Fatalf("completed %+v risk %v", done.Session, done.RiskScore)
	}

	sum, err := svc.StaticSummaryOf(ctx, "wf-shop")
	if err != nil || len(sum.Checks) != 7 || sum.Summary.Failed != 2 || sum.Summary.Info != 1 || sum.Summary.Passed != 4 ||
		sum.Summary.GateStatus != "BLOCKED" || sum.LastScan == nil || sum.LastScan.SessionID != a.SessionID || len(sum.ScanHistory) != 1 {
		t.Fatalf("static summary %+v %v", sum, err)
	}
	if c := sum.Checks[6]; c.CategoryID != "BEHAVIOR" || c.Status != "INFO" || deref(c.MaxSeverity) != "MEDIUM" {
		t.Fatalf("BEHAVIOR card %+v", c)
	}

	recs, err := svc.ListRecommendations(ctx, "wf-shop", RecFilter{})
	if err != nil || recs.TotalCount != 3 || recs.Recommendations[0].Severity != "CRITICAL" || recs.Recommendations[0].Title != "Fix: User input in system prompt" {
		t.Fatalf("recommendations %+v %v", recs, err)
	}
	blocking, _ := svc.ListRecommendations(ctx, "wf-shop", RecFilter{BlockingOnly: true})
	if blocking.TotalCount != 2 {
		t.Fatalf("blocking %d, want 2", blocking.TotalCount)
	}
	gate, err := svc.GateStatus(ctx, "wf-shop")
	if err != nil || gate.GateState != "BLOCKED" || gate.BlockingCritical != 1 || gate.BlockingHigh != 1 || gate.StaticAnalysis.Status != "completed" {
		t.Fatalf("gate %+v %v", gate, err)
	}

	// Correlation with runtime: LLM01 was seen at runtime, the secret was
	// not, delete_account is offered but never called.
	corr, err := svc.Correlate(ctx, "wf-shop")
	if err != nil {
		t.Fatal(err)
	}
	want := CorrelationSummary{AgentWorkflowID: "wf-shop", Validated: 1, Unexercised: 1, Theoretical: 1, SessionsCount: 2, IsCorrelated: true}
	got := *corr.Summary
	got.Message = ""
	if corr.Updated != 3 || got != want {
		t.Fatalf("correlation %+v (updated %d), want %+v", got, corr.Updated, want)
	}
	if _, err := svc.UpdateFindingCorrelation(ctx, findings[1].FindingID, "runtime_only", json.RawMessage(`{"note":"seen in logs"}`), "ide"); err != nil {
		t.Fatal(err)
	}
	corr, err = svc.Correlate(ctx, "wf-shop")
	if err != nil || corr.Updated != 0 || corr.Summary.RuntimeOnly != 1 || corr.Summary.Theoretical != 0 {
		t.Fatalf("a manual correlation was overwritten: %+v %v", corr, err)
	}
	usage, err := svc.ToolUsageSummary(ctx, "wf-shop")
	if err != nil || usage.TotalSessions != 2 || !reflect.DeepEqual(usage.ToolsDefined, []string{"delete_account", "search_orders"}) ||
		!reflect.DeepEqual(usage.ToolsUnused, []string{"delete_account"}) || usage.CoveragePercent != 50 {
		t.Fatalf("tool usage %+v %v", usage, err)
	}
	if b, _ := json.Marshal(usage.ToolUsage); string(b) != `{"search_orders":{"count":1}}` {
		t.Fatalf("tool_usage %s", b)
	}

	// Work the recommendations: fix and verify the critical one, ignore
	// the high one; the medium one fails verification.
	step := func(tr *Transition, err error) *Recommendation {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tr.Recommendation
	}
	if r := step(svc.StartFix(ctx, "REC-001", "ide")); r.Status != "FIXING" {
		t.Fatalf("start-fix: %s", r.Status)
	}
	r := step(svc.CompleteFix(ctx, "REC-001", FixParams{Notes: "moved input to a user message", FilesModified: []string{"agent/prompt.py"}, Commit: "abc123", By: "ide"}))
	if r.Status != "FIXED" || deref(r.FixCommit) != "abc123" || !reflect.DeepEqual(r.FilesModified, []string{"agent/prompt.py"}) || r.FixedAt == nil {
		t.Fatalf("complete-fix: %+v", r)
	}
	if f, _ := svc.Finding(ctx, findings[0].FindingID); f.Status != "FIXED" {
		t.Fatalf("finding did not follow its recommendation: %s", f.Status)
	}
	if r := step(svc.VerifyFix(ctx, "REC-001", "re-ran the injection test", true, "ci")); r.Status != "VERIFIED" {
		t.Fatalf("verify: %s", r.Status)
	}
	if r := step(svc.Dismiss(ctx, "REC-002", "test key, revoked", "ignored", "lead")); r.Status != "IGNORED" {
		t.Fatalf("dismiss: %s", r.Status)
	}
	if f, _ := svc.Finding(ctx, findings[1].FindingID); f.Status != "IGNORED" {
		t.Fatalf("finding not ignored: %s", f.Status)
	}
	step(svc.CompleteFix(ctx, "REC-003", FixParams{Notes: "added a confirmation"}))
	if r := step(svc.VerifyFix(ctx, "REC-003", "still deletes without asking", false, "ci")); r.Status != "PENDING" {
		t.Fatalf("failed verification: %s", r.Status)
	}
	if f, _ := svc.Finding(ctx, findings[2].FindingID); f.Status != "OPEN" {
		t.Fatalf("finding not reopened: %s", f.Status)
	}

	gate, err = svc.GateStatus(ctx, "wf-shop")
	if err != nil || gate.GateState != "OPEN" || gate.IsBlocked || gate.BlockingCount != 0 {
		t.Fatalf("gate after fixes %+v %v", gate, err)
	}
	ready, _ := svc.ProductionReadiness(ctx, "wf-shop")
	if ready.Gate.State != "OPEN" || ready.StaticAnalysis.SessionID == nil || *ready.StaticAnalysis.SessionID != a.SessionID {
		t.Fatalf("readiness %+v", ready)
	}

	rep, err := svc.ComplianceReport(ctx, "wf-shop", "", true, "lead")
	if err != nil {
		t.Fatal(err)
	}
	es := rep.ExecutiveSummary
	if !strings.HasPrefix(rep.ReportID, "RPT-") || len(rep.ReportID) != 12 || es.Decision != "GO" || es.RiskScore != 5 ||
		es.OpenFindings != 1 || es.FixedFindings != 1 || es.DismissedFindings != 1 {
		t.Fatalf("report %s: %+v", rep.ReportID, es)
	}
	if rep.OWASPLLMCoverage["LLM01"].Status != "PASS" || rep.OWASPLLMCoverage["LLM06"].Status != "WARNING" ||
		rep.SOC2Compliance["CC6.1"].Status != "COMPLIANT" || rep.RemediationSum.Verified != 1 || len(rep.OWASPLLMCoverage) != 10 {
		t.Fatalf("report coverage %+v soc2 %+v remediation %+v", rep.OWASPLLMCoverage, rep.SOC2Compliance, rep.RemediationSum)
	}
	if len(rep.AuditTrail) == 0 {
		t.Fatal("report without audit trail")
	}
	list, err := svc.ListReports(ctx, "wf-shop", "", 0)
	if err != nil || len(list.Reports) != 1 || list.Reports[0].ReportID != rep.ReportID || list.Reports[0].ReportData != nil ||
		list.Reports[0].GateStatus != "OPEN" || !strings.HasPrefix(list.Reports[0].ReportName, "Security Assessment - ") {
		t.Fatalf("reports %+v %v", list, err)
	}
	saved, err := svc.SavedReportByID(ctx, rep.ReportID)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(saved.ReportData, &back); err != nil || back.ExecutiveSummary.Decision != "GO" {
		t.Fatalf("saved report data: %v", err)
	}

	log, err := svc.AuditLog(ctx, AuditFilter{EntityType: "recommendation", EntityID: "REC-001"})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for i := len(log.Entries) - 1; i >= 0; i-- {
		e := log.Entries[i]
		steps = append(steps, e.Action+":"+deref(e.PreviousValue)+">"+deref(e.NewValue))
	}
	wantSteps := []string{"CREATED:>PENDING", "FIX_STARTED:PENDING>FIXING", "FIX_COMPLETED:FIXING>FIXED", "VERIFIED:FIXED>VERIFIED"}
	if !reflect.DeepEqual(steps, wantSteps) || log.TotalCount != 4 {
		t.Fatalf("audit of REC-001: %v (total %d), want %v", steps, log.TotalCount, wantSteps)
	}
	if e := log.Entries[0]; deref(e.PerformedBy) != "ci" || deref(e.Reason) != "re-ran the injection test" || e.PerformedAt == nil {
		t.Fatalf("audit entry %+v", e)
	}
	detail, err := svc.Recommendation(ctx, "REC-002")
	if err != nil || detail.Finding == nil || detail.Finding.FindingID != findings[1].FindingID || len(detail.AuditLog) != 2 {
		t.Fatalf("detail %+v %v", detail, err)
	}

	if _, err := svc.DeleteReport(ctx, rep.ReportID, "lead"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SavedReportByID(ctx, rep.ReportID); !IsNotFound(err) {
		t.Fatalf("deleted report still there: %v", err)
	}
	if list, _ := svc.ListReports(ctx, "wf-shop", "", 0); len(list.Reports) != 0 {
		t.Fatalf("deleted report still listed")
	}

	testTransitions(t, ctx, svc)
	testRuntimeViews(t, ctx, svc)
}

// testTransitions checks what the lifecycle refuses.
func testTransitions(t *testing.T, ctx context.Context, svc *Service) {
	var te *TransitionError
	if _, err := svc.VerifyFix(ctx, "REC-003", "x", true, ""); !errors.As(err, &te) || te.From != "PENDING" {
		t.Fatalf("verify before a fix: %v", err)
	}
	if _, err := svc.StartFix(ctx, "REC-001", ""); !errors.As(err, &te) || te.From != "VERIFIED" {
		t.Fatalf("start-fix of a verified recommendation: %v", err)
	}
	if _, err := svc.Dismiss(ctx, "REC-001", "why", "", ""); !IsTransition(err) {
		t.Fatalf("dismiss of a verified recommendation: %v", err)
	}
	if _, err := svc.StartFix(ctx, "REC-404", ""); !IsNotFound(err) || err.Error() != "recommendation REC-404 not found" {
		t.Fatalf("unknown id: %v", err)
	}
	var bp *BadParamError
	if _, err := svc.Dismiss(ctx, "REC-003", "why", "forgotten", ""); !errors.As(err, &bp) || !strings.Contains(err.Error(), "DISMISSED, IGNORED") {
		t.Fatalf("bad dismiss_type: %v", err)
	}
	if _, err := svc.Dismiss(ctx, "REC-003", "", "", ""); !errors.As(err, &bp) || bp.Param != "reason" {
		t.Fatalf("missing reason: %v", err)
	}
	if _, err := svc.CreateAnalysisSession(ctx, CreateSessionParams{WorkflowID: "w", SessionType: "FUZZY"}); !errors.As(err, &bp) ||
		!reflect.DeepEqual(bp.Valid, SessionTypes) {
		t.Fatalf("bad session_type: %v", err)
	}
	if _, err := svc.StoreFinding(ctx, FindingParams{SessionID: "sess_nope", FilePath: "a", FindingType: "x", Severity: "LOW", Title: "t"}); !IsNotFound(err) {
		t.Fatalf("finding for an unknown session: %v", err)
	}
	if _, err := svc.StoreFinding(ctx, FindingParams{SessionID: "sess_nope", FilePath: "a", FindingType: "x", Severity: "SEVERE", Title: "t"}); !errors.As(err, &bp) ||
		!reflect.DeepEqual(bp.Valid, Severities) {
		t.Fatalf("bad severity: %v", err)
	}
	if _, err := svc.StoreFinding(ctx, FindingParams{SessionID: "s"}); !errors.As(err, &bp) ||
		!reflect.DeepEqual(bp.Missing, []string{"file_path", "finding_type", "severity", "title"}) {
		t.Fatalf("missing fields: %v", err)
	}
	if _, err := svc.UpdateFindingStatus(ctx, "find_nope", "FIXED", "", ""); !IsNotFound(err) {
		t.Fatalf("unknown finding: %v", err)
	}
	if _, err := svc.ListRecommendations(ctx, "wf-shop", RecFilter{Status: "DONE"}); !errors.As(err, &bp) || !reflect.DeepEqual(bp.Valid, RecStatuses) {
		t.Fatalf("bad status filter: %v", err)
	}

	// A second analysis that no longer reports the secret resolves it;
	// REC numbering continues after the highest id.
	b, err := svc.CreateAnalysisSession(ctx, CreateSessionParams{WorkflowID: "wf-shop"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := svc.StoreFinding(ctx, FindingParams{SessionID: b.SessionID, FilePath: "agent/tools.py", FindingType: "EXCESSIVE_AGENCY",
		Severity: "MEDIUM", Title: "delete_account still unconfirmed"})
	if err != nil || deref(out.RecommendationID) != "REC-004" {
		t.Fatalf("next id %v %v", out, err)
	}
	done, err := svc.CompleteAnalysisSession(ctx, b.SessionID, true)
	if err != nil || done.AutoResolved != 0 {
		// The old OPEN finding of agent/tools.py is reported again, the
		// others are not OPEN.
		t.Fatalf("auto-resolve: %+v %v", done, err)
	}
	// A third scan reports only a new issue: both OPEN tools.py findings
	// (and their pending recommendations) are resolved.
	c, err := svc.CreateAnalysisSession(ctx, CreateSessionParams{WorkflowID: "wf-shop"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.StoreFinding(ctx, FindingParams{SessionID: c.SessionID, FilePath: "agent/rag.py", FindingType: "RAG_POISONING",
		Severity: "LOW", Title: "Retrieval has no tenant filter", OWASPMapping: []string{"LLM08"}}); err != nil {
		t.Fatal(err)
	}
	done, err = svc.CompleteAnalysisSession(ctx, c.SessionID, true)
	if err != nil || done.AutoResolved != 2 || *done.RiskScore != 1 {
		t.Fatalf("auto-resolve: %+v %v", done, err)
	}
	for _, id := range []string{"REC-003", "REC-004"} {
		d, err := svc.Recommendation(ctx, id)
		if err != nil || d.Recommendation.Status != "RESOLVED" || d.Finding.Status != "RESOLVED" || d.AuditLog[0].Action != "AUTO_RESOLVED" {
			t.Fatalf("%s after a scan without it: %+v %v", id, d, err)
		}
	}
	if d, _ := svc.Recommendation(ctx, "REC-001"); d.Recommendation.Status != "VERIFIED" {
		t.Fatalf("a verified recommendation was resolved again: %s", d.Recommendation.Status)
	}
}

// testRuntimeViews checks the views built from events.
func testRuntimeViews(t *testing.T, ctx context.Context, svc *Service) {
	state, err := svc.WorkflowStateOf(ctx, "wf-shop")
	if err != nil || state.State != "COMPLETE" || state.StaticSessionsCount != 3 || state.DynamicAgentsCount != 1 {
		t.Fatalf("state %+v %v", state, err)
	}
	if _, err := svc.CreateAnalysisSession(ctx, CreateSessionParams{WorkflowID: "wf-static"}); err != nil {
		t.Fatal(err)
	}
	for wf, want := range map[string]string{"wf-static": "STATIC_ONLY", "wf-none": "NO_DATA"} {
		if st, err := svc.WorkflowStateOf(ctx, wf); err != nil || st.State != want {
			t.Fatalf("%s: %+v %v", wf, st, err)
		}
	}
	wfs, err := svc.Workflows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range wfs.AgentWorkflows {
		names = append(names, w.Name)
	}
	if !reflect.DeepEqual(names, []string{"Shop assistant", "wf-static", "Unassigned"}) {
		t.Fatalf("workflows %v", names)
	}
	shop := wfs.AgentWorkflows[0]
	if shop.SessionCount != 2 || shop.AgentCount != 1 || shop.ErrorCount != 1 || shop.GateState != "OPEN" || shop.OpenFindings != 1 ||
		!reflect.DeepEqual(shop.Agents, []string{"agent-shop"}) || !shop.HasStaticAnalysis {
		t.Fatalf("wf-shop summary %+v", shop)
	}
	if un := wfs.AgentWorkflows[2]; un.ID != nil || !reflect.DeepEqual(un.Agents, []string{"agent-other"}) {
		t.Fatalf("unassigned %+v", un)
	}

	name, desc := "Shop bot", "Answers order questions"
	up, err := svc.UpdateAgentInfo(ctx, AgentUpdate{AgentID: "agent-shop", DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateAgentInfo(ctx, AgentUpdate{AgentID: "agent-shop", Description: &desc}); err != nil {
		t.Fatal(err)
	}
	infos, err := svc.AgentInfos(ctx, []string{"agent-shop"})
	if a := infos["agent-shop"]; err != nil || deref(a.DisplayName) != name || deref(a.Description) != desc || up.Message == "" {
		t.Fatalf("agent info %+v %v", a, err)
	}
	if _, err := svc.UpdateAgentInfo(ctx, AgentUpdate{AgentID: "agent-shop"}); !IsBadParam(err) {
		t.Fatalf("empty update: %v", err)
	}
	if st, _ := svc.IDEActivity(ctx, "wf-shop"); st.HasActivity {
		t.Fatal("IDE activity before any heartbeat")
	}
	if _, err := svc.IDEHeartbeat(ctx, Heartbeat{WorkflowID: "wf-shop", IDEType: "cursor", Model: "claude-sonnet-4-5"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.IDEHeartbeat(ctx, Heartbeat{WorkflowID: "wf-shop", WorkspacePath: "/src/shop"}); err != nil {
		t.Fatal(err)
	}
	st, err := svc.IDEActivity(ctx, "wf-shop")
	if err != nil || !st.HasActivity || st.IDE == nil || deref(st.IDE.IDEType) != "cursor" || deref(st.IDE.WorkspacePath) != "/src/shop" ||
		deref(st.LastSeenRelative) != "just now" {
		t.Fatalf("IDE status %+v %v", st, err)
	}
}

// TestStoreDown: with the server unreachable, operations return a
// StoreError saying so; a write that fails half-way (the audit table is
// gone) returns an error naming what was not written instead of
// pretending it happened.
func TestStoreDown(t *testing.T) {
	ctx := ctxT(t)
	st := openServer(t)
	svc := New(st, Options{WriteAttempts: 2})
	a, err := svc.CreateAnalysisSession(ctx, CreateSessionParams{WorkflowID: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := svc.StoreFinding(ctx, FindingParams{SessionID: a.SessionID, FilePath: "a.py", FindingType: "X", Severity: "HIGH", Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Exec(ctx, "DROP TABLE "+st.Schema().Table(AuditTable)); err != nil {
		t.Fatal(err)
	}
	_, err = svc.StartFix(ctx, *out.RecommendationID, "me")
	var se *StoreError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "store audit entry for recommendation REC-001") {
		t.Fatalf("write to a missing table: %v", err)
	}

	down := New(openUnreachable(t), Options{})
	_, err = down.CreateAnalysisSession(ctx, CreateSessionParams{WorkflowID: "wf"})
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "open the workflow tables") {
		t.Fatalf("unreachable store: %v", err)
	}
}

// TestUntrackedFindingBlocksGate: an OPEN CRITICAL finding stored without
// a recommendation blocks the gate, the report (NO-GO, listed in
// blocking_findings) and the workflow list alike; dismissing it opens
// them again.
func TestUntrackedFindingBlocksGate(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := ctxT(t)
		svc := New(openStore(t, engine), Options{})
		a, err := svc.CreateAnalysisSession(ctx, CreateSessionParams{WorkflowID: "wf-norec"})
		if err != nil {
			t.Fatal(err)
		}
		out, err := svc.StoreFinding(ctx, FindingParams{SessionID: a.SessionID, FilePath: "a.py", FindingType: "SQL_INJECTION",
			Severity: "CRITICAL", Title: "RCE", OWASPMapping: []string{"LLM05"}, NoRecommendation: true})
		if err != nil || out.RecommendationID != nil {
			t.Fatalf("stored %+v %v", out, err)
		}
		if _, err := svc.StoreFinding(ctx, FindingParams{SessionID: a.SessionID, FilePath: "b.py", FindingType: "VERBOSE_LOG",
			Severity: "MEDIUM", Title: "logs prompts", NoRecommendation: true}); err != nil {
			t.Fatal(err)
		}
		check := func(blocked bool) {
			t.Helper()
			gate, err := svc.GateStatus(ctx, "wf-norec")
			if err != nil || gate.IsBlocked != blocked || blocked && (gate.BlockingCount != 1 || gate.BlockingCritical != 1 || gate.StaticAnalysis.CriticalCount != 1) {
				t.Fatalf("gate %+v %v", gate, err)
			}
			rep, err := svc.ComplianceReport(ctx, "wf-norec", "", false, "")
			if err != nil {
				t.Fatal(err)
			}
			es := rep.ExecutiveSummary
			if wantGo := !blocked; (es.Decision == "GO") != wantGo || es.IsBlocked != blocked || (len(rep.BlockingFindings) == 1) != blocked ||
				blocked && (rep.BlockingFindings[0].FindingID != out.Finding.FindingID || !strings.Contains(es.DecisionMessage, "1 critical")) {
				t.Fatalf("report %+v, blocking findings %v", es, rep.BlockingFindings)
			}
			wfs, err := svc.Workflows(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range wfs.AgentWorkflows {
				if w.ID != nil && *w.ID == "wf-norec" && (w.GateState == "BLOCKED") != blocked {
					t.Fatalf("workflow list %+v", w)
				}
			}
		}
		check(true)
		if _, err := svc.UpdateFindingStatus(ctx, out.Finding.FindingID, "DISMISSED", "accepted risk", "lead"); err != nil {
			t.Fatal(err)
		}
		check(false)
	})
}
