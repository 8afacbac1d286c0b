package detect

import "time"

// Category is the detector family a finding comes from. Its String form is
// the value stored in the findings table.
type Category uint8

const (
	CategoryPII         Category = iota + 1 // personal data (LLM02 when disclosed)
	CategorySecret                          // credentials and keys (LLM02 when disclosed)
	CategoryInjection                       // LLM01 prompt injection and jailbreaks
	CategoryOutput                          // LLM05 improper output handling
	CategoryAgency                          // LLM06 excessive agency
	CategoryPromptLeak                      // LLM07 system-prompt leakage
	CategoryConsumption                     // LLM10 unbounded consumption
	numCategories
)

var categoryNames = [...]string{
	CategoryPII:         "pii",
	CategorySecret:      "secret",
	CategoryInjection:   "prompt_injection",
	CategoryOutput:      "improper_output",
	CategoryAgency:      "excessive_agency",
	CategoryPromptLeak:  "system_prompt_leakage",
	CategoryConsumption: "unbounded_consumption",
}

func (c Category) String() string {
	if c > 0 && c < numCategories {
		return categoryNames[c]
	}
	return "unknown"
}

// ParseCategory returns the category named s (as printed by String).
func ParseCategory(s string) (Category, bool) {
	for c := Category(1); c < numCategories; c++ {
		if categoryNames[c] == s {
			return c, true
		}
	}
	return 0, false
}

// Categories is a set of categories; the zero value means "all".
type Categories uint16

// CategoriesOf returns the set holding cs.
func CategoriesOf(cs ...Category) Categories {
	var s Categories
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

// Has reports whether c is in the set (always true for the zero set).
func (s Categories) Has(c Category) bool { return s == 0 || s&(1<<c) != 0 }

// Severity orders findings; the numeric values are stored as is.
type Severity uint8

const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "unknown"
}

// ParseSeverity returns the severity named s (as printed by String).
func ParseSeverity(s string) (Severity, bool) {
	for i, n := range severityNames {
		if n == s {
			return Severity(i), true
		}
	}
	return 0, false
}

func (s Severity) raise() Severity {
	if s < SeverityCritical {
		return s + 1
	}
	return s
}

// Direction says whether a text goes to the model or comes from it.
type Direction uint8

const (
	Request  Direction = iota // agent → provider (user input, tool results, history)
	Response                  // provider → agent (model text, tool calls)
)

// Role is the chat role of the text's author, as the providers spell it.
type Role string

const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleSystem    Role = "system"
	RoleDeveloper Role = "developer"
	RoleTool      Role = "tool" // a tool result fed back to the model
	// RoleToolDefinition is a tool offered to the model (an entry of a
	// request's tools[]): Text is its description, ToolName its name and
	// ToolArgs its parameter schema as JSON.
	RoleToolDefinition Role = "tool_definition"
)

// Source says which field of Input a span refers to.
type Source uint8

const (
	SourceText     Source = iota // Input.Text
	SourceToolArgs               // Input.ToolArgs
	SourceUsage                  // Input.Usage (no span)
)

func (s Source) String() string {
	switch s {
	case SourceText:
		return "text"
	case SourceToolArgs:
		return "tool_args"
	default:
		return "usage"
	}
}

// Input is one piece of an event to scan. Only Text is required; the other
// fields switch checks on (see the package documentation for which check
// reads what). Input is read, never retained or modified.
type Input struct {
	Text      string
	Role      Role
	Direction Direction
	// ToolName and ToolArgs describe a tool call the model asks for
	// (Direction Response) or the tool whose result Text is (Role tool).
	ToolName string
	ToolArgs string
	// SystemPrompt is the system/developer prompt the response was produced
	// under; it is only compared with the response, never scanned.
	SystemPrompt string
	// Usage carries per-session numbers for the LLM06 storm and LLM10 checks.
	Usage *Usage
}

// Usage holds counters the caller keeps per session (detect keeps no state).
// Zero fields are "unknown" and switch their check off.
type Usage struct {
	CallTokens         int64         // input+output tokens of this call
	SessionTokens      int64         // tokens of the session so far, this call included
	SessionCalls       int           // LLM calls of the session so far
	SessionToolCalls   int           // tool calls of the session so far
	ToolCallsInWindow  int           // tool calls within the last Window
	Window             time.Duration // the window ToolCallsInWindow was counted over
	RepeatedToolCalls  int           // consecutive identical tool calls (name+args) ending with this one
	BaselineCallTokens float64       // the agent's typical tokens per call (e.g. median), 0 if unknown
}

// Finding is one detection. Start and End are byte offsets into the
// field named by Source (Text or ToolArgs) of the Input as given, before
// normalisation; End is exclusive. Evidence never holds the raw secret or
// personal datum.
type Finding struct {
	Category   Category
	Rule       string // stable id, e.g. "pii.credit_card", "secret.github-pat", "llm01.instruction_override"
	Severity   Severity
	Confidence float32 // 0..1
	Source     Source
	Start, End int
	Evidence   string
	OWASP      string // e.g. "LLM01:2025"; empty when none applies
	// Decoded names the hidden layer the match was found in ("base64",
	// "hex", "url", "unicode_tags"); then the span covers the whole
	// encoded blob.
	Decoded string
}

const (
	owaspInjection   = "LLM01:2025"
	owaspDisclosure  = "LLM02:2025"
	owaspOutput      = "LLM05:2025"
	owaspAgency      = "LLM06:2025"
	owaspPromptLeak  = "LLM07:2025"
	owaspConsumption = "LLM10:2025"
)
