package llmreq

import "encoding/json"

// ChatRequest is an OpenAI Chat Completions request.
type ChatRequest struct {
	Model         string             `json:"model"`
	Messages      []ChatMessage      `json:"messages"`
	Stream        bool               `json:"stream,omitempty"`
	StreamOptions *ChatStreamOptions `json:"stream_options,omitempty"`
	Tools         []ChatTool         `json:"tools,omitempty"`
}

// JSON renders the request.
func (r *ChatRequest) JSON() ([]byte, error) { return encode(r) }

// ChatStreamOptions asks for a usage chunk at the end of a stream.
type ChatStreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ChatMessage is one message. Content is null (nil) only for an assistant
// turn that just calls tools.
type ChatMessage struct {
	Role       string         `json:"role"`
	Content    *string        `json:"content"`
	ToolCalls  []ChatToolCall `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
}

// ChatToolCall is a call in an assistant message.
type ChatToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"` // "function"
	Function ChatFunction `json:"function"`
}

// ChatFunction names the function called and its arguments (JSON text).
type ChatFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ChatTool is a function offered to the model.
type ChatTool struct {
	Type     string           `json:"type"` // "function"
	Function ChatToolFunction `json:"function"`
}

// ChatToolFunction describes an offered function.
type ChatToolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}
