package llmreq

import "encoding/json"

// ResponsesRequest is an OpenAI Responses request with a list of input
// items.
type ResponsesRequest struct {
	Model  string          `json:"model"`
	Input  []ResponsesItem `json:"input"`
	Stream bool            `json:"stream,omitempty"`
	Tools  []ResponsesTool `json:"tools,omitempty"`
}

// JSON renders the request.
func (r *ResponsesRequest) JSON() ([]byte, error) { return encode(r) }

// ResponsesItem is one input item: a message (Type empty, Role and
// Content), a function_call (CallID, Name, Arguments) or a
// function_call_output (CallID, Output).
type ResponsesItem struct {
	Type      string `json:"type,omitempty"`
	Role      string `json:"role,omitempty"`
	Content   string `json:"content,omitempty"`
	CallID    string `json:"call_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
	Output    string `json:"output,omitempty"`
}

// ResponsesTool is a function offered to the model.
type ResponsesTool struct {
	Type        string          `json:"type"` // "function"
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}
