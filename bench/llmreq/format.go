package llmreq

import (
	"encoding/json"
	"fmt"
)

// Format is one of the three wire formats.
type Format int

// Formats.
const (
	Chat      Format = iota // OpenAI Chat Completions
	Responses               // OpenAI Responses
	Anthropic               // Anthropic Messages
)

// Path returns the request path of the format's endpoint.
func (f Format) Path() string {
	switch f {
	case Responses:
		return "/v1/responses"
	case Anthropic:
		return "/v1/messages"
	}
	return "/v1/chat/completions"
}

func (f Format) String() string {
	switch f {
	case Chat:
		return "chat"
	case Responses:
		return "responses"
	case Anthropic:
		return "anthropic"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Call is a tool call the model made; Arguments is JSON text.
type Call struct {
	ID, Name, Arguments string
}

// Text returns a pointer to s, for the content of a Chat message.
func Text(s string) *string { return &s }

// encode marshals v; the request types hold only strings, numbers and raw
// JSON, so it fails only on a Parameters or Input that is not JSON.
func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("llmreq: encode %T: %w (a tool's Parameters or a call's arguments are not JSON)", v, err)
	}
	return b, nil
}
