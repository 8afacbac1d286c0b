package session

// Message is one entry of a request's conversation as a provider adapter
// extracted it: a Chat Completions or Anthropic message, or a Responses API
// input item. All slices are borrowed: the package never retains them past
// the call that received them, so they may point straight into the request
// body.
type Message struct {
	// Role is the role field verbatim ("user", "assistant", "tool",
	// "system", ...); nil when the message has none (Responses
	// function_call items), which the original hashes as "unknown".
	Role []byte

	// Type is the Responses API item type ("message", "function_call",
	// "function_call_output"); nil elsewhere. A function_call counts as a
	// message from the model, a function_call_output as one from the client.
	Type []byte

	// Content is the text the original's content_text extracts:
	//   - content is a string: that string;
	//   - content is a list of blocks: the concatenation of the "text" of
	//     every block whose type is "text" (Anthropic text blocks, Chat
	//     content parts) — tool_use, tool_result, image blocks add nothing;
	//   - content is null or absent: empty;
	//   - anything else (an object, a number): its raw JSON.
	// Only the first ContentReadLimit bytes are read, so callers that
	// concatenate blocks may stop there.
	//
	// The original sees Responses input_text/output_text blocks as empty;
	// an adapter may pass their text instead, which only ever tells apart
	// conversations the original would merge (all Responses user turns
	// otherwise hash alike).
	Content []byte

	// Escaped says Content is the body of a JSON string as it appears in
	// the request (between the quotes, escape sequences such as \n and
	// \u00e9 intact). Resolve decodes the few code points it needs on the
	// fly, so an adapter never has to unescape or copy a string to hand it
	// over. Concatenated block texts may be passed escaped as well: the
	// concatenation of escaped strings is the escape of the concatenation.
	// False means Content is plain UTF-8. A string without a backslash is
	// the same either way, and plain is a little cheaper: adapters whose
	// JSON scanner records whether a string holds escapes should pass that.
	Escaped bool

	// CallID links a tool call and its result: for a tool result (role
	// "tool", a function_call_output, an Anthropic user message carrying
	// tool_result blocks) the id of the call it answers (of the first one
	// when several); for a model message requesting tools (assistant
	// tool_calls, Anthropic tool_use, a function_call item) the id of its
	// first call. Empty otherwise. The original ignores it; fuzzy matching
	// uses it so that a rewritten tool result still matches its call.
	CallID []byte
}

// isLLM is the original's _is_llm_message: role "assistant" or a
// function_call item.
func (m *Message) isLLM() bool {
	return string(m.Role) == "assistant" || string(m.Type) == "function_call"
}

// isClient is the original's _is_client_message.
func (m *Message) isClient() bool {
	switch string(m.Role) {
	case "user", "tool", "system":
		return true
	}
	return string(m.Type) == "function_call_output"
}

// Conversation is what a provider adapter hands to Table.Resolve for one
// request. Like Message, every slice is borrowed for the duration of the
// call. A Conversation is meant to be reused across requests (Reset keeps
// the Messages array), which keeps the adapter allocation-free too.
type Conversation struct {
	// System is the system prompt as the original's _extract_system_prompt
	// finds it: the first system message's content (Chat; the message
	// also stays in Messages), the Responses "instructions", or Anthropic's
	// "system". For a list of blocks pass the concatenated text of its text
	// blocks (see AgentID for what that means for agent ids).
	System []byte

	// SystemEscaped says System is a JSON string body; see Message.Escaped.
	SystemEscaped bool

	// HasSystem says the request carries a system prompt, possibly empty.
	// Without one the original uses the literal "default-system" (for the
	// signature and the agent id alike), and so does this package. A
	// non-empty System implies HasSystem.
	HasSystem bool

	// Messages is the conversation in request order: Chat or Anthropic
	// "messages", or the Responses "input" list (a plain-string input is one
	// user message).
	Messages []Message

	// ExternalSessionID is the value of x-cylestio-session-id (or its alias
	// x-cylestio-conversation-id; see SessionIDHeader). When non-empty it is
	// the session id, verbatim, and detection is skipped.
	ExternalSessionID []byte

	// AgentIDHeader is the value of x-cylestio-agent-id (or its alias
	// x-cylestio-prompt-id; see AgentIDHeader); used by AgentID only.
	AgentIDHeader []byte

	// PreviousResponseID is the Responses API previous_response_id. When it
	// names a response recorded with Table.Reply, the request continues that
	// response's session and every message is new.
	PreviousResponseID []byte
}

// Reset clears c for reuse, keeping the capacity of Messages.
func (c *Conversation) Reset() {
	clear(c.Messages)
	*c = Conversation{Messages: c.Messages[:0]}
}

// Add appends an empty message and returns it for the caller to fill. The
// pointer is valid until the next Add or Reset.
func (c *Conversation) Add() *Message {
	if len(c.Messages) < cap(c.Messages) {
		c.Messages = c.Messages[:len(c.Messages)+1]
	} else {
		c.Messages = append(c.Messages, Message{})
	}
	m := &c.Messages[len(c.Messages)-1]
	*m = Message{}
	return m
}

// systemText is the prompt the original hashes and md5s: the system prompt,
// or "default-system" when the request has none.
func (c *Conversation) systemText() ([]byte, bool) {
	if c.HasSystem || len(c.System) > 0 {
		return c.System, c.SystemEscaped
	}
	return defaultSystem, false
}
