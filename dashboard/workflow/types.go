package workflow

import (
	"cmp"
	"encoding/json"
)

// Enums, as the original spells them.
var (
	SessionTypes     = []string{"STATIC", "DYNAMIC", "AUTOFIX"}
	SessionStatuses  = []string{"IN_PROGRESS", "COMPLETED"}
	Severities       = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW"}
	FindingStatuses  = []string{"OPEN", "FIXED", "IGNORED", "DISMISSED", "RESOLVED", "SUPERSEDED"}
	RecStatuses      = []string{"PENDING", "FIXING", "FIXED", "VERIFIED", "DISMISSED", "IGNORED", "RESOLVED", "SUPERSEDED"}
	DismissTypes     = []string{"DISMISSED", "IGNORED"}
	CorrelationState = []string{"VALIDATED", "UNEXERCISED", "RUNTIME_ONLY", "THEORETICAL"}
	SourceTypes      = []string{"STATIC", "DYNAMIC"}
	CheckStatuses    = []string{"passed", "warning", "critical"}
)

// severityRank orders severities for sorting (CRITICAL first).
func severityRank(s string) int {
	switch s {
	case "CRITICAL":
		return 0
	case "HIGH":
		return 1
	case "MEDIUM":
		return 2
	case "LOW":
		return 3
	}
	return 4
}

// severityThenNewest orders CRITICAL first, then newest first (0 on a
// tie, for the caller's own tie-break).
func severityThenNewest(sevA, sevB string, createdA, createdB int64) int {
	return cmp.Or(cmp.Compare(severityRank(sevA), severityRank(sevB)), cmp.Compare(createdB, createdA))
}

// riskWeight is formula A's weight (analysis-session risk score).
func riskWeight(sev string) int { return severityWeight(sev, 1, 0) }

// severityWeight weighs CRITICAL 25, HIGH 15, MEDIUM 5; the two risk
// formulas differ only in LOW's weight and that of anything else.
func severityWeight(sev string, low, other int) int {
	switch sev {
	case "CRITICAL":
		return 25
	case "HIGH":
		return 15
	case "MEDIUM":
		return 5
	case "LOW":
		return low
	}
	return other
}

// resolvedRec are the recommendation statuses that no longer block.
var resolvedRec = map[string]bool{"FIXED": true, "VERIFIED": true, "DISMISSED": true, "IGNORED": true, "RESOLVED": true, "SUPERSEDED": true}

// AnalysisSession is one static or dynamic analysis of a workflow.
type AnalysisSession struct {
	SessionID         string  `json:"session_id"`
	AgentWorkflowID   string  `json:"agent_workflow_id"`
	AgentWorkflowName *string `json:"agent_workflow_name"`
	AgentID           *string `json:"agent_id"`
	SessionType       string  `json:"session_type"`
	Status            string  `json:"status"`
	CreatedAt         *string `json:"created_at"`
	CompletedAt       *string `json:"completed_at"`
	FindingsCount     int64   `json:"findings_count"`
	RiskScore         *int    `json:"risk_score"`
	SessionsAnalyzed  *int64  `json:"sessions_analyzed"`

	createdUS, completedUS int64
}

func (a *AnalysisSession) row() []any {
	risk := int32(-1)
	if a.RiskScore != nil {
		risk = int32(*a.RiskScore)
	}
	analyzed := int64(-1)
	if a.SessionsAnalyzed != nil {
		analyzed = *a.SessionsAnalyzed
	}
	return []any{a.SessionID, a.AgentWorkflowID, deref(a.AgentWorkflowName), deref(a.AgentID), a.SessionType, a.Status,
		a.createdUS, a.completedUS, a.FindingsCount, risk, analyzed}
}

func scanSession(r []any) *AnalysisSession {
	d := reader{r: r}
	a := &AnalysisSession{SessionID: d.str(), AgentWorkflowID: d.str(), AgentWorkflowName: opt(d.str()), AgentID: opt(d.str()),
		SessionType: d.str(), Status: d.str()}
	a.createdUS, a.completedUS = d.i64(), d.i64()
	a.CreatedAt, a.CompletedAt = isoUS(a.createdUS), isoUS(a.completedUS)
	a.FindingsCount = d.i64()
	if risk := d.i64(); risk >= 0 {
		n := int(risk)
		a.RiskScore = &n
	}
	if n := d.i64(); n >= 0 {
		a.SessionsAnalyzed = &n
	}
	return a
}

// Finding is one security finding of an analysis session.
type Finding struct {
	FindingID           string          `json:"finding_id"`
	SessionID           string          `json:"session_id"`
	AgentWorkflowID     string          `json:"agent_workflow_id"`
	SourceType          string          `json:"source_type"`
	Category            *string         `json:"category"`
	CheckID             *string         `json:"check_id"`
	FilePath            string          `json:"file_path"`
	LineStart           *int64          `json:"line_start"`
	LineEnd             *int64          `json:"line_end"`
	FindingType         string          `json:"finding_type"`
	Severity            string          `json:"severity"`
	CVSSScore           *float64        `json:"cvss_score"`
	Title               string          `json:"title"`
	Description         *string         `json:"description"`
	Evidence            json.RawMessage `json:"evidence"`
	OWASPMapping        []string        `json:"owasp_mapping"`
	CWE                 *string         `json:"cwe"`
	SOC2Controls        []string        `json:"soc2_controls"`
	RecommendationID    *string         `json:"recommendation_id"`
	Status              string          `json:"status"`
	CorrelationState    *string         `json:"correlation_state"`
	CorrelationEvidence json.RawMessage `json:"correlation_evidence"`
	CreatedAt           *string         `json:"created_at"`
	UpdatedAt           *string         `json:"updated_at"`

	createdUS, updatedUS int64
}

func (f *Finding) row() []any {
	return []any{f.FindingID, f.SessionID, f.AgentWorkflowID, f.SourceType, deref(f.Category), deref(f.CheckID), f.FilePath,
		derefNum(f.LineStart), derefNum(f.LineEnd), f.FindingType, f.Severity, derefNum(f.CVSSScore), f.Title, deref(f.Description),
		rawText(f.Evidence), listText(f.OWASPMapping), deref(f.CWE), listText(f.SOC2Controls), deref(f.RecommendationID),
		f.Status, deref(f.CorrelationState), rawText(f.CorrelationEvidence), f.createdUS, f.updatedUS}
}

func scanFinding(r []any) *Finding {
	d := reader{r: r}
	f := &Finding{FindingID: d.str(), SessionID: d.str(), AgentWorkflowID: d.str(), SourceType: d.str(), Category: opt(d.str()),
		CheckID: opt(d.str()), FilePath: d.str(), LineStart: optNum(d.i64()), LineEnd: optNum(d.i64()), FindingType: d.str(),
		Severity: d.str(), CVSSScore: optNum(d.f64()), Title: d.str(), Description: opt(d.str()), Evidence: rawOf(d.str()),
		OWASPMapping: listOf(d.str()), CWE: opt(d.str()), SOC2Controls: listOf(d.str()), RecommendationID: opt(d.str()),
		Status: d.str(), CorrelationState: opt(d.str()), CorrelationEvidence: rawOf(d.str())}
	f.createdUS, f.updatedUS = d.i64(), d.i64()
	f.CreatedAt, f.UpdatedAt = isoUS(f.createdUS), isoUS(f.updatedUS)
	return f
}

// Recommendation is the work item a finding turns into.
type Recommendation struct {
	RecommendationID            string          `json:"recommendation_id"`
	WorkflowID                  string          `json:"workflow_id"`
	SourceType                  string          `json:"source_type"`
	SourceFindingID             string          `json:"source_finding_id"`
	Category                    *string         `json:"category"`
	Severity                    string          `json:"severity"`
	CVSSScore                   *float64        `json:"cvss_score"`
	OWASPLLM                    *string         `json:"owasp_llm"`
	CWE                         *string         `json:"cwe"`
	SOC2Controls                []string        `json:"soc2_controls"`
	Title                       string          `json:"title"`
	Description                 *string         `json:"description"`
	Impact                      *string         `json:"impact"`
	FixHints                    *string         `json:"fix_hints"`
	FixComplexity               *string         `json:"fix_complexity"`
	RequiresArchitecturalChange bool            `json:"requires_architectural_change"`
	FilePath                    *string         `json:"file_path"`
	LineStart                   *int64          `json:"line_start"`
	LineEnd                     *int64          `json:"line_end"`
	CodeSnippet                 *string         `json:"code_snippet"`
	RelatedFiles                []string        `json:"related_files"`
	Status                      string          `json:"status"`
	FixedBy                     *string         `json:"fixed_by"`
	FixedAt                     *string         `json:"fixed_at"`
	FixMethod                   *string         `json:"fix_method"`
	FixCommit                   *string         `json:"fix_commit"`
	FixNotes                    *string         `json:"fix_notes"`
	FilesModified               []string        `json:"files_modified"`
	VerifiedAt                  *string         `json:"verified_at"`
	VerifiedBy                  *string         `json:"verified_by"`
	VerificationResult          *string         `json:"verification_result"`
	DismissedReason             *string         `json:"dismissed_reason"`
	DismissedBy                 *string         `json:"dismissed_by"`
	DismissedAt                 *string         `json:"dismissed_at"`
	DismissType                 *string         `json:"dismiss_type"`
	CorrelationState            *string         `json:"correlation_state"`
	CorrelationEvidence         json.RawMessage `json:"correlation_evidence"`
	Fingerprint                 *string         `json:"fingerprint"`
	CreatedAt                   *string         `json:"created_at"`
	UpdatedAt                   *string         `json:"updated_at"`

	fixedUS, verifiedUS, dismissedUS, createdUS, updatedUS int64
}

func (r *Recommendation) row() []any {
	return []any{r.RecommendationID, r.WorkflowID, r.SourceType, r.SourceFindingID, deref(r.Category), r.Severity,
		derefNum(r.CVSSScore), deref(r.OWASPLLM), deref(r.CWE), listText(r.SOC2Controls), r.Title, deref(r.Description),
		deref(r.Impact), deref(r.FixHints), deref(r.FixComplexity), r.RequiresArchitecturalChange, deref(r.FilePath),
		derefNum(r.LineStart), derefNum(r.LineEnd), deref(r.CodeSnippet), listText(r.RelatedFiles), r.Status, deref(r.FixedBy),
		r.fixedUS, deref(r.FixMethod), deref(r.FixCommit), deref(r.FixNotes), listText(r.FilesModified), r.verifiedUS,
		deref(r.VerifiedBy), deref(r.VerificationResult), deref(r.DismissedReason), deref(r.DismissedBy), r.dismissedUS,
		deref(r.DismissType), deref(r.CorrelationState), rawText(r.CorrelationEvidence), deref(r.Fingerprint),
		r.createdUS, r.updatedUS}
}

func scanRec(row []any) *Recommendation {
	d := reader{r: row}
	r := &Recommendation{RecommendationID: d.str(), WorkflowID: d.str(), SourceType: d.str(), SourceFindingID: d.str(),
		Category: opt(d.str()), Severity: d.str(), CVSSScore: optNum(d.f64()), OWASPLLM: opt(d.str()), CWE: opt(d.str()),
		SOC2Controls: listOf(d.str()), Title: d.str(), Description: opt(d.str()), Impact: opt(d.str()), FixHints: opt(d.str()),
		FixComplexity: opt(d.str()), RequiresArchitecturalChange: d.flag(), FilePath: opt(d.str()), LineStart: optNum(d.i64()),
		LineEnd: optNum(d.i64()), CodeSnippet: opt(d.str()), RelatedFiles: listOf(d.str()), Status: d.str(), FixedBy: opt(d.str())}
	r.fixedUS = d.i64()
	r.FixMethod, r.FixCommit, r.FixNotes, r.FilesModified = opt(d.str()), opt(d.str()), opt(d.str()), listOf(d.str())
	r.verifiedUS = d.i64()
	r.VerifiedBy, r.VerificationResult, r.DismissedReason, r.DismissedBy = opt(d.str()), opt(d.str()), opt(d.str()), opt(d.str())
	r.dismissedUS = d.i64()
	r.DismissType, r.CorrelationState, r.CorrelationEvidence, r.Fingerprint = opt(d.str()), opt(d.str()), rawOf(d.str()), opt(d.str())
	r.createdUS, r.updatedUS = d.i64(), d.i64()
	r.FixedAt, r.VerifiedAt, r.DismissedAt = isoUS(r.fixedUS), isoUS(r.verifiedUS), isoUS(r.dismissedUS)
	r.CreatedAt, r.UpdatedAt = isoUS(r.createdUS), isoUS(r.updatedUS)
	return r
}

// blocking reports whether r holds the production gate shut.
func (r *Recommendation) blocking() bool {
	return (r.Severity == "CRITICAL" || r.Severity == "HIGH") && !resolvedRec[r.Status]
}

// blockingUntracked reports whether f blocks the gate by itself: OPEN,
// CRITICAL or HIGH, and tracked by none of the workflow's recommendations
// (stored with auto_create_recommendation false, or its recommendation
// gone). The original counted recommendations only, so such a finding
// left the gate OPEN and the report saying GO.
func (f *Finding) blockingUntracked(recIDs map[string]bool) bool {
	return f.Status == "OPEN" && (f.Severity == "CRITICAL" || f.Severity == "HIGH") &&
		(f.RecommendationID == nil || !recIDs[*f.RecommendationID])
}

// AuditEntry is one change of a finding, recommendation or report.
type AuditEntry struct {
	ID            uint64          `json:"id"`
	EntityType    string          `json:"entity_type"`
	EntityID      string          `json:"entity_id"`
	Action        string          `json:"action"`
	PreviousValue *string         `json:"previous_value"`
	NewValue      *string         `json:"new_value"`
	Reason        *string         `json:"reason"`
	PerformedBy   *string         `json:"performed_by"`
	PerformedAt   *string         `json:"performed_at"`
	Metadata      json.RawMessage `json:"metadata"`

	performedUS int64
}

func (a *AuditEntry) row() []any {
	return []any{a.ID, a.EntityType, a.EntityID, a.Action, deref(a.PreviousValue), deref(a.NewValue), deref(a.Reason),
		deref(a.PerformedBy), a.performedUS, rawText(a.Metadata)}
}

func scanAudit(r []any) *AuditEntry {
	d := reader{r: r}
	a := &AuditEntry{ID: uint64(d.i64()), EntityType: d.str(), EntityID: d.str(), Action: d.str(), PreviousValue: opt(d.str()),
		NewValue: opt(d.str()), Reason: opt(d.str()), PerformedBy: opt(d.str())}
	a.performedUS = d.i64()
	a.PerformedAt = isoUS(a.performedUS)
	a.Metadata = rawOf(d.str())
	return a
}

// SecurityCheck is one dynamic check result of an analysis session.
type SecurityCheck struct {
	CheckID           string          `json:"check_id"`
	AgentID           string          `json:"agent_id"`
	AgentWorkflowID   *string         `json:"agent_workflow_id"`
	AnalysisSessionID string          `json:"analysis_session_id"`
	CategoryID        string          `json:"category_id"`
	CheckType         string          `json:"check_type"`
	Status            string          `json:"status"`
	Title             string          `json:"title"`
	Description       *string         `json:"description"`
	Value             *string         `json:"value"`
	Evidence          json.RawMessage `json:"evidence"`
	Recommendations   []string        `json:"recommendations"`
	CreatedAt         *string         `json:"created_at"`

	createdUS int64
}

func (c *SecurityCheck) row() []any {
	return []any{c.CheckID, c.AgentID, deref(c.AgentWorkflowID), c.AnalysisSessionID, c.CategoryID, c.CheckType, c.Status,
		c.Title, deref(c.Description), deref(c.Value), rawText(c.Evidence), listText(c.Recommendations), c.createdUS}
}

func scanCheck(r []any) *SecurityCheck {
	d := reader{r: r}
	c := &SecurityCheck{CheckID: d.str(), AgentID: d.str(), AgentWorkflowID: opt(d.str()), AnalysisSessionID: d.str(),
		CategoryID: d.str(), CheckType: d.str(), Status: d.str(), Title: d.str(), Description: opt(d.str()), Value: opt(d.str()),
		Evidence: rawOf(d.str()), Recommendations: listOf(d.str())}
	c.createdUS = d.i64()
	c.CreatedAt = isoUS(c.createdUS)
	return c
}

// SavedReport is a stored compliance report. ReportData is omitted from
// listings.
type SavedReport struct {
	ReportID             string          `json:"report_id"`
	AgentWorkflowID      string          `json:"agent_workflow_id"`
	ReportType           string          `json:"report_type"`
	ReportName           string          `json:"report_name"`
	GeneratedAt          *string         `json:"generated_at"`
	GeneratedBy          *string         `json:"generated_by"`
	RiskScore            int             `json:"risk_score"`
	GateStatus           string          `json:"gate_status"`
	FindingsCount        int64           `json:"findings_count"`
	RecommendationsCount int64           `json:"recommendations_count"`
	ReportData           json.RawMessage `json:"report_data,omitempty"`

	generatedUS int64
	deleted     bool
}

func (r *SavedReport) row() []any {
	return []any{r.ReportID, r.AgentWorkflowID, r.ReportType, r.ReportName, r.generatedUS, deref(r.GeneratedBy),
		int32(r.RiskScore), r.GateStatus, r.FindingsCount, r.RecommendationsCount, rawText(r.ReportData), r.deleted}
}

func scanReport(row []any) *SavedReport {
	d := reader{r: row}
	r := &SavedReport{ReportID: d.str(), AgentWorkflowID: d.str(), ReportType: d.str(), ReportName: d.str()}
	r.generatedUS = d.i64()
	r.GeneratedAt = isoUS(r.generatedUS)
	r.GeneratedBy = opt(d.str())
	r.RiskScore = int(d.i64())
	r.GateStatus = d.str()
	r.FindingsCount, r.RecommendationsCount = d.i64(), d.i64()
	r.ReportData = rawOf(d.str())
	r.deleted = d.flag()
	return r
}

// AgentInfo is what a person or an assistant said about an agent.
type AgentInfo struct {
	AgentID         string  `json:"agent_id"`
	AgentWorkflowID *string `json:"agent_workflow_id"`
	DisplayName     *string `json:"display_name"`
	Description     *string `json:"description"`

	updatedUS int64
}

func (a *AgentInfo) row() []any {
	return []any{a.AgentID, deref(a.AgentWorkflowID), deref(a.DisplayName), deref(a.Description), a.updatedUS}
}

func scanAgent(r []any) *AgentInfo {
	d := reader{r: r}
	a := &AgentInfo{AgentID: d.str(), AgentWorkflowID: opt(d.str()), DisplayName: opt(d.str()), Description: opt(d.str())}
	a.updatedUS = d.i64()
	return a
}

// IDEInfo is the last IDE seen working on a workflow.
type IDEInfo struct {
	IDEType       *string `json:"ide_type"`
	WorkspacePath *string `json:"workspace_path"`
	Model         *string `json:"model"`
	Host          *string `json:"host"`
	User          *string `json:"user"`
}

type ideRow struct {
	workflow string
	seenUS   int64
	IDEInfo
}

func (r *ideRow) row() []any {
	return []any{r.workflow, r.seenUS, deref(r.IDEType), deref(r.WorkspacePath), deref(r.Model), deref(r.Host), deref(r.User)}
}

func scanIDE(row []any) *ideRow {
	d := reader{r: row}
	r := &ideRow{workflow: d.str(), seenUS: d.i64()}
	r.IDEType, r.WorkspacePath, r.Model, r.Host, r.User = opt(d.str()), opt(d.str()), opt(d.str()), opt(d.str()), opt(d.str())
	return r
}

// Helpers between Go values and the tables' portable encodings.

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// derefNum stores an absent number as -1, the columns' "none".
func derefNum[T int64 | float64](p *T) T {
	if p == nil {
		return -1
	}
	return *p
}

// optNum reads a stored number back: negative is "none".
func optNum[T int64 | float64](v T) *T {
	if v < 0 {
		return nil
	}
	return &v
}

func listText(l []string) string {
	if len(l) == 0 {
		return ""
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func listOf(s string) []string {
	out := []string{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &out)
	}
	return out
}

func rawText(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	return string(r)
}

func rawOf(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

func ptr[T any](v T) *T { return &v }
