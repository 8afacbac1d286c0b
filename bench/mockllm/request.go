package mockllm

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

// parseRequest reads the fields the mock reacts to. ok is false when the body
// is not a JSON object.
func parseRequest(a api, body []byte) (r reqInfo, ok bool) {
	it := iterate(body)
	if !it.object {
		return r, false
	}
	r.inputTokens = max(1, len(body)/4)
	for k, v, more := it.next(); more; k, v, more = it.next() {
		switch string(k) {
		case "model":
			if isString(v) {
				r.model = v
			}
		case "stream":
			r.stream = isTrue(v)
		case "stream_options":
			r.includeUsage = isTrue(field(v, "include_usage"))
		case "tools":
			first := firstElem(v)
			if first == nil {
				break
			}
			r.toolsOffered = true
			name := field(first, "name") // Anthropic and Responses put it on the tool
			if fn := field(first, "function"); fn != nil {
				name = field(fn, "name") // Chat Completions nests it
			}
			if isString(name) {
				r.toolName = name
			}
		case "messages", "input":
			r.askedForTool = lastUserAsksForTool(v)
		}
	}
	// The walk validated every member; what is left must be whitespace.
	return r, !it.bad && skipWS(body, it.i) == len(body)
}

// lastUserAsksForTool reports whether the conversation ends with a user turn
// that mentions "tool". A user turn that returns tool results (Anthropic
// tool_result blocks) does not count, so agent loops terminate.
func lastUserAsksForTool(v []byte) bool {
	if isString(v) { // Responses API: input may be a plain string
		return containsFold(v, "tool")
	}
	last := lastElem(v)
	if last == nil {
		return false
	}
	role := field(last, "role")
	if string(role) != `"user"` {
		return false
	}
	content := field(last, "content")
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
