package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Conn is one keep-alive HTTP/1.1 client connection. It is not safe for
// concurrent use: one goroutine owns it.
type Conn struct {
	addr   string
	c      net.Conn
	buf    []byte
	r, w   int
	readAt time.Time // when the bytes in buf[r:w] came off the socket
	sse    sseScanner
	// onEvent, when set, is called at the end of every SSE event.
	onEvent func()
}

// Result is what one request/answer exchange looked like to the client.
type Result struct {
	Status    int
	FirstByte time.Time // first response byte read
	Done      time.Time // last body byte read
	Events    int       // SSE events seen (text/event-stream answers only)
}

const connBufSize = 16 << 10

var errMalformed = errors.New("malformed HTTP response")

// NewConn returns an unconnected Conn to addr (host:port); it dials on first
// use and again after an error.
func NewConn(addr string) *Conn {
	return &Conn{addr: addr, buf: make([]byte, connBufSize)}
}

// Close closes the underlying connection; the Conn dials again on next use.
func (c *Conn) Close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
	c.r, c.w = 0, 0
}

func (c *Conn) dial(deadline time.Time) error {
	if c.c != nil {
		return nil
	}
	d := net.Dialer{Deadline: deadline}
	nc, err := d.Dial("tcp", c.addr)
	if err != nil {
		return err
	}
	c.c = nc
	c.r, c.w = 0, 0
	return nil
}

// RoundTrip writes req (a complete HTTP/1.1 request) and reads the whole
// answer, recording the gap between consecutive SSE events into gaps when it
// is not nil. No read or write blocks past deadline. On error the connection
// is closed.
func (c *Conn) RoundTrip(req []byte, deadline time.Time, gaps *Histogram) (Result, error) {
	res, h, err := c.start(req, deadline)
	if err == nil {
		err = c.readBody(&res, h, gaps)
	}
	if err != nil || h.close {
		c.Close()
	}
	return res, err
}

type head struct {
	chunked bool
	length  int64 // -1: until the connection closes
	sse     bool
	close   bool
}

// start sends req and reads the status line and headers.
func (c *Conn) start(req []byte, deadline time.Time) (Result, head, error) {
	var res Result
	if err := c.dial(deadline); err != nil {
		return res, head{}, err
	}
	c.c.SetDeadline(deadline)
	if _, err := c.c.Write(req); err != nil {
		c.Close()
		return res, head{}, err
	}
	h, err := c.readHead(&res)
	if err != nil {
		c.Close()
	}
	return res, h, err
}

func (c *Conn) fill() error {
	if c.r == c.w {
		c.r, c.w = 0, 0
	} else if c.w == len(c.buf) {
		if c.r == 0 {
			return fmt.Errorf("%w: header block larger than %d bytes", errMalformed, len(c.buf))
		}
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	n, err := c.c.Read(c.buf[c.w:])
	if n > 0 {
		c.readAt = time.Now()
		c.w += n
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// line returns the next CRLF- or LF-terminated line without its terminator;
// the slice is valid until the next read.
func (c *Conn) line() ([]byte, error) {
	for {
		if i := bytes.IndexByte(c.buf[c.r:c.w], '\n'); i >= 0 {
			l := c.buf[c.r : c.r+i]
			c.r += i + 1
			return bytes.TrimSuffix(l, []byte{'\r'}), nil
		}
		if err := c.fill(); err != nil {
			return nil, err
		}
	}
}

var (
	hdrContentLength    = []byte("Content-Length")
	hdrTransferEncoding = []byte("Transfer-Encoding")
	hdrContentType      = []byte("Content-Type")
	hdrConnection       = []byte("Connection")
	valChunked          = []byte("chunked")
	valEventStream      = []byte("text/event-stream")
	valClose            = []byte("close")
)

func (c *Conn) readHead(res *Result) (head, error) {
	h := head{length: -1}
	if c.r == c.w {
		if err := c.fill(); err != nil {
			return h, err
		}
	}
	res.FirstByte = c.readAt
	status, err := c.line()
	if err != nil {
		return h, err
	}
	if len(status) < 12 || !bytes.HasPrefix(status, []byte("HTTP/1.")) {
		return h, fmt.Errorf("%w: status line %q", errMalformed, status)
	}
	code, ok := parseUint(status[9:12], 10)
	if !ok {
		return h, fmt.Errorf("%w: status line %q", errMalformed, status)
	}
	res.Status = int(code)
	if status[7] == '0' {
		h.close = true
	}
	for {
		l, err := c.line()
		if err != nil {
			return h, err
		}
		if len(l) == 0 {
			break
		}
		colon := bytes.IndexByte(l, ':')
		if colon <= 0 {
			return h, fmt.Errorf("%w: header line %q", errMalformed, l)
		}
		name, val := l[:colon], bytes.TrimSpace(l[colon+1:])
		switch {
		case bytes.EqualFold(name, hdrContentLength):
			n, ok := parseUint(val, 10)
			if !ok {
				return h, fmt.Errorf("%w: Content-Length %q", errMalformed, val)
			}
			h.length = n
		case bytes.EqualFold(name, hdrTransferEncoding):
			h.chunked = len(val) >= len(valChunked) && bytes.EqualFold(val[len(val)-len(valChunked):], valChunked)
		case bytes.EqualFold(name, hdrContentType):
			h.sse = len(val) >= len(valEventStream) && bytes.EqualFold(val[:len(valEventStream)], valEventStream)
		case bytes.EqualFold(name, hdrConnection):
			h.close = bytes.EqualFold(val, valClose)
		}
	}
	if code == 204 || code == 304 || (code >= 100 && code < 200) {
		h.length = 0
		h.chunked = false
	}
	if !h.chunked && h.length < 0 {
		h.close = true
	}
	return h, nil
}

// consume reads n bytes of body (n < 0: until EOF), scanning them for SSE
// event ends when sse is set.
func (c *Conn) consume(res *Result, n int64, sse bool, gaps *Histogram) error {
	for n != 0 {
		if c.r == c.w {
			if err := c.fill(); err != nil {
				if n < 0 && err == io.EOF {
					return nil
				}
				return err
			}
		}
		k := int64(c.w - c.r)
		if n >= 0 && k > n {
			k = n
		}
		if sse {
			for e := c.sse.feed(c.buf[c.r : c.r+int(k)]); e > 0; e-- {
				if res.Events > 0 && gaps != nil {
					gaps.Record(c.readAt.Sub(res.Done))
				}
				res.Events++
				res.Done = c.readAt
				if c.onEvent != nil {
					c.onEvent()
				}
			}
		}
		c.r += int(k)
		if n > 0 {
			n -= k
		}
	}
	return nil
}

func (c *Conn) readBody(res *Result, h head, gaps *Histogram) error {
	c.sse.reset()
	defer func() { res.Done = c.readAt }()
	if !h.chunked {
		return c.consume(res, h.length, h.sse, gaps)
	}
	for {
		l, err := c.line()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		size, ok := parseUint(bytes.TrimSpace(l), 16)
		if !ok {
			return fmt.Errorf("%w: chunk size %q", errMalformed, l)
		}
		if size == 0 {
			for { // trailers, then the empty line
				l, err := c.line()
				if err != nil {
					return err
				}
				if len(l) == 0 {
					return nil
				}
			}
		}
		if err := c.consume(res, size, h.sse, gaps); err != nil {
			return err
		}
		if l, err := c.line(); err != nil {
			return err
		} else if len(l) != 0 {
			return fmt.Errorf("%w: no CRLF after chunk", errMalformed)
		}
	}
}

// parseUint parses a non-empty decimal or hexadecimal number of at most 15
// digits without allocating.
func parseUint(b []byte, base int64) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, ch := range b {
		var d int64
		switch {
		case ch >= '0' && ch <= '9':
			d = int64(ch - '0')
		case base == 16 && ch >= 'a' && ch <= 'f':
			d = int64(ch-'a') + 10
		case base == 16 && ch >= 'A' && ch <= 'F':
			d = int64(ch-'A') + 10
		default:
			return 0, false
		}
		n = n*base + d
	}
	return n, true
}
