package edge

import (
	"io"
	"sync"

	"github.com/cylestio/perimeter/stream"
)

// relay writes a streamed answer to dst straight from the upstream
// connection's read buffer, one Write for all the data that arrived
// together (streamBody.next), and taps its events: the stream holds no copy
// buffer, and while it waits for input on a plain TCP upstream, no read
// buffer either. It is stream.Copier's Copy without the buffer, with the
// same Result.
func relay(dst io.Writer, sb *streamBody, tap stream.Tap, count bool) stream.Result {
	var res stream.Result
	var sp eventSplitter
	defer sp.release()
	for {
		b, rerr := sb.next()
		if len(b) > 0 {
			if !res.Forward(dst, b) {
				return res
			}
			if tap != nil || count {
				sp.feed(b, tap, &res)
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

// eventSplitter finds the events in what relay wrote, in place; only an
// event split across reads is copied, into a pooled buffer held until
// the event is whole.
type eventSplitter struct {
	part     *partBuf // the start of an event split across reads, nil if none
	skipping bool     // inside an event larger than stream.DefaultMaxEventSize
}

type partBuf struct {
	b      []byte
	resume int // where the search for the event's end resumes (stream.ResumeAt)
}

var partBufs = sync.Pool{New: func() any { return &partBuf{b: make([]byte, 0, 1024)} }}

// maxPooledPart is the largest partial-event buffer kept for reuse.
const maxPooledPart = 64 << 10

func (s *eventSplitter) feed(b []byte, tap stream.Tap, res *stream.Result) {
	data, from := b, 0
	if s.part != nil {
		s.part.b = append(s.part.b, b...)
		data, from = s.part.b, s.part.resume
	}
	tail := data[s.scan(data, from, tap, res):]
	switch {
	case len(tail) == 0 || s.skipping:
		s.release()
		return
	case len(tail) > stream.DefaultMaxEventSize:
		// Too big to tap: forwarded, and skipped up to its end.
		res.Oversized++
		s.skipping = true
		s.release()
		return
	case s.part != nil:
		s.part.b = s.part.b[:copy(s.part.b, tail)]
	default:
		s.part = partBufs.Get().(*partBuf)
		s.part.b = append(s.part.b[:0], tail...)
	}
	s.part.resume = stream.ResumeAt(s.part.b)
}

// scan taps every complete event in b and returns the offset of the first
// byte not part of one. The search for the first event's end resumes at
// from (stream.ResumeAt).
func (s *eventSplitter) scan(b []byte, from int, tap stream.Tap, res *stream.Result) int {
	start := 0
	for start < len(b) {
		from = max(from, start)
		n := stream.EventEnd(b[from:])
		if n < 0 {
			break
		}
		ev := b[start : from+n]
		start = from + n
		if s.skipping {
			// The tail of an oversized event: its start is gone.
			s.skipping = false
			res.Events++
			continue
		}
		if blankEvent(ev) {
			continue
		}
		res.Events++
		if len(ev) > stream.DefaultMaxEventSize {
			res.Oversized++ // as the copier, which cannot hold it whole
			continue
		}
		if tap != nil {
			tap.Event(ev)
		}
	}
	return start
}

func (s *eventSplitter) release() {
	if s.part == nil {
		return
	}
	if cap(s.part.b) <= maxPooledPart {
		s.part.b = s.part.b[:0]
		partBufs.Put(s.part)
	}
	s.part = nil
}

func blankEvent(ev []byte) bool {
	for _, c := range ev {
		if c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}
