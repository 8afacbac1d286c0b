package provider

import (
	"bytes"

	"github.com/cylestio/perimeter/stream"
)

// Event reads one complete SSE event (its lines, as stream's tap gives
// them). Events without data (comments, keep-alives) are ignored.
//
// The event is read in one pass that only collects facts; they are applied
// once the whole data has proved to be JSON, so an event that is not JSON
// changes nothing: it is counted (see Events) and reported as the error,
// and the state assembled so far stays valid.
func (p *StreamParser) Event(ev []byte) error {
	if p.kind == None {
		return nil
	}
	name, data := p.fields(ev)
	if len(data) == 0 {
		return nil
	}
	p.events++
	if string(data) == "[DONE]" {
		p.complete = true
		return nil
	}
	f := &p.f
	f.reset()
	d := &p.d
	d.Reset(data)
	defer d.Reset(nil)
	if d.Peek() != '{' {
		d.Skip()
		d.End()
		p.bad++
		if d.Failed() {
			return d.Err()
		}
		return ErrNotObject
	}
	if d.EnterObj() {
		for {
			p.member(d, d.Key())
			if !d.MoreObj() {
				break
			}
		}
	}
	d.End()
	if d.Failed() {
		p.bad++
		return d.Err()
	}
	if !f.typ.Present() && name != nil {
		f.typ = Str{Raw: name}
	}
	switch p.kind {
	case OpenAIChat:
		p.commitChat()
	case AnthropicMessages:
		p.commitAnthropic()
	case OpenAIResponses:
		p.commitResponses()
	}
	return nil
}

// fields returns the event's name and data. The common event — LF line
// ends, one data line — is split with bytes.IndexByte; anything else
// (CR line ends, several data lines, bare field names) goes through
// stream's general parser.
func (p *StreamParser) fields(ev []byte) (name, data []byte) {
	if bytes.IndexByte(ev, '\r') < 0 {
		rest, n := ev, 0
		simple := true
		for len(rest) > 0 {
			line := rest
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				line, rest = rest[:i], rest[i+1:]
			} else {
				rest = nil
			}
			if len(line) == 0 || line[0] == ':' {
				continue
			}
			c := bytes.IndexByte(line, ':')
			if c < 0 {
				simple = false
				break
			}
			v := line[c+1:]
			if len(v) > 0 && v[0] == ' ' {
				v = v[1:]
			}
			switch string(line[:c]) {
			case "data":
				data = v
				n++
			case "event":
				name = v
			}
		}
		if simple && n <= 1 {
			return name, data
		}
	}
	data = stream.Data(p.data[:0], ev)
	if len(data) > 0 && !within(data, ev) {
		p.data = data[:0] // several data lines were joined: keep the buffer
	}
	return stream.Name(ev), data
}

// evFields are the facts one event carries, collected while its data is
// read. Strs alias the event: they are copied when committed.
type evFields struct {
	typ      Str
	index    int64
	hasIndex bool

	id, model, fingerprint Str
	text                   Str // chat choice 0 content, Anthropic text, Responses delta
	finish                 Str
	finishRaw              []byte
	refusal                Str
	usage                  Usage
	err                    Error
	hasErr                 bool

	// Anthropic
	deltaType, partial, stopSeq Str
	block                       struct{ typ, id, name Str }
	blockInput                  []byte

	// Responses
	status                  Str
	reason                  Str
	reasonRaw               []byte
	item                    struct{ typ, callID, name, args Str }
	arguments               Str
	code, messageStr, param Str
	hasResponse             bool

	ops []toolDelta // chat tool call deltas
}

// toolDelta is one tool_calls entry of a chat chunk.
type toolDelta struct {
	key            int64
	id, name, args Str
}

func (f *evFields) reset() {
	ops := f.ops[:0]
	*f = evFields{ops: ops}
}

// member reads one top-level member of an event's data.
func (p *StreamParser) member(d *dec, k []byte) {
	f := &p.f
	switch string(k) {
	case "type":
		f.typ = d.StrOrSkip()
	case "index", "output_index":
		if !f.hasIndex || string(k) == "output_index" {
			f.index, f.hasIndex = d.Int()
		} else {
			d.Skip()
		}
	case "id":
		f.id = d.StrOrSkip()
	case "model":
		f.model = d.StrOrSkip()
	case "system_fingerprint":
		f.fingerprint = d.StrOrSkip()
	case "choices":
		p.choices(d)
	case "usage":
		f.usage.parse(d)
	case "error":
		if !d.IsNull() {
			f.hasErr = true
			f.err.parse(d)
		}
	case "message":
		if d.Peek() == '"' { // Responses error events: top-level message
			f.messageStr = d.Str()
		} else {
			p.messageObject(d)
		}
	case "content_block":
		p.contentBlock(d)
	case "delta":
		if d.Peek() == '"' { // Responses deltas are strings
			f.text = d.Str()
		} else {
			p.deltaObject(d)
		}
	case "response":
		f.hasResponse = true
		p.responseObject(d)
	case "item":
		p.itemObject(d)
	case "arguments":
		f.arguments = d.StrOrSkip()
	case "code":
		f.code = strOrNumber(d)
	case "param":
		f.param = d.StrOrSkip()
	case "refusal":
		f.refusal = d.StrOrSkip()
	default:
		d.Skip()
	}
}

// ---- OpenAI Chat Completions chunks

func (p *StreamParser) choices(d *dec) {
	if !d.EnterArr() {
		return
	}
	for pos := int64(0); ; pos++ {
		p.choice(d, pos)
		if !d.MoreArr() {
			break
		}
	}
}

// choice reads one choice of a chunk. Its index is the "index" member
// when that precedes "delta" (it always does in practice), else its
// position.
func (p *StreamParser) choice(d *dec, choice int64) {
	f := &p.f
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "index":
			if n, ok := d.Int(); ok {
				choice = n
			}
		case "delta", "message":
			p.chatDelta(d, choice)
		case "finish_reason":
			start := d.Mark()
			s := d.StrOrSkip()
			if choice == 0 && s.Present() {
				f.finish, f.finishRaw = s, d.Since(start)
			}
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

func (p *StreamParser) chatDelta(d *dec, choice int64) {
	f := &p.f
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "content":
			if s := d.StrOrSkip(); choice == 0 {
				f.text = s
			}
		case "refusal":
			if s := d.StrOrSkip(); choice == 0 {
				f.refusal = s
			}
		case "tool_calls":
			p.chatToolCalls(d, choice)
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

func (p *StreamParser) chatToolCalls(d *dec, choice int64) {
	f := &p.f
	if !d.EnterArr() {
		return
	}
	for pos := int64(0); ; pos++ {
		if d.EnterObj() {
			op := toolDelta{key: pos}
			for {
				switch string(d.Key()) {
				case "index":
					if n, ok := d.Int(); ok {
						op.key = n
					}
				case "id":
					op.id = d.StrOrSkip()
				case "function":
					if d.EnterObj() {
						for {
							switch string(d.Key()) {
							case "name":
								op.name = d.StrOrSkip()
							case "arguments":
								op.args = d.StrOrSkip()
							default:
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
			op.key = choice<<20 | op.key&(1<<20-1)
			f.ops = append(f.ops, op)
		}
		if !d.MoreArr() {
			break
		}
	}
}

func (p *StreamParser) commitChat() {
	f := &p.f
	p.keepFirst(&p.id, f.id)
	p.keepFirst(&p.model, f.model)
	p.keepFirst(&p.fingerprint, f.fingerprint)
	if f.hasErr {
		p.setError(&f.err)
	}
	p.usage.merge(&f.usage)
	p.appendText(f.text)
	if f.finish.Present() {
		p.keep(&p.finish, f.finish)
		p.keepRaw(&p.finishRaw, f.finishRaw)
	}
	p.appendRefusal(f.refusal, false)
	for i := range f.ops {
		op := &f.ops[i]
		if c := p.call(op.key, true); c != nil {
			p.callMeta(c, op.id, op.name)
			p.appendArgs(c, op.args)
		}
	}
	clear(f.ops)
}

// ---- Anthropic Messages events

// messageObject reads message_start's message.
func (p *StreamParser) messageObject(d *dec) {
	f := &p.f
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "id":
			f.id = d.StrOrSkip()
		case "model":
			f.model = d.StrOrSkip()
		case "usage":
			f.usage.parse(d)
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

// contentBlock reads content_block_start's block.
func (p *StreamParser) contentBlock(d *dec) {
	f := &p.f
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "type":
			f.block.typ = d.StrOrSkip()
		case "text":
			f.text = d.StrOrSkip()
		case "id":
			f.block.id = d.StrOrSkip()
		case "name":
			f.block.name = d.StrOrSkip()
		case "input":
			f.blockInput = d.Raw()
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

// deltaObject reads content_block_delta's and message_delta's delta.
func (p *StreamParser) deltaObject(d *dec) {
	f := &p.f
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "type":
			f.deltaType = d.StrOrSkip()
		case "text":
			f.text = d.StrOrSkip()
		case "partial_json":
			f.partial = d.StrOrSkip()
		case "stop_reason":
			start := d.Mark()
			f.finish = d.StrOrSkip()
			if raw := d.Since(start); !isNullRaw(raw) {
				f.finishRaw = raw
			}
		case "stop_sequence":
			f.stopSeq = d.StrOrSkip()
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

func isNullRaw(raw []byte) bool { return raw == nil || string(raw) == "null" }

func (p *StreamParser) commitAnthropic() {
	f := &p.f
	t := f.typ
	switch {
	case t.Equal("content_block_delta"):
		switch {
		case f.deltaType.Equal("text_delta"):
			p.appendText(f.text)
		case f.deltaType.Equal("input_json_delta"):
			if c := p.call(f.index, false); c != nil {
				p.appendArgs(c, f.partial)
			}
		}
	case t.Equal("message_start"):
		p.keepFirst(&p.id, f.id)
		p.keepFirst(&p.model, f.model)
		p.usage.merge(&f.usage)
	case t.Equal("content_block_start"):
		switch {
		case f.block.typ.Equal("text"):
			p.appendText(f.text)
		case f.block.typ.Equal("tool_use"):
			if c := p.call(f.index, true); c != nil {
				p.callMeta(c, f.block.id, f.block.name)
				if len(f.blockInput) <= maxMeta {
					c.initial = append(c.initial[:0], f.blockInput...)
				}
			}
		}
	case t.Equal("message_delta"):
		if f.finishRaw != nil {
			p.keep(&p.finish, f.finish)
			p.keepRaw(&p.finishRaw, f.finishRaw)
		}
		if f.stopSeq.Present() {
			p.keep(&p.stopSeq, f.stopSeq)
		}
		// message_delta counts override message_start's; fields it
		// leaves out are kept.
		p.usage.merge(&f.usage)
	case t.Equal("message_stop"):
		p.complete = true
	case t.Equal("error"):
		p.isError = true
		if f.hasErr {
			p.setError(&f.err)
		}
	}
}

// ---- OpenAI Responses events

// responseObject reads a Responses response object (created, in_progress,
// completed, incomplete, failed).
func (p *StreamParser) responseObject(d *dec) {
	f := &p.f
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "id":
			f.id = d.StrOrSkip()
		case "model":
			f.model = d.StrOrSkip()
		case "status":
			f.status = d.StrOrSkip()
		case "usage":
			f.usage.parse(d)
		case "error":
			if !d.IsNull() {
				f.hasErr = true
				f.err.parse(d)
			}
		case "incomplete_details":
			f.reason, f.reasonRaw = reasonOf(d)
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

// itemObject reads output_item.added/done's item.
func (p *StreamParser) itemObject(d *dec) {
	f := &p.f
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "type":
			f.item.typ = d.StrOrSkip()
		case "call_id":
			f.item.callID = d.StrOrSkip()
		case "name":
			f.item.name = d.StrOrSkip()
		case "arguments":
			f.item.args = d.StrOrSkip()
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

func (p *StreamParser) commitResponses() {
	f := &p.f
	t := f.typ
	switch {
	case t.Equal("response.output_text.delta"):
		p.appendText(f.text)
	case t.Equal("response.function_call_arguments.delta"):
		if c := p.call(f.index, false); c != nil && !c.argsFinal {
			p.appendArgs(c, f.text)
		}
	case t.Equal("response.function_call_arguments.done"):
		if c := p.call(f.index, false); c != nil && f.arguments.Present() {
			p.finalArgs(c, f.arguments)
		}
	case t.Equal("response.output_item.added"), t.Equal("response.output_item.done"):
		if f.item.typ.Equal("function_call") || f.item.typ.Equal("custom_tool_call") {
			if c := p.call(f.index, true); c != nil {
				p.callMeta(c, f.item.callID, f.item.name)
				if !f.item.args.IsEmpty() {
					p.finalArgs(c, f.item.args)
				}
			}
		}
	case t.Equal("response.refusal.delta"):
		p.appendRefusal(f.text, false)
	case t.Equal("response.refusal.done"):
		if f.refusal.Present() {
			p.appendRefusal(f.refusal, true)
		}
	case t.Equal("response.created"), t.Equal("response.in_progress"):
		p.keepFirst(&p.id, f.id)
		p.keepFirst(&p.model, f.model)
	case t.Equal("response.completed"), t.Equal("response.incomplete"), t.Equal("response.failed"):
		p.complete = true
		p.keepFirst(&p.id, f.id)
		p.keepFirst(&p.model, f.model)
		p.usage.merge(&f.usage)
		if f.hasErr {
			p.setError(&f.err)
		}
		if f.status.Present() {
			p.keep(&p.status, f.status)
			if f.status.Equal("failed") {
				p.isError = true
			}
		}
		switch {
		case f.reason.Present():
			p.keep(&p.finish, f.reason)
			p.keepRaw(&p.finishRaw, f.reasonRaw)
		case f.status.Present():
			p.keep(&p.finish, f.status)
			p.finishRaw = span{}
		}
	case t.Equal("error"):
		p.isError = true
		p.keep(&p.errCode, f.code)
		p.keep(&p.errMsg, f.messageStr)
		p.keep(&p.errParam, f.param)
		if f.hasErr { // some gateways nest it
			p.setError(&f.err)
		}
	}
}

// setError records an error the provider reported.
func (p *StreamParser) setError(e *Error) {
	p.isError = true
	p.keep(&p.errType, e.Type)
	p.keep(&p.errCode, e.Code)
	p.keep(&p.errMsg, e.Message)
	p.keep(&p.errParam, e.Param)
	p.keepRaw(&p.errRaw, e.Raw)
}
