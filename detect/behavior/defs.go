package behavior

// categoryDef is one category of the report (the original's
// DYNAMIC_CATEGORY_DEFINITIONS).
type categoryDef struct {
	id, name, icon string
	order          int
}

var categoryDefs = []categoryDef{
	{CategoryResource, "Resource Management", "📊", 1},
	{CategoryEnvironment, "Environment & Supply Chain", "⚙️", 2},
	{CategoryBehavioral, "Behavioral Stability", "🔧", 3},
	{CategoryPrivacy, "Privacy & PII Compliance", "🔒", 4},
}

func categoryByID(id string) categoryDef {
	for _, d := range categoryDefs {
		if d.id == id {
			return d
		}
	}
	return categoryDef{id: id, name: id}
}

// checkDef is a check's fixed text and framework mappings. CVSS scores
// are the original's current ones (critical, warning); 0 where a check
// cannot reach that status.
type checkDef struct {
	category, name, description string
	owasp, owaspName            string
	soc2                        []string
	cwe, mitre                  string
	cvssCritical, cvssWarning   float64
}

const (
	llm05     = "LLM05"
	llm05Name = "Supply Chain Vulnerabilities"
	llm06     = "LLM06"
	llm06Name = "Sensitive Information Disclosure"
	llm08     = "LLM08"
	llm08Name = "Excessive Agency"
)

var checkDefs = map[string]checkDef{
	"RESOURCE_001_TOKEN_BOUNDS": {CategoryResource, "Token Usage Bounds",
		"No session uses more than 50,000 tokens.",
		llm08, llm08Name, []string{"CC6.1", "CC6.8"}, "CWE-770", "T1499", 9.0, 5.0},
	"RESOURCE_002_TOOL_CALL_BOUNDS": {CategoryResource, "Tool Call Bounds",
		"No session makes more than 50 tool calls.",
		llm08, llm08Name, []string{"CC6.1", "CC6.8"}, "CWE-770", "T1499", 9.0, 5.0},
	"RESOURCE_004_TOKEN_VARIANCE": {CategoryResource, "Token Usage Variance",
		"Tokens per session are consistent (coefficient of variation at most 70%).",
		"", "", []string{"A1.2"}, "", "", 0, 4.0},
	"RESOURCE_005_TOOL_VARIANCE": {CategoryResource, "Tool Usage Variance",
		"Tool calls per session are consistent (coefficient of variation at most 70%).",
		"", "", []string{"A1.2"}, "", "", 0, 4.0},
	"RESOURCE_006_DURATION_VARIANCE": {CategoryResource, "Session Duration Variance",
		"Session durations are consistent (coefficient of variation at most 70%).",
		"", "", []string{"A1.2"}, "", "", 0, 4.0},
	"ENV_001_CONSISTENT_MODEL": {CategoryEnvironment, "Pinned Model Versions",
		"Every model the agent calls is pinned to a dated or numbered version, so a provider's update cannot change its behaviour unannounced.",
		llm05, llm05Name, []string{"CC6.7"}, "CWE-1104", "T1195", 9.0, 5.0},
	"ENV_002_AVG_TOOLS_COVERAGE": {CategoryEnvironment, "Average Tool Coverage",
		"Sessions use at least 80% of the tools they are offered.",
		"", "", []string{"CC7.1"}, "", "", 0, 4.0},
	"ENV_003_UNUSED_TOOLS": {CategoryEnvironment, "Unused Tools",
		"Every tool offered to the agent is used; an unused tool is attack surface without purpose.",
		llm08, llm08Name, []string{"CC6.2"}, "", "", 0, 4.5},
	"BEHAV_001_STABILITY_SCORE": {CategoryBehavioral, "Behavioral Stability",
		"At least 80% of sessions follow the agent's dominant behaviour pattern.",
		llm08, llm08Name, []string{"CC7.2"}, "", "", 9.0, 5.0},
	"BEHAV_002_OUTLIER_RATE": {CategoryBehavioral, "Outlier Rate",
		"Fewer than 20% of sessions fit no behaviour pattern.",
		llm08, llm08Name, []string{"CC7.2"}, "", "", 9.0, 5.0},
	"BEHAV_003_CLUSTER_FORMATION": {CategoryBehavioral, "Behavioral Cluster Formation",
		"Sessions form at least one cluster of similar behaviour.",
		"", "", []string{"CC7.2"}, "", "", 9.0, 4.0},
	"BEHAV_004_PREDICTABILITY": {CategoryBehavioral, "Behavioral Predictability",
		"At least 60% of sessions belong to a behaviour cluster.",
		"", "", []string{"CC7.2"}, "", "", 0, 4.5},
	"BEHAV_005_UNCERTAINTY_THRESHOLD": {CategoryBehavioral, "Behavioral Uncertainty",
		"At most 25% of sessions fall outside the dominant behaviour pattern.",
		"", "", []string{"CC7.2"}, "", "", 0, 4.5},
	"PII_001_DETECTION": {CategoryPrivacy, "PII Detection",
		"Personal data in the agent's traffic; payment cards, social security and bank account numbers found with high confidence are critical.",
		llm06, llm06Name, []string{"PI1.1"}, "CWE-359", "T1530", 9.5, 6.0},
	"PII_002_SYSTEM_PROMPT": {CategoryPrivacy, "PII in System Prompts",
		"System prompts carry no personal data (it would be sent with every request).",
		llm06, llm06Name, []string{"CC6.5"}, "CWE-359", "", 0, 6.0},
	"PII_003_EXPOSURE_RATE": {CategoryPrivacy, "PII Exposure Rate",
		"At most half of the sessions carry personal data.",
		llm06, llm06Name, []string{"PI1.1"}, "CWE-359", "", 0, 5.5},
}
