package provider

import (
	"sync"
	"unsafe"

	"github.com/cylestio/perimeter/stream"
)

// Stream limits: a parser's memory is bounded whatever the upstream sends.
const (
	// DefaultMaxText is the default cap on the text a StreamParser keeps,
	// and on each tool call's arguments.
	DefaultMaxText = 1 << 20
	// maxStreamCalls is how many distinct tool calls a stream may open.
	maxStreamCalls = 128
	// maxMeta bounds the copies of ids, names, reasons and error strings.
	maxMeta = 64 << 10
)

// StreamParser assembles a streamed answer from its SSE events, as a tap
// sees them pass: text, tool calls from their deltas, usage, finish
// reason, response id and error events. Feed it each complete event with
// Event; ask Result at any time — after the end, or when the stream was cut
// — for what was seen so far.
//
// The event bytes given to Event are only read during the call: what the
// parser keeps it copies into buffers it owns and reuses, so after warm-up
// a stream costs no allocation. A StreamParser is not safe for concurrent
// use; pool them with AcquireStreamParser and ReleaseStreamParser.
type StreamParser struct {
	// MaxText caps the answer text kept, and each tool call's arguments
	// (DefaultMaxText when 0). Pieces beyond it are dropped whole and
	// Truncated reports it.
	MaxText int

	kind     Kind
	complete bool
	isError  bool
	trunc    bool
	events   int
	bad      int

	text    []byte
	textEsc bool
	meta    []byte
	calls   []streamCall
	usage   Usage

	id, model, fingerprint, finish, finishRaw, status, stopSeq, refusal span
	errType, errCode, errMsg, errParam, errRaw                          span

	data []byte // joined multi-line data
	d    dec
	resp Response
}

// span locates a copy in meta.
type span struct {
	off, end int32
	esc, set bool
}

type streamCall struct {
	key              int64
	id, name         []byte
	idEsc, nameEsc   bool
	args             []byte
	argsEsc          bool
	initial          []byte // Anthropic content_block_start input, used when no delta came
	argsFinal, trunc bool
}

var streamParserPool = sync.Pool{New: func() any { return new(StreamParser) }}

// AcquireStreamParser returns a StreamParser from a pool, Reset to kind.
func AcquireStreamParser(kind Kind) *StreamParser {
	p := streamParserPool.Get().(*StreamParser)
	p.Reset(kind)
	return p
}

// ReleaseStreamParser returns p to the pool; p and its Result must not be
// used afterwards.
func ReleaseStreamParser(p *StreamParser) {
	p.Reset(None)
	streamParserPool.Put(p)
}

// Reset prepares p for a new stream of the given kind, keeping its buffers.
func (p *StreamParser) Reset(kind Kind) {
	calls := p.calls[:0]
	*p = StreamParser{
		MaxText: p.MaxText,
		kind:    kind,
		text:    p.text[:0],
		meta:    p.meta[:0],
		calls:   calls,
		data:    p.data[:0],
		resp:    p.resp,
	}
	p.resp.Reset()
}

// Kind returns the format p parses.
func (p *StreamParser) Kind() Kind { return p.kind }

// Events returns how many events p was fed, and how many of them it could
// not read (data that is not JSON).
func (p *StreamParser) Events() (total, bad int) { return p.events, p.bad }

// Complete reports whether the stream's final event has been seen.
func (p *StreamParser) Complete() bool { return p.complete }

// Event reads one complete SSE event (its lines, as stream's tap gives
// them). Events without data (comments, keep-alives) are ignored. It
// returns an error only for data that is not JSON, which is counted and
// otherwise ignored: the state assembled so far stays valid.
func (p *StreamParser) Event(ev []byte) error {
	if p.kind == None {
		return nil
	}
	data := stream.Data(p.data[:0], ev)
	if len(data) > 0 && !within(data, ev) {
		p.data = data[:0] // several data lines were joined: keep the buffer
	}
	if len(data) == 0 {
		return nil
	}
	p.events++
	if string(data) == "[DONE]" {
		p.complete = true
		return nil
	}
	var f evFields
	d := &p.d
	d.reset(data)
	defer func() { d.b = nil }()
	if d.peek() != '{' {
		d.skip()
		d.end()
		p.bad++
		if d.err != nil {
			return d.error()
		}
		return ErrNotObject
	}
	if d.enterObj() {
		for {
			f.member(d, d.key())
			if !d.moreObj() {
				break
			}
		}
	}
	d.end()
	if d.err != nil {
		p.bad++
		return d.error()
	}
	if !f.typ.Present() && p.kind != OpenAIChat {
		if name := stream.Name(ev); name != nil {
			f.typ = Str{Raw: name}
		}
	}
	switch p.kind {
	case OpenAIChat:
		p.chatChunk(&f)
	case AnthropicMessages:
		p.anthropicEvent(&f)
	case OpenAIResponses:
		p.responsesEvent(&f)
	}
	return nil
}

// evFields are the members of one event's data, captured in one pass;
// objects are kept as JSON and read once the event's type is known.
type evFields struct {
	typ                     Str
	index                   int64
	hasIndex                bool
	id, model, fingerprint  Str
	choices, usage          []byte
	message, contentBlock   []byte
	delta, response, item   []byte
	errorv                  []byte
	arguments, text         Str
	code, messageStr, param Str
	refusal                 Str
}

func (f *evFields) member(d *dec, k []byte) {
	switch string(k) {
	case "type":
		f.typ = d.strOrSkip()
	case "index", "output_index":
		if !f.hasIndex || string(k) == "output_index" {
			f.index, f.hasIndex = d.int()
		} else {
			d.skip()
		}
	case "id":
		f.id = d.strOrSkip()
	case "model":
		f.model = d.strOrSkip()
	case "system_fingerprint":
		f.fingerprint = d.strOrSkip()
	case "choices":
		f.choices = d.raw()
	case "usage":
		f.usage = d.raw()
	case "message":
		if d.peek() == '"' { // Responses error events: top-level message
			f.messageStr = d.str()
		} else {
			f.message = d.raw()
		}
	case "content_block":
		f.contentBlock = d.raw()
	case "delta":
		f.delta = d.raw()
	case "response":
		f.response = d.raw()
	case "item":
		f.item = d.raw()
	case "error":
		f.errorv = d.raw()
	case "arguments":
		f.arguments = d.strOrSkip()
	case "text":
		f.text = d.strOrSkip()
	case "code":
		f.code = strOrNumber(d)
	case "param":
		f.param = d.strOrSkip()
	case "refusal":
		f.refusal = d.strOrSkip()
	default:
		d.skip()
	}
}

// over returns a decoder over a captured value (already validated).
func over(raw []byte) dec {
	var d dec
	d.reset(raw)
	return d
}

func isNullRaw(raw []byte) bool { return raw == nil || string(raw) == "null" }

// ---- OpenAI Chat Completions chunks

func (p *StreamParser) chatChunk(f *evFields) {
	p.keepFirst(&p.id, f.id)
	p.keepFirst(&p.model, f.model)
	p.keepFirst(&p.fingerprint, f.fingerprint)
	if !isNullRaw(f.errorv) {
		p.setError(f.errorv)
	}
	if !isNullRaw(f.usage) {
		p.mergeUsage(f.usage)
	}
	if f.choices == nil {
		return
	}
	dv := over(f.choices)
	d := &dv
	if !d.enterArr() {
		return
	}
	for pos := 0; ; pos++ {
		p.chatChoice(d, int64(pos))
		if !d.moreArr() {
			break
		}
	}
}

func (p *StreamParser) chatChoice(d *dec, pos int64) {
	if !d.enterObj() {
		return
	}
	choice := pos
	var delta []byte
	var finish Str
	var finishRaw []byte
	for {
		switch string(d.key()) {
		case "index":
			if n, ok := d.int(); ok {
				choice = n
			}
		case "delta", "message":
			delta = d.raw()
		case "finish_reason":
			start := d.mark()
			finish = d.strOrSkip()
			finishRaw = d.since(start)
		default:
			d.skip()
		}
		if !d.moreObj() {
			break
		}
	}
	if choice == 0 && finish.Present() {
		p.keep(&p.finish, finish)
		p.keepRaw(&p.finishRaw, finishRaw)
	}
	if delta == nil {
		return
	}
	dd := over(delta)
	if !dd.enterObj() {
		return
	}
	for {
		switch string(dd.key()) {
		case "content":
			if s := dd.strOrSkip(); choice == 0 {
				p.appendText(s)
			}
		case "refusal":
			if s := dd.strOrSkip(); choice == 0 && s.Present() && !p.refusal.set {
				p.keep(&p.refusal, s)
			}
		case "tool_calls":
			p.chatToolCallDeltas(&dd, choice)
		default:
			dd.skip()
		}
		if !dd.moreObj() {
			break
		}
	}
}

func (p *StreamParser) chatToolCallDeltas(d *dec, choice int64) {
	if !d.enterArr() {
		return
	}
	for pos := int64(0); ; pos++ {
		if d.enterObj() {
			index := pos
			var id, name, args Str
			for {
				switch string(d.key()) {
				case "index":
					if n, ok := d.int(); ok {
						index = n
					}
				case "id":
					id = d.strOrSkip()
				case "function":
					if d.enterObj() {
						for {
							switch string(d.key()) {
							case "name":
								name = d.strOrSkip()
							case "arguments":
								args = d.strOrSkip()
							default:
								d.skip()
							}
							if !d.moreObj() {
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
			if c := p.call(choice<<20|index&(1<<20-1), true); c != nil {
				p.callMeta(c, id, name)
				p.appendArgs(c, args)
			}
		}
		if !d.moreArr() {
			break
		}
	}
}

// ---- Anthropic Messages events

func (p *StreamParser) anthropicEvent(f *evFields) {
	switch {
	case f.typ.Equal("message_start"):
		if f.message == nil {
			return
		}
		dv := over(f.message)
		d := &dv
		if !d.enterObj() {
			return
		}
		for {
			switch string(d.key()) {
			case "id":
				p.keepFirst(&p.id, d.strOrSkip())
			case "model":
				p.keepFirst(&p.model, d.strOrSkip())
			case "usage":
				p.mergeUsageDec(d)
			default:
				d.skip()
			}
			if !d.moreObj() {
				break
			}
		}
	case f.typ.Equal("content_block_start"):
		p.anthropicBlockStart(f)
	case f.typ.Equal("content_block_delta"):
		p.anthropicDelta(f)
	case f.typ.Equal("message_delta"):
		if f.delta != nil {
			dv := over(f.delta)
			d := &dv
			if d.enterObj() {
				for {
					switch string(d.key()) {
					case "stop_reason":
						start := d.mark()
						s := d.strOrSkip()
						raw := d.since(start)
						if !isNullRaw(raw) {
							p.keep(&p.finish, s)
							p.keepRaw(&p.finishRaw, raw)
						}
					case "stop_sequence":
						if s := d.strOrSkip(); s.Present() {
							p.keep(&p.stopSeq, s)
						}
					default:
						d.skip()
					}
					if !d.moreObj() {
						break
					}
				}
			}
		}
		if !isNullRaw(f.usage) {
			p.mergeUsage(f.usage)
		}
	case f.typ.Equal("message_stop"):
		p.complete = true
	case f.typ.Equal("error"):
		p.setError(f.errorv)
	}
}

func (p *StreamParser) anthropicBlockStart(f *evFields) {
	if f.contentBlock == nil {
		return
	}
	dv := over(f.contentBlock)
	d := &dv
	if !d.enterObj() {
		return
	}
	var typ, text, id, name Str
	var input []byte
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
	switch {
	case typ.Equal("text"):
		p.appendText(text)
	case typ.Equal("tool_use"):
		if c := p.call(f.index, true); c != nil {
			p.callMeta(c, id, name)
			if len(input) <= maxMeta {
				c.initial = append(c.initial[:0], input...)
			}
		}
	}
}

func (p *StreamParser) anthropicDelta(f *evFields) {
	if f.delta == nil {
		return
	}
	dv := over(f.delta)
	d := &dv
	if !d.enterObj() {
		return
	}
	var typ, text, partial Str
	for {
		switch string(d.key()) {
		case "type":
			typ = d.strOrSkip()
		case "text":
			text = d.strOrSkip()
		case "partial_json":
			partial = d.strOrSkip()
		default:
			d.skip()
		}
		if !d.moreObj() {
			break
		}
	}
	switch {
	case typ.Equal("text_delta"):
		p.appendText(text)
	case typ.Equal("input_json_delta"):
		if c := p.call(f.index, false); c != nil {
			p.appendArgs(c, partial)
		}
	}
}

// ---- OpenAI Responses events

func (p *StreamParser) responsesEvent(f *evFields) {
	t := f.typ
	switch {
	case t.Equal("response.output_text.delta"):
		if f.delta != nil && f.delta[0] == '"' {
			dv := over(f.delta)
			p.appendText(dv.str())
		}
	case t.Equal("response.function_call_arguments.delta"):
		if f.delta != nil && f.delta[0] == '"' {
			if c := p.call(f.index, false); c != nil && !c.argsFinal {
				dv := over(f.delta)
				p.appendArgs(c, dv.str())
			}
		}
	case t.Equal("response.function_call_arguments.done"):
		if c := p.call(f.index, false); c != nil && f.arguments.Present() {
			p.finalArgs(c, f.arguments)
		}
	case t.Equal("response.output_item.added"), t.Equal("response.output_item.done"):
		p.responsesItem(f)
	case t.Equal("response.refusal.done"):
		if f.refusal.Present() {
			p.keep(&p.refusal, f.refusal)
		}
	case t.Equal("response.created"), t.Equal("response.in_progress"):
		p.responseObject(f.response, false)
	case t.Equal("response.completed"), t.Equal("response.incomplete"), t.Equal("response.failed"):
		p.responseObject(f.response, true)
		p.complete = true
	case t.Equal("error"):
		p.isError = true
		p.keep(&p.errCode, f.code)
		p.keep(&p.errMsg, f.messageStr)
		p.keep(&p.errParam, f.param)
		if !isNullRaw(f.errorv) { // some gateways nest it
			p.setError(f.errorv)
		}
	}
}

func (p *StreamParser) responsesItem(f *evFields) {
	if f.item == nil {
		return
	}
	dv := over(f.item)
	d := &dv
	if !d.enterObj() {
		return
	}
	var typ, callID, name, args Str
	for {
		switch string(d.key()) {
		case "type":
			typ = d.strOrSkip()
		case "call_id":
			callID = d.strOrSkip()
		case "name":
			name = d.strOrSkip()
		case "arguments":
			args = d.strOrSkip()
		default:
			d.skip()
		}
		if !d.moreObj() {
			break
		}
	}
	if !typ.Equal("function_call") && !typ.Equal("custom_tool_call") {
		return
	}
	if c := p.call(f.index, true); c != nil {
		p.callMeta(c, callID, name)
		if !args.IsEmpty() {
			p.finalArgs(c, args)
		}
	}
}

// responseObject reads a Responses response object; final says it is the
// last one (completed, incomplete, failed).
func (p *StreamParser) responseObject(raw []byte, final bool) {
	if raw == nil {
		return
	}
	dv := over(raw)
	d := &dv
	if !d.enterObj() {
		return
	}
	var status, reason Str
	var reasonRaw []byte
	for {
		switch string(d.key()) {
		case "id":
			p.keepFirst(&p.id, d.strOrSkip())
		case "model":
			p.keepFirst(&p.model, d.strOrSkip())
		case "status":
			status = d.strOrSkip()
		case "usage":
			if final {
				p.mergeUsageDec(d)
			} else {
				d.skip()
			}
		case "error":
			if d.isNull() {
				break
			}
			start := d.mark()
			d.skip()
			if final {
				p.setError(d.since(start))
			}
		case "incomplete_details":
			reason, reasonRaw = reasonOf(d)
		default:
			d.skip()
		}
		if !d.moreObj() {
			break
		}
	}
	if !final {
		return
	}
	if status.Present() {
		p.keep(&p.status, status)
		if status.Equal("failed") {
			p.isError = true
		}
	}
	if reason.Present() {
		p.keep(&p.finish, reason)
		p.keepRaw(&p.finishRaw, reasonRaw)
	} else if status.Present() {
		p.keep(&p.finish, status)
		p.finishRaw = span{}
	}
}

// ---- shared pieces

// setError records an error value (an object or a string).
func (p *StreamParser) setError(raw []byte) {
	p.isError = true
	if raw == nil {
		return
	}
	var e Error
	dv := over(raw)
	e.parse(&dv)
	p.keep(&p.errType, e.Type)
	p.keep(&p.errCode, e.Code)
	p.keep(&p.errMsg, e.Message)
	p.keep(&p.errParam, e.Param)
	p.keepRaw(&p.errRaw, e.Raw)
}

func (p *StreamParser) mergeUsage(raw []byte) {
	dv := over(raw)
	p.mergeUsageDec(&dv)
}

// mergeUsageDec merges the usage object at d: Anthropic's message_delta
// counts override message_start's, fields it leaves out are kept.
func (p *StreamParser) mergeUsageDec(d *dec) {
	var u Usage
	u.parse(d)
	p.usage.merge(&u)
}

func (p *StreamParser) maxText() int {
	if p.MaxText > 0 {
		return p.MaxText
	}
	return DefaultMaxText
}

func (p *StreamParser) appendText(s Str) {
	if len(s.Raw) == 0 {
		return
	}
	if len(p.text)+len(s.Raw) > p.maxText() {
		p.trunc = true
		return
	}
	p.text = append(p.text, s.Raw...)
	p.textEsc = p.textEsc || s.Escaped
}

// call returns the tool call with key, creating it when create is true
// (nil when absent, or when the stream opened too many).
func (p *StreamParser) call(key int64, create bool) *streamCall {
	for i := range p.calls {
		if p.calls[i].key == key {
			return &p.calls[i]
		}
	}
	if !create || len(p.calls) >= maxStreamCalls {
		return nil
	}
	if len(p.calls) < cap(p.calls) {
		p.calls = p.calls[:len(p.calls)+1]
		c := &p.calls[len(p.calls)-1]
		*c = streamCall{key: key, id: c.id[:0], name: c.name[:0], args: c.args[:0], initial: c.initial[:0]}
		return c
	}
	p.calls = append(p.calls, streamCall{key: key})
	return &p.calls[len(p.calls)-1]
}

// callMeta sets a call's id and name; later non-empty values overwrite, as
// the original does.
func (p *StreamParser) callMeta(c *streamCall, id, name Str) {
	if !id.IsEmpty() && len(id.Raw) <= maxMeta {
		c.id, c.idEsc = append(c.id[:0], id.Raw...), id.Escaped
	}
	if !name.IsEmpty() && len(name.Raw) <= maxMeta {
		c.name, c.nameEsc = append(c.name[:0], name.Raw...), name.Escaped
	}
}

func (p *StreamParser) appendArgs(c *streamCall, s Str) {
	if len(s.Raw) == 0 {
		return
	}
	if len(c.args)+len(s.Raw) > p.maxText() {
		c.trunc, p.trunc = true, true
		return
	}
	c.args = append(c.args, s.Raw...)
	c.argsEsc = c.argsEsc || s.Escaped
}

// finalArgs replaces the pieces with the complete arguments a .done event
// carries.
func (p *StreamParser) finalArgs(c *streamCall, s Str) {
	if len(s.Raw) > p.maxText() {
		c.trunc, p.trunc = true, true
		return
	}
	c.args, c.argsEsc, c.argsFinal, c.trunc = append(c.args[:0], s.Raw...), s.Escaped, true, false
}

// keep copies s into meta, replacing sp; absent values are ignored.
func (p *StreamParser) keep(sp *span, s Str) {
	if !s.Present() || len(p.meta)+len(s.Raw) > maxMeta {
		return
	}
	if sp.set && p.str(*sp).Raw != nil && string(p.str(*sp).Raw) == string(s.Raw) {
		return
	}
	off := len(p.meta)
	p.meta = append(p.meta, s.Raw...)
	*sp = span{off: int32(off), end: int32(len(p.meta)), esc: s.Escaped, set: true}
}

func (p *StreamParser) keepRaw(sp *span, raw []byte) {
	p.keep(sp, Str{Raw: raw})
}

// keepFirst keeps s unless sp already holds a non-empty value.
func (p *StreamParser) keepFirst(sp *span, s Str) {
	if sp.set && sp.end > sp.off {
		return
	}
	p.keep(sp, s)
}

func (p *StreamParser) str(sp span) Str {
	if !sp.set {
		return Str{}
	}
	return Str{Raw: p.meta[sp.off:sp.end:sp.end], Escaped: sp.esc}
}

// Truncated reports whether text or arguments were dropped for exceeding
// MaxText.
func (p *StreamParser) Truncated() bool { return p.trunc }

// Result returns the answer as seen so far. The Response is owned by p and
// valid until the next Event, Reset or release; Content is not filled.
// StatusCode is 200: a stream is only parsed after a 200.
func (p *StreamParser) Result() *Response {
	r := &p.resp
	r.Reset()
	r.Kind, r.StatusCode = p.kind, 200
	r.ID, r.Model = p.str(p.id), p.str(p.model)
	r.SystemFingerprint = p.str(p.fingerprint)
	r.FinishReason, r.FinishReasonRaw = p.str(p.finish), p.str(p.finishRaw).Raw
	r.Status, r.StopSequence, r.Refusal = p.str(p.status), p.str(p.stopSeq), p.str(p.refusal)
	if len(p.text) > 0 {
		r.Text = Str{Raw: p.text[:len(p.text):len(p.text)], Escaped: p.textEsc}
	}
	r.Usage = p.usage
	r.IsError, r.Complete = p.isError, p.complete
	r.Error = Error{
		Type: p.str(p.errType), Code: p.str(p.errCode), Message: p.str(p.errMsg),
		Param: p.str(p.errParam), Raw: p.str(p.errRaw).Raw,
	}
	for i := range p.calls {
		c := &p.calls[i]
		tc := ToolCall{
			Message:   int(c.key & (1<<20 - 1)),
			ID:        Str{Raw: c.id, Escaped: c.idEsc},
			Name:      Str{Raw: c.name, Escaped: c.nameEsc},
			Arguments: Str{Raw: c.args, Escaped: c.argsEsc},
		}
		if len(c.args) == 0 && len(c.initial) > 0 {
			tc.Arguments = Str{Raw: c.initial}
		}
		if p.kind == OpenAIChat {
			tc.Message = int(c.key >> 20)
		}
		r.ToolCalls = append(r.ToolCalls, tc)
	}
	return r
}

// within reports whether s starts inside b's memory.
func within(s, b []byte) bool {
	if len(s) == 0 || cap(b) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= b0 && p < b0+uintptr(cap(b))
}
