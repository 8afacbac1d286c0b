package edge

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// framedTransport is the upstream pools' fasthttp.RoundTripper: fasthttp's
// own exchange (take a pooled connection, write the request, read one
// answer) under one rule, that a connection whose bytes do not add up to
// exactly the answers asked for is closed, never pooled:
//
//   - bytes left in the read buffer after an answer's framed end (an upstream
//     that sent more than its Content-Length, or a second answer) close it;
//   - before a pooled connection carries a request, it is checked for bytes
//     that arrived while it was idle (an answer without a request, or the
//     tail of an earlier one) or for the upstream's close; such a connection
//     is closed and another taken;
//   - a streamed answer returns its connection only after its body was read
//     to its framed end with nothing after it.
//
// Pooling a connection in any other state would hand the extra bytes to the
// next request as its answer: one client would receive another's. A
// stray byte that arrives only after the next request was sent cannot be
// told from its answer's first byte (HTTP/1.1 has no request ids); the
// check before sending narrows that to bytes still in flight then.
//
// Once it has seen an anomaly, the transport distrusts the upstream for
// distrustFor: every connection is closed after its answer, so an upstream
// that keeps sending stray bytes, early or late, cannot mix up the answers
// of the calls that follow.
type framedTransport struct {
	anomalies *atomic.Uint64 // connections closed for framing, for /metrics
	distrust  atomic.Int64   // unix nanoseconds until which no connection is reused
}

// distrustFor is how long connections are not reused after an anomaly.
const distrustFor = time.Minute

func (t *framedTransport) anomaly() {
	t.anomalies.Add(1)
	t.distrust.Store(time.Now().Add(distrustFor).UnixNano())
}

// reusable reports whether a connection may go back to the pool now.
func (t *framedTransport) reusable() bool {
	d := t.distrust.Load()
	return d == 0 || time.Now().UnixNano() > d
}

// The two ways to end a pooled connection, as functions of the
// connection's type, which fasthttp does not export (see withConn).
var (
	releaseConn = (*fasthttp.HostClient).ReleaseConn
	closeConn   = (*fasthttp.HostClient).CloseConn
)

// withConn calls f with cc, held as any because its type is fasthttp's
// unexported *clientConn; C is inferred from f.
func withConn[C any](f func(*fasthttp.HostClient, C), hc *fasthttp.HostClient, cc any) {
	f(hc, cc.(C))
}

func (t *framedTransport) RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (retry bool, err error) {
	streamBody, skipBody := resp.StreamBody, resp.SkipBody
	var cc any
	var conn net.Conn
	for {
		c, err := hc.AcquireConn(0, req.ConnectionClose())
		if err != nil {
			return false, err
		}
		cc, conn = c, c.Conn()
		if !unexpectedInput(conn) {
			break
		}
		t.anomaly()
		hc.CloseConn(c)
	}

	bw := hc.AcquireWriter(conn)
	err = req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	hc.ReleaseWriter(bw)
	if err != nil {
		withConn(closeConn, hc, cc)
		return true, err
	}

	if skipBody || req.Header.IsHead() {
		resp.SkipBody = true
	}
	br := hc.AcquireReader(conn)
	if streamBody {
		return t.stream(hc, cc, conn, br, req, resp)
	}
	a, _ := req.UserValue(responseAccountKey).(*account)
	err = readBudgeted(resp, br, hc.MaxResponseBodySize, a, upstreamConn(conn))
	if err != nil {
		hc.ReleaseReader(br)
		withConn(closeConn, hc, cc)
		return !errors.Is(err, fasthttp.ErrBodyTooLarge), err
	}
	keep := !req.ConnectionClose() && !resp.ConnectionClose()
	if br.Buffered() > 0 {
		t.anomaly()
		keep = false
	}
	keep = keep && t.reusable()
	hc.ReleaseReader(br)
	if keep {
		withConn(releaseConn, hc, cc)
	} else {
		withConn(closeConn, hc, cc)
	}
	return false, nil
}

// stream reads the answer's header into resp (whose StreamBody is set)
// and gives it a body stream, read from the connection's reader here, that
// returns the connection when it is closed.
func (t *framedTransport) stream(hc *fasthttp.HostClient, cc any, conn net.Conn, br *bufio.Reader, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	if err := resp.ReadLimitBody(br, hc.MaxResponseBodySize); err != nil {
		hc.ReleaseReader(br)
		withConn(closeConn, hc, cc)
		return !errors.Is(err, fasthttp.ErrBodyTooLarge), err
	}
	sb := streamBodyPool.Get().(*streamBody)
	sb.t, sb.hc, sb.cc, sb.br = t, hc, cc, br
	sb.conn, sb.idle = conn, nil
	sb.keep = !req.ConnectionClose() && !resp.ConnectionClose()
	sb.eof = false
	size := resp.Header.ContentLength()
	sb.chunked, sb.left = nil, int64(size)
	switch {
	case !resp.IsBodyStream():
		// No body to read (HEAD, 204, 304): the answer has ended.
		sb.eof = true
	case size == -2:
		// Until the upstream closes: the connection cannot be reused.
		sb.keep = false
	case size == -1:
		// Chunked: decoded here, so that chunks that arrived together are
		// read at once (chunked.go).
		sb.chunks.reset(br)
		sb.chunked = &sb.chunks
	}
	if ic, ok := conn.(*idleConn); ok && ic.canWait() && !sb.eof {
		sb.idle = ic // plain TCP: an idle stream can give its reader back
	}
	// fasthttp's own body reader, which holds nothing yet, is released:
	// the body is read here.
	resp.SetBodyStream(sb, size)
	return false, nil
}

// streamBody is a streamed answer's body. Its reads and its close come from
// one goroutine at a time (the handler's WriteTo, then fasthttp's close).
type streamBody struct {
	t    *framedTransport
	hc   *fasthttp.HostClient
	cc   any
	br   *bufio.Reader
	keep bool  // the exchange allows keep-alive
	eof  bool  // the body was read to its framed end
	left int64 // body bytes left to read with a Content-Length; -2 until the connection closes
	used int   // buffered bytes the last nextPlain returned, consumed by the next call

	chunks  chunkedBody
	chunked *chunkedBody // &chunks for a chunked answer, else nil

	conn net.Conn  // the connection br reads
	idle *idleConn // set when next may give br back while it waits
}

var streamBodyPool = sync.Pool{New: func() any { return new(streamBody) }}

func (s *streamBody) Read(p []byte) (int, error) {
	if s.eof {
		return 0, io.EOF
	}
	var n int
	var err error
	if s.chunked != nil {
		n, err = s.chunked.Read(p)
	} else {
		n, err = s.readPlain(p)
	}
	if err == io.EOF {
		s.eof = true
	}
	return n, err
}

// readPlain reads a body framed by its Content-Length, or by the
// connection's close.
func (s *streamBody) readPlain(p []byte) (int, error) {
	if s.used > 0 {
		_, _ = s.br.Discard(s.used)
		s.used = 0
	}
	if s.left == 0 {
		return 0, io.EOF
	}
	if s.left > 0 && int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.br.Read(p)
	if s.left > 0 {
		s.left -= int64(n)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // cut short of its length
		}
	}
	return n, err
}

// next returns the body's data that is in the read buffer, waiting for
// the first byte only (chunkedBody.next, nextPlain); the slice is valid
// until the next call, which consumes it. When nothing is
// buffered on a plain TCP connection, the read buffer goes back to the
// pool while it waits for input: an open stream waiting for its next event
// holds none.
func (s *streamBody) next() ([]byte, error) {
	if s.eof {
		return nil, io.EOF
	}
	c := s.chunked
	more := s.left != 0 // a plain body
	if c != nil {
		if c.used > 0 {
			_, _ = s.br.Discard(c.used)
			c.used = 0
		}
		more = c.err == nil && c.state != chunkDone
	} else if s.used > 0 {
		_, _ = s.br.Discard(s.used)
		s.used = 0
	}
	if s.idle != nil && more && s.br.Buffered() == 0 {
		s.hc.ReleaseReader(s.br)
		err := s.idle.waitReadable()
		s.br = s.hc.AcquireReader(s.conn)
		if c != nil {
			c.br = s.br
		}
		if err != nil {
			return nil, err
		}
	}
	var b []byte
	var err error
	if c != nil {
		b, err = c.next()
	} else {
		b, err = s.nextPlain()
	}
	if err == io.EOF {
		s.eof = true
	}
	return b, err
}

// nextPlain is next for a body framed by its Content-Length or by the
// connection's close.
func (s *streamBody) nextPlain() ([]byte, error) {
	if s.left == 0 {
		return nil, io.EOF
	}
	if s.br.Buffered() == 0 {
		if _, err := s.br.Peek(1); err != nil {
			if err == io.EOF && s.left > 0 {
				err = io.ErrUnexpectedEOF // cut short of its length
			}
			return nil, err
		}
	}
	n := s.br.Buffered()
	if s.left > 0 && int64(n) > s.left {
		n = int(s.left)
	}
	b, _ := s.br.Peek(n)
	s.used = n
	if s.left > 0 {
		s.left -= int64(n)
	}
	return b, nil
}

// arrived reports whether a Read would return body bytes without waiting
// on the connection: they are in the read buffer, with the whole chunk-size
// line before them when the body is chunked.
func (s *streamBody) arrived() bool {
	if s.eof || s.br == nil {
		return false
	}
	if s.chunked == nil {
		return s.br.Buffered() > 0
	}
	return s.chunked.arrived()
}

// CloseWithError returns the connection to the pool only when the body was
// read to its end, nothing followed it and the reader did not fail; any
// other connection is closed, which also stops an upstream still sending.
func (s *streamBody) CloseWithError(err error) error {
	if s.hc == nil {
		return nil // closed already
	}
	keep := s.keep && s.eof && err == nil
	if keep && s.br.Buffered() > 0 {
		s.t.anomaly()
		keep = false
	}
	keep = keep && s.t.reusable()
	if keep {
		s.hc.ReleaseReader(s.br)
		withConn(releaseConn, s.hc, s.cc)
	} else {
		// Close first: a read blocked on the connection then returns
		// before the reader is recycled.
		withConn(closeConn, s.hc, s.cc)
		s.hc.ReleaseReader(s.br)
	}
	s.t, s.hc, s.cc, s.br, s.conn, s.idle = nil, nil, nil, nil, nil, nil
	s.chunks, s.chunked, s.used = chunkedBody{}, nil, 0
	streamBodyPool.Put(s)
	return nil
}

// unexpectedInput reports whether a connection about to carry a request
// already has input waiting (bytes nobody asked for) or was closed by the
// upstream.
func unexpectedInput(c net.Conn) bool {
	ic := upstreamConn(c)
	return ic != nil && ic.pending()
}

// upstreamConn is the dialer's connection under c, nil if there is none.
func upstreamConn(c net.Conn) *idleConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	ic, _ := c.(*idleConn)
	return ic
}
