package llmreq

import "encoding/json"

// MessagesRequest is an Anthropic Messages request.
type MessagesRequest struct {
	Model     string             `json:"model"`
	MaxTokens int                `json:"max_tokens"`
	System    string             `json:"system,omitempty"`
	Messages  []AnthropicMessage `json:"messages"`
	Stream    bool               `json:"stream,omitempty"`
	Tools     []AnthropicTool    `json:"tools,omitempty"`
}

// JSON renders the request.
func (r *MessagesRequest) JSON() ([]byte, error) { return encode(r) }

// AnthropicMessage is one message: its content is Text when Blocks is nil,
// else the blocks.
type AnthropicMessage struct {
	Role   string
	Text   string
	Blocks []Block
}

// MarshalJSON renders the content as a string or a list of blocks.
func (m AnthropicMessage) MarshalJSON() ([]byte, error) {
	if m.Blocks == nil {
		return json.Marshal(struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		}{m.Role, m.Text})
	}
	return json.Marshal(struct {
		Role    string  `json:"role"`
		Content []Block `json:"content"`
	}{m.Role, m.Blocks})
}

// Block is a content block: text (Text), tool_use (ID, Name, Input) or
// tool_result (ToolUseID, Content).
type Block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   string          `json:"content,omitempty"`
}

// AnthropicTool is a tool offered to the model.
type AnthropicTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}
