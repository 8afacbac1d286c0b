package mockllm

import "github.com/cylestio/perimeter/internal/jsonscan"

// api identifies the wire format a route speaks.
type api uint8

const (
	apiChat api = iota
	apiResponses
	apiMessages
)

// reqInfo is what the mock takes from a request body. Byte slices point into
// the request body and are raw JSON tokens (strings keep their quotes), so
// they can be spliced into answers without escaping.
type reqInfo struct {
	model        []byte
	toolName     []byte
	stream       bool
	includeUsage bool
	toolsOffered bool
	askedForTool bool
	inputTokens  int
}

// parseRequest reads the fields the mock reacts to, in one pass that also
// validates the whole body. ok is false when the body is not a JSON object.
func parseRequest(a api, body []byte) (r reqInfo, ok bool) {
	d := jsonscan.NewDecoder(body)
	if d.Peek() != '{' {
		return r, false
	}
	r.inputTokens = max(1, len(body)/4)
	for k := range d.Members() {
		switch string(k) {
		case "model":
			if d.Peek() == '"' {
				r.model = d.Raw()
			}
		case "stream":
			r.stream, _ = d.Bool()
		case "stream_options":
			for k := range d.Members() {
				if string(k) == "include_usage" {
					r.includeUsage, _ = d.Bool()
				}
			}
		case "tools":
			for range d.Elements() {
				if !r.toolsOffered { // the first tool; the others are skipped
					r.toolsOffered = true
					r.toolName = firstToolName(&d)
				}
			}
		case "messages", "input":
			r.askedForTool = lastUserAsksForTool(&d)
		}
	}
	d.End()
	return r, !d.Failed()
}

// firstToolName reads the tool at the cursor and returns its name as a raw
// JSON string: Anthropic and Responses put it on the tool, Chat
// Completions on its "function".
func firstToolName(d *jsonscan.Decoder) []byte {
	var name []byte
	hasFn := false
	for k := range d.Members() {
		switch string(k) {
		case "name":
			if !hasFn && d.Peek() == '"' {
				name = d.Raw()
			}
		case "function":
			hasFn, name = true, nil
			for k := range d.Members() {
				if string(k) == "name" && d.Peek() == '"' {
					name = d.Raw()
				}
			}
		}
	}
	return name
}

// lastUserAsksForTool reads the messages (or input) at the cursor and
// reports whether the conversation ends with a user turn that mentions
// "tool". A user turn that returns tool results (Anthropic tool_result
// blocks) does not count, so agent loops terminate.
func lastUserAsksForTool(d *jsonscan.Decoder) bool {
	if d.Peek() == '"' { // Responses API: input may be a plain string
		return containsFold(d.Raw(), "tool")
	}
	var role, content []byte
	for range d.Elements() {
		role, content = nil, nil
		for k := range d.Members() {
			switch string(k) {
			case "role":
				role = d.Raw()
			case "content":
				content = d.Raw()
			}
		}
	}
	if string(role) != `"user"` {
		return false
	}
	return containsFold(content, "tool") && !containsFold(content, `"tool_result"`)
}

// wantsTool decides whether to answer with a tool call.
func (r *reqInfo) wantsTool(c *controls) bool {
	switch c.tool {
	case 1:
		return true
	case -1:
		return false
	}
	return r.toolsOffered && r.askedForTool
}

// containsFold reports whether b contains the ASCII word w, ignoring case.
func containsFold(b []byte, w string) bool {
	for i := 0; i+len(w) <= len(b); i++ {
		if equalFoldASCII(b[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c, d := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}
