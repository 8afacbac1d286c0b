package provider

import (
	"strconv"
	"sync"
)

// UsageFields says which token counts a response reported.
type UsageFields uint8

// Usage fields.
const (
	HasInput UsageFields = 1 << iota
	HasOutput
	HasTotal
	HasCached
	HasCacheCreation
	HasReasoning
	HasCacheCreation1h
)

// Usage is the token accounting of one call, as the provider reported it.
type Usage struct {
	// InputTokens is OpenAI prompt_tokens or input_tokens (cached ones
	// included), Anthropic input_tokens (cached ones NOT included: Anthropic
	// reports them apart, see CachedTokens and CacheCreationTokens).
	InputTokens  int64
	OutputTokens int64
	// TotalTokens is the reported total (OpenAI only; see Total).
	TotalTokens int64
	// CachedTokens: OpenAI prompt_tokens_details.cached_tokens, Responses
	// input_tokens_details.cached_tokens, Anthropic cache_read_input_tokens.
	CachedTokens int64
	// CacheCreationTokens: Anthropic cache_creation_input_tokens.
	CacheCreationTokens int64
	// CacheCreation1hTokens: the part of CacheCreationTokens written to the
	// 1-hour cache (Anthropic cache_creation.ephemeral_1h_input_tokens),
	// billed at a higher rate than 5-minute writes.
	CacheCreation1hTokens int64
	// ReasoningTokens: completion_tokens_details.reasoning_tokens or
	// output_tokens_details.reasoning_tokens (part of OutputTokens).
	ReasoningTokens int64
	// Has says which fields were reported; unreported ones are 0.
	Has UsageFields
}

// Total returns the reported total, else input + output when both were
// reported (the original's Anthropic rule, cache tokens not added).
func (u *Usage) Total() (int64, bool) {
	if u.Has&HasTotal != 0 {
		return u.TotalTokens, true
	}
	if u.Has&(HasInput|HasOutput) == HasInput|HasOutput {
		return u.InputTokens + u.OutputTokens, true
	}
	return 0, false
}

// counts returns pointers to u's counts, in the order of their
// UsageFields bits.
func (u *Usage) counts() [7]*int64 {
	return [...]*int64{&u.InputTokens, &u.OutputTokens, &u.TotalTokens, &u.CachedTokens,
		&u.CacheCreationTokens, &u.ReasoningTokens, &u.CacheCreation1hTokens}
}

// merge copies the counts o reported over u's.
func (u *Usage) merge(o *Usage) {
	if o.Has == 0 {
		return
	}
	dst, src := u.counts(), o.counts()
	for i, p := range dst {
		if o.Has&(1<<i) != 0 {
			*p = *src[i]
		}
	}
	u.Has |= o.Has
}

// Error is a provider's error report: an error body (HTTP ≥ 400, or an
// error object in a 200), or a mid-stream error event.
type Error struct {
	// Type is error.type: OpenAI "invalid_request_error", Anthropic
	// "overloaded_error", …
	Type Str
	// Code is OpenAI's error.code (or the Responses error code); a numeric
	// code is given as its digits.
	Code    Str
	Message Str
	Param   Str
	// Raw is the error value's JSON (the object, or a string).
	Raw []byte
}

// TypeOrCode is the original's error type: Type, else Code.
func (e *Error) TypeOrCode() Str {
	if !e.Type.IsEmpty() {
		return e.Type
	}
	return e.Code
}

// DefaultErrorType is the error type the original reports for an HTTP
// status when the body names none.
func DefaultErrorType(k Kind, status int) string {
	switch status {
	case 401:
		return "authentication_error"
	case 403:
		return "permission_denied"
	case 404:
		return "not_found"
	case 429:
		return "rate_limit_error"
	}
	if k == AnthropicMessages {
		switch status {
		case 400:
			return "invalid_request_error"
		case 500:
			return "api_error"
		case 529:
			return "overloaded_error"
		}
	} else {
		switch status {
		case 400:
			return "bad_request"
		case 500:
			return "server_error"
		case 502:
			return "bad_gateway"
		case 503:
			return "service_unavailable"
		}
	}
	return "http_" + strconv.Itoa(status)
}

// Response is what an answer says, from a whole body (Parse) or assembled
// from a stream (StreamParser.Result). Reusable like Request; pool with
// AcquireResponse and ReleaseResponse.
//
// Ownership: after Parse, fields alias the body or the Response's scratch
// buffer (valid until the next Parse, Reset or ReleaseResponse). A Response
// returned by StreamParser.Result holds only the parser's own copies, valid
// until its next Event, Reset or release.
type Response struct {
	Kind       Kind
	StatusCode int

	ID    Str
	Model Str

	// Text is the answer text: Chat choices[0].message.content, the
	// output_text parts of Responses message items, Anthropic text blocks
	// (joined in order; thinking is not text).
	Text Str

	// ToolCalls are the calls the model asks for, in order. Message is the
	// choice index (Chat) or the position in output / content.
	ToolCalls []ToolCall

	Usage Usage

	// FinishReason is Chat choices[0].finish_reason, Anthropic stop_reason,
	// or for Responses incomplete_details.reason, else the status.
	// FinishReasonRaw is the member's JSON (nil when absent, "null" when
	// null): the original copies Anthropic's stop_reason whatever its type.
	FinishReason    Str
	FinishReasonRaw []byte

	// Status is the Responses status ("completed", "incomplete", "failed").
	Status Str

	// StopSequence is Anthropic's stop_sequence; SystemFingerprint OpenAI's
	// system_fingerprint; Refusal Chat choices[0].message.refusal or a
	// Responses refusal part.
	StopSequence      Str
	SystemFingerprint Str
	Refusal           Str

	// Content holds the JSON of what the original lists as
	// llm.response.content: each Chat choice's message, each Anthropic
	// content block, each Responses output item. Not filled for streams.
	Content [][]byte

	// IsError says the call failed: HTTP status ≥ 400, an error member that
	// is not null, Anthropic type "error", Responses status "failed", or a
	// stream's error event. Error holds what the provider said, if anything.
	IsError bool
	Error   Error

	// Complete says a stream reached its end ([DONE], message_stop,
	// response.completed/incomplete/failed). Always true after Parse.
	Complete bool

	j joiner
	d dec
}

var responsePool = sync.Pool{New: func() any { return new(Response) }}

// AcquireResponse returns an empty Response from a pool.
func AcquireResponse() *Response { return responsePool.Get().(*Response) }

// ReleaseResponse resets r and returns it to the pool.
func ReleaseResponse(r *Response) {
	r.Reset()
	responsePool.Put(r)
}

// Reset clears r, keeping the capacity of its slices.
func (r *Response) Reset() {
	clear(r.ToolCalls)
	clear(r.Content)
	r.j.reset()
	*r = Response{ToolCalls: r.ToolCalls[:0], Content: r.Content[:0], j: r.j}
}
