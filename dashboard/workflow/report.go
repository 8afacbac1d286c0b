package workflow

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Report types and their display names.
var ReportTypes = []string{"SECURITY_ASSESSMENT", "EXECUTIVE_SUMMARY", "CUSTOMER_DUE_DILIGENCE"}

var reportNames = map[string]string{"SECURITY_ASSESSMENT": "Security Assessment", "EXECUTIVE_SUMMARY": "Executive Summary",
	"CUSTOMER_DUE_DILIGENCE": "Customer Due Diligence"}

// Report is a compliance report (§ "compliance report" of API.md).
type Report struct {
	ReportID         string                    `json:"report_id,omitempty"`
	ReportType       string                    `json:"report_type"`
	WorkflowID       string                    `json:"workflow_id"`
	GeneratedAt      string                    `json:"generated_at"`
	ExecutiveSummary ExecutiveSummary          `json:"executive_summary"`
	BusinessImpact   BusinessImpact            `json:"business_impact"`
	OWASPLLMCoverage map[string]ControlStatus  `json:"owasp_llm_coverage"`
	SOC2Compliance   map[string]SOC2Status     `json:"soc2_compliance"`
	SecurityChecks   map[string]CategoryStatus `json:"security_checks"`
	StaticAnalysis   StaticPart                `json:"static_analysis"`
	DynamicAnalysis  DynamicPart               `json:"dynamic_analysis"`
	RemediationSum   RemediationSummary        `json:"remediation_summary"`
	AuditTrail       []*AuditEntry             `json:"audit_trail"`
	BlockingItems    []*Recommendation         `json:"blocking_items"`
	// BlockingFindings are the OPEN CRITICAL and HIGH findings no
	// recommendation tracks, which block the gate too (not in the original).
	BlockingFindings  []*Finding        `json:"blocking_findings"`
	FindingsDetail    []*Finding        `json:"findings_detail"`
	RecommendationsDe []*Recommendation `json:"recommendations_detail"`
}

// ExecutiveSummary is the report's decision.
type ExecutiveSummary struct {
	GateStatus        string        `json:"gate_status"`
	IsBlocked         bool          `json:"is_blocked"`
	RiskScore         int           `json:"risk_score"`
	RiskBreakdown     RiskBreakdown `json:"risk_breakdown"`
	Decision          string        `json:"decision"` // GO, NO-GO
	DecisionMessage   string        `json:"decision_message"`
	TotalFindings     int           `json:"total_findings"`
	OpenFindings      int           `json:"open_findings"`
	FixedFindings     int           `json:"fixed_findings"`
	DismissedFindings int           `json:"dismissed_findings"`
	BlockingCount     int           `json:"blocking_count"`
	BlockingCritical  int           `json:"blocking_critical"`
	BlockingHigh      int           `json:"blocking_high"`
}

// RiskBreakdown explains the report's risk score.
type RiskBreakdown struct {
	Formula    string          `json:"formula"`
	Breakdown  []RiskComponent `json:"breakdown"`
	RawTotal   int             `json:"raw_total"`
	FinalScore int             `json:"final_score"`
}

// RiskComponent is one severity's share of the score.
type RiskComponent struct {
	Severity string `json:"severity"`
	Count    int    `json:"count"`
	Weight   int    `json:"weight"`
	Subtotal int    `json:"subtotal"`
}

// BusinessImpact translates open findings into business risks.
type BusinessImpact struct {
	OverallRisk        string                `json:"overall_risk"`
	OverallDescription string                `json:"overall_description"`
	Impacts            map[string]ImpactItem `json:"impacts"`
	ExecutiveBullets   []string              `json:"executive_bullets"`
}

// ImpactItem is one business risk.
type ImpactItem struct {
	RiskLevel          string   `json:"risk_level"` // HIGH, MEDIUM, LOW, NONE
	Description        string   `json:"description"`
	AffectedComponents []string `json:"affected_components"`
}

// ControlStatus is one OWASP LLM Top 10 row.
type ControlStatus struct {
	Status        string     `json:"status"` // PASS, WARNING, FAIL
	Name          string     `json:"name"`
	Message       string     `json:"message"`
	FindingsCount int        `json:"findings_count"`
	OpenCount     int        `json:"open_count"`
	FixedCount    int        `json:"fixed_count"`
	Findings      []*Finding `json:"findings"`
}

// SOC2Status is one SOC 2 control row.
type SOC2Status struct {
	Status        string `json:"status"` // COMPLIANT, NON-COMPLIANT
	Name          string `json:"name"`
	FindingsCount int    `json:"findings_count"`
	OpenCount     int    `json:"open_count"`
}

// CategoryStatus is one static category row.
type CategoryStatus struct {
	Status        string  `json:"status"` // PASS, INFO, WARNING, FAIL
	Name          string  `json:"name"`
	FindingsCount int     `json:"findings_count"`
	OpenCount     int     `json:"open_count"`
	MaxSeverity   *string `json:"max_severity"`
}

// StaticPart and DynamicPart summarise the analyses behind the report.
type StaticPart struct {
	SessionsCount int     `json:"sessions_count"`
	LastScan      *string `json:"last_scan"`
	FindingsCount int     `json:"findings_count"`
}

type DynamicPart struct {
	SessionsCount       int      `json:"sessions_count"`
	LastAnalysis        *string  `json:"last_analysis"`
	SessionsAnalyzed    int64    `json:"sessions_analyzed"`
	ChecksTotal         int      `json:"checks_total"`
	ChecksPassed        int      `json:"checks_passed"`
	BehavioralStability *float64 `json:"behavioral_stability"`
}

// RemediationSummary counts recommendations by status.
type RemediationSummary struct {
	TotalRecommendations int `json:"total_recommendations"`
	Pending              int `json:"pending"`
	Fixing               int `json:"fixing"`
	Fixed                int `json:"fixed"`
	Verified             int `json:"verified"`
	Dismissed            int `json:"dismissed"`
	Resolved             int `json:"resolved"`
}

var soc2Names = []struct{ id, name string }{
	{"CC6.1", "Logical Access"}, {"CC6.5", "Data Classification"}, {"CC6.6", "System Boundaries"},
	{"CC6.7", "External Access"}, {"CC7.2", "System Monitoring"}, {"PI1.1", "Privacy Controls"},
}

var categoryNames = map[string]string{"PROMPT": "Prompt Security", "OUTPUT": "Output Security", "TOOL": "Tool Security",
	"DATA": "Data & Secrets", "MEMORY": "Memory & Context", "SUPPLY": "Supply Chain", "BEHAVIOR": "Behavioral Boundaries"}

// reportWeight is formula B's weight (compliance report risk score).
func reportWeight(sev string) int { return severityWeight(sev, 2, 1) }

// ComplianceReport builds a workflow's compliance report; with save it is
// stored (id "RPT-" + 8 hex) and the answer carries its report_id.
func (s *Service) ComplianceReport(ctx context.Context, wf, reportType string, save bool, by string) (*Report, error) {
	if err := required("workflow_id", wf); err != nil {
		return nil, err
	}
	typ, err := enum("report_type", reportType, "SECURITY_ASSESSMENT", ReportTypes)
	if err != nil {
		return nil, err
	}
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	fs, err := s.findings(ctx, "agent_workflow_id = ?", wf)
	if err != nil {
		return nil, err
	}
	recs, sessions, err := s.recsAndSessions(ctx, wf)
	if err != nil {
		return nil, err
	}
	checks, err := s.selectRows(ctx, checksT, "security checks", "agent_workflow_id = ?", wf)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(fs)+len(recs))
	for _, f := range fs {
		ids = append(ids, f.FindingID)
	}
	for _, r := range recs {
		ids = append(ids, r.RecommendationID)
	}
	trail := []*AuditEntry{}
	if len(ids) > 0 {
		rows, err := s.query(ctx, "audit log", "SELECT "+auditT.selectList()+" FROM "+s.o.Table(AuditTable)+
			" FINAL WHERE entity_id IN ? ORDER BY performed_us DESC, id DESC LIMIT 50", ids)
		if err != nil {
			return nil, err
		}
		for _, r := range rows.Data {
			trail = append(trail, scanAudit(r))
		}
	}
	now := s.opts.Now()
	rep := buildReport(wf, typ, now, fs, recs, sessions, checks)
	rep.AuditTrail = trail
	if !save {
		return rep, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rep.ReportID = "RPT-" + strings.ToUpper(randomHex(4))
	data, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	saved := &SavedReport{ReportID: rep.ReportID, AgentWorkflowID: wf, ReportType: strings.ToLower(typ),
		ReportName: reportNames[typ] + " - " + now.UTC().Format("January 02, 2006"), GeneratedBy: opt(by),
		RiskScore: rep.ExecutiveSummary.RiskScore, GateStatus: rep.ExecutiveSummary.GateStatus,
		FindingsCount: int64(len(fs)), RecommendationsCount: int64(len(recs)), ReportData: data, generatedUS: now.UnixMicro()}
	if err := s.insert(ctx, reportsT, "report "+saved.ReportID, saved.row()); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, "report", saved.ReportID, "REPORT_SAVED", "", saved.GateStatus, "", by,
		map[string]any{"workflow_id": wf, "risk_score": saved.RiskScore}); err != nil {
		return nil, err
	}
	return rep, nil
}

func buildReport(wf, typ string, now time.Time, fs []*Finding, recs []*Recommendation, sessions []*AnalysisSession, checks [][]any) *Report {
	rep := &Report{ReportType: strings.ToLower(typ), WorkflowID: wf, GeneratedAt: *isoUS(now.UnixMicro()),
		OWASPLLMCoverage: map[string]ControlStatus{}, SOC2Compliance: map[string]SOC2Status{}, SecurityChecks: map[string]CategoryStatus{},
		AuditTrail: []*AuditEntry{}, BlockingItems: []*Recommendation{}, BlockingFindings: []*Finding{}, FindingsDetail: head(fs, 50, 50), RecommendationsDe: head(recs, 50, 50)}
	if rep.FindingsDetail == nil {
		rep.FindingsDetail = []*Finding{}
	}
	if rep.RecommendationsDe == nil {
		rep.RecommendationsDe = []*Recommendation{}
	}
	es := &rep.ExecutiveSummary
	openBySev := map[string]int{}
	for _, f := range fs {
		es.TotalFindings++
		switch f.Status {
		case "OPEN":
			es.OpenFindings++
			openBySev[f.Severity]++
		case "FIXED", "RESOLVED":
			es.FixedFindings++
		case "DISMISSED", "IGNORED":
			es.DismissedFindings++
		}
	}
	raw := 0
	for _, sev := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW"} {
		c := RiskComponent{Severity: sev, Count: openBySev[sev], Weight: reportWeight(sev)}
		c.Subtotal = c.Count * c.Weight
		raw += c.Subtotal
		es.RiskBreakdown.Breakdown = append(es.RiskBreakdown.Breakdown, c)
	}
	for sev, n := range openBySev {
		if severityRank(sev) > 3 {
			raw += n * reportWeight(sev)
		}
	}
	es.RiskBreakdown.Formula = "CRITICAL×25 + HIGH×15 + MEDIUM×5 + LOW×2 (capped at 100)"
	es.RiskBreakdown.RawTotal, es.RiskBreakdown.FinalScore = raw, min(raw, 100)
	es.RiskScore = min(raw, 100)

	gate := readiness(wf, recs, fs, sessions)
	es.IsBlocked, es.GateStatus = gate.Gate.IsBlocked, gate.Gate.State
	es.BlockingCount, es.BlockingCritical, es.BlockingHigh = gate.Gate.BlockingCount, gate.blockingCritical, gate.blockingHigh
	rep.BlockingItems = append(rep.BlockingItems, gate.blocking...)
	rep.BlockingFindings = append(rep.BlockingFindings, gate.blockingFindings...)
	if es.IsBlocked {
		es.Decision = "NO-GO"
		parts := []string{}
		if es.BlockingCritical > 0 {
			parts = append(parts, strconv.Itoa(es.BlockingCritical)+" critical")
		}
		if es.BlockingHigh > 0 {
			parts = append(parts, strconv.Itoa(es.BlockingHigh)+" high")
		}
		es.DecisionMessage = "Do not deploy to production. " + strings.Join(parts, " and ") + " severity issues must be resolved."
	} else {
		es.Decision = "GO"
		es.DecisionMessage = "Cleared for production deployment. All critical and high security issues have been addressed."
	}

	for _, id := range controlIDs() {
		cs := ControlStatus{Name: controls[id].Name, Findings: []*Finding{}}
		worst := 4
		for _, f := range fs {
			if !contains(f.OWASPMapping, id) {
				continue
			}
			cs.FindingsCount++
			if len(cs.Findings) < 5 {
				cs.Findings = append(cs.Findings, f)
			}
			switch f.Status {
			case "OPEN":
				cs.OpenCount++
				worst = min(worst, severityRank(f.Severity))
			case "FIXED", "RESOLVED":
				cs.FixedCount++
			}
		}
		switch {
		case cs.OpenCount > 0 && worst <= 1:
			cs.Status = "FAIL"
		case cs.OpenCount > 0:
			cs.Status = "WARNING"
		default:
			cs.Status = "PASS"
		}
		cs.Message = strconv.Itoa(cs.OpenCount) + " open, " + strconv.Itoa(cs.FixedCount) + " fixed"
		rep.OWASPLLMCoverage[id] = cs
	}
	for _, c := range soc2Names {
		st := SOC2Status{Name: c.name, Status: "COMPLIANT"}
		for _, f := range fs {
			if contains(f.SOC2Controls, c.id) {
				st.FindingsCount++
				if f.Status == "OPEN" {
					st.OpenCount++
					st.Status = "NON-COMPLIANT"
				}
			}
		}
		rep.SOC2Compliance[c.id] = st
	}
	for _, cat := range Categories {
		rep.SecurityChecks[cat] = categoryStatus(cat, fs)
	}

	for _, a := range sessions {
		if a.SessionType == "STATIC" {
			rep.StaticAnalysis.SessionsCount++
			if rep.StaticAnalysis.LastScan == nil {
				rep.StaticAnalysis.LastScan = a.CreatedAt
			}
		} else if a.SessionType == "DYNAMIC" {
			rep.DynamicAnalysis.SessionsCount++
			if rep.DynamicAnalysis.LastAnalysis == nil {
				rep.DynamicAnalysis.LastAnalysis = a.CreatedAt
			}
			if a.SessionsAnalyzed != nil {
				rep.DynamicAnalysis.SessionsAnalyzed += *a.SessionsAnalyzed
			}
		}
	}
	for _, f := range fs {
		if f.SourceType == "STATIC" {
			rep.StaticAnalysis.FindingsCount++
		}
	}
	for _, r := range checks {
		c := scanCheck(r)
		rep.DynamicAnalysis.ChecksTotal++
		if c.Status == "passed" {
			rep.DynamicAnalysis.ChecksPassed++
		}
	}
	rs := &rep.RemediationSum
	for _, r := range recs {
		rs.TotalRecommendations++
		switch r.Status {
		case "PENDING":
			rs.Pending++
		case "FIXING":
			rs.Fixing++
		case "FIXED":
			rs.Fixed++
		case "VERIFIED":
			rs.Verified++
		case "DISMISSED", "IGNORED":
			rs.Dismissed++
		case "RESOLVED", "SUPERSEDED":
			rs.Resolved++
		}
	}
	rep.BusinessImpact = businessImpact(fs, openBySev)
	return rep
}

// categoryStatus is a static category's row: FAIL with an OPEN CRITICAL
// or HIGH finding, WARNING with an OPEN MEDIUM one, INFO with other OPEN
// ones, else PASS.
func categoryStatus(cat string, fs []*Finding) CategoryStatus {
	cs := CategoryStatus{Name: categoryNames[cat], Status: "PASS"}
	worst := 5
	for _, f := range fs {
		if deref(f.Category) != cat {
			continue
		}
		cs.FindingsCount++
		if f.Status == "OPEN" {
			cs.OpenCount++
			worst = min(worst, severityRank(f.Severity))
		}
	}
	switch {
	case cs.OpenCount == 0:
	case worst <= 1:
		cs.Status = "FAIL"
	case worst == 2:
		cs.Status = "WARNING"
	default:
		cs.Status = "INFO"
	}
	if cs.OpenCount > 0 && worst < len(Severities) {
		cs.MaxSeverity = &Severities[worst]
	}
	return cs
}

var levelRank = map[string]int{"NONE": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3}

func businessImpact(fs []*Finding, openBySev map[string]int) BusinessImpact {
	type rule struct {
		key, desc string
		match     func(f *Finding, t string) bool
		level     func(sev string) string
	}
	highMed := func(sev string) string {
		switch sev {
		case "CRITICAL":
			return "HIGH"
		case "HIGH":
			return "MEDIUM"
		}
		return "LOW"
	}
	medLow := func(sev string) string {
		switch sev {
		case "CRITICAL", "HIGH":
			return "MEDIUM"
		}
		return "LOW"
	}
	has := func(f *Finding, c string) bool { return contains(f.OWASPMapping, c) }
	rules := []rule{
		{"remote_code_execution", "An attacker could make the agent run commands or take actions on its systems.",
			func(f *Finding, t string) bool {
				return deref(f.Category) == "TOOL" || has(f, "LLM06") || strings.Contains(t, "agency") || strings.Contains(t, "execution")
			}, highMed},
		{"data_exfiltration", "Secrets or personal data could leak to users, logs or attackers.",
			func(f *Finding, t string) bool {
				return deref(f.Category) == "DATA" || has(f, "LLM02") || strings.Contains(t, "secret") || strings.Contains(t, "credential") || strings.Contains(t, "pii")
			}, highMed},
		{"privilege_escalation", "Crafted input could override the agent's instructions and act beyond the user's rights.",
			func(f *Finding, t string) bool {
				return deref(f.Category) == "PROMPT" || has(f, "LLM01") || strings.Contains(t, "injection")
			}, highMed},
		{"supply_chain", "A dependency or model change could alter the agent's behaviour unnoticed.",
			func(f *Finding, t string) bool { return deref(f.Category) == "SUPPLY" || has(f, "LLM03") }, medLow},
	}
	bi := BusinessImpact{Impacts: map[string]ImpactItem{}, ExecutiveBullets: []string{}}
	overall := "NONE"
	for _, r := range rules {
		it := ImpactItem{RiskLevel: "NONE", Description: r.desc, AffectedComponents: []string{}}
		for _, f := range fs {
			if f.Status != "OPEN" || !r.match(f, strings.ToLower(f.Title)) {
				continue
			}
			if l := r.level(f.Severity); levelRank[l] > levelRank[it.RiskLevel] {
				it.RiskLevel = l
			}
			if len(it.AffectedComponents) < 5 && !contains(it.AffectedComponents, f.FilePath) {
				it.AffectedComponents = append(it.AffectedComponents, f.FilePath)
			}
		}
		bi.Impacts[r.key] = it
		if levelRank[it.RiskLevel] > levelRank[overall] {
			overall = it.RiskLevel
		}
	}
	comp := ImpactItem{RiskLevel: "NONE", Description: "Open critical or high issues put SOC 2 and similar audits at risk.", AffectedComponents: []string{}}
	if openBySev["CRITICAL"]+openBySev["HIGH"] > 0 {
		comp.RiskLevel = "HIGH"
		overall = "HIGH"
	}
	bi.Impacts["compliance_violation"] = comp
	bi.OverallRisk = overall
	bi.OverallDescription = map[string]string{"HIGH": "Serious risks must be addressed before production.",
		"MEDIUM": "Moderate risks should be addressed soon.", "LOW": "Minor risks remain.", "NONE": "No significant business risk identified."}[overall]
	if n := openBySev["CRITICAL"]; n > 0 {
		bi.ExecutiveBullets = append(bi.ExecutiveBullets, "🔴 "+strconv.Itoa(n)+" critical issue(s) need immediate attention")
	}
	if n := openBySev["HIGH"]; n > 0 {
		bi.ExecutiveBullets = append(bi.ExecutiveBullets, "🟠 "+strconv.Itoa(n)+" high severity issue(s) to fix before production")
	}
	for _, x := range []struct{ key, line string }{
		{"remote_code_execution", "Remote code execution / excessive agency risk"},
		{"data_exfiltration", "Data exposure risk"},
		{"privilege_escalation", "Access control bypass risk (prompt injection)"},
	} {
		if l := bi.Impacts[x.key].RiskLevel; l == "HIGH" || l == "MEDIUM" {
			bi.ExecutiveBullets = append(bi.ExecutiveBullets, "⚠️ "+x.line+": "+l)
		}
	}
	if comp.RiskLevel == "HIGH" {
		bi.ExecutiveBullets = append(bi.ExecutiveBullets, "📋 Compliance at risk until critical and high issues are closed")
	}
	if len(bi.ExecutiveBullets) == 0 {
		bi.ExecutiveBullets = append(bi.ExecutiveBullets, "✅ No critical security risks identified")
	}
	return bi
}

// ReportList is GET /api/workflow/{wf}/reports.
type ReportList struct {
	Reports []*SavedReport `json:"reports"`
}

// ListReports lists a workflow's saved reports, newest first, without
// their data.
func (s *Service) ListReports(ctx context.Context, wf, reportType string, limit int) (*ReportList, error) {
	if err := required("workflow_id", wf); err != nil {
		return nil, err
	}
	typ, err := optEnum("report_type", reportType, ReportTypes)
	if err != nil {
		return nil, err
	}
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	rows, err := s.selectRows(ctx, reportsT, "reports", "agent_workflow_id = ?", wf)
	if err != nil {
		return nil, err
	}
	out := &ReportList{Reports: []*SavedReport{}}
	for _, r := range rows {
		rep := scanReport(r)
		if rep.deleted || (typ != "" && rep.ReportType != strings.ToLower(typ)) {
			continue
		}
		rep.ReportData = nil
		out.Reports = append(out.Reports, rep)
	}
	sortReports(out.Reports)
	out.Reports = head(out.Reports, limit, 50)
	return out, nil
}

func sortReports(rs []*SavedReport) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && (rs[j].generatedUS > rs[j-1].generatedUS ||
			rs[j].generatedUS == rs[j-1].generatedUS && rs[j].ReportID > rs[j-1].ReportID); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// SavedReportByID returns a saved report with its data.
func (s *Service) SavedReportByID(ctx context.Context, id string) (*SavedReport, error) {
	return lookup(ctx, s, "report_id", id, s.report)
}

func (s *Service) report(ctx context.Context, id string) (*SavedReport, error) {
	r, err := byKey(ctx, s, reportsT, "report", id, scanReport)
	if err != nil {
		return nil, err
	}
	if r.deleted {
		return nil, &NotFoundError{Kind: "report", ID: id}
	}
	return r, nil
}

// Deleted is DELETE /api/reports/{id}.
type Deleted struct {
	Success  bool   `json:"success"`
	ReportID string `json:"report_id"`
}

// DeleteReport removes a saved report (a tombstone version: the store
// keeps no history of it beyond the audit log).
func (s *Service) DeleteReport(ctx context.Context, id, by string) (*Deleted, error) {
	return update(ctx, s, "report_id", id, s.report, func(r *SavedReport) (*Deleted, error) {
		r.deleted, r.ReportData = true, nil
		if err := s.insert(ctx, reportsT, "report "+id, r.row()); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, "report", id, "REPORT_DELETED", r.GateStatus, "", "", by, nil); err != nil {
			return nil, err
		}
		return &Deleted{Success: true, ReportID: id}, nil
	})
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
