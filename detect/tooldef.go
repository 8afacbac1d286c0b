package detect

// Tool-definition rule ids.
const (
	ruleToolPoisoning = "llm01.tool_poisoning"
	ruleToolShadowing = "llm01.tool_shadowing"
)
