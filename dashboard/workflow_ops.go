package dashboard

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/cylestio/perimeter/dashboard/workflow"
)

// The workflow's operations and their arguments. Each argument type is an
// MCP tool's input (its JSON schema is inferred from it) and, where the
// original had one, a REST request's JSON body, so that both decode into
// the same value and run the same op.

// wfRef names a workflow: workflow_id, or agent_workflow_id as the
// original's tools also accept.
type wfRef struct {
	WorkflowID      string `json:"workflow_id,omitempty" jsonschema:"the agent workflow id (required: this or agent_workflow_id)"`
	AgentWorkflowID string `json:"agent_workflow_id,omitempty" jsonschema:"alias of workflow_id"`
}

func (r wfRef) id() string {
	if s := strings.TrimSpace(r.WorkflowID); s != "" {
		return s
	}
	return strings.TrimSpace(r.AgentWorkflowID)
}

func needWorkflow(wf string) error {
	if wf == "" {
		return &workflow.BadParamError{Param: "workflow_id", Msg: "required (or agent_workflow_id)"}
	}
	return nil
}

// onWorkflow is an operation on the workflow in names, which is required.
func onWorkflow(in wfRef, run func(ctx context.Context, svc *workflow.Service, q *querier, wf string) (any, error)) wfOp {
	return func(ctx context.Context, svc *workflow.Service, q *querier) (any, error) {
		wf := in.id()
		if err := needWorkflow(wf); err != nil {
			return nil, err
		}
		return run(ctx, svc, q, wf)
	}
}

// workflowMethod is an operation calling the Service method m on the
// workflow in names, which is required.
func workflowMethod[T any](in wfRef, m func(*workflow.Service, context.Context, string) (T, error)) wfOp {
	return onWorkflow(in, func(ctx context.Context, svc *workflow.Service, _ *querier, wf string) (any, error) {
		return m(svc, ctx, wf)
	})
}

// Knowledge base: no store needed.

type patternsArgs struct {
	Context     string `json:"context,omitempty" jsonschema:"all (default), prompt_injection, data_exposure, excessive_agency, insecure_output, supply_chain, insecure_plugin, overreliance, model_theft, rate_limiting, …"`
	MinSeverity string `json:"min_severity,omitempty" jsonschema:"LOW (default), MEDIUM, HIGH or CRITICAL"`
}

type controlArgs struct {
	ControlID string `json:"control_id" jsonschema:"an OWASP LLM Top 10 (2025) id: LLM01 … LLM10"`
}

type templateArgs struct {
	FindingType string `json:"finding_type" jsonschema:"a finding type (PROMPT_INJECTION, DATA_EXPOSURE, …), a Perimeter rule id or a dynamic check id"`
}

// ControlAnswer is get_owasp_control / GET /api/security/owasp/{id}.
type ControlAnswer struct {
	Control   *workflow.Control `json:"control"`
	ControlID string            `json:"control_id"`
}

// TemplateAnswer is get_fix_template / GET /api/security/fix-template/{type}.
type TemplateAnswer struct {
	Template    *workflow.FixTemplate `json:"template"`
	FindingType string                `json:"finding_type"`
}

// Analysis sessions and findings.

type createSessionArgs struct {
	AgentWorkflowID   string `json:"agent_workflow_id" jsonschema:"the workflow the analysed agent belongs to (the id in /agent-workflow/{id}/)"`
	SessionType       string `json:"session_type,omitempty" jsonschema:"STATIC (default: a code review), DYNAMIC or AUTOFIX"`
	AgentWorkflowName string `json:"agent_workflow_name,omitempty" jsonschema:"a display name for the workflow"`
	AgentID           string `json:"agent_id,omitempty" jsonschema:"the agent analysed, when one"`
}

func opCreateSession(in createSessionArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		a, err := svc.CreateAnalysisSession(ctx, workflow.CreateSessionParams{WorkflowID: in.AgentWorkflowID,
			SessionType: in.SessionType, WorkflowName: in.AgentWorkflowName, AgentID: in.AgentID})
		if err != nil {
			return nil, err
		}
		return map[string]any{"session": a}, nil
	}
}

type completeSessionArgs struct {
	SessionID     string `json:"session_id,omitempty" jsonschema:"the analysis session (from create_analysis_session)"`
	CalculateRisk *bool  `json:"calculate_risk,omitempty" jsonschema:"compute the risk score (default true): min(100, CRITICAL×25 + HIGH×15 + MEDIUM×5 + LOW×1 over its open findings)"`
}

func opCompleteSession(in completeSessionArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.CompleteAnalysisSession(ctx, in.SessionID, in.CalculateRisk == nil || *in.CalculateRisk)
	}
}

type storeFindingArgs struct {
	SessionID                string   `json:"session_id" jsonschema:"the analysis session (from create_analysis_session)"`
	FilePath                 string   `json:"file_path" jsonschema:"the file the finding is in"`
	FindingType              string   `json:"finding_type" jsonschema:"e.g. PROMPT_INJECTION, DATA_EXPOSURE, EXCESSIVE_AGENCY, INSECURE_OUTPUT, SECRET_IN_CODE"`
	Severity                 string   `json:"severity" jsonschema:"CRITICAL, HIGH, MEDIUM or LOW"`
	Title                    string   `json:"title" jsonschema:"one line"`
	Description              string   `json:"description,omitempty"`
	LineStart                *int64   `json:"line_start,omitempty"`
	LineEnd                  *int64   `json:"line_end,omitempty"`
	CodeSnippet              string   `json:"code_snippet,omitempty"`
	Context                  string   `json:"context,omitempty"`
	OWASPMapping             []string `json:"owasp_mapping,omitempty" jsonschema:"OWASP LLM Top 10 ids: LLM01 … LLM10 (LLM01:2025 too)"`
	SourceType               string   `json:"source_type,omitempty" jsonschema:"STATIC (default) or DYNAMIC"`
	Category                 string   `json:"category,omitempty" jsonschema:"PROMPT, OUTPUT, TOOL, DATA, MEMORY, SUPPLY or BEHAVIOR (derived from finding_type when absent)"`
	CheckID                  string   `json:"check_id,omitempty"`
	CVSSScore                *float64 `json:"cvss_score,omitempty" jsonschema:"0 to 10"`
	CWE                      string   `json:"cwe,omitempty" jsonschema:"e.g. CWE-77"`
	SOC2Controls             []string `json:"soc2_controls,omitempty" jsonschema:"e.g. CC6.1"`
	AutoCreateRecommendation *bool    `json:"auto_create_recommendation,omitempty" jsonschema:"create its recommendation REC-n (default true)"`
	FixHints                 string   `json:"fix_hints,omitempty"`
	Impact                   string   `json:"impact,omitempty"`
	FixComplexity            string   `json:"fix_complexity,omitempty" jsonschema:"LOW, MEDIUM or HIGH"`
}

func opStoreFinding(in storeFindingArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.StoreFinding(ctx, workflow.FindingParams{SessionID: in.SessionID, FilePath: in.FilePath, FindingType: in.FindingType,
			Severity: in.Severity, Title: in.Title, Description: in.Description, LineStart: in.LineStart, LineEnd: in.LineEnd,
			CodeSnippet: in.CodeSnippet, Context: in.Context, OWASPMapping: in.OWASPMapping, SourceType: in.SourceType,
			Category: in.Category, CheckID: in.CheckID, CVSSScore: in.CVSSScore, CWE: in.CWE, SOC2Controls: in.SOC2Controls,
			NoRecommendation: in.AutoCreateRecommendation != nil && !*in.AutoCreateRecommendation,
			FixHints:         in.FixHints, Impact: in.Impact, FixComplexity: in.FixComplexity})
	}
}

type wfFindingsArgs struct {
	wfRef
	SessionID string `json:"session_id,omitempty"`
	Severity  string `json:"severity,omitempty"`
	Status    string `json:"status,omitempty"`
	Limit     int    `json:"limit,omitempty"`
}

func opListFindings(in wfFindingsArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.ListFindings(ctx, workflow.FindingFilter{WorkflowID: in.id(), SessionID: in.SessionID,
			Severity: in.Severity, Status: in.Status, Limit: in.Limit})
	}
}

// SessionFindings is GET /api/session/{id}/findings.
type SessionFindings struct {
	SessionID         string                    `json:"session_id"`
	Session           *workflow.AnalysisSession `json:"session"`
	Findings          []*workflow.Finding       `json:"findings"`
	FindingsCount     int                       `json:"findings_count"`
	TotalCount        int                       `json:"total_count"`
	SeverityBreakdown map[string]int            `json:"severity_breakdown"`
}

func opSessionFindings(id, severity, status string, limit int) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		a, err := svc.AnalysisSession(ctx, id)
		if err != nil {
			return nil, err
		}
		l, err := svc.ListFindings(ctx, workflow.FindingFilter{SessionID: id, Severity: severity, Status: status, Limit: limit})
		if err != nil {
			return nil, err
		}
		out := &SessionFindings{SessionID: id, Session: a, Findings: l.Findings, FindingsCount: len(l.Findings), TotalCount: l.TotalCount,
			SeverityBreakdown: map[string]int{"critical": 0, "high": 0, "medium": 0, "low": 0}}
		for _, f := range l.Findings {
			out.SeverityBreakdown[strings.ToLower(f.Severity)]++
		}
		return out, nil
	}
}

type findingStatusArgs struct {
	FindingID string `json:"finding_id,omitempty" jsonschema:"the finding (FND-…)"`
	Status    string `json:"status" jsonschema:"OPEN, FIXED, IGNORED, DISMISSED, RESOLVED or SUPERSEDED"`
	Notes     string `json:"notes,omitempty" jsonschema:"appended to the description"`
	UpdatedBy string `json:"updated_by,omitempty" jsonschema:"who changes it (audit log)"`
}

func opFindingStatus(in findingStatusArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		f, err := svc.UpdateFindingStatus(ctx, in.FindingID, in.Status, in.Notes, in.UpdatedBy)
		if err != nil {
			return nil, err
		}
		return map[string]any{"finding": f}, nil
	}
}

type correlationArgs struct {
	FindingID           string         `json:"finding_id,omitempty" jsonschema:"the finding (FND-…)"`
	CorrelationState    string         `json:"correlation_state" jsonschema:"VALIDATED, UNEXERCISED, RUNTIME_ONLY or THEORETICAL"`
	CorrelationEvidence map[string]any `json:"correlation_evidence,omitempty" jsonschema:"what shows it (an object)"`
	UpdatedBy           string         `json:"updated_by,omitempty"`
}

func opCorrelation(in correlationArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		var ev json.RawMessage
		if in.CorrelationEvidence != nil {
			b, err := json.Marshal(in.CorrelationEvidence)
			if err != nil {
				return nil, &workflow.BadParamError{Param: "correlation_evidence", Msg: err.Error()}
			}
			ev = b
		}
		f, err := svc.UpdateFindingCorrelation(ctx, in.FindingID, in.CorrelationState, ev, in.UpdatedBy)
		if err != nil {
			return nil, err
		}
		return map[string]any{"finding": f, "message": "Finding " + f.FindingID + " correlated as " + *f.CorrelationState}, nil
	}
}

func opFinding(id string) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		f, err := svc.Finding(ctx, id)
		if err != nil {
			return nil, err
		}
		return map[string]any{"finding": f}, nil
	}
}

type sessionsListArgs struct {
	wfRef
	Status      string `json:"status,omitempty" jsonschema:"IN_PROGRESS or COMPLETED"`
	SessionType string `json:"session_type,omitempty" jsonschema:"STATIC, DYNAMIC or AUTOFIX"`
	Limit       int    `json:"limit,omitempty"`
}

// SessionListAnswer is GET /api/workflow/{wf}/analysis-sessions (and
// /api/sessions/analysis, without workflow_id when unscoped).
type SessionListAnswer struct {
	*workflow.SessionList
	WorkflowID string `json:"workflow_id,omitempty"`
}

func opListSessions(in sessionsListArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		l, err := svc.ListAnalysisSessions(ctx, workflow.SessionFilter{WorkflowID: in.id(), Status: in.Status,
			SessionType: in.SessionType, Limit: in.Limit})
		if err != nil {
			return nil, err
		}
		return &SessionListAnswer{SessionList: l, WorkflowID: in.id()}, nil
	}
}

func opAnalysisSession(id string) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.AnalysisSession(ctx, id)
	}
}

// AnalysisDetails is GET /api/analysis-session/{id}/details.
type AnalysisDetails struct {
	Session      *workflow.AnalysisSession `json:"session"`
	Agents       []AnalysisAgent           `json:"agents"`
	TotalSummary struct {
		Critical           int `json:"critical"`
		Warnings           int `json:"warnings"`
		Passed             int `json:"passed"`
		AgentsAnalyzed     int `json:"agents_analyzed"`
		AgentsWithFindings int `json:"agents_with_findings"`
	} `json:"total_summary"`
}

// AnalysisAgent is one agent's checks in an analysis.
type AnalysisAgent struct {
	AgentID   string                    `json:"agent_id"`
	AgentName string                    `json:"agent_name"`
	Checks    []*workflow.SecurityCheck `json:"checks"`
	Summary   struct {
		Critical int `json:"critical"`
		Warnings int `json:"warnings"`
		Passed   int `json:"passed"`
		Total    int `json:"total"`
	} `json:"summary"`
}

func opAnalysisDetails(id string) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		a, err := svc.AnalysisSession(ctx, id)
		if err != nil {
			return nil, err
		}
		cl, err := svc.SecurityChecks(ctx, workflow.CheckFilter{AnalysisSessionID: id, Limit: 10000})
		if err != nil {
			return nil, err
		}
		out := &AnalysisDetails{Session: a, Agents: []AnalysisAgent{}}
		by := map[string]*AnalysisAgent{}
		var order []string
		for _, c := range cl.Checks {
			ag := by[c.AgentID]
			if ag == nil {
				ag = &AnalysisAgent{AgentID: c.AgentID, AgentName: short(c.AgentID, 12, false), Checks: []*workflow.SecurityCheck{}}
				by[c.AgentID] = ag
				order = append(order, c.AgentID)
			}
			ag.Checks = append(ag.Checks, c)
			ag.Summary.Total++
			switch c.Status {
			case "critical":
				ag.Summary.Critical++
			case "warning":
				ag.Summary.Warnings++
			case "passed":
				ag.Summary.Passed++
			}
		}
		sort.Strings(order)
		for _, id := range order {
			ag := by[id]
			out.Agents = append(out.Agents, *ag)
			out.TotalSummary.Critical += ag.Summary.Critical
			out.TotalSummary.Warnings += ag.Summary.Warnings
			out.TotalSummary.Passed += ag.Summary.Passed
			out.TotalSummary.AgentsAnalyzed++
			if ag.Summary.Critical+ag.Summary.Warnings > 0 {
				out.TotalSummary.AgentsWithFindings++
			}
		}
		return out, nil
	}
}

// Recommendations and the gate.

type recListArgs struct {
	wfRef
	Status       string `json:"status,omitempty" jsonschema:"PENDING, FIXING, FIXED, VERIFIED, DISMISSED, IGNORED, RESOLVED or SUPERSEDED"`
	Severity     string `json:"severity,omitempty" jsonschema:"CRITICAL, HIGH, MEDIUM or LOW"`
	Category     string `json:"category,omitempty" jsonschema:"PROMPT, OUTPUT, TOOL, DATA, MEMORY, SUPPLY or BEHAVIOR"`
	BlockingOnly bool   `json:"blocking_only,omitempty" jsonschema:"only CRITICAL and HIGH not yet fixed, verified, dismissed, ignored, resolved or superseded"`
	Limit        int    `json:"limit,omitempty"`
}

func opListRecs(in recListArgs) wfOp {
	return onWorkflow(in.wfRef, func(ctx context.Context, svc *workflow.Service, _ *querier, wf string) (any, error) {
		return svc.ListRecommendations(ctx, wf, workflow.RecFilter{Status: in.Status, Severity: in.Severity,
			Category: in.Category, BlockingOnly: in.BlockingOnly, Limit: in.Limit})
	})
}

type recArgs struct {
	RecommendationID string `json:"recommendation_id,omitempty" jsonschema:"the recommendation (REC-…)"`
}

func opRec(in recArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.Recommendation(ctx, in.RecommendationID)
	}
}

type startFixArgs struct {
	RecommendationID string `json:"recommendation_id,omitempty" jsonschema:"the recommendation (REC-…)"`
	FixedBy          string `json:"fixed_by,omitempty" jsonschema:"who works on it (audit log)"`
}

func opStartFix(in startFixArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.StartFix(ctx, in.RecommendationID, in.FixedBy)
	}
}

type completeFixArgs struct {
	RecommendationID string   `json:"recommendation_id,omitempty" jsonschema:"the recommendation (REC-…)"`
	FixNotes         string   `json:"fix_notes,omitempty" jsonschema:"what was changed"`
	FilesModified    []string `json:"files_modified,omitempty"`
	FixCommit        string   `json:"fix_commit,omitempty"`
	FixMethod        string   `json:"fix_method,omitempty" jsonschema:"MANUAL (default), AI_ASSISTED, …"`
	FixedBy          string   `json:"fixed_by,omitempty"`
}

func opCompleteFix(in completeFixArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.CompleteFix(ctx, in.RecommendationID, workflow.FixParams{Notes: in.FixNotes, FilesModified: in.FilesModified,
			Commit: in.FixCommit, Method: in.FixMethod, By: in.FixedBy})
	}
}

type verifyArgs struct {
	RecommendationID   string `json:"recommendation_id,omitempty" jsonschema:"the recommendation (REC-…)"`
	VerificationResult string `json:"verification_result" jsonschema:"how the fix was checked and what came out"`
	Success            *bool  `json:"success,omitempty" jsonschema:"true (default): VERIFIED; false: back to PENDING"`
	VerifiedBy         string `json:"verified_by,omitempty"`
}

func opVerify(in verifyArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.VerifyFix(ctx, in.RecommendationID, in.VerificationResult, in.Success == nil || *in.Success, in.VerifiedBy)
	}
}

type dismissArgs struct {
	RecommendationID string `json:"recommendation_id,omitempty" jsonschema:"the recommendation (REC-…)"`
	Reason           string `json:"reason" jsonschema:"why it needs no fix"`
	DismissType      string `json:"dismiss_type,omitempty" jsonschema:"DISMISSED (default: false positive or accepted risk) or IGNORED"`
	DismissedBy      string `json:"dismissed_by,omitempty"`
}

func opDismiss(in dismissArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.Dismiss(ctx, in.RecommendationID, in.Reason, in.DismissType, in.DismissedBy)
	}
}

func opReadiness(wf string) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.ProductionReadiness(ctx, wf)
	}
}

func opGate(in wfRef) wfOp { return workflowMethod(in, (*workflow.Service).GateStatus) }

type auditArgs struct {
	EntityType string `json:"entity_type,omitempty" jsonschema:"finding, recommendation or report"`
	EntityID   string `json:"entity_id,omitempty"`
	Action     string `json:"action,omitempty" jsonschema:"e.g. CREATED, STATUS_CHANGED, FIX_STARTED, FIX_COMPLETED, VERIFIED, DISMISSED"`
	Limit      int    `json:"limit,omitempty"`
}

func opAudit(in auditArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.AuditLog(ctx, workflow.AuditFilter{EntityType: in.EntityType, EntityID: in.EntityID, Action: in.Action, Limit: in.Limit})
	}
}

// Reports.

type reportArgs struct {
	wfRef
	ReportType  string `json:"report_type,omitempty" jsonschema:"SECURITY_ASSESSMENT (default), EXECUTIVE_SUMMARY or CUSTOMER_DUE_DILIGENCE"`
	Save        bool   `json:"save,omitempty" jsonschema:"store the report (its report_id is in the answer)"`
	GeneratedBy string `json:"generated_by,omitempty"`
}

func opReport(in reportArgs) wfOp {
	return onWorkflow(in.wfRef, func(ctx context.Context, svc *workflow.Service, _ *querier, wf string) (any, error) {
		return svc.ComplianceReport(ctx, wf, in.ReportType, in.Save, in.GeneratedBy)
	})
}

type reportListArgs struct {
	wfRef
	ReportType string `json:"report_type,omitempty"`
	Limit      int    `json:"limit,omitempty"`
}

func opReports(in reportListArgs) wfOp {
	return onWorkflow(in.wfRef, func(ctx context.Context, svc *workflow.Service, _ *querier, wf string) (any, error) {
		return svc.ListReports(ctx, wf, in.ReportType, in.Limit)
	})
}

// Correlation, tool usage, state.

func opCorrelationSummary(in wfRef) wfOp {
	return workflowMethod(in, (*workflow.Service).CorrelationSummary)
}

func opCorrelate(in wfRef) wfOp { return workflowMethod(in, (*workflow.Service).Correlate) }

func opCorrelationData(in wfRef) wfOp { return workflowMethod(in, (*workflow.Service).CorrelationData) }

func opToolUsage(in wfRef) wfOp { return workflowMethod(in, (*workflow.Service).ToolUsageSummary) }

func opState(in wfRef) wfOp { return workflowMethod(in, (*workflow.Service).WorkflowStateOf) }

func opStaticSummary(wf string) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.StaticSummaryOf(ctx, wf)
	}
}

func opWorkflows() wfOp {
	return func(ctx context.Context, svc *workflow.Service, q *querier) (any, error) {
		list, err := svc.Workflows(ctx)
		if err != nil {
			return nil, err
		}
		return q.withCosts(ctx, list)
	}
}

// Dynamic analysis.

func opDynamicStatus(in wfRef) wfOp {
	return workflowMethod(in, (*workflow.Service).DynamicAnalysisStatus)
}

type historyArgs struct {
	wfRef
	SessionType string `json:"session_type,omitempty" jsonschema:"DYNAMIC (default) or STATIC"`
	Limit       int    `json:"limit,omitempty"`
}

func opHistory(in historyArgs) wfOp {
	return onWorkflow(in.wfRef, func(ctx context.Context, svc *workflow.Service, _ *querier, wf string) (any, error) {
		return svc.AnalysisHistoryOf(ctx, wf, in.SessionType, in.Limit)
	})
}

type triggerArgs struct {
	wfRef
	Force bool `json:"force,omitempty" jsonschema:"analyse every completed session again, not only the new ones"`
}

// Security checks.

type checksArgs struct {
	AgentID           string
	AnalysisSessionID string
	CategoryID        string
	Status            string
	Limit             int
}

func opChecks(in checksArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.SecurityChecks(ctx, workflow.CheckFilter{AgentID: in.AgentID, AnalysisSessionID: in.AnalysisSessionID,
			CategoryID: in.CategoryID, Status: in.Status, Limit: in.Limit})
	}
}

// AgentChecksAnswer is GET /api/agent/{id}/security-checks: the checks of
// the agent's latest dynamic analysis, counted over all its analyses.
type AgentChecksAnswer struct {
	AgentID string                    `json:"agent_id"`
	Checks  []*workflow.SecurityCheck `json:"checks"`
	Summary struct {
		AgentID     string         `json:"agent_id"`
		TotalChecks int            `json:"total_checks"`
		ByStatus    map[string]int `json:"by_status"`
		ByCategory  map[string]int `json:"by_category"`
	} `json:"summary"`
}

func opAgentChecks(agent, category, status string, limit int) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		all, err := svc.SecurityChecks(ctx, workflow.CheckFilter{AgentID: agent, Limit: 100000})
		if err != nil {
			return nil, err
		}
		out := &AgentChecksAnswer{AgentID: agent, Checks: []*workflow.SecurityCheck{}}
		out.Summary.AgentID, out.Summary.ByStatus, out.Summary.ByCategory = agent, map[string]int{}, map[string]int{}
		latest := ""
		if len(all.Checks) > 0 {
			latest = all.Checks[0].AnalysisSessionID // newest first
		}
		for _, c := range all.Checks {
			out.Summary.TotalChecks++
			out.Summary.ByStatus[c.Status]++
			out.Summary.ByCategory[c.CategoryID]++
			if c.AnalysisSessionID == latest && (category == "" || c.CategoryID == category) && (status == "" || c.Status == status) &&
				len(out.Checks) < limit {
				out.Checks = append(out.Checks, c)
			}
		}
		return out, nil
	}
}

func opWorkflowChecks(wf, category, status string, limit int) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.WorkflowSecurityChecks(ctx, wf, category, status, limit)
	}
}

// Agents and IDE activity.

type updateAgentArgs struct {
	AgentID         string  `json:"agent_id,omitempty" jsonschema:"the agent (from get_agents)"`
	DisplayName     *string `json:"display_name,omitempty" jsonschema:"a name people recognise (empty clears it)"`
	Description     *string `json:"description,omitempty" jsonschema:"what the agent does"`
	AgentWorkflowID *string `json:"agent_workflow_id,omitempty" jsonschema:"the workflow it belongs to"`
}

func opUpdateAgent(in updateAgentArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.UpdateAgentInfo(ctx, workflow.AgentUpdate{AgentID: in.AgentID, DisplayName: in.DisplayName,
			Description: in.Description, WorkflowID: in.AgentWorkflowID})
	}
}

type heartbeatArgs struct {
	AgentWorkflowID string `json:"agent_workflow_id,omitempty" jsonschema:"the workflow the IDE works on (required, or connection_id)"`
	ConnectionID    string `json:"connection_id,omitempty" jsonschema:"the id register_ide_connection returned (instead of agent_workflow_id)"`
	IsDeveloping    bool   `json:"is_developing,omitempty" jsonschema:"the assistant is changing the agent's code now"`
	IDEType         string `json:"ide_type,omitempty" jsonschema:"cursor, claude-code, vscode, windsurf, …"`
	WorkspacePath   string `json:"workspace_path,omitempty"`
	Model           string `json:"model,omitempty" jsonschema:"the assistant's model"`
	Host            string `json:"host,omitempty"`
	User            string `json:"user,omitempty"`
}

// connectionPrefix makes an IDE "connection" id of a workflow id:
// Perimeter tracks IDE activity per workflow, by its last heartbeat.
const connectionPrefix = "ide:"

func (in heartbeatArgs) workflowID() string {
	if in.AgentWorkflowID != "" {
		return strings.TrimSpace(in.AgentWorkflowID)
	}
	return strings.TrimPrefix(strings.TrimSpace(in.ConnectionID), connectionPrefix)
}

// IDEConnection is the original's connection object, over Perimeter's
// per-workflow IDE activity.
type IDEConnection struct {
	ConnectionID    string  `json:"connection_id"`
	AgentWorkflowID string  `json:"agent_workflow_id"`
	IDEType         *string `json:"ide_type"`
	WorkspacePath   *string `json:"workspace_path"`
	Model           *string `json:"model"`
	Host            *string `json:"host"`
	User            *string `json:"user"`
	LastHeartbeat   *string `json:"last_heartbeat"`
	IsDeveloping    bool    `json:"is_developing"`
}

func connectionOf(st *workflow.IDEStatus, developing bool) *IDEConnection {
	c := &IDEConnection{ConnectionID: connectionPrefix + st.AgentWorkflowID, AgentWorkflowID: st.AgentWorkflowID,
		LastHeartbeat: st.LastSeen, IsDeveloping: developing}
	if st.IDE != nil {
		c.IDEType, c.WorkspacePath, c.Model, c.Host, c.User = st.IDE.IDEType, st.IDE.WorkspacePath, st.IDE.Model, st.IDE.Host, st.IDE.User
	}
	return c
}

func opHeartbeat(in heartbeatArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		wf := in.workflowID()
		if wf == "" {
			return nil, &workflow.BadParamError{Param: "agent_workflow_id", Msg: "required (or connection_id)"}
		}
		st, err := svc.IDEHeartbeat(ctx, workflow.Heartbeat{WorkflowID: wf, IDEType: in.IDEType, WorkspacePath: in.WorkspacePath,
			Model: in.Model, Host: in.Host, User: in.User})
		if err != nil {
			return nil, err
		}
		status := "connected"
		if in.IsDeveloping {
			status = "actively developing"
		}
		return &HeartbeatAnswer{IDEStatus: st, Connection: connectionOf(st, in.IsDeveloping), Status: status}, nil
	}
}

// HeartbeatAnswer is ide_heartbeat and POST /api/ide/heartbeat: the IDE
// status with the original's connection and status fields.
type HeartbeatAnswer struct {
	*workflow.IDEStatus
	Connection *IDEConnection `json:"connection"`
	Status     string         `json:"status"`
}

type ideStatusArgs struct {
	AgentWorkflowID string `json:"agent_workflow_id" jsonschema:"the workflow"`
}

func opIDEStatus(in ideStatusArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		return svc.IDEActivity(ctx, strings.TrimSpace(in.AgentWorkflowID))
	}
}
