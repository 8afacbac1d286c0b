package llmreq

import "encoding/json"

// Tool is a tool offered to the model. Parameters is its JSON schema;
// nil offers an object with one string member, "query".
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// DefaultParameters is the schema a Tool without Parameters offers.
var DefaultParameters = json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"}}}`)

func (t Tool) schema() json.RawMessage {
	if t.Parameters == nil {
		return DefaultParameters
	}
	return t.Parameters
}

// each renders every tool with one.
func each[T any](tools []Tool, one func(Tool) T) []T {
	var out []T
	for _, t := range tools {
		out = append(out, one(t))
	}
	return out
}

// ChatTools renders tools in Chat's shape.
func ChatTools(tools []Tool) []ChatTool {
	return each(tools, func(t Tool) ChatTool {
		return ChatTool{Type: "function", Function: ChatToolFunction{Name: t.Name, Description: t.Description, Parameters: t.schema()}}
	})
}

// ResponsesTools renders tools in the Responses shape.
func ResponsesTools(tools []Tool) []ResponsesTool {
	return each(tools, func(t Tool) ResponsesTool {
		return ResponsesTool{Type: "function", Name: t.Name, Description: t.Description, Parameters: t.schema()}
	})
}

// AnthropicTools renders tools in Anthropic's shape.
func AnthropicTools(tools []Tool) []AnthropicTool {
	return each(tools, func(t Tool) AnthropicTool {
		return AnthropicTool{Name: t.Name, Description: t.Description, InputSchema: t.schema()}
	})
}
