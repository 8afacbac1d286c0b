package behavior

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Check statuses, worst last.
const (
	StatusPassed   = "passed"
	StatusWarning  = "warning"
	StatusCritical = "critical"
)

// Category ids.
const (
	CategoryResource    = "RESOURCE_MANAGEMENT"
	CategoryEnvironment = "ENVIRONMENT"
	CategoryBehavioral  = "BEHAVIORAL"
	CategoryPrivacy     = "PRIVACY_COMPLIANCE"
)

// Thresholds of the checks (the original's).
const (
	MaxTokensPerSession    = 50000 // RESOURCE_001
	MaxToolCallsPerSession = 50    // RESOURCE_002
	MaxVarianceCV          = 0.7   // RESOURCE_004/005/006: warning above
	MinToolCoverage        = 0.80  // ENV_002
	MinStability           = 0.80  // BEHAV_001
	MaxOutlierRate         = 0.20  // BEHAV_002: critical at or above
	MinPredictability      = 0.60  // BEHAV_004
	MaxUncertainty         = 0.25  // BEHAV_005
	HighConfidence         = 0.8   // PII_001: a finding this confident is high-confidence
	MaxMediumPIIFindings   = 10    // PII_001: warning above this many medium-confidence findings
	MaxPIIExposureRate     = 0.5   // PII_003: warning above
	maxEvidenceFindings    = 20
	maxViolationsListed    = 20
)

// HighRiskPII are the detector rules whose high-confidence findings make
// PII_001 critical: the original's US_SSN, CREDIT_CARD and US_BANK_NUMBER
// (an IBAN is a bank account number). Its MEDICAL_LICENSE and US_PASSPORT
// have no detector here (package detect explains why).
var HighRiskPII = []string{"pii.credit_card", "pii.us_ssn", "pii.iban"}

// Check is one dynamic security check's outcome.
type Check struct {
	CheckID         string         `json:"check_id"`
	Category        string         `json:"category"`
	Name            string         `json:"name"`
	Description     string         `json:"description"`
	Status          string         `json:"status"`
	Value           string         `json:"value"`
	Evidence        map[string]any `json:"evidence"`
	Recommendations []string       `json:"recommendations"`
	OWASPLLM        string         `json:"owasp_llm,omitempty"`
	OWASPLLMName    string         `json:"owasp_llm_name,omitempty"`
	SOC2Controls    []string       `json:"soc2_controls"`
	CWE             string         `json:"cwe,omitempty"`
	MITRE           string         `json:"mitre,omitempty"`
	CVSSScore       float64        `json:"cvss_score,omitempty"` // only when not passed
}

// CategoryReport is one category's checks.
type CategoryReport struct {
	CategoryID      string         `json:"category_id"`
	CategoryName    string         `json:"category_name"`
	Icon            string         `json:"icon"`
	Order           int            `json:"order"`
	Checks          []Check        `json:"checks"`
	Metrics         map[string]any `json:"metrics"`
	CriticalChecks  int            `json:"critical_checks"`
	WarningChecks   int            `json:"warning_checks"`
	PassedChecks    int            `json:"passed_checks"`
	TotalChecks     int            `json:"total_checks"`
	HighestSeverity string         `json:"highest_severity"`
}

// Report is the security report (the original's security_report).
type Report struct {
	ReportID         string                     `json:"report_id"`
	AgentID          string                     `json:"agent_id"`
	Timestamp        time.Time                  `json:"timestamp"`
	SessionsAnalyzed int                        `json:"sessions_analyzed"`
	OverallStatus    string                     `json:"overall_status"`
	TotalChecks      int                        `json:"total_checks"`
	CriticalIssues   int                        `json:"critical_issues"`
	Warnings         int                        `json:"warnings"`
	PassedChecks     int                        `json:"passed_checks"`
	Categories       map[string]*CategoryReport `json:"categories"`
	Summary          Summary                    `json:"summary"`
}

// Summary counts a report's checks.
type Summary struct {
	TotalChecks    int `json:"total_checks"`
	PassedChecks   int `json:"passed_checks"`
	CriticalIssues int `json:"critical_issues"`
	Warnings       int `json:"warnings"`
	// PIIDisabled and its reason say that the PRIVACY_COMPLIANCE category
	// is absent because no PII analysis ran (the original's fields).
	PIIDisabled       bool   `json:"pii_disabled,omitempty"`
	PIIDisabledReason string `json:"pii_disabled_reason,omitempty"`
}

// Checks lists every check of the report in category order.
func (r *Report) Checks() []Check {
	var out []Check
	for _, def := range categoryDefs {
		if c := r.Categories[def.id]; c != nil {
			out = append(out, c.Checks...)
		}
	}
	return out
}

// Check finds a check by id.
func (r *Report) Check(id string) (Check, bool) {
	for _, c := range r.Checks() {
		if c.CheckID == id {
			return c, true
		}
	}
	return Check{}, false
}

// PIISummary is what the agent's personal-data findings say.
type PIISummary struct {
	Total    int64            // findings
	High     int64            // confidence ≥ HighConfidence
	Medium   int64            // confidence in [0.5, HighConfidence)
	HighRisk int64            // high-confidence findings of a HighRiskPII rule
	ByType   map[string]int64 // rule → findings
	// Detailed are the strongest findings, most confident first (at most
	// 20 are shown).
	Detailed []PIIFinding
	// SystemPrompt are the findings in the system prompts of the sessions.
	SystemPrompt []PIIFinding
}

// PIIFinding is one personal-data finding; Text is the detector's
// redacted evidence, never the value.
type PIIFinding struct {
	Type      string  `json:"entity_type"`
	Text      string  `json:"text"`
	Score     float64 `json:"score"`
	SessionID string  `json:"session_id,omitempty"`
	Location  string  `json:"event_location"`
	// Sessions is how many sessions carried the text (system prompts).
	Sessions int64 `json:"sessions,omitempty"`
}

// Input is an agent's facts.
type Input struct {
	AgentID string
	// Sessions are the completed sessions to evaluate, newest first.
	Sessions []Session
	// ActiveSessions are sessions still running (not evaluated).
	ActiveSessions int
	// PII is the personal-data summary over Sessions; nil leaves the
	// PRIVACY_COMPLIANCE category out.
	PII *PIISummary
	Now time.Time
}

// Evaluate runs the behavioural analysis and the 16 checks. It returns
// nils for an agent without completed sessions.
func Evaluate(in *Input) (*Report, *Analysis) {
	if len(in.Sessions) == 0 {
		return nil, nil
	}
	a := Analyze(in.Sessions, in.ActiveSessions)
	r := &Report{ReportID: "dynamic_" + in.AgentID + "_" + in.Now.UTC().Format("20060102_150405"), AgentID: in.AgentID,
		Timestamp: in.Now.UTC(), SessionsAnalyzed: len(in.Sessions), Categories: map[string]*CategoryReport{}}
	add := func(cat string, checks []Check, metrics map[string]any) {
		def := categoryByID(cat)
		c := &CategoryReport{CategoryID: cat, CategoryName: def.name, Icon: def.icon, Order: def.order, Checks: checks,
			Metrics: metrics, HighestSeverity: StatusPassed}
		for _, ch := range checks {
			switch ch.Status {
			case StatusCritical:
				c.CriticalChecks++
			case StatusWarning:
				c.WarningChecks++
			default:
				c.PassedChecks++
			}
		}
		c.TotalChecks = len(checks)
		c.HighestSeverity = worst(c.CriticalChecks, c.WarningChecks)
		r.Categories[cat] = c
		r.TotalChecks += c.TotalChecks
		r.CriticalIssues += c.CriticalChecks
		r.Warnings += c.WarningChecks
		r.PassedChecks += c.PassedChecks
	}
	add(resourceChecks(in.Sessions))
	add(environmentChecks(in.Sessions))
	add(behavioralChecks(a))
	if in.PII != nil {
		add(privacyChecks(in.PII, in.Sessions))
	}
	r.OverallStatus = worst(r.CriticalIssues, r.Warnings)
	r.Summary = Summary{TotalChecks: r.TotalChecks, PassedChecks: r.PassedChecks, CriticalIssues: r.CriticalIssues, Warnings: r.Warnings}
	return r, a
}

func worst(critical, warning int) string {
	switch {
	case critical > 0:
		return StatusCritical
	case warning > 0:
		return StatusWarning
	}
	return StatusPassed
}

// newCheck fills a check from its definition; status, value, evidence and
// recommendations are the rule's.
func newCheck(id, status, value string, evidence map[string]any, recs ...string) Check {
	d := checkDefs[id]
	c := Check{CheckID: id, Category: d.category, Name: d.name, Description: d.description, Status: status, Value: value,
		Evidence: evidence, Recommendations: recs, OWASPLLM: d.owasp, OWASPLLMName: d.owaspName,
		SOC2Controls: d.soc2, CWE: d.cwe, MITRE: d.mitre}
	if c.Evidence == nil {
		c.Evidence = map[string]any{}
	}
	if c.Recommendations == nil {
		c.Recommendations = []string{}
	}
	switch status {
	case StatusCritical:
		c.CVSSScore = d.cvssCritical
	case StatusWarning:
		c.CVSSScore = d.cvssWarning
	}
	return c
}

// pct is Python's round(x*100) as a string.
func pct(x float64) string { return strconv.FormatInt(pyRoundInt(x*100), 10) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// varianceCheck warns when the values' coefficient of variation is above
// MaxVarianceCV.
func varianceCheck(id string, xs []float64, what string) Check {
	if len(xs) < 2 {
		return newCheck(id, StatusPassed, "Insufficient data", map[string]any{"sessions": len(xs)})
	}
	v := cv(xs)
	ev := map[string]any{"coefficient_of_variation": pyRound(v, 2), "sessions": len(xs), "mean": pyRound(mean(xs), 2),
		"std_dev": pyRound(sampleStdev(xs), 2), "threshold": MaxVarianceCV}
	value := "CV: " + pct(v) + "%"
	if v > MaxVarianceCV {
		return newCheck(id, StatusWarning, value, ev,
			"Sessions vary widely in "+what+"; find the sessions that differ and bound them",
			"Set per-session limits so one session cannot consume far more than the others")
	}
	return newCheck(id, StatusPassed, value, ev)
}

type violation struct {
	SessionID string `json:"session_id"`
	Value     int64  `json:"value"`
	Limit     int64  `json:"limit"`
}

// boundCheck is critical when any session exceeds limit.
func boundCheck(id string, ss []Session, get func(*Session) int64, limit int64, passed func(max int64) string, recs ...string) Check {
	var viol []violation
	var hi int64
	for i := range ss {
		v := get(&ss[i])
		hi = max(hi, v)
		if v > limit {
			viol = append(viol, violation{SessionID: ss[i].ID, Value: v, Limit: limit})
		}
	}
	if len(viol) > 0 {
		n := len(viol)
		return newCheck(id, StatusCritical, strconv.Itoa(n)+" violation(s)", map[string]any{
			"violations": viol[:min(n, maxViolationsListed)], "violation_count": n, "limit": limit, "max_value": hi}, recs...)
	}
	return newCheck(id, StatusPassed, passed(hi), map[string]any{"max_value": hi, "limit": limit})
}

func resourceChecks(ss []Session) (string, []Check, map[string]any) {
	var dur, tools, tokens []float64
	var maxCalls int64
	for i := range ss {
		s := &ss[i]
		if d := s.DurationMinutes(); d > 0 {
			dur = append(dur, d)
		}
		if s.ToolCalls > 0 {
			tools = append(tools, float64(s.ToolCalls))
		}
		if t := s.TotalTokens(); t > 0 {
			tokens = append(tokens, float64(t))
		}
		maxCalls = max(maxCalls, s.ToolCalls)
	}
	checks := []Check{
		varianceCheck("RESOURCE_006_DURATION_VARIANCE", dur, "duration"),
		varianceCheck("RESOURCE_005_TOOL_VARIANCE", tools, "tool calls"),
		varianceCheck("RESOURCE_004_TOKEN_VARIANCE", tokens, "tokens"),
		boundCheck("RESOURCE_001_TOKEN_BOUNDS", ss, (*Session).TotalTokens, MaxTokensPerSession,
			func(m int64) string { return thousands(m) + " max tokens" },
			"Cap tokens per session (max_tokens, conversation length) at "+thousands(MaxTokensPerSession),
			"Review the sessions over the limit for loops or oversized context"),
		boundCheck("RESOURCE_002_TOOL_CALL_BOUNDS", ss, func(s *Session) int64 { return s.ToolCalls }, MaxToolCallsPerSession,
			func(m int64) string { return itoa(m) + " max calls" },
			"Cap tool calls per session at "+itoa(MaxToolCallsPerSession),
			"Review the sessions over the limit for tool-call loops"),
	}
	metrics := map[string]any{"avg_tokens": pyRound(mean(tokens), 0), "avg_duration_minutes": pyRound(mean(dur), 1),
		"max_tokens": int64(slices.Max(append(tokens, 0))), "max_tool_calls": maxCalls}
	return CategoryResource, checks, metrics
}

// A model is pinned when its name ends in a date or version (Python
// re.search on the raw name): P1 a date or four-digit suffix after ':' or
// '-', P2 a numeric or semantic version suffix.
var (
	pinnedDate    = regexp.MustCompile(`[:\-](\d{8}|\d{4})$`)
	pinnedVersion = regexp.MustCompile(`-v?\d+(\.\d+)*$`)
)

// Pinned reports whether a model name names a fixed model version.
func Pinned(model string) bool {
	return pinnedDate.MatchString(model) || pinnedVersion.MatchString(model)
}

func environmentChecks(ss []Session) (string, []Check, map[string]any) {
	models := map[string]bool{}
	avail, used := map[string]bool{}, map[string]bool{}
	var coverage []float64
	var calls []float64
	for i := range ss {
		s := &ss[i]
		for _, m := range s.Models {
			models[m] = true
		}
		u := s.usedTools()
		for t := range u {
			used[t] = true
		}
		calls = append(calls, float64(s.ToolCalls))
		if len(s.AvailableTools) == 0 {
			continue
		}
		offered := map[string]bool{}
		for _, t := range s.AvailableTools {
			avail[t] = true
			offered[t] = true
		}
		hit := 0
		for t := range offered {
			if u[t] {
				hit++
			}
		}
		coverage = append(coverage, float64(hit)/float64(len(offered)))
	}
	names := sortedKeys(models)
	var checks []Check

	// ENV_001
	var unpinned []string
	for _, m := range names {
		if !Pinned(m) {
			unpinned = append(unpinned, m)
		}
	}
	switch {
	case len(names) == 0:
		checks = append(checks, newCheck("ENV_001_CONSISTENT_MODEL", StatusPassed, "No models detected", nil))
	case len(unpinned) > 0:
		checks = append(checks, newCheck("ENV_001_CONSISTENT_MODEL", StatusCritical, strconv.Itoa(len(unpinned))+" unpinned model(s)",
			map[string]any{"unpinned_models": unpinned, "models": names},
			"Pin model versions: "+strings.Join(unpinned, ", ")))
	default:
		checks = append(checks, newCheck("ENV_001_CONSISTENT_MODEL", StatusPassed, strconv.Itoa(len(names))+" pinned model(s)",
			map[string]any{"models": names}))
	}

	// ENV_002
	avg := mean(coverage)
	switch {
	case len(ss) == 0:
		checks = append(checks, newCheck("ENV_002_AVG_TOOLS_COVERAGE", StatusPassed, "No sessions", nil))
	case len(coverage) == 0:
		checks = append(checks, newCheck("ENV_002_AVG_TOOLS_COVERAGE", StatusPassed, "No tools available", nil))
	default:
		ev := map[string]any{"avg_coverage": pyRound(avg, 2), "sessions_with_tools": len(coverage), "threshold": MinToolCoverage}
		if avg >= MinToolCoverage {
			checks = append(checks, newCheck("ENV_002_AVG_TOOLS_COVERAGE", StatusPassed, pct(avg)+"% coverage", ev))
		} else {
			checks = append(checks, newCheck("ENV_002_AVG_TOOLS_COVERAGE", StatusWarning, pct(avg)+"% coverage", ev,
				"Offer each request only the tools it needs; sessions use few of the tools they are given"))
		}
	}

	// ENV_003
	var unused []string
	for _, t := range sortedKeys(avail) {
		if !used[t] {
			unused = append(unused, t)
		}
	}
	switch {
	case len(avail) == 0:
		checks = append(checks, newCheck("ENV_003_UNUSED_TOOLS", StatusPassed, "No tools available", nil))
	case len(unused) == 0:
		checks = append(checks, newCheck("ENV_003_UNUSED_TOOLS", StatusPassed, "All tools used",
			map[string]any{"available_tools": len(avail)}))
	default:
		list := strings.Join(unused[:min(5, len(unused))], ", ")
		if len(unused) > 5 {
			list += " and " + strconv.Itoa(len(unused)-5) + " more"
		}
		checks = append(checks, newCheck("ENV_003_UNUSED_TOOLS", StatusWarning, strconv.Itoa(len(unused))+" unused tool(s)",
			map[string]any{"unused_tools": unused, "available_tools": len(avail), "used_tools": len(used)},
			"Remove tools the agent never uses: "+list))
	}
	model := "N/A"
	if len(names) > 0 {
		model = strings.Join(names, ", ")
	}
	metrics := map[string]any{"model": model, "avg_tools_coverage": pyRound(avg, 2), "avg_tool_calls": pyRound(mean(calls), 1)}
	return CategoryEnvironment, checks, metrics
}

func behavioralChecks(a *Analysis) (string, []Check, map[string]any) {
	metrics := map[string]any{"stability_score": pyRound(a.StabilityScore, 2), "predictability_score": pyRound(a.PredictabilityScore, 2),
		"cluster_diversity": pyRound(a.ClusterDiversity, 2), "num_clusters": a.NumClusters, "num_outliers": a.NumOutliers,
		"total_sessions": a.TotalSessions}
	if a.NumClusters == 0 {
		return CategoryBehavioral, []Check{newCheck("BEHAV_003_CLUSTER_FORMATION", StatusCritical, "0 clusters",
			map[string]any{"total_sessions": a.TotalSessions, "interpretation": a.Interpretation},
			"Run more sessions of the agent's normal workload, or make its behaviour more consistent")}, metrics
	}
	checks := []Check{newCheck("BEHAV_003_CLUSTER_FORMATION", StatusPassed, strconv.Itoa(a.NumClusters)+" cluster(s)",
		map[string]any{"num_clusters": a.NumClusters, "total_sessions": a.TotalSessions})}

	s := a.StabilityScore
	ev := map[string]any{"stability_score": pyRound(s, 2), "threshold": MinStability}
	if s >= MinStability {
		checks = append(checks, newCheck("BEHAV_001_STABILITY_SCORE", StatusPassed, pct(s)+"% score", ev))
	} else {
		ev["shortfall"] = pyRound(MinStability-s, 2)
		checks = append(checks, newCheck("BEHAV_001_STABILITY_SCORE", StatusCritical, pct(s)+"% score", ev,
			"No single behaviour pattern dominates; constrain the agent's workflow (fixed tool order, clearer instructions)"))
	}

	rate := 0.0
	if a.TotalSessions > 0 {
		rate = float64(a.NumOutliers) / float64(a.TotalSessions)
	}
	ev = map[string]any{"outlier_rate": pyRound(rate, 2), "num_outliers": a.NumOutliers, "threshold": MaxOutlierRate}
	value := itoa(pyInt(rate*100)) + "% outliers"
	if rate < MaxOutlierRate {
		checks = append(checks, newCheck("BEHAV_002_OUTLIER_RATE", StatusPassed, value, ev))
	} else {
		checks = append(checks, newCheck("BEHAV_002_OUTLIER_RATE", StatusCritical, value, ev,
			"Review the outlier sessions: their causes are listed in behavioral_analysis.outliers"))
	}

	p := a.PredictabilityScore
	ev = map[string]any{"predictability_score": pyRound(p, 2), "threshold": MinPredictability}
	if p >= MinPredictability {
		checks = append(checks, newCheck("BEHAV_004_PREDICTABILITY", StatusPassed, pct(p)+"% predictability", ev))
	} else {
		checks = append(checks, newCheck("BEHAV_004_PREDICTABILITY", StatusWarning, pct(p)+"% predictability", ev,
			"Many sessions fit no pattern; add guardrails for the unusual paths"))
	}

	u := 1 - s
	ev = map[string]any{"uncertainty": pyRound(u, 2), "threshold": MaxUncertainty}
	if u <= MaxUncertainty {
		checks = append(checks, newCheck("BEHAV_005_UNCERTAINTY_THRESHOLD", StatusPassed, pct(u)+"% uncertainty", ev))
	} else {
		checks = append(checks, newCheck("BEHAV_005_UNCERTAINTY_THRESHOLD", StatusWarning, pct(u)+"% uncertainty", ev,
			"Add human review for sessions outside the dominant pattern"))
	}
	return CategoryBehavioral, checks, metrics
}

func privacyChecks(p *PIISummary, ss []Session) (string, []Check, map[string]any) {
	var withPII int64
	for i := range ss {
		if ss[i].PIIFindings > 0 {
			withPII++
		}
	}
	rate := 0.0
	if len(ss) > 0 {
		rate = float64(withPII) / float64(len(ss))
	}
	types := sortedKeys(p.ByType)
	slices.SortStableFunc(types, func(a, b string) int { return cmp.Compare(p.ByType[b], p.ByType[a]) })
	top := types[:min(3, len(types))]
	var checks []Check

	// PII_001
	detailed := slices.Clone(p.Detailed[:min(len(p.Detailed), maxEvidenceFindings)])
	for i := range detailed {
		detailed[i].Text = truncate(detailed[i].Text, 50)
	}
	ev := map[string]any{"total_findings": p.Total, "high_confidence": p.High, "medium_confidence": p.Medium,
		"high_risk_high_confidence": p.HighRisk, "findings_by_type": p.ByType, "detailed_findings": detailed}
	value := itoa(p.Total) + " findings (" + itoa(p.High) + " high-confidence)"
	switch {
	case p.Total == 0:
		checks = append(checks, newCheck("PII_001_DETECTION", StatusPassed, "No PII detected", ev))
	case p.HighRisk > 0:
		checks = append(checks, newCheck("PII_001_DETECTION", StatusCritical, value, ev,
			"Payment cards, social security or bank account numbers reach the model: redact them before the request",
			"Review the sessions listed and the data sources that feed the agent"))
	case p.High > 0 || p.Medium > MaxMediumPIIFindings:
		checks = append(checks, newCheck("PII_001_DETECTION", StatusWarning, value, ev,
			"Personal data reaches the model: mask or minimise it before the request"))
	default:
		checks = append(checks, newCheck("PII_001_DETECTION", StatusPassed, itoa(p.Total)+" low-confidence findings", ev))
	}

	// PII_002
	sys := p.SystemPrompt
	if len(sys) > 0 {
		checks = append(checks, newCheck("PII_002_SYSTEM_PROMPT", StatusWarning, strconv.Itoa(len(sys))+" findings",
			map[string]any{"findings": sys[:min(len(sys), maxEvidenceFindings)]},
			"Remove personal data from system prompts; fetch it per request with access control instead"))
	} else {
		checks = append(checks, newCheck("PII_002_SYSTEM_PROMPT", StatusPassed, "No PII in system prompts", nil))
	}

	// PII_003
	ev = map[string]any{"sessions_with_pii": withPII, "total_sessions": len(ss), "exposure_rate": pyRound(rate, 2), "threshold": MaxPIIExposureRate}
	value = itoa(pyInt(rate*100)) + "% sessions with PII"
	switch {
	case withPII == 0:
		checks = append(checks, newCheck("PII_003_EXPOSURE_RATE", StatusPassed, "No sessions with PII", ev))
	case rate > MaxPIIExposureRate:
		checks = append(checks, newCheck("PII_003_EXPOSURE_RATE", StatusWarning, value, ev,
			"Most sessions carry personal data: minimise what the agent receives"))
	default:
		checks = append(checks, newCheck("PII_003_EXPOSURE_RATE", StatusPassed, value, ev))
	}
	metrics := map[string]any{"total_findings": p.Total, "unique_entity_types": len(types), "sessions_with_pii": withPII,
		"exposure_rate": pyRound(rate, 2), "most_common_entities": strings.Join(top, ", ")}
	return CategoryPrivacy, checks, metrics
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
