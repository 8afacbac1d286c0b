package edge

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/internal/rawio"
)

// upstream is the parsed base URL and its two connection pools.
type upstream struct {
	scheme   string // "http" or "https"
	host     string // host[:port] as written in the base URL, used for Host
	addr     string // host:port to dial
	basePath string // path prefix without trailing slash, "" for none
	prefix   []byte // scheme://host + basePath, the start of every upstream URL

	buffered *fasthttp.HostClient // answers read whole before the handler returns
	streamed *fasthttp.HostClient // answers streamed to the client
}

func parseBaseURL(raw string) (*upstream, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		// url's error quotes the URL, password included.
		return nil, errors.New("llm.base_url: not a valid URL")
	}
	// Messages show the URL without its password, query or fragment
	// (either may carry a key).
	shown := *u
	shown.RawQuery, shown.Fragment = "", ""
	raw = shown.Redacted()
	if u.RawQuery != "" || u.Fragment != "" {
		raw += "?…"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("llm.base_url %q: must start with http:// or https://", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("llm.base_url %q: has no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("llm.base_url %q: must not carry a query or fragment", raw)
	}
	up := &upstream{scheme: u.Scheme, host: u.Host, basePath: strings.TrimRight(u.EscapedPath(), "/")}
	up.addr = u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		up.addr = net.JoinHostPort(u.Hostname(), port)
	}
	up.prefix = []byte(up.scheme + "://" + up.host + up.basePath)
	return up, nil
}

func (up *upstream) newClient(o *Options, streamBodies bool, framing *atomic.Uint64) *fasthttp.HostClient {
	tlsConfig := o.TLSConfig
	if up.scheme == "https" && tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tlsConfig != nil && tlsConfig.ServerName == "" {
		tlsConfig = tlsConfig.Clone()
		if h, _, err := net.SplitHostPort(up.addr); err == nil {
			tlsConfig.ServerName = h
		}
	}
	d := &dialer{
		net:           net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second},
		headerTimeout: o.ResponseHeaderTimeout,
		idleTimeout:   o.StreamIdleTimeout,
	}
	return &fasthttp.HostClient{
		Addr:                          up.addr,
		Name:                          "",
		NoDefaultUserAgentHeader:      true,
		IsTLS:                         up.scheme == "https",
		TLSConfig:                     tlsConfig,
		Dial:                          d.dial,
		MaxConns:                      o.MaxConns,
		MaxConnWaitTimeout:            o.ConnectTimeout,
		MaxIdleConnDuration:           o.MaxIdleConnDuration,
		MaxResponseBodySize:           o.MaxResponseBufferSize,
		DisablePathNormalizing:        true,
		DisableHeaderNamesNormalizing: false,
		StreamResponseBody:            streamBodies,
		Transport:                     &framedTransport{anomalies: framing},
		// The read buffer holds the answer's whole header, and an open
		// stream holds it to its end: streams get 8 KiB, the header size
		// nginx's proxy_buffer_size allows by default.
		ReadBufferSize: readBufferSize(streamBodies),
		// Retrying a POST that reached the provider could bill a completion
		// twice, so only the one safe case is retried: a pooled keep-alive
		// connection the upstream had closed, which fails before any byte of
		// an answer (fasthttp.ErrConnectionClosed).
		MaxIdemponentCallAttempts: 2,
		RetryIfErr: func(_ *fasthttp.Request, _ int, err error) (bool, bool) {
			return false, errors.Is(err, fasthttp.ErrConnectionClosed)
		},
	}
}

func readBufferSize(streamed bool) int {
	if streamed {
		return 8 << 10
	}
	return 16 << 10
}

// armRead sets the read deadline the next read or wait is held to.
func (c *idleConn) armRead() error {
	d := c.idleTimeout
	if c.awaiting {
		d = c.headerTimeout
	}
	want := time.Now().Add(d)
	if d != c.readArmedFor || want.Sub(c.readArmed) > d/8 {
		if err := c.Conn.SetReadDeadline(want); err != nil {
			return err
		}
		c.readArmed, c.readArmedFor = want, d
	}
	return nil
}

// dialer opens upstream connections whose reads and writes carry idle
// deadlines (see idleConn) and use raw system calls (internal/rawio).
type dialer struct {
	net           net.Dialer
	headerTimeout time.Duration
	idleTimeout   time.Duration
}

// dialError marks failures to connect: nothing was sent, so the request may
// be retried and the client is told the upstream is unreachable.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

func (d *dialer) dial(addr string) (net.Conn, error) {
	c, err := d.net.Dial("tcp", addr)
	if err != nil {
		return nil, &dialError{err: err}
	}
	c = rawio.Wrap(c)
	ic := &idleConn{Conn: c, headerTimeout: d.headerTimeout, idleTimeout: d.idleTimeout}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			ic.raw, ic.peek, ic.wait = raw, ic.peekFunc(), ic.waitFunc()
		}
	}
	return ic, nil
}

// idleConn turns fixed deadlines into idle timeouts: each Read must make
// progress within headerTimeout while a response is awaited, and within
// idleTimeout once bytes flow. Each Write re-arms the wait for a response.
//
// Re-arming a deadline touches the runtime's timer heap, so it is done only
// when the armed deadline has fallen more than an eighth of the timeout
// behind the wanted one: the effective timeout stays within [7/8, 1] of the
// configured one at a fraction of the cost.
//
// A pooled connection serves one request at a time, and fasthttp reads and
// writes it from one goroutine per request, so the fields need no locking.
type idleConn struct {
	net.Conn
	headerTimeout time.Duration
	idleTimeout   time.Duration
	awaiting      bool      // a request was written and no response byte read yet
	readArmed     time.Time // the read deadline set on the connection
	readArmedFor  time.Duration
	writeArmed    time.Time

	// acct, while set, is charged for every byte read (a buffered answer).
	acct *account

	// For pending: the socket, and its peek built once.
	raw     syscall.RawConn
	peek    func(fd uintptr) bool
	peekBuf [1]byte
	peeked  bool
	wait    func(fd uintptr) bool // waitReadable's raw read, built once
	waited  bool                  // wait has seen the socket empty once
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.awaiting = true
	now := time.Now()
	if want := now.Add(c.idleTimeout); want.Sub(c.writeArmed) > c.idleTimeout/8 {
		if err := c.Conn.SetWriteDeadline(want); err != nil {
			return 0, err
		}
		c.writeArmed = want
	}
	return c.Conn.Write(p)
}

func (c *idleConn) Read(p []byte) (int, error) {
	if a := c.acct; a != nil {
		// Reading a buffered answer: the bytes are taken from the budget
		// before they can be read.
		if !a.take(int64(len(p))) {
			return 0, errResponseBudget
		}
		n, err := c.read(p)
		a.held -= int64(len(p) - n)
		a.b.give(int64(len(p) - n))
		return n, err
	}
	return c.read(p)
}

func (c *idleConn) read(p []byte) (int, error) {
	if err := c.armRead(); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.awaiting = false
	}
	return n, err
}
