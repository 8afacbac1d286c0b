package workflow

import (
	"strings"
)

// Control is one OWASP LLM Top 10 (2025) control of the knowledge base, in
// the original's shape.
type Control struct {
	Name            string         `json:"name"`
	Severity        string         `json:"severity"`
	Description     string         `json:"description"`
	WhatToLookFor   []string       `json:"what_to_look_for"`
	CodeIndicators  CodeIndicators `json:"code_indicators"`
	Remediation     Remediation    `json:"remediation"`
	References      []string       `json:"references"`
	PerimeterChecks []string       `json:"perimeter_checks"` // runtime rules and checks that report it
}

// CodeIndicators are patterns to look for in an agent's code.
type CodeIndicators struct {
	Dangerous []string `json:"dangerous"`
	Secure    []string `json:"secure"`
}

// Remediation summarises how to fix a control's findings.
type Remediation struct {
	Summary        string   `json:"summary"`
	FixTemplateRef string   `json:"fix_template_ref"`
	Steps          []string `json:"steps"`
}

// FixTemplate is how to fix one finding type.
type FixTemplate struct {
	OWASPControl        string   `json:"owasp_control"`
	Description         string   `json:"description"`
	BeforePattern       string   `json:"before_pattern"`
	AfterPattern        string   `json:"after_pattern"`
	ApplicationGuidance []string `json:"application_guidance"`
	Verification        []string `json:"verification"`
}

// controlID normalises "LLM01", "llm01", "LLM01:2025" to "LLM01"; "" when
// s names no control.
func controlID(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	if _, ok := controls[s]; ok {
		return s
	}
	return ""
}

func controlIDs() []string { return sortedKeys(controls) }

var severityOrder = map[string]int{"LOW": 0, "MEDIUM": 1, "HIGH": 2, "CRITICAL": 3}

// patternContexts maps get_security_patterns contexts to controls; the
// original's 2023-era names are kept as aliases.
var patternContexts = map[string][]string{
	"prompt_injection":        {"LLM01"},
	"jailbreak":               {"LLM01"},
	"data_exposure":           {"LLM02"},
	"sensitive_information":   {"LLM02"},
	"pii":                     {"LLM02"},
	"secrets":                 {"LLM02"},
	"supply_chain":            {"LLM03"},
	"data_poisoning":          {"LLM04"},
	"training_data_poisoning": {"LLM04"},
	"insecure_output":         {"LLM05"},
	"improper_output":         {"LLM05"},
	"excessive_agency":        {"LLM06"},
	"insecure_plugin":         {"LLM06"},
	"tools":                   {"LLM06"},
	"system_prompt_leakage":   {"LLM07"},
	"vector_embedding":        {"LLM08"},
	"rag":                     {"LLM08"},
	"memory":                  {"LLM08"},
	"misinformation":          {"LLM09"},
	"overreliance":            {"LLM09"},
	"unbounded_consumption":   {"LLM10"},
	"rate_limiting":           {"LLM10"},
	"model_denial_of_service": {"LLM10"},
	"model_theft":             {"LLM10"},
}

// Patterns is get_security_patterns / GET /api/security/patterns.
type Patterns struct {
	Patterns    map[string]*Control `json:"patterns"`
	TotalCount  int                 `json:"total_count"`
	Context     string              `json:"context"`
	MinSeverity string              `json:"min_severity"`
}

// SecurityPatterns returns the controls for a context ("all", unknown
// contexts too, as the original) at or above minSeverity (default LOW).
func SecurityPatterns(context, minSeverity string) (*Patterns, error) {
	minSev, err := enum("min_severity", minSeverity, "LOW", Severities)
	if err != nil {
		return nil, err
	}
	ctx := strings.ToLower(strings.TrimSpace(context))
	if ctx == "" {
		ctx = "all"
	}
	ids, ok := patternContexts[ctx]
	if !ok {
		ids = controlIDs()
	}
	out := &Patterns{Patterns: map[string]*Control{}, Context: ctx, MinSeverity: minSev}
	for _, id := range ids {
		c := controls[id]
		if severityOrder[c.Severity] >= severityOrder[minSev] {
			out.Patterns[id] = c
		}
	}
	out.TotalCount = len(out.Patterns)
	return out, nil
}

// OWASPControl returns one control by id ("LLM01", "LLM01:2025").
func OWASPControl(id string) (*Control, error) {
	if err := required("control_id", id); err != nil {
		return nil, err
	}
	c := controlID(id)
	if c == "" {
		return nil, &NotFoundError{Kind: "OWASP control", ID: id}
	}
	return controls[c], nil
}

// ControlIDs lists the knowledge base's controls (for "available" lists).
func ControlIDs() []string { return controlIDs() }

// TemplateIDs lists the fix templates' finding types.
func TemplateIDs() []string { return sortedKeys(templates) }

// FixTemplateFor returns the fix template of a finding type: its own, or
// its family's (a Perimeter rule id such as "secret.github-pat" or
// "llm05.sql_injection", a dynamic check id such as
// "RESOURCE_001_TOKEN_BOUNDS", a detect category such as "pii").
func FixTemplateFor(findingType string) (*FixTemplate, error) {
	if err := required("finding_type", findingType); err != nil {
		return nil, err
	}
	t, ok := templateFor(findingType, "")
	if !ok {
		return nil, &NotFoundError{Kind: "fix template", ID: findingType}
	}
	return t, nil
}

// templateFor resolves a finding type, then the finding's category.
func templateFor(findingType, category string) (*FixTemplate, bool) {
	k := strings.ToUpper(strings.TrimSpace(findingType))
	k = strings.NewReplacer(".", "_", "-", "_", " ", "_").Replace(k)
	if t, ok := templates[k]; ok {
		return t, true
	}
	for _, a := range templateAliases {
		if strings.HasPrefix(k, a.prefix) {
			return templates[a.template], true
		}
	}
	for _, c := range []string{k, strings.ToUpper(category)} {
		if t, ok := templates[categoryTemplates[c]]; ok {
			return t, true
		}
	}
	return nil, false
}

// templateAliases send rule families to their template, longest prefix
// first.
var templateAliases = []struct{ prefix, template string }{
	{"LLM01_PROMPT_EXTRACTION", "SYSTEM_PROMPT_LEAKAGE"},
	{"LLM01_INDIRECT", "INDIRECT_PROMPT_INJECTION"},
	{"LLM01_TOOL_", "TOOL_POISONING"},
	{"LLM01_EXFILTRATION", "INDIRECT_PROMPT_INJECTION"},
	{"LLM01_", "PROMPT_INJECTION"},
	{"LLM05_SCRIPT", "XSS"},
	{"LLM05_JAVASCRIPT", "XSS"},
	{"LLM05_MARKDOWN_IMAGE", "MARKDOWN_IMAGE_EXFILTRATION"},
	{"LLM05_SQL", "SQL_INJECTION"},
	{"LLM05_SHELL", "SHELL_INJECTION"},
	{"LLM05_PATH", "PATH_TRAVERSAL"},
	{"LLM05_SSRF", "SSRF"},
	{"LLM05_", "INSECURE_OUTPUT"},
	{"LLM06_TOOL_CALL_STORM", "TOOL_CALL_STORM"},
	{"LLM06_SESSION_TOOL_CALLS", "TOOL_CALL_STORM"},
	{"RESOURCE_002", "TOOL_CALL_STORM"},
	{"LLM06_", "EXCESSIVE_AGENCY"},
	{"LLM07_", "SYSTEM_PROMPT_LEAKAGE"},
	{"LLM10_", "RATE_LIMIT"},
	{"PII_", "PII_EXPOSURE"},
	{"SECRET_", "HARDCODED_SECRET"},
	{"RESOURCE_", "RATE_LIMIT"},
	{"ENV_001", "UNPINNED_MODEL"},
	{"ENV_", "EXCESSIVE_AGENCY"},
	{"BEHAV_", "BEHAVIORAL_INSTABILITY"},
	{"PROMPT_INJECTION", "PROMPT_INJECTION"},
	{"IMPROPER_OUTPUT", "INSECURE_OUTPUT"},
	{"EXCESSIVE_AGENCY", "EXCESSIVE_AGENCY"},
	{"SYSTEM_PROMPT_LEAKAGE", "SYSTEM_PROMPT_LEAKAGE"},
	{"UNBOUNDED_CONSUMPTION", "RATE_LIMIT"},
}

// categoryTemplates send categories (static, dynamic and detect's) to
// their template.
var categoryTemplates = map[string]string{"PII": "PII_EXPOSURE", "SECRET": "HARDCODED_SECRET",
	"PROMPT": "PROMPT_INJECTION", "OUTPUT": "INSECURE_OUTPUT", "TOOL": "EXCESSIVE_AGENCY", "DATA": "DATA_EXPOSURE",
	"MEMORY": "RAG_POISONING", "SUPPLY": "SUPPLY_CHAIN", "BEHAVIOR": "EXCESSIVE_AGENCY",
	"RESOURCE_MANAGEMENT": "RATE_LIMIT", "ENVIRONMENT": "UNPINNED_MODEL", "BEHAVIORAL": "BEHAVIORAL_INSTABILITY",
	"PRIVACY_COMPLIANCE": "PII_EXPOSURE"}
