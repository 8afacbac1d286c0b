package provider

// Parse reads a non-streaming answer of the given kind and HTTP status into
// r (which it resets first). Members are recognised by name whatever the
// kind, so an OpenAI-format answer on an Anthropic route still parses.
//
// IsError is set from the status even when the body is empty or not JSON
// (an HTML page from a load balancer); Parse then returns ErrInvalidJSON or
// ErrNotObject (nil for an empty error body), and the other fields are
// meaningless. It never panics.
func (r *Response) Parse(kind Kind, status int, body []byte) error {
	r.Reset()
	r.Kind, r.StatusCode, r.Complete = kind, status, true
	r.IsError = status >= 400
	d := &r.d
	d.Reset(body)
	defer d.Reset(nil)
	if d.Peek() != '{' {
		if d.AtEnd() {
			if r.IsError {
				return nil
			}
			d.Fail(ErrInvalidJSON)
			return d.Err()
		}
		return notObject(d)
	}
	var incomplete Str
	var incompleteRaw []byte
	if d.EnterObj() {
		for {
			switch string(d.Key()) {
			case "id":
				r.ID = d.StrOrSkip()
			case "model":
				r.Model = d.StrOrSkip()
			case "type":
				if t := d.StrOrSkip(); t.Equal("error") {
					r.IsError = true
				}
			case "error":
				if !d.IsNull() {
					r.IsError = true
					r.Error.parse(d)
				}
			case "usage":
				r.Usage.parse(d)
			case "choices":
				r.choices()
			case "system_fingerprint":
				r.SystemFingerprint = d.StrOrSkip()
			case "content":
				r.anthropicContent()
			case "stop_reason":
				r.FinishReason, r.FinishReasonRaw = strAndRaw(d)
			case "stop_sequence":
				r.StopSequence = d.StrOrSkip()
			case "output":
				r.output()
			case "status":
				r.Status = d.StrOrSkip()
			case "incomplete_details":
				incomplete, incompleteRaw = reasonOf(d)
			default:
				d.Skip()
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
	if r.Status.Present() { // Responses
		if r.Status.Equal("failed") {
			r.IsError = true
		}
		if !r.FinishReason.Present() {
			if incomplete.Present() {
				r.FinishReason, r.FinishReasonRaw = incomplete, incompleteRaw
			} else {
				r.FinishReason = r.Status
			}
		}
	}
	return nil
}

// reasonOf reads {"reason": …} and returns the reason and its JSON.
func reasonOf(d *dec) (s Str, raw []byte) {
	if d.EnterObj() {
		for {
			if string(d.Key()) == "reason" {
				s, raw = strAndRaw(d)
			} else {
				d.Skip()
			}
			if !d.MoreObj() {
				break
			}
		}
	}
	return s, raw
}

// parse reads an error value: an object with message/type/code/param, or
// a bare string message.
func (e *Error) parse(d *dec) {
	start := d.Mark()
	if d.Peek() == '"' {
		e.Message = d.Str()
		e.Raw = d.Since(start)
		return
	}
	if d.EnterObj() {
		for {
			switch string(d.Key()) {
			case "message":
				e.Message = d.StrOrSkip()
			case "type":
				e.Type = d.StrOrSkip()
			case "code":
				e.Code = strOrNumber(d)
			case "param":
				e.Param = d.StrOrSkip()
			default:
				d.Skip()
			}
			if !d.MoreObj() {
				break
			}
		}
	}
	e.Raw = d.Since(start)
}

// strOrNumber reads a string, or a number as its digits.
func strOrNumber(d *dec) Str {
	switch c := d.Peek(); {
	case c == '"':
		return d.Str()
	case c == '-' || (c >= '0' && c <= '9'):
		raw, _ := d.Number()
		return Str{Raw: raw}
	}
	d.Skip()
	return Str{}
}

// parse reads a usage object of any provider; members overwrite.
func (u *Usage) parse(d *dec) {
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "prompt_tokens", "input_tokens":
			u.set(d, &u.InputTokens, HasInput)
		case "completion_tokens", "output_tokens":
			u.set(d, &u.OutputTokens, HasOutput)
		case "total_tokens":
			u.set(d, &u.TotalTokens, HasTotal)
		case "cache_read_input_tokens":
			u.set(d, &u.CachedTokens, HasCached)
		case "cache_creation_input_tokens":
			u.set(d, &u.CacheCreationTokens, HasCacheCreation)
		case "cache_creation":
			u.details(d, "ephemeral_1h_input_tokens", &u.CacheCreation1hTokens, HasCacheCreation1h)
		case "prompt_tokens_details", "input_tokens_details":
			u.details(d, "cached_tokens", &u.CachedTokens, HasCached)
		case "completion_tokens_details", "output_tokens_details":
			u.details(d, "reasoning_tokens", &u.ReasoningTokens, HasReasoning)
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

func (u *Usage) set(d *dec, dst *int64, f UsageFields) {
	if n, ok := d.Int(); ok {
		*dst = n
		u.Has |= f
	}
}

func (u *Usage) details(d *dec, name string, dst *int64, f UsageFields) {
	if !d.EnterObj() {
		return
	}
	for {
		if string(d.Key()) == name {
			u.set(d, dst, f)
		} else {
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

// choices reads Chat choices: the first one gives text, finish reason and
// refusal; every one may carry tool calls.
func (r *Response) choices() {
	d := &r.d
	if !d.EnterArr() {
		return
	}
	for i := 0; ; i++ {
		if d.EnterObj() {
			for {
				switch string(d.Key()) {
				case "message", "delta":
					start := d.Mark()
					nonEmpty := r.choiceMessage(i)
					if raw := d.Since(start); nonEmpty && raw != nil {
						r.Content = append(r.Content, raw)
					}
				case "finish_reason":
					s, raw := strAndRaw(d)
					if i == 0 {
						r.FinishReason, r.FinishReasonRaw = s, raw
					}
				default:
					d.Skip()
				}
				if !d.MoreObj() {
					break
				}
			}
		}
		if !d.MoreArr() {
			break
		}
	}
}

// choiceMessage reads a Chat answer message and reports whether it had
// any member.
func (r *Response) choiceMessage(i int) bool {
	d := &r.d
	if !d.EnterObj() {
		return false
	}
	for {
		switch string(d.Key()) {
		case "content":
			t := r.text()
			if i == 0 {
				r.Text = t
			}
		case "refusal":
			s := d.StrOrSkip()
			if i == 0 {
				r.Refusal = s
			}
		case "tool_calls":
			r.ToolCalls = chatToolCalls(&r.d, r.ToolCalls, i)
		case "function_call":
			r.ToolCalls = functionCall(&r.d, r.ToolCalls, i)
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			return true
		}
	}
}

// text reads a content value that should be text: a string, or a list of
// text parts.
func (r *Response) text() Str {
	d := &r.d
	switch d.Peek() {
	case '"':
		return d.Str()
	case '[':
		base := r.j.base()
		r.textParts()
		return r.j.join(base)
	}
	d.Skip()
	return Str{}
}

// textParts reads a list of text parts, pushing their text to r.j.
func (r *Response) textParts() {
	d := &r.d
	if d.EnterArr() {
		for {
			r.textPart()
			if !d.MoreArr() {
				break
			}
		}
	}
}

// textPart reads one part of a text list; refusal parts set Refusal.
func (r *Response) textPart() {
	d := &r.d
	var typ, text, refusal Str
	if d.EnterObj() {
		for {
			switch string(d.Key()) {
			case "type":
				typ = d.StrOrSkip()
			case "text":
				text = d.StrOrSkip()
			case "refusal":
				refusal = d.StrOrSkip()
			default:
				d.Skip()
			}
			if !d.MoreObj() {
				break
			}
		}
	}
	if isTextBlock(typ) && text.Present() {
		r.j.push(text)
	}
	if typ.Equal("refusal") && refusal.Present() {
		r.Refusal = refusal
	}
}

// arguments reads a function-call arguments member: a JSON string holding
// JSON, or (from lenient senders) the JSON itself.
func arguments(d *dec) Str {
	if d.Peek() == '"' {
		return d.Str()
	}
	if d.IsNull() {
		return Str{}
	}
	return Str{Raw: d.Raw()}
}

// anthropicContent reads an Anthropic answer's content blocks.
func (r *Response) anthropicContent() {
	d := &r.d
	if d.Peek() != '[' {
		// Not a list: the original wraps a single value in one.
		if raw := d.Raw(); raw != nil && string(raw) != "null" {
			r.Content = append(r.Content, raw)
		}
		return
	}
	r.contentList(true)
}

// output reads a Responses answer's output items.
func (r *Response) output() { r.contentList(false) }

// contentList reads the list of Anthropic content blocks or of Responses
// output items: each element's JSON goes to Content, its text parts are
// joined into Text and its tool calls appended.
func (r *Response) contentList(anthropic bool) {
	d := &r.d
	base := r.j.base()
	if d.EnterArr() {
		for i := 0; ; i++ {
			start := d.Mark()
			if anthropic {
				r.anthropicBlock(i)
			} else {
				r.outputItem(i)
			}
			if raw := d.Since(start); raw != nil {
				r.Content = append(r.Content, raw)
			}
			if !d.MoreArr() {
				break
			}
		}
	}
	r.Text = r.j.join(base)
}

func (r *Response) anthropicBlock(i int) {
	var b blockFields
	b.parse(&r.d)
	switch {
	case b.typ.Equal("text"):
		if b.text.Present() {
			r.j.push(b.text)
		}
	case b.typ.Equal("tool_use"):
		r.ToolCalls = append(r.ToolCalls, b.toolCall(i))
	}
}

// itemFields are the members of a Responses output item that both the
// answer's output and the stream's output_item events read.
type itemFields struct {
	typ, callID, name, args Str
}

// member reads the value of member k into it when k is one of its, and
// reports whether it was.
func (it *itemFields) member(d *dec, k []byte) bool {
	switch string(k) {
	case "type":
		it.typ = d.StrOrSkip()
	case "call_id":
		it.callID = d.StrOrSkip()
	case "name":
		it.name = d.StrOrSkip()
	case "arguments", "input":
		it.args = arguments(d)
	default:
		return false
	}
	return true
}

// isToolCall reports whether the item is a function or custom tool call.
func (it *itemFields) isToolCall() bool {
	return it.typ.Equal("function_call") || it.typ.Equal("custom_tool_call")
}

func (r *Response) outputItem(i int) {
	d := &r.d
	var it itemFields
	if d.EnterObj() {
		for {
			switch k := d.Key(); string(k) {
			case "content":
				// Message items: their output_text parts are pushed as
				// parts of the whole output's text.
				r.textParts()
			default:
				if !it.member(d, k) {
					d.Skip()
				}
			}
			if !d.MoreObj() {
				break
			}
		}
	}
	if it.isToolCall() {
		r.ToolCalls = append(r.ToolCalls, ToolCall{Message: i, ID: it.callID, Name: it.name, Arguments: it.args})
	}
}

// chatToolCalls appends the calls of a Chat tool_calls list (in a request's
// assistant message or an answer's choice) to dst; msg is the index of the
// message or choice carrying them.
func chatToolCalls(d *dec, dst []ToolCall, msg int) []ToolCall {
	if !d.EnterArr() {
		return dst
	}
	for {
		tc := ToolCall{Message: msg}
		var index int64
		if chatToolCall(d, &tc, &index) {
			dst = append(dst, tc)
		}
		if !d.MoreArr() {
			break
		}
	}
	return dst
}

// chatToolCall reads one element of a Chat tool_calls list into tc: its
// id, and its function (or custom tool) name and arguments. A stream's
// deltas also carry the call's index, read into index (left as it is
// when absent). It reports false for an element that is not an object,
// or an empty one.
func chatToolCall(d *dec, tc *ToolCall, index *int64) bool {
	if !d.EnterObj() {
		return false
	}
	for {
		switch string(d.Key()) {
		case "index":
			if n, ok := d.Int(); ok {
				*index = n
			}
		case "id":
			tc.ID = d.StrOrSkip()
		case "function", "custom":
			parseFunction(d, tc)
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
	return true
}

// functionCall appends the call of a pre-tools function_call member (in a
// request's assistant message or an answer's choice: a call without an
// id) to dst; msg is the index of the message or choice carrying it.
func functionCall(d *dec, dst []ToolCall, msg int) []ToolCall {
	if d.Peek() != '{' {
		d.Skip()
		return dst
	}
	tc := ToolCall{Message: msg}
	parseFunction(d, &tc)
	return append(dst, tc)
}

// parseFunction reads {"name": …, "arguments": …} (or a custom tool's
// "input") into tc.
func parseFunction(d *dec, tc *ToolCall) {
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "name":
			tc.Name = d.StrOrSkip()
		case "arguments", "input":
			tc.Arguments = arguments(d)
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}
