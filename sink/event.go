package sink

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Event names, as the original cylestio-perimeter emits them, plus
// security.finding.
const (
	SessionStart    = "session.start"
	LLMCallStart    = "llm.call.start"
	LLMCallFinish   = "llm.call.finish"
	LLMCallError    = "llm.call.error"
	ToolExecution   = "tool.execution"
	ToolResult      = "tool.result"
	SecurityFinding = "security.finding"
)

// Cost statuses (Event.CostStatus, column cost_status). Events other than
// llm.call.finish have none ("").
const (
	// CostPriced: the call's reported usage at its model's price.
	CostPriced = "priced"
	// CostPartial: priced from the usage a cut stream reported before it
	// ended; the call may have cost more.
	CostPartial = "partial"
	// CostUnpriced: the model has no price (add it to pricing.models).
	CostUnpriced = "unpriced"
	// CostNoUsage: the call reported no usage (an OpenAI stream without
	// stream_options.include_usage, a cut stream before any usage).
	CostNoUsage = "no_usage"
)

// Priced reports whether CostUSD holds the event's cost.
func (e *Event) Priced() bool { return e.CostStatus == CostPriced || e.CostStatus == CostPartial }

// Levels.
const (
	LevelInfo  = "INFO"
	LevelError = "ERROR"
)

// Event is one thing that happened to a conversation. Fields the dashboard
// aggregates are typed columns; everything else is in Attributes, a JSON
// object with the original's attribute names.
//
// An Event owns all its memory: nothing in it aliases a request or response
// buffer, so it may outlive the exchange that produced it.
type Event struct {
	ID        [16]byte  // random, unique: storage deduplicates retried batches by it
	Time      time.Time // when it happened (UTC)
	Name      string
	Level     string
	TraceID   string // 32 hex: md5 of the session id
	SpanID    string // 16 hex
	SessionID string
	AgentID   string
	// InstanceID is the proxy instance that saw the event
	// (server.instance_id); the pipeline stamps it (Options.Instance) on
	// every event that has none.
	InstanceID string

	Vendor       string // openai | anthropic
	Model        string
	Status       int     // HTTP status of the call (finish/error events)
	DurationMs   float64 // call duration (finish/error events)
	InputTokens  int64
	OutputTokens int64
	TotalTokens  int64
	CachedTokens int64 // prompt tokens served from the provider's cache (OpenAI cached_tokens, Anthropic cache_read_input_tokens)
	CacheWrite   int64 // Anthropic cache_creation_input_tokens
	ToolName     string
	FinishReason string
	ErrorType    string
	ErrorMessage string
	RiskScore    float32 // 0..100, filled by detection

	// CacheWrite1h is the part of CacheWrite written to Anthropic's 1-hour
	// cache, ReasoningTokens the part of OutputTokens spent on reasoning,
	// and Cut says a stream ended before its final event, so its usage is
	// what was reported until then. The pipeline prices calls with them;
	// none is a column (reasoning is llm.usage.reasoning_tokens in the
	// attributes).
	CacheWrite1h    int64
	ReasoningTokens int64
	Cut             bool

	// Cost of an llm.call.finish event, set in the pipeline (sink/pricing)
	// from its usage: CostUSD is meaningful only when CostStatus is
	// CostPriced or CostPartial (the column is NULL otherwise).
	CostUSD    float64
	CostStatus string

	// Security findings (security.finding events only).
	Category string // detector family: pii, secret, prompt_injection, …
	Rule     string // stable rule id, e.g. "pii.credit_card"
	Severity string // info | low | medium | high | critical

	Attributes json.RawMessage // JSON object; may be nil

	// ScanAttributes, when set, is what detection (Options.Process) reads
	// in place of Attributes: an llm.call.start whose request a policy
	// rewrote (redacted) stores the request as forwarded and is scanned
	// as the client sent it, so that its findings are still stored. The
	// pipeline clears it once Process has run; no writer or spill log
	// ever sees it.
	ScanAttributes json.RawMessage
}

// NewID returns a random event id.
func NewID() [16]byte {
	var id [16]byte
	_, _ = rand.Read(id[:])
	return id
}

// IDString is the id as 32 hex characters.
func (e *Event) IDString() string { return hex.EncodeToString(e.ID[:]) }

// Publisher accepts events from the proxy. Publish never blocks: when the
// pipeline behind it is full it drops the event, counts the drop and returns
// false. The publisher takes ownership of ev.
type Publisher interface {
	Publish(ev *Event) bool
}

// Discard drops every event; it is the publisher when capture is off.
type Discard struct{}

// Publish drops ev.
func (Discard) Publish(*Event) bool { return true }
