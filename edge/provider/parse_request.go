package provider

// Parse reads a request body of the given kind into r (which it resets
// first). It returns ErrNotObject for valid JSON that is not an object and
// a *SyntaxError wrapping ErrInvalidJSON for anything that is not JSON; r's
// fields are then meaningless. Parse never panics, whatever the bytes.
//
// For Kind None the conversation (messages, input, system) is not read;
// model, stream, tools and params are.
func (r *Request) Parse(kind Kind, body []byte) error {
	r.Reset()
	r.Kind = kind
	d := &r.d
	d.Reset(body)
	defer d.Reset(nil)
	if d.Peek() != '{' {
		return notObject(d)
	}
	var instr Str
	var instrRaw []byte
	if d.EnterObj() {
		for {
			k := d.Key()
			switch string(k) {
			case "model":
				r.Model = d.StrOrSkip()
			case "stream":
				v, _ := d.Bool()
				r.Stream = v
			case "stream_options":
				start := d.Mark()
				r.IncludeUsage = r.includeUsage()
				r.params[ParamStreamOptions] = d.Since(start)
			case "max_tokens", "max_completion_tokens", "max_output_tokens":
				p := paramOf(k)
				start := d.Mark()
				n, ok := d.Int()
				r.params[p] = d.Since(start)
				if ok {
					r.setMaxTokens(p, n)
				}
			case "temperature":
				start := d.Mark()
				r.Temperature, r.HasTemperature = d.Float()
				r.params[ParamTemperature] = d.Since(start)
			case "messages":
				if kind == OpenAIChat || kind == AnthropicMessages {
					r.messages(false)
				} else {
					d.Skip()
				}
			case "input":
				if kind == OpenAIResponses {
					r.messages(true)
				} else {
					d.Skip()
				}
			case "instructions":
				instr, instrRaw = strAndRaw(d)
				r.params[ParamInstructions] = instrRaw
			case "system":
				start := d.Mark()
				if kind == AnthropicMessages {
					r.system()
				} else {
					d.Skip()
				}
				r.params[ParamSystem] = d.Since(start)
			case "tools":
				r.tools()
			case "previous_response_id":
				r.PreviousResponseID = d.StrOrSkip()
			default:
				if p := paramOf(k); p < numParams {
					r.params[p] = d.Raw()
				} else {
					d.Skip()
				}
			}
			if !d.MoreObj() {
				break
			}
		}
	}
	d.End()
	if d.Failed() {
		return d.Err()
	}
	r.finish(instr, instrRaw)
	return nil
}

// setMaxTokens keeps the most specific limit: max_completion_tokens over
// max_tokens over max_output_tokens.
func (r *Request) setMaxTokens(p Param, n int64) {
	if !r.HasMaxTokens || maxTokensRank(p) >= maxTokensRank(r.maxFrom) {
		r.MaxTokens, r.HasMaxTokens, r.maxFrom = n, true, p
	}
}

func maxTokensRank(p Param) int {
	switch p {
	case ParamMaxCompletionTokens:
		return 3
	case ParamMaxTokens:
		return 2
	}
	return 1
}

func (r *Request) includeUsage() bool {
	d := &r.d
	v := false
	if d.EnterObj() {
		for {
			if string(d.Key()) == "include_usage" {
				v, _ = d.Bool()
			} else {
				d.Skip()
			}
			if !d.MoreObj() {
				break
			}
		}
	}
	return v
}

var roleUser = []byte("user")

// emptyText is a present, empty text (Str.Raw non-nil).
var emptyText = make([]byte, 0)

// messages reads a Chat or Anthropic messages list or, with input, the
// Responses input: a list of items or a string (one user message).
func (r *Request) messages(input bool) {
	d := &r.d
	r.resetConversation()
	start := d.Mark()
	if input && d.Peek() == '"' {
		s := d.Str()
		r.Messages = append(r.Messages, Message{
			Role:       Str{Raw: roleUser[:4:4]},
			Text:       s,
			Content:    ContentString,
			ContentRaw: d.Since(start),
		})
	} else if d.EnterArr() {
		for {
			r.message()
			if !d.MoreArr() {
				break
			}
		}
	}
	r.MessagesRaw = d.Since(start)
}

// resetConversation forgets a list read before: with a duplicated member
// the last one wins, as in Python.
func (r *Request) resetConversation() {
	clear(r.Messages)
	r.Messages = r.Messages[:0]
	clear(r.ToolCalls)
	r.ToolCalls = r.ToolCalls[:0]
	clear(r.ToolResults)
	r.ToolResults = r.ToolResults[:0]
	r.MessagesRaw = nil
}

// message reads one message or input item.
func (r *Request) message() {
	d := &r.d
	idx := len(r.Messages)
	r.Messages = append(r.Messages, Message{})
	firstCall, firstResult := len(r.ToolCalls), len(r.ToolResults)
	start := d.Mark()
	var m Message
	var toolCallID, callID, args Str
	var output content
	hasArgs := false
	if d.EnterObj() {
		for {
			switch string(d.Key()) {
			case "role":
				m.Role = d.StrOrSkip()
			case "type":
				m.Type = d.StrOrSkip()
			case "content":
				c := r.content(idx, &m.Images)
				m.Text, m.Content, m.ContentRaw = c.text, c.kind, c.raw
			case "name":
				m.Name = d.StrOrSkip()
			case "tool_call_id":
				toolCallID = d.StrOrSkip()
			case "call_id":
				callID = d.StrOrSkip()
			case "tool_calls":
				r.ToolCalls = chatToolCalls(&r.d, r.ToolCalls, idx)
			case "function_call":
				r.ToolCalls = functionCall(&r.d, r.ToolCalls, idx)
			case "arguments":
				args, hasArgs = arguments(&r.d), true
			case "output":
				output = r.content(idx, &m.Images)
			default:
				d.Skip()
			}
			if !d.MoreObj() {
				break
			}
		}
	}
	m.Raw = d.Since(start)

	switch {
	case m.Role.Equal("tool") || m.Role.Equal("function"):
		r.ToolResults = append(r.ToolResults, ToolResult{
			Message: idx, CallID: toolCallID, Name: m.Name, Call: -1,
			Text: m.Text, Content: m.Content, ContentRaw: m.ContentRaw,
		})
	case m.Type.Equal("function_call"):
		if !hasArgs {
			args = Str{}
		}
		r.ToolCalls = append(r.ToolCalls, ToolCall{Message: idx, ID: callID, Name: m.Name, Arguments: args})
	case m.Type.Equal("function_call_output") || m.Type.Equal("custom_tool_call_output"):
		r.ToolResults = append(r.ToolResults, ToolResult{
			Message: idx, CallID: callID, Call: -1,
			Text: output.text, Content: output.kind, ContentRaw: output.raw,
		})
	}
	switch {
	case toolCallID.Present():
		m.CallID = toolCallID
	case callID.Present():
		m.CallID = callID
	case len(r.ToolResults) > firstResult:
		m.CallID = r.ToolResults[firstResult].CallID
	case len(r.ToolCalls) > firstCall:
		m.CallID = r.ToolCalls[firstCall].ID
	}
	r.Messages[idx] = m
}

// system reads Anthropic's system member: a string or a list of text
// blocks.
func (r *Request) system() {
	start := r.d.Mark()
	var images int
	c := r.content(-1, &images)
	raw := r.d.Since(start)
	if !pyTruthy(raw) {
		return
	}
	r.System, r.SystemRaw, r.SystemSource = c.text, raw, SystemField
	if !r.System.Present() {
		r.System = Str{Raw: emptyText}
	}
}

// tools reads the tools offered.
func (r *Request) tools() {
	d := &r.d
	clear(r.Tools)
	r.Tools = r.Tools[:0]
	start := d.Mark()
	if d.EnterArr() {
		for {
			r.tool()
			if !d.MoreArr() {
				break
			}
		}
	}
	r.ToolsRaw = d.Since(start)
}

func (r *Request) tool() {
	d := &r.d
	start := d.Mark()
	var t Tool
	if d.EnterObj() {
		for {
			switch string(d.Key()) {
			case "name":
				t.Name = d.StrOrSkip()
			case "type":
				t.Type = d.StrOrSkip()
			case "function", "custom":
				if d.EnterObj() {
					for {
						if string(d.Key()) == "name" {
							if n := d.StrOrSkip(); !t.Name.Present() {
								t.Name = n
							}
						} else {
							d.Skip()
						}
						if !d.MoreObj() {
							break
						}
					}
				}
			default:
				d.Skip()
			}
			if !d.MoreObj() {
				break
			}
		}
	}
	t.Raw = d.Since(start)
	r.Tools = append(r.Tools, t)
}

// finish derives what needs the whole body: the system prompt and the
// names of the calls tool results answer.
func (r *Request) finish(instr Str, instrRaw []byte) {
	switch r.Kind {
	case OpenAIChat, OpenAIResponses:
		r.systemFromMessages()
		if r.SystemSource == SystemNone && r.Kind == OpenAIResponses && len(instrRaw) > 0 && string(instrRaw) != "null" {
			r.SystemSource, r.SystemRaw = Instructions, instrRaw
			if instr.Present() {
				r.System = instr
			} else {
				r.System = r.j.pyStr(instrRaw)
			}
		}
	}
	r.linkToolResults()
}

// systemFromMessages takes the first "system" message, else the first
// "developer" one.
func (r *Request) systemFromMessages() {
	dev := -1
	for i := range r.Messages {
		m := &r.Messages[i]
		if m.Role.Equal("system") {
			r.setSystemMessage(m, SystemMessage)
			return
		}
		if dev < 0 && m.Role.Equal("developer") {
			dev = i
		}
	}
	if dev >= 0 {
		r.setSystemMessage(&r.Messages[dev], DeveloperMessage)
	}
}

func (r *Request) setSystemMessage(m *Message, src SystemSource) {
	r.SystemSource, r.System, r.SystemRaw = src, m.Text, m.ContentRaw
	if !r.System.Present() {
		r.System = Str{Raw: emptyText}
	}
}

// linkToolResults names each tool result after the call it answers: the
// latest earlier call with its id. Calls almost always sit just before
// their results, so the backward search is short.
func (r *Request) linkToolResults() {
	calls := r.ToolCalls
	next := 0 // calls[:next] lie in messages before the current result's
	for i := range r.ToolResults {
		tr := &r.ToolResults[i]
		for next < len(calls) && calls[next].Message <= tr.Message {
			next++
		}
		if tr.CallID.IsEmpty() {
			continue
		}
		for j := next - 1; j >= 0; j-- {
			if calls[j].ID.EqualStr(tr.CallID) {
				tr.Call = j
				if !tr.Name.Present() {
					tr.Name = calls[j].Name
				}
				break
			}
		}
	}
}
