package llmreq

import "encoding/json"

// Conversation is one agent's conversation in its format: the turns so far,
// from which Request renders the next call. The system prompt goes where
// the format wants it: a first system message (Chat, Responses) or the
// system member (Anthropic); an empty one is left out.
type Conversation struct {
	Format    Format
	Model     string
	System    string
	MaxTokens int // Anthropic's max_tokens; 1024 when 0

	chat      []ChatMessage
	responses []ResponsesItem
	anthropic []AnthropicMessage
}

// User adds a user message.
func (c *Conversation) User(text string) {
	switch c.Format {
	case Chat:
		c.chat = append(c.chat, ChatMessage{Role: "user", Content: Text(text)})
	case Responses:
		c.responses = append(c.responses, ResponsesItem{Role: "user", Content: text})
	case Anthropic:
		c.anthropic = append(c.anthropic, AnthropicMessage{Role: "user", Text: text})
	}
}

// Assistant adds the model's answer: its text and the tool calls it made.
func (c *Conversation) Assistant(text string, calls []Call) {
	switch c.Format {
	case Chat:
		m := ChatMessage{Role: "assistant", Content: Text(text)}
		if len(calls) > 0 {
			m.Content = nil
			for _, tc := range calls {
				m.ToolCalls = append(m.ToolCalls, ChatToolCall{ID: tc.ID, Type: "function", Function: ChatFunction{Name: tc.Name, Arguments: tc.Arguments}})
			}
		}
		c.chat = append(c.chat, m)
	case Responses:
		if text != "" {
			c.responses = append(c.responses, ResponsesItem{Role: "assistant", Content: text})
		}
		for _, tc := range calls {
			c.responses = append(c.responses, ResponsesItem{Type: "function_call", CallID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
		}
	case Anthropic:
		var blocks []Block
		if text != "" {
			blocks = append(blocks, Block{Type: "text", Text: text})
		}
		for _, tc := range calls {
			input := json.RawMessage(tc.Arguments)
			if !json.Valid(input) {
				input = json.RawMessage(`{}`)
			}
			blocks = append(blocks, Block{Type: "tool_use", ID: tc.ID, Name: tc.Name, Input: input})
		}
		c.anthropic = append(c.anthropic, AnthropicMessage{Role: "assistant", Blocks: blocks})
	}
}

// ToolResults answers each of calls with result.
func (c *Conversation) ToolResults(calls []Call, result string) {
	switch c.Format {
	case Chat:
		for _, tc := range calls {
			c.chat = append(c.chat, ChatMessage{Role: "tool", ToolCallID: tc.ID, Content: Text(result)})
		}
	case Responses:
		for _, tc := range calls {
			c.responses = append(c.responses, ResponsesItem{Type: "function_call_output", CallID: tc.ID, Output: result})
		}
	case Anthropic:
		blocks := make([]Block, 0, len(calls))
		for _, tc := range calls {
			blocks = append(blocks, Block{Type: "tool_result", ToolUseID: tc.ID, Content: result})
		}
		c.anthropic = append(c.anthropic, AnthropicMessage{Role: "user", Blocks: blocks})
	}
}

// Request renders the next call offering tools; stream asks for a stream
// (in Chat, with a final usage chunk). It returns the endpoint's path and
// the body.
func (c *Conversation) Request(tools []Tool, stream bool) (path string, body []byte, err error) {
	switch c.Format {
	case Chat:
		r := ChatRequest{Model: c.Model, Stream: stream, Tools: ChatTools(tools)}
		if c.System != "" {
			r.Messages = append(r.Messages, ChatMessage{Role: "system", Content: Text(c.System)})
		}
		r.Messages = append(r.Messages, c.chat...)
		if stream {
			r.StreamOptions = &ChatStreamOptions{IncludeUsage: true}
		}
		body, err = r.JSON()
	case Responses:
		r := ResponsesRequest{Model: c.Model, Stream: stream, Tools: ResponsesTools(tools)}
		if c.System != "" {
			r.Input = append(r.Input, ResponsesItem{Role: "system", Content: c.System})
		}
		r.Input = append(r.Input, c.responses...)
		body, err = r.JSON()
	case Anthropic:
		r := MessagesRequest{Model: c.Model, MaxTokens: c.MaxTokens, System: c.System, Stream: stream,
			Messages: c.anthropic, Tools: AnthropicTools(tools)}
		if r.MaxTokens == 0 {
			r.MaxTokens = 1024
		}
		if r.Messages == nil {
			r.Messages = []AnthropicMessage{}
		}
		body, err = r.JSON()
	}
	return c.Format.Path(), body, err
}
