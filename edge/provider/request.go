package provider

import (
	"sort"
	"sync"
)

// ContentKind says what a content value was in the body.
type ContentKind uint8

// Content kinds.
const (
	ContentAbsent ContentKind = iota // no content member
	ContentNull                      // "content": null
	ContentString                    // a JSON string
	ContentArray                     // a list of blocks / parts
	ContentOther                     // an object, number or bool
)

// SystemSource says where a request's system prompt came from.
type SystemSource uint8

// System prompt sources, in the order the original looks for them.
const (
	SystemNone       SystemSource = iota // no system prompt: the original uses "default-system"
	SystemMessage                        // first role "system" message (Chat messages, Responses input)
	DeveloperMessage                     // first role "developer" message, when no "system" one
	Instructions                         // Responses "instructions"
	SystemField                          // Anthropic "system"
)

// Message is one element of a request's conversation: a Chat or Anthropic
// message, or a Responses input item. Every element of the list is one
// Message, whatever it holds, so indexes match the positions in the body.
type Message struct {
	// Raw is the element's JSON (an object, normally), or nil for the one
	// message made from a plain-string Responses input.
	Raw []byte

	// Role is the role member ("user", "assistant", "system", "developer",
	// "tool"); absent for Responses items that have none (function_call,
	// function_call_output, reasoning). For a plain-string Responses input
	// it is "user" (a static string: never write to it).
	Role Str

	// Type is the Responses item type ("message", "function_call",
	// "function_call_output", …); absent elsewhere and for input messages
	// that omit it.
	Type Str

	// Text is the message content as text — see docs/providers.md, "Text".
	// Responses function_call_output "output" is not content: it is in the
	// ToolResult.
	Text Str

	// Content is what the content member was, ContentRaw its JSON.
	Content    ContentKind
	ContentRaw []byte

	// Name is the name member (OpenAI tool and function messages, Responses
	// function_call items).
	Name Str

	// CallID links a tool call and its result: for a tool result (role
	// "tool", function_call_output, an Anthropic message carrying
	// tool_result blocks) the id of the call it answers, the first one when
	// several; for a message that calls tools (assistant tool_calls,
	// Anthropic tool_use, a function_call item) the id of its first call.
	CallID Str

	// Images counts image blocks in the content (image, image_url,
	// input_image), tool results' content included.
	Images int
}

// Tool is one tool offered in the request's tools list.
type Tool struct {
	// Name is the tool's name: Chat function.name (or custom.name),
	// Responses and Anthropic name. Built-in tools may have none.
	Name Str
	// Type is the type member ("function", "web_search_preview",
	// "computer_20250124", …); absent for plain Anthropic tools.
	Type Str
	Raw  []byte
}

// ToolCall is a tool call by the model: in the assistant history of a
// request, or in a response.
type ToolCall struct {
	// Message is the index of the message (request) or output item / choice
	// (response) that carries the call.
	Message int
	// ID is the call id: Chat tool_calls[].id, Responses call_id,
	// Anthropic tool_use id.
	ID   Str
	Name Str
	// Arguments is the call's input as JSON text: OpenAI's arguments string
	// (escaped, decode with Append), or Anthropic's input object verbatim
	// (Escaped false). It is whatever the model produced and need not be
	// valid JSON.
	Arguments Str
}

// ToolResult is a tool result the client sends back.
type ToolResult struct {
	// Message is the index of the message carrying the result.
	Message int
	// CallID is the id of the call answered: tool_call_id, call_id or
	// tool_use_id.
	CallID Str
	// Name is the result's own name member (OpenAI "name"), else the name
	// of the call it answers, found among the earlier tool calls of the
	// request. Absent when neither exists (the original then says
	// "unknown").
	Name Str
	// Call is the index in Request.ToolCalls of the call answered, or -1.
	Call int
	// Text is the result content as text (docs/providers.md, "Text");
	// ContentRaw its JSON (a string, a list of blocks, …).
	Text       Str
	Content    ContentKind
	ContentRaw []byte
	// IsError is Anthropic's is_error.
	IsError bool
}

// Request is what a request body says. A Request is reusable: Parse resets
// it and keeps its slices' capacity, so parsing allocates nothing once the
// slices have grown to the traffic's size. Use AcquireRequest and
// ReleaseRequest to pool them.
//
// Ownership: every Str and []byte field aliases either the body given to
// Parse (valid while the body is — for fasthttp, until the handler returns
// or the request is released) or the Request's own scratch buffer (texts
// joined from several blocks, Python reprs), valid until the next Parse,
// Reset or ReleaseRequest. Copy what must live longer.
type Request struct {
	Kind  Kind
	Model Str

	// Stream is true only for "stream": true (the original's `is True`).
	Stream bool
	// IncludeUsage is stream_options.include_usage.
	IncludeUsage bool

	// MaxTokens is max_completion_tokens, else max_tokens, else
	// max_output_tokens; HasMaxTokens says one was an integer.
	MaxTokens    int64
	HasMaxTokens bool

	Temperature    float64
	HasTemperature bool

	// System is the system prompt as text (docs/providers.md, "System prompt");
	// SystemRaw the JSON value it came from; SystemSource where that was.
	System       Str
	SystemRaw    []byte
	SystemSource SystemSource

	// Messages is the conversation: Chat or Anthropic messages, or the
	// Responses input list (a plain-string input is one user message).
	// MessagesRaw is that list's JSON.
	Messages    []Message
	MessagesRaw []byte

	// Tools are the tools offered; ToolsRaw is the tools member's JSON.
	Tools    []Tool
	ToolsRaw []byte

	// ToolCalls are the tool calls in the history, in order; ToolResults the
	// results sent back, in order.
	ToolCalls   []ToolCall
	ToolResults []ToolResult

	// PreviousResponseID is the Responses previous_response_id.
	PreviousResponseID Str

	params  [numParams][]byte
	maxFrom Param
	j       joiner
	d       dec
}

var requestPool = sync.Pool{New: func() any { return new(Request) }}

// AcquireRequest returns an empty Request from a pool.
func AcquireRequest() *Request { return requestPool.Get().(*Request) }

// ReleaseRequest resets r and returns it to the pool. r and everything it
// returned must not be used afterwards.
func ReleaseRequest(r *Request) {
	r.Reset()
	requestPool.Put(r)
}

// Reset clears r, keeping the capacity of its slices.
func (r *Request) Reset() {
	clear(r.Messages)
	clear(r.Tools)
	clear(r.ToolCalls)
	clear(r.ToolResults)
	r.j.reset()
	*r = Request{
		Messages:    r.Messages[:0],
		Tools:       r.Tools[:0],
		ToolCalls:   r.ToolCalls[:0],
		ToolResults: r.ToolResults[:0],
		j:           r.j,
	}
}

// HasSystem reports whether the request carries a system prompt (possibly
// empty).
func (r *Request) HasSystem() bool { return r.SystemSource != SystemNone }

// Param returns the JSON of a top-level request member, nil when absent
// (a present null is "null").
func (r *Request) Param(p Param) []byte {
	if p >= numParams {
		return nil
	}
	return r.params[p]
}

// DefaultSystemPrompt is what the original uses as the system prompt of a
// request that has none (for signatures and agent ids).
const DefaultSystemPrompt = "default-system"

// AppendSystemPrompt appends the system prompt exactly as the original's
// _extract_system_prompt returns it: the text of a string prompt; Python's
// str() of any other JSON value (so a list of blocks gives
// "[{'type': 'text', 'text': '…'}]"); DefaultSystemPrompt when there is
// none. md5 of this is the original's agent id. It allocates only if dst
// is too small.
func (r *Request) AppendSystemPrompt(dst []byte) []byte {
	if r.SystemSource == SystemNone {
		return append(dst, DefaultSystemPrompt...)
	}
	if r.System.Present() && (len(r.SystemRaw) == 0 || r.SystemRaw[0] == '"') {
		return r.System.Append(dst)
	}
	out, err := AppendPyStr(dst, r.SystemRaw)
	if err != nil {
		return append(dst, r.SystemRaw...)
	}
	return out
}

var contentKindNames = [...]string{"absent", "null", "string", "array", "other"}

func (k ContentKind) String() string {
	if int(k) < len(contentKindNames) {
		return contentKindNames[k]
	}
	return "unknown"
}

var systemSourceNames = [...]string{"none", "system message", "developer message", "instructions", "system field"}

func (s SystemSource) String() string {
	if int(s) < len(systemSourceNames) {
		return systemSourceNames[s]
	}
	return "unknown"
}

// ToolResultsFrom returns the tool results carried by Messages[i:] — the
// results new in a request whose first i messages were seen before. The
// slice aliases r.ToolResults.
func (r *Request) ToolResultsFrom(i int) []ToolResult {
	k := sort.Search(len(r.ToolResults), func(j int) bool { return r.ToolResults[j].Message >= i })
	return r.ToolResults[k:]
}

// ToolCallsFrom returns the tool calls carried by Messages[i:].
func (r *Request) ToolCallsFrom(i int) []ToolCall {
	k := sort.Search(len(r.ToolCalls), func(j int) bool { return r.ToolCalls[j].Message >= i })
	return r.ToolCalls[k:]
}
