package mockllm

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

var (
	errDisconnect    = errors.New("mockllm: x-mock-disconnect-after: dropping the connection")
	errPeerGone      = errors.New("mockllm: peer closed the connection during the stream")
	errServerClosing = errors.New("mockllm: server closing")
	errLostPipelined = errors.New("mockllm: a pipelined request was consumed while the stream waited")
)

// streamBody is a pre-rendered SSE body. fasthttp writes it with WriteTo
// through its chunked writer, which flushes every Write: one event per Write
// means one chunk and one flush per event, so cadence survives.
type streamBody struct {
	s    *Server
	idx  int
	buf  []byte // all events, back to back
	ends []int  // end offset of each event in buf
	head []byte // per-stream scratch (shared JSON prefix of events)

	delay time.Duration
	step  bool
	drop  bool // close the connection after the events instead of ending the body
	conn  net.Conn

	timer *time.Timer
	watch *connWatch

	// Read path state (fasthttp uses WriteTo; Read is the io.Reader contract).
	next, off, waited int

	sent     int
	finished bool
}

var streamPool = sync.Pool{New: func() any { return new(streamBody) }}

// mark ends the event rendered since the previous mark.
func (sb *streamBody) mark() { sb.ends = append(sb.ends, len(sb.buf)) }

// keep truncates the stream to its first k events.
func (sb *streamBody) keep(k int) {
	k = min(k, len(sb.ends))
	if k == 0 {
		sb.buf, sb.ends = sb.buf[:0], sb.ends[:0]
		return
	}
	sb.buf, sb.ends = sb.buf[:sb.ends[k-1]], sb.ends[:k]
}

// stream answers with an SSE body rendered for r and shaped by c.
func (s *Server) stream(ctx *fasthttp.RequestCtx, r *reply, c *controls) {
	sb := streamPool.Get().(*streamBody)
	sb.s, sb.idx, sb.conn = s, r.idx, ctx.Conn()
	sb.delay, sb.step = s.cfg.ChunkDelay, c.step
	if c.hasDelay {
		sb.delay = c.delay
	}
	switch r.api {
	case apiResponses:
		r.renderResponsesStream(sb)
	case apiMessages:
		r.renderMessagesStream(sb)
	default:
		r.renderChatStream(sb)
	}
	switch {
	case c.errorAfter >= 0:
		sb.keep(min(c.errorAfter, len(sb.ends)-1))
		r.appendErrorEvent(sb)
	case c.disconnectAfter >= 0:
		sb.keep(c.disconnectAfter)
		sb.drop = true
		if c.disconnectAfter == 0 {
			ctx.Response.ImmediateHeaderFlush = true // headers, then nothing
		}
	}

	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentTypeBytes(ctSSE)
	ctx.Response.Header.SetBytesKV(hdrCache, valNoCache)
	s.streams.Add(1)
	s.active.Add(1)
	ctx.Response.SetBodyStream(sb, -1)
}

// SupportsBodyWriteTo lets fasthttp use WriteTo, which paces exactly like Read.
func (sb *streamBody) SupportsBodyWriteTo() bool { return true }

// WriteTo writes one event per Write, waiting for the delay and the step
// gate before each event after the first.
func (sb *streamBody) WriteTo(w io.Writer) (int64, error) {
	var total int64
	var err error
	aborted := false
	start := 0
	for i, end := range sb.ends {
		if i > 0 {
			if err = sb.wait(); err != nil {
				aborted = err == errPeerGone
				break
			}
		}
		n, werr := w.Write(sb.buf[start:end])
		total += int64(n)
		if werr != nil {
			err, aborted = werr, true
			break
		}
		start = end
		sb.sent++
		if h := sb.s.cfg.OnEvent; h != nil {
			h(sb.idx, i)
		}
	}
	if lost := sb.finish(aborted); lost && err == nil {
		err = errLostPipelined
	}
	if err == nil && sb.drop {
		err = errDisconnect
	}
	return total, err
}

// Read hands out one event per call, with the same waits as WriteTo.
func (sb *streamBody) Read(p []byte) (int, error) {
	if sb.next >= len(sb.ends) {
		lost := sb.finish(false)
		if sb.drop || lost {
			return 0, errDisconnect
		}
		return 0, io.EOF
	}
	if sb.next > 0 && sb.waited < sb.next {
		if err := sb.wait(); err != nil {
			sb.finish(err == errPeerGone)
			return 0, err
		}
		sb.waited = sb.next
	}
	n := copy(p, sb.buf[sb.off:sb.ends[sb.next]])
	sb.off += n
	if sb.off == sb.ends[sb.next] {
		if h := sb.s.cfg.OnEvent; h != nil {
			h(sb.idx, sb.next)
		}
		sb.next++
		sb.sent++
	}
	return n, nil
}

func (sb *streamBody) wait() error {
	if sb.delay <= 0 && !sb.step {
		return nil
	}
	if sb.watch == nil {
		sb.watch = watchConn(sb.conn)
	}
	if sb.delay > 0 {
		if sb.timer == nil {
			sb.timer = time.NewTimer(sb.delay)
		} else {
			sb.timer.Reset(sb.delay)
		}
		if err := waitOn(sb, sb.timer.C); err != nil {
			return err
		}
	}
	if sb.step {
		return waitOn(sb, sb.s.step)
	}
	return nil
}

// waitOn waits for c, unless the client goes or the server closes first.
func waitOn[T any](sb *streamBody, c <-chan T) error {
	select {
	case <-c:
		return nil
	case <-sb.watch.gone:
		return errPeerGone
	case <-sb.s.closing:
		return errServerClosing
	}
}

// finish does the end-of-stream accounting once and reports whether the
// connection watch consumed a byte of a pipelined request.
func (sb *streamBody) finish(aborted bool) (lost bool) {
	if sb.finished {
		return false
	}
	sb.finished = true
	if sb.watch != nil {
		lost = sb.watch.stop()
		sb.watch = nil
	}
	if sb.timer != nil {
		sb.timer.Stop()
	}
	s := sb.s
	s.active.Add(-1)
	if aborted {
		s.aborted.Add(1)
	}
	if h := s.cfg.OnStreamEnd; h != nil {
		h(sb.idx, sb.sent, aborted)
	}
	return lost
}

// Close is called by fasthttp when it is done with the body, written or not.
func (sb *streamBody) Close() error {
	sb.finish(false)
	if cap(sb.buf) > 1<<20 {
		sb.buf = nil
	}
	*sb = streamBody{buf: sb.buf[:0], ends: sb.ends[:0], head: sb.head[:0], timer: sb.timer}
	streamPool.Put(sb)
	return nil
}
