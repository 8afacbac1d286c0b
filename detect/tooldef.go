package detect

import (
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// Tool definitions (an entry of a request's tools[]: name, description,
// parameter schema) are scanned as an Input with Role RoleToolDefinition:
// Text is the description, ToolName the name, ToolArgs the schema as JSON.
// Besides the injection phrase families, the scorer reads signals that only
// make sense in a tool's documentation: hidden tags (<IMPORTANT>,
// <system>), requests for sensitive data (~/.ssh, credentials, the chat
// history), secrecy towards the user, instructions to the model ("before
// using this tool…"), shell one-liners, invisible characters, and
// cross-tool shadowing ("this tool replaces send_email", "when this tool is
// available the transfer tool must …"), reported as llm01.tool_poisoning or
// llm01.tool_shadowing.
//
// A tool whose definition changes after an agent first used it (a "rug
// pull") is caught by the caller, which keeps ToolDefinitionHash per agent
// and tool name and reports ToolChanged when it differs.

// Tool-definition rule ids.
const (
	ruleToolPoisoning = "llm01.tool_poisoning"
	ruleToolShadowing = "llm01.tool_shadowing"
	ruleToolChanged   = "llm01.tool_definition_changed"
)

// ToolDefinitionHash fingerprints a tool definition: its name, description
// and parameter schema (as sent; a re-ordered schema is a different one).
func ToolDefinitionHash(name, description, schema string) uint64 {
	d := xxhash.New()
	d.WriteString(name)
	d.Write([]byte{0})
	d.WriteString(description)
	d.Write([]byte{0})
	d.WriteString(schema)
	return d.Sum64()
}

// ToolChanged is the finding for a tool whose definition differs from the
// one the agent was first seen with: the tool server may have swapped an
// approved description for a malicious one. Its evidence holds the name
// and both fingerprints, never the description.
func ToolChanged(name string, before, after uint64) Finding {
	return Finding{Category: CategoryInjection, Rule: ruleToolChanged, Severity: SeverityHigh, Confidence: 0.8,
		Source: SourceToolArgs, OWASP: owaspInjection,
		Evidence: "tool " + strconv.Quote(name) + " definition changed after first use (" +
			strconv.FormatUint(before, 16) + " → " + strconv.FormatUint(after, 16) + ")"}
}
