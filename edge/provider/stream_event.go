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
		p.bad++
		return notObject(d)
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
	text                   Str // chat choice 0 content, Anthropic text delta, Responses delta
	finish                 Str
	finishRaw              []byte
	refusal                Str
	usage                  Usage
	err                    Error
	hasErr                 bool

	// Anthropic
	deltaType, partial, stopSeq Str
	block                       blockFields

	// Responses
	status                  Str
	reason                  Str
	reasonRaw               []byte
	item                    itemFields
	arguments               Str
	code, messageStr, param Str
	hasResponse             bool

	ops []toolDelta // chat tool call deltas
}

// toolDelta is one tool_calls entry of a chat chunk.
type toolDelta struct {
	key  int64
	call ToolCall
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
		f.errorMember(d)
	case "message":
		if d.Peek() == '"' { // Responses error events: top-level message
			f.messageStr = d.Str()
		} else {
			p.answerObject(d)
		}
	case "content_block":
		f.block.parse(d)
	case "delta":
		if d.Peek() == '"' { // Responses deltas are strings
			f.text = d.Str()
		} else {
			p.deltaObject(d)
		}
	case "response":
		f.hasResponse = true
		p.answerObject(d)
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

// answerObject reads the answer object a lifecycle event carries: the
// message of Anthropic's message_start, the response of the Responses
// response.* events. Both give id, model and usage; a response also has
// its status, error and incomplete_details.
func (p *StreamParser) answerObject(d *dec) {
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
			f.errorMember(d)
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

// errorMember reads an "error" member: an error unless it is null.
func (f *evFields) errorMember(d *dec) {
	if !d.IsNull() {
		f.hasErr = true
		f.err.parse(d)
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
