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
	d.reset(body)
	defer func() { d.b = nil }()
	if d.peek() != '{' {
		if len(body) == 0 || d.i == len(body) {
			if r.IsError {
				return nil
			}
			d.fail(ErrInvalidJSON)
			return d.error()
		}
		d.skip()
		d.end()
		if d.err != nil {
			return d.error()
		}
		return ErrNotObject
	}
	var incomplete Str
	var incompleteRaw []byte
	if d.enterObj() {
		for {
			switch string(d.key()) {
			case "id":
				r.ID = d.strOrSkip()
			case "model":
				r.Model = d.strOrSkip()
			case "type":
				if t := d.strOrSkip(); t.Equal("error") {
					r.IsError = true
				}
			case "error":
				if !d.isNull() {
					r.IsError = true
					r.Error.parse(d)
				}
			case "usage":
				r.Usage.parse(d)
			case "choices":
				r.choices()
			case "system_fingerprint":
				r.SystemFingerprint = d.strOrSkip()
			case "content":
				r.anthropicContent()
			case "stop_reason":
				start := d.mark()
				r.FinishReason = d.strOrSkip()
				r.FinishReasonRaw = d.since(start)
			case "stop_sequence":
				r.StopSequence = d.strOrSkip()
			case "output":
				r.output()
			case "status":
				r.Status = d.strOrSkip()
			case "incomplete_details":
				incomplete, incompleteRaw = reasonOf(d)
			default:
				d.skip()
			}
			if !d.moreObj() {
				break
			}
		}
	}
	d.end()
	if d.err != nil {
		return d.error()
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
	if d.enterObj() {
		for {
			if string(d.key()) == "reason" {
				start := d.mark()
				s = d.strOrSkip()
				raw = d.since(start)
			} else {
				d.skip()
			}
			if !d.moreObj() {
				break
			}
		}
	}
	return s, raw
}

// parse reads an error value: an object with message/type/code/param, or
// a bare string message.
func (e *Error) parse(d *dec) {
	start := d.mark()
	if d.peek() == '"' {
		e.Message = d.str()
		e.Raw = d.since(start)
		return
	}
	if d.enterObj() {
		for {
			switch string(d.key()) {
			case "message":
				e.Message = d.strOrSkip()
			case "type":
				e.Type = d.strOrSkip()
			case "code":
				e.Code = strOrNumber(d)
			case "param":
				e.Param = d.strOrSkip()
			default:
				d.skip()
			}
			if !d.moreObj() {
				break
			}
		}
	}
	e.Raw = d.since(start)
}

// strOrNumber reads a string, or a number as its digits.
func strOrNumber(d *dec) Str {
	switch c := d.peek(); {
	case c == '"':
		return d.str()
	case c == '-' || (c >= '0' && c <= '9'):
		raw, _ := d.number()
		return Str{Raw: raw}
	}
	d.skip()
	return Str{}
}

// parse reads a usage object of any provider; members overwrite.
func (u *Usage) parse(d *dec) {
	if !d.enterObj() {
		return
	}
	for {
		switch string(d.key()) {
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
			d.skip()
		}
		if !d.moreObj() {
			break
		}
	}
}

func (u *Usage) set(d *dec, dst *int64, f UsageFields) {
	if n, ok := d.int(); ok {
		*dst = n
		u.Has |= f
	}
}

func (u *Usage) details(d *dec, name string, dst *int64, f UsageFields) {
	if !d.enterObj() {
		return
	}
	for {
		if string(d.key()) == name {
			u.set(d, dst, f)
		} else {
			d.skip()
		}
		if !d.moreObj() {
			break
		}
	}
}

// choices reads Chat choices: the first one gives text, finish reason and
// refusal; every one may carry tool calls.
func (r *Response) choices() {
	d := &r.d
	if !d.enterArr() {
		return
	}
	for i := 0; ; i++ {
		if d.enterObj() {
			for {
				switch string(d.key()) {
				case "message", "delta":
					start := d.mark()
					nonEmpty := r.choiceMessage(i)
					if raw := d.since(start); nonEmpty && raw != nil {
						r.Content = append(r.Content, raw)
					}
				case "finish_reason":
					start := d.mark()
					s := d.strOrSkip()
					if i == 0 {
						r.FinishReason, r.FinishReasonRaw = s, d.since(start)
					}
				default:
					d.skip()
				}
				if !d.moreObj() {
					break
				}
			}
		}
		if !d.moreArr() {
			break
		}
	}
}

// choiceMessage reads a Chat answer message and reports whether it had
// any member.
func (r *Response) choiceMessage(i int) bool {
	d := &r.d
	if !d.enterObj() {
		return false
	}
	for {
		switch string(d.key()) {
		case "content":
			t := r.text()
			if i == 0 {
				r.Text = t
			}
		case "refusal":
			s := d.strOrSkip()
			if i == 0 {
				r.Refusal = s
			}
		case "tool_calls":
			r.ToolCalls = chatToolCalls(&r.d, r.ToolCalls, i)
		case "function_call":
			if d.peek() == '{' {
				tc := ToolCall{Message: i}
				parseFunction(&r.d, &tc)
				r.ToolCalls = append(r.ToolCalls, tc)
			} else {
				d.skip()
			}
		default:
			d.skip()
		}
		if !d.moreObj() {
			return true
		}
	}
}

// text reads a content value that should be text: a string, or a list of
// text parts.
func (r *Response) text() Str {
	d := &r.d
	switch d.peek() {
	case '"':
		return d.str()
	case '[':
		base := r.j.base()
		if d.enterArr() {
			for {
				r.textPart()
				if !d.moreArr() {
					break
				}
			}
		}
		return r.j.join(base)
	}
	d.skip()
	return Str{}
}

// textPart reads one part of a text list; refusal parts set Refusal.
func (r *Response) textPart() {
	d := &r.d
	var typ, text, refusal Str
	if d.enterObj() {
		for {
			switch string(d.key()) {
			case "type":
				typ = d.strOrSkip()
			case "text":
				text = d.strOrSkip()
			case "refusal":
				refusal = d.strOrSkip()
			default:
				d.skip()
			}
			if !d.moreObj() {
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
	if d.peek() == '"' {
		return d.str()
	}
	if d.isNull() {
		return Str{}
	}
	return Str{Raw: d.raw()}
}

// anthropicContent reads an Anthropic answer's content blocks.
func (r *Response) anthropicContent() {
	d := &r.d
	if d.peek() != '[' {
		// Not a list: the original wraps a single value in one.
		if raw := d.raw(); raw != nil && string(raw) != "null" {
			r.Content = append(r.Content, raw)
		}
		return
	}
	base := r.j.base()
	if d.enterArr() {
		for i := 0; ; i++ {
			start := d.mark()
			r.anthropicBlock(i)
			if raw := d.since(start); raw != nil {
				r.Content = append(r.Content, raw)
			}
			if !d.moreArr() {
				break
			}
		}
	}
	r.Text = r.j.join(base)
}

func (r *Response) anthropicBlock(i int) {
	d := &r.d
	var typ, text, id, name Str
	var input []byte
	if d.enterObj() {
		for {
			switch string(d.key()) {
			case "type":
				typ = d.strOrSkip()
			case "text":
				text = d.strOrSkip()
			case "id":
				id = d.strOrSkip()
			case "name":
				name = d.strOrSkip()
			case "input":
				input = d.raw()
			default:
				d.skip()
			}
			if !d.moreObj() {
				break
			}
		}
	}
	switch {
	case typ.Equal("text"):
		if text.Present() {
			r.j.push(text)
		}
	case typ.Equal("tool_use"):
		r.ToolCalls = append(r.ToolCalls, ToolCall{Message: i, ID: id, Name: name, Arguments: Str{Raw: input}})
	}
}

// output reads a Responses answer's output items.
func (r *Response) output() {
	d := &r.d
	base := r.j.base()
	if d.enterArr() {
		for i := 0; ; i++ {
			start := d.mark()
			r.outputItem(i)
			if raw := d.since(start); raw != nil {
				r.Content = append(r.Content, raw)
			}
			if !d.moreArr() {
				break
			}
		}
	}
	r.Text = r.j.join(base)
}

func (r *Response) outputItem(i int) {
	d := &r.d
	var typ, callID, name, args Str
	if d.enterObj() {
		for {
			switch string(d.key()) {
			case "type":
				typ = d.strOrSkip()
			case "call_id":
				callID = d.strOrSkip()
			case "name":
				name = d.strOrSkip()
			case "arguments", "input":
				args = arguments(d)
			case "content":
				// Message items: their output_text parts are pushed as
				// parts of the whole output's text.
				if d.enterArr() {
					for {
						r.textPart()
						if !d.moreArr() {
							break
						}
					}
				}
			default:
				d.skip()
			}
			if !d.moreObj() {
				break
			}
		}
	}
	if typ.Equal("function_call") || typ.Equal("custom_tool_call") {
		r.ToolCalls = append(r.ToolCalls, ToolCall{Message: i, ID: callID, Name: name, Arguments: args})
	}
}

// chatToolCalls appends the calls of a Chat tool_calls list (in a request's
// assistant message or an answer's choice) to dst; msg is the index of the
// message or choice carrying them.
func chatToolCalls(d *dec, dst []ToolCall, msg int) []ToolCall {
	if !d.enterArr() {
		return dst
	}
	for {
		tc := ToolCall{Message: msg}
		if d.enterObj() {
			for {
				switch string(d.key()) {
				case "id":
					tc.ID = d.strOrSkip()
				case "function", "custom":
					parseFunction(d, &tc)
				default:
					d.skip()
				}
				if !d.moreObj() {
					break
				}
			}
			dst = append(dst, tc)
		}
		if !d.moreArr() {
			break
		}
	}
	return dst
}

// parseFunction reads {"name": …, "arguments": …} (or a custom tool's
// "input") into tc.
func parseFunction(d *dec, tc *ToolCall) {
	if !d.enterObj() {
		return
	}
	for {
		switch string(d.key()) {
		case "name":
			tc.Name = d.strOrSkip()
		case "arguments", "input":
			tc.Arguments = arguments(d)
		default:
			d.skip()
		}
		if !d.moreObj() {
			break
		}
	}
}
