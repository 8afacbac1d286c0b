package stream

import (
	"io"
	"sync"
)

// DefaultBufferSize is the read size of Copy, and what an open stream holds.
// Provider events are a few hundred bytes; 4 KiB takes a burst of them in
// one read, and the buffer grows for a larger event the tap must see whole.
const DefaultBufferSize = 4 << 10

// DefaultMaxEventSize bounds how far the buffer grows to hold one event for
// the tap: an event may be megabytes (a whole tool call in one chunk, as
// some OpenAI-compatible servers send them). Larger events still reach the
// client untouched, counted in Result.Oversized.
const DefaultMaxEventSize = 16 << 20

// A Tap sees each complete event, including the blank line that ends it. The
// slice is valid only until the Tap returns.
type Tap interface {
	Event(ev []byte)
}

// Result describes one finished Copy.
type Result struct {
	Bytes     int64 // bytes written to the client
	Events    int   // complete events seen (with a tap or CountEvents)
	Oversized int   // events larger than the buffer limit, forwarded untapped
	// SrcErr is the upstream read error that ended the copy (nil on a clean
	// io.EOF); DstErr the client write error (the client went away).
	SrcErr error
	DstErr error
}

// Err returns the error that ended the copy, or nil.
func (r *Result) Err() error {
	if r.DstErr != nil {
		return r.DstErr
	}
	return r.SrcErr
}

// Forward writes b to dst and counts what was written; a failed or short
// write becomes DstErr (io.ErrShortWrite for a short one) and Forward
// returns false: the copy ends there.
func (r *Result) Forward(dst io.Writer, b []byte) bool {
	w, err := dst.Write(b)
	r.Bytes += int64(w)
	if err == nil && w < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		r.DstErr = err
		return false
	}
	return true
}

// Copier holds the buffer of one stream. Acquire it with AcquireCopier and
// return it with ReleaseCopier; a Copier is not safe for concurrent use.
type Copier struct {
	// MaxEventSize overrides DefaultMaxEventSize when positive.
	MaxEventSize int
	// CountEvents makes a Copy without a tap still split the stream into
	// events to count them (Result.Events, Result.Oversized). Without it,
	// such a Copy only moves bytes and leaves the counts at zero.
	CountEvents bool

	buf []byte
}

var copierPool = sync.Pool{New: func() any {
	return &Copier{buf: make([]byte, DefaultBufferSize)}
}}

// AcquireCopier returns a Copier from a pool.
func AcquireCopier() *Copier { return copierPool.Get().(*Copier) }

// ReleaseCopier returns c to the pool. Buffers grown for oversized events are
// dropped so the pool keeps small ones.
func ReleaseCopier(c *Copier) {
	if cap(c.buf) > DefaultBufferSize {
		c.buf = make([]byte, DefaultBufferSize)
	}
	c.MaxEventSize = 0
	c.CountEvents = false
	copierPool.Put(c)
}

// Copy reads src until io.EOF or an error and writes every read to dst at
// once, one Write per read. dst is expected to flush each Write (fasthttp's
// chunked body writer does), so src should return in one Read all it has
// at hand: Copy then flushes once for events that arrived together. A dst
// that takes fewer bytes than it was given without an error ends the copy
// with io.ErrShortWrite. tap, when not nil, is called for every complete
// event in arrival order. Copy never allocates once its buffer is warm.
func (c *Copier) Copy(dst io.Writer, src io.Reader, tap Tap) Result {
	if tap == nil && !c.CountEvents {
		return c.move(dst, src)
	}
	var res Result
	maxEvent := c.MaxEventSize
	if maxEvent <= 0 {
		maxEvent = DefaultMaxEventSize
	}
	buf := c.buf
	start, end := 0, 0 // buf[start:end] holds the pending partial event
	resume := 0        // where the search for its end resumes (ResumeAt)
	skipping := false  // inside an event that outgrew maxEvent
	for {
		if start > 0 && (len(buf)-end < len(buf)/4 || end == len(buf)) {
			// Little room left after a partial event: move it to the
			// front, so that the next read is not a small one.
			end = copy(buf, buf[start:end])
			resume -= start
			start = 0
		}
		if end == len(buf) {
			switch {
			case len(buf) < maxEvent:
				grown := make([]byte, min(2*len(buf), maxEvent))
				end = copy(grown, buf[:end])
				buf = grown
				c.buf = grown
			default:
				// The event is too big to tap: forward it, look for its end.
				res.Oversized++
				skipping = true
				start, end, resume = 0, 0, 0
			}
		}
		n, rerr := src.Read(buf[end:])
		if n > 0 {
			if !res.Forward(dst, buf[end:end+n]) {
				return res
			}
			end += n
			start = c.scan(buf, start, resume, end, tap, &res, &skipping)
			if start == end {
				start, end = 0, 0
			}
			resume = start + ResumeAt(buf[start:end])
		}
		if rerr != nil {
			if rerr != io.EOF {
				res.SrcErr = rerr
			}
			return res
		}
	}
}

// move is Copy that neither taps nor counts events: each read is written
// as it is, from the start of the buffer.
func (c *Copier) move(dst io.Writer, src io.Reader) Result {
	var res Result
	buf := c.buf
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if !res.Forward(dst, buf[:n]) {
				return res
			}
		}
		if rerr != nil {
			if rerr != io.EOF {
				res.SrcErr = rerr
			}
			return res
		}
	}
}

// scan taps every complete event in buf[start:end] and returns the offset of
// the first byte not yet part of a complete event. The search for the
// first event's end resumes at from (ResumeAt).
func (c *Copier) scan(buf []byte, start, from, end int, tap Tap, res *Result, skipping *bool) int {
	for start < end {
		from = max(from, start)
		n := EventEnd(buf[from:end])
		if n < 0 {
			break
		}
		ev := buf[start : from+n]
		start = from + n
		if *skipping {
			// The tail of an oversized event: its start is gone, drop it.
			*skipping = false
			res.Events++
			continue
		}
		if isBlank(ev) {
			continue
		}
		res.Events++
		if tap != nil {
			tap.Event(ev)
		}
	}
	return start
}

func isBlank(ev []byte) bool {
	for _, c := range ev {
		if c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}
