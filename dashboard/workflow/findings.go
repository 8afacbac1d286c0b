package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// FindingParams are store_finding's arguments.
type FindingParams struct {
	SessionID   string // required: an analysis session
	FilePath    string // required
	FindingType string // required
	Severity    string // required: CRITICAL, HIGH, MEDIUM, LOW
	Title       string // required
	Description string
	LineStart   *int64
	LineEnd     *int64
	CodeSnippet string
	Context     string
	// OWASPMapping lists OWASP LLM Top 10 ids ("LLM01" or "LLM01:2025").
	OWASPMapping []string
	SourceType   string // STATIC (default) or DYNAMIC
	Category     string // PROMPT, OUTPUT, TOOL, DATA, MEMORY, SUPPLY, BEHAVIOR; derived from finding_type when empty
	CheckID      string
	CVSSScore    *float64
	CWE          string
	SOC2Controls []string
	// NoRecommendation skips the recommendation store_finding creates by
	// default (auto_create_recommendation=false).
	NoRecommendation bool
	FixHints         string
	Impact           string
	FixComplexity    string
}

// StoredFinding is store_finding's answer.
type StoredFinding struct {
	Finding          *Finding `json:"finding"`
	RecommendationID *string  `json:"recommendation_id,omitempty"`
	Message          string   `json:"message,omitempty"`
}

// Categories of the static summary, in display order.
var Categories = []string{"PROMPT", "OUTPUT", "TOOL", "DATA", "MEMORY", "SUPPLY", "BEHAVIOR"}

// StoreFinding records a finding in an analysis session, counts it there
// and (unless NoRecommendation) creates its recommendation REC-n.
func (s *Service) StoreFinding(ctx context.Context, p FindingParams) (*StoredFinding, error) {
	var missing []string
	for _, x := range [][2]string{{"session_id", p.SessionID}, {"file_path", p.FilePath}, {"finding_type", p.FindingType},
		{"severity", p.Severity}, {"title", p.Title}} {
		if strings.TrimSpace(x[1]) == "" {
			missing = append(missing, x[0])
		}
	}
	if len(missing) > 0 {
		return nil, &BadParamError{Param: strings.Join(missing, ", "), Msg: "missing required fields", Missing: missing}
	}
	sev, err := enum("severity", p.Severity, "", Severities)
	if err != nil {
		return nil, err
	}
	src, err := enum("source_type", p.SourceType, "STATIC", SourceTypes)
	if err != nil {
		return nil, err
	}
	cat, err := optEnum("category", p.Category, append(append([]string(nil), Categories...), dynamicCategories...))
	if err != nil {
		return nil, err
	}
	if cat == "" {
		cat = deriveCategory(p.FindingType)
	}
	if p.CVSSScore != nil && (*p.CVSSScore < 0 || *p.CVSSScore > 10) {
		return nil, &BadParamError{Param: "cvss_score", Value: fmt.Sprint(*p.CVSSScore), Msg: "must be between 0 and 10"}
	}
	owasp := make([]string, 0, len(p.OWASPMapping))
	for _, o := range p.OWASPMapping {
		if id := controlID(o); id != "" {
			owasp = append(owasp, id)
		} else {
			return nil, &BadParamError{Param: "owasp_mapping", Value: o, Msg: "not an OWASP LLM Top 10 id", Valid: controlIDs()}
		}
	}
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.session(ctx, p.SessionID)
	if err != nil {
		return nil, err
	}
	now := s.nowUS()
	ev := map[string]string{}
	if p.CodeSnippet != "" {
		ev["code_snippet"] = p.CodeSnippet
	}
	if p.Context != "" {
		ev["context"] = p.Context
	}
	evidence, _ := json.Marshal(ev)
	f := &Finding{FindingID: "find_" + randomHex(6), SessionID: a.SessionID, AgentWorkflowID: a.AgentWorkflowID, SourceType: src,
		Category: opt(cat), CheckID: opt(p.CheckID), FilePath: p.FilePath, LineStart: p.LineStart, LineEnd: p.LineEnd,
		FindingType: p.FindingType, Severity: sev, CVSSScore: p.CVSSScore, Title: p.Title, Description: opt(p.Description),
		Evidence: evidence, OWASPMapping: owasp, CWE: opt(p.CWE), SOC2Controls: nonNil(p.SOC2Controls), Status: "OPEN",
		CorrelationEvidence: json.RawMessage("null"), createdUS: now, updatedUS: now}
	f.CreatedAt, f.UpdatedAt = isoUS(now), isoUS(now)
	var r *Recommendation
	if !p.NoRecommendation {
		id, err := s.nextRecID(ctx)
		if err != nil {
			return nil, err
		}
		r = recFor(f, id, p)
		f.RecommendationID = &id
	}
	if err := s.insert(ctx, findingsT, "finding "+f.FindingID, f.row()); err != nil {
		return nil, err
	}
	a.FindingsCount++
	if err := s.insert(ctx, sessionsT, "analysis session "+a.SessionID, a.row()); err != nil {
		return nil, err
	}
	out := &StoredFinding{Finding: f}
	if r != nil {
		if err := s.saveRec(ctx, r, "", "CREATED", "system", "", map[string]string{"finding_id": f.FindingID}); err != nil {
			return nil, err
		}
		out.RecommendationID = &r.RecommendationID
		out.Message = "Finding stored with auto-created recommendation " + r.RecommendationID
	}
	return out, nil
}

// recFor builds a finding's recommendation.
func recFor(f *Finding, id string, p FindingParams) *Recommendation {
	r := &Recommendation{RecommendationID: id, WorkflowID: f.AgentWorkflowID, SourceType: f.SourceType, SourceFindingID: f.FindingID,
		Category: f.Category, Severity: f.Severity, CVSSScore: f.CVSSScore, CWE: f.CWE, SOC2Controls: f.SOC2Controls,
		Title: "Fix: " + f.Title, Description: f.Description, Impact: opt(p.Impact), FixHints: opt(p.FixHints),
		FixComplexity: opt(strings.ToUpper(p.FixComplexity)), FilePath: &f.FilePath, LineStart: f.LineStart, LineEnd: f.LineEnd,
		CodeSnippet: opt(p.CodeSnippet), RelatedFiles: []string{}, Status: "PENDING", FilesModified: []string{},
		CorrelationEvidence: json.RawMessage("null"), Fingerprint: ptr(fingerprint(f)), createdUS: f.createdUS, updatedUS: f.createdUS}
	if len(f.OWASPMapping) > 0 {
		r.OWASPLLM = &f.OWASPMapping[0]
	}
	if r.FixHints == nil {
		if t, ok := templateFor(f.FindingType, deref(f.Category)); ok {
			r.FixHints = ptr(strings.Join(t.ApplicationGuidance, "\n"))
		}
	}
	r.CreatedAt, r.UpdatedAt = isoUS(r.createdUS), isoUS(r.updatedUS)
	return r
}

// fingerprint identifies "the same issue" across scans.
func fingerprint(f *Finding) string {
	return fmt.Sprintf("%s|%s|%s", f.AgentWorkflowID, f.FilePath, strings.ToUpper(f.FindingType))
}

// deriveCategory is the original's keyword search over the finding type,
// first match, PROMPT when none.
func deriveCategory(findingType string) string {
	t := strings.ToUpper(findingType)
	for _, c := range []struct {
		cat string
		kws []string
	}{
		{"PROMPT", []string{"PROMPT", "INJECTION", "JAILBREAK"}},
		{"OUTPUT", []string{"OUTPUT", "XSS", "RESPONSE"}},
		{"TOOL", []string{"TOOL", "PLUGIN", "FUNCTION", "PERMISSION"}},
		{"DATA", []string{"SECRET", "KEY", "PII", "DATA", "CREDENTIAL", "PASSWORD"}},
		{"MEMORY", []string{"MEMORY", "RAG", "CONTEXT", "HISTORY"}},
		{"SUPPLY", []string{"SUPPLY", "DEPENDENCY", "MODEL", "EXTERNAL"}},
		{"BEHAVIOR", []string{"BEHAVIOR", "AGENCY", "OVERSIGHT", "LIMIT", "BOUNDARY"}},
	} {
		for _, k := range c.kws {
			if strings.Contains(t, k) {
				return c.cat
			}
		}
	}
	return "PROMPT"
}

// dynamicCategories are the dynamic checks' categories (findings of
// DYNAMIC analyses carry them).
var dynamicCategories = []string{"RESOURCE_MANAGEMENT", "ENVIRONMENT", "BEHAVIORAL", "PRIVACY_COMPLIANCE"}

// FindingFilter narrows ListFindings. Empty fields match all.
type FindingFilter struct {
	WorkflowID string
	SessionID  string
	Severity   string
	Status     string
	Limit      int // default 100
}

// FindingList is get_findings / GET …/findings.
type FindingList struct {
	Findings   []*Finding     `json:"findings"`
	TotalCount int            `json:"total_count"`
	Summary    FindingSummary `json:"summary"`
}

// FindingSummary counts a workflow's findings.
type FindingSummary struct {
	AgentWorkflowID string           `json:"agent_workflow_id,omitempty"`
	TotalFindings   int              `json:"total_findings"`
	BySeverity      map[string]int64 `json:"by_severity"` // OPEN findings only
	ByStatus        map[string]int64 `json:"by_status"`
}

// ListFindings lists findings by severity (CRITICAL first), then newest
// first. One of WorkflowID and SessionID is required.
func (s *Service) ListFindings(ctx context.Context, f FindingFilter) (*FindingList, error) {
	if f.WorkflowID == "" && f.SessionID == "" {
		return nil, &BadParamError{Param: "agent_workflow_id", Msg: "agent_workflow_id or session_id is required"}
	}
	sev, err := optEnum("severity", f.Severity, Severities)
	if err != nil {
		return nil, err
	}
	status, err := optEnum("status", f.Status, FindingStatuses)
	if err != nil {
		return nil, err
	}
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	var all []*Finding
	if f.SessionID != "" {
		if _, err := s.session(ctx, f.SessionID); err != nil {
			return nil, err
		}
		all, err = s.findings(ctx, "session_id = ?", f.SessionID)
	} else {
		all, err = s.findings(ctx, "agent_workflow_id = ?", f.WorkflowID)
	}
	if err != nil {
		return nil, err
	}
	sum := FindingSummary{AgentWorkflowID: f.WorkflowID, BySeverity: map[string]int64{}, ByStatus: map[string]int64{}}
	out := []*Finding{}
	for _, x := range all {
		sum.TotalFindings++
		sum.ByStatus[x.Status]++
		if x.Status == "OPEN" {
			sum.BySeverity[x.Severity]++
		}
		if (sev == "" || x.Severity == sev) && (status == "" || x.Status == status) {
			out = append(out, x)
		}
	}
	total := len(out)
	return &FindingList{Findings: head(out, f.Limit, 100), TotalCount: total, Summary: sum}, nil
}

// Finding returns one finding.
func (s *Service) Finding(ctx context.Context, id string) (*Finding, error) {
	return lookup(ctx, s, "finding_id", id, s.finding)
}

func (s *Service) finding(ctx context.Context, id string) (*Finding, error) {
	return byKey(ctx, s, findingsT, "finding", id, scanFinding)
}

// findings reads findings by an immutable column, CRITICAL first, then
// newest first.
func (s *Service) findings(ctx context.Context, where string, args ...any) ([]*Finding, error) {
	return selectSorted(ctx, s, findingsT, "findings", scanFinding, func(a, b *Finding) int {
		return cmp.Or(severityThenNewest(a.Severity, b.Severity, a.createdUS, b.createdUS), strings.Compare(a.FindingID, b.FindingID))
	}, where, args...)
}

// UpdateFindingStatus sets a finding's status; notes are appended to its
// description ("…\n\nUpdate: notes"). The change is audited.
func (s *Service) UpdateFindingStatus(ctx context.Context, id, status, notes, by string) (*Finding, error) {
	if err := required("finding_id", id); err != nil {
		return nil, err
	}
	st, err := enum("status", status, "", FindingStatuses)
	if err != nil {
		return nil, err
	}
	return s.updateFinding(ctx, id, func(f *Finding) error {
		return s.moveFinding(ctx, f, st, notes, "STATUS_CHANGED", by, notes)
	})
}

// updateFinding applies change to a finding under s.mu.
func (s *Service) updateFinding(ctx context.Context, id string, change func(*Finding) error) (*Finding, error) {
	return update(ctx, s, "finding_id", id, s.finding, func(f *Finding) (*Finding, error) {
		if err := change(f); err != nil {
			return nil, err
		}
		return f, nil
	})
}

// moveFinding writes a finding's new status (notes appended to its
// description) and audits it.
func (s *Service) moveFinding(ctx context.Context, f *Finding, status, notes, action, by, reason string) error {
	old := f.Status
	f.Status = status
	if notes != "" {
		f.Description = ptr(strings.TrimLeft(deref(f.Description)+"\n\nUpdate: "+notes, "\n"))
	}
	f.updatedUS = s.nowUS()
	f.UpdatedAt = isoUS(f.updatedUS)
	if err := s.insert(ctx, findingsT, "finding "+f.FindingID, f.row()); err != nil {
		return err
	}
	return s.audit(ctx, "finding", f.FindingID, action, old, status, reason, by, nil)
}

// UpdateFindingCorrelation records how a finding relates to runtime
// behaviour (VALIDATED, UNEXERCISED, RUNTIME_ONLY, THEORETICAL) with
// optional evidence (a JSON object), on the finding and its
// recommendation. A state set here is never overwritten by Correlate.
func (s *Service) UpdateFindingCorrelation(ctx context.Context, id, state string, evidence json.RawMessage, by string) (*Finding, error) {
	if err := required("finding_id", id); err != nil {
		return nil, err
	}
	st, err := enum("correlation_state", state, "", CorrelationState)
	if err != nil {
		return nil, err
	}
	if len(evidence) > 0 && string(evidence) != "null" {
		var obj map[string]any
		if json.Unmarshal(evidence, &obj) != nil {
			return nil, &BadParamError{Param: "correlation_evidence", Msg: "must be a JSON object"}
		}
	} else {
		evidence = json.RawMessage("{}")
	}
	var ev map[string]any
	_ = json.Unmarshal(evidence, &ev)
	ev["source"] = "manual"
	evidence, _ = json.Marshal(ev)
	return s.updateFinding(ctx, id, func(f *Finding) error { return s.correlate(ctx, f, st, evidence, by) })
}

// correlate writes a finding's correlation and copies it to its
// recommendation.
func (s *Service) correlate(ctx context.Context, f *Finding, state string, evidence json.RawMessage, by string) error {
	old := deref(f.CorrelationState)
	f.CorrelationState, f.CorrelationEvidence = &state, evidence
	f.updatedUS = s.nowUS()
	f.UpdatedAt = isoUS(f.updatedUS)
	if err := s.insert(ctx, findingsT, "finding "+f.FindingID, f.row()); err != nil {
		return err
	}
	if f.RecommendationID != nil {
		r, err := s.rec(ctx, *f.RecommendationID)
		if err == nil {
			r.CorrelationState, r.CorrelationEvidence = &state, evidence
			r.updatedUS = f.updatedUS
			if err := s.insert(ctx, recsT, "recommendation "+r.RecommendationID, r.row()); err != nil {
				return err
			}
		} else if !IsNotFound(err) {
			return err
		}
	}
	if old == state {
		return nil
	}
	return s.audit(ctx, "finding", f.FindingID, "CORRELATED", old, state, "", by, evidence)
}
