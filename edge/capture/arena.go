package capture

import (
	"crypto/md5"
	"encoding/hex"
	"sync"
	"unsafe"

	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

// The events of one call are built in two allocations, whatever their
// number: one array of sink.Event and one byte slice holding every string
// and attribute object they carry. While the call is built, texts are
// appended to a pooled scratch arena and remembered as offsets; finish
// copies the arena once into its final home and points the events' strings
// and attributes into it. The events are immutable from then on, so the
// sharing is invisible to the pipeline; the memory lives until the last of
// the call's events is written and dropped.

// span is a range of the builder's arena.
type span struct{ off, end int }

// strFix sets a string field of an event to an arena range at finish.
type strFix struct {
	dst *string
	s   span
}

// attrFix sets an event's attributes to an arena range at finish.
type attrFix struct {
	ev *sink.Event
	s  span
}

// scratch is the pooled working memory of one call's capture: the arena
// and the bookkeeping of what finish must fill in. Nothing in it outlives
// the call.
type scratch struct {
	arena []byte
	sys   []byte // the system prompt rendered from a list of blocks
	list  []*sink.Event
	fixes []strFix
	attrs []attrFix
	res   session.Result
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{
		arena: make([]byte, 0, 8192),
		sys:   make([]byte, 0, 256),
		list:  make([]*sink.Event, 0, 8),
		fixes: make([]strFix, 0, 16),
		attrs: make([]attrFix, 0, 8),
	}
}}

// maxPooledArena: an arena that grew past it (a huge request body spliced
// into llm.call.start) is left to the GC rather than kept in the pool.
const maxPooledArena = 1 << 20

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// release returns sc to the pool, dropping its references to the events.
func (sc *scratch) release(arena []byte) {
	clear(sc.list)
	clear(sc.fixes)
	clear(sc.attrs)
	sc.list, sc.fixes, sc.attrs, sc.sys = sc.list[:0], sc.fixes[:0], sc.attrs[:0], sc.sys[:0]
	sc.res = session.Result{}
	if cap(arena) > maxPooledArena {
		return
	}
	sc.arena = arena[:0]
	scratchPool.Put(sc)
}

// take returns a zeroed event appended to the call's events.
func (b *builder) take() *sink.Event {
	if len(b.chunk) == cap(b.chunk) {
		// More events than record's bound (never expected): a new chunk,
		// so the events already handed out never move.
		b.chunk = make([]sink.Event, 0, 4)
	}
	b.chunk = b.chunk[:len(b.chunk)+1]
	ev := &b.chunk[len(b.chunk)-1]
	b.sc.list = append(b.sc.list, ev)
	return ev
}

// keep appends v to the arena and returns its range.
func keep[T ~string | ~[]byte](b *builder, v T) span {
	off := len(b.arena)
	b.arena = append(b.arena, v...)
	return span{off, len(b.arena)}
}

// keepStr sets *dst to v at finish.
func keepStr[T ~string | ~[]byte](b *builder, dst *string, v T) {
	if len(v) == 0 {
		*dst = ""
		return
	}
	b.sc.fixes = append(b.sc.fixes, strFix{dst, keep(b, v)})
}

// attrStart opens an attribute object at the arena's end.
func (b *builder) attrStart() obj { return obj{b: b.arena} }

// attrEnd takes the object written since attrStart as ev's attributes.
func (b *builder) attrEnd(ev *sink.Event, o obj) {
	off := len(b.arena)
	b.arena = o.b
	b.sc.attrs = append(b.sc.attrs, attrFix{ev, span{off, len(b.arena)}})
}

// finish moves the arena to its final home, fills in the events' strings
// and attributes, publishes them in order and returns the final home.
func (b *builder) finish() []byte {
	// A function of plain values, so that the builder (which points to
	// the session result on record's stack) does not escape.
	return finishEvents(b.c, b.sc, b.arena, b.vendor, [4]span{b.sidAt, b.agentAt, b.traceAt, b.modelAt})
}

func finishEvents(c *Capture, sc *scratch, arena []byte, vendor string, common [4]span) (mem []byte) {
	mem = make([]byte, len(arena))
	copy(mem, arena)
	maskSecret(mem, c.secret)
	str := func(s span) string {
		if s.end == s.off {
			return ""
		}
		return unsafe.String(&mem[s.off], s.end-s.off)
	}
	for _, f := range sc.fixes {
		*f.dst = str(f.s)
	}
	for _, a := range sc.attrs {
		a.ev.Attributes = mem[a.s.off:a.s.end:a.s.end]
	}
	sid, agent, trace, model := str(common[0]), str(common[1]), str(common[2]), str(common[3])
	for _, ev := range sc.list {
		ev.SessionID, ev.AgentID, ev.TraceID, ev.Model, ev.Vendor = sid, agent, trace, model, vendor
		if c.pub.Publish(ev) {
			c.published.Add(1)
		} else {
			c.dropped.Add(1)
		}
	}
	return mem
}

// appendTraceID appends the original's trace id: the md5 of the session id
// in hex.
func appendTraceID(dst, sessionID []byte) []byte {
	sum := md5.Sum(sessionID) //nolint:gosec // the original's trace id, not security
	return hex.AppendEncode(dst, sum[:])
}

// AppendSpanID appends a span id as 16 hex digits, as events and
// traceparent headers carry it.
func AppendSpanID(dst []byte, s uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		dst = append(dst, digits[(s>>uint(i))&0xf])
	}
	return dst
}
