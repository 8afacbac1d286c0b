package provider

import (
	"sync"
	"unsafe"
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
	// MaxText caps the answer text kept, the refusal, and each tool call's arguments
	// (DefaultMaxText when 0). Pieces beyond it are dropped whole and
	// Truncated reports it.
	MaxText int

	kind     Kind
	complete bool
	isError  bool
	trunc    bool
	events   int
	bad      int

	text       []byte
	textEsc    bool
	refusal    []byte
	refusalEsc bool
	meta       []byte
	calls      []streamCall
	usage      Usage

	id, model, fingerprint, finish, finishRaw, status, stopSeq span
	errType, errCode, errMsg, errParam, errRaw                 span

	data []byte // joined multi-line data
	d    dec
	f    evFields
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
		refusal: p.refusal[:0],
		meta:    p.meta[:0],
		calls:   calls,
		data:    p.data[:0],
		resp:    p.resp,
		f:       evFields{ops: p.f.ops[:0]},
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

// ---- shared pieces

func (p *StreamParser) maxText() int {
	if p.MaxText > 0 {
		return p.MaxText
	}
	return DefaultMaxText
}

// appendCapped appends s to *buf, noting in *esc whether it holds
// escapes, unless that would take *buf past MaxText: then the piece is
// dropped whole, Truncated reports it, and appendCapped returns false.
func (p *StreamParser) appendCapped(buf *[]byte, esc *bool, s Str) bool {
	if len(s.Raw) == 0 {
		return true
	}
	if len(*buf)+len(s.Raw) > p.maxText() {
		p.trunc = true
		return false
	}
	*buf = append(*buf, s.Raw...)
	*esc = *esc || s.Escaped
	return true
}

func (p *StreamParser) appendText(s Str) { p.appendCapped(&p.text, &p.textEsc, s) }

// appendRefusal adds a refusal piece; replace starts over (a .done event
// carrying the whole refusal).
func (p *StreamParser) appendRefusal(s Str, replace bool) {
	if replace {
		p.refusal, p.refusalEsc = p.refusal[:0], false
	}
	p.appendCapped(&p.refusal, &p.refusalEsc, s)
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
	if !p.appendCapped(&c.args, &c.argsEsc, s) {
		c.trunc = true
	}
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
	r.Status, r.StopSequence = p.str(p.status), p.str(p.stopSeq)
	if len(p.refusal) > 0 {
		r.Refusal = Str{Raw: p.refusal[:len(p.refusal):len(p.refusal)], Escaped: p.refusalEsc}
	}
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
