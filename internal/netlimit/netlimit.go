// Package netlimit wraps a net.Listener so that a server keeps serving
// whatever happens at accept time and cannot be made to hold more
// connections than it was given.
//
// Accept never returns an error other than net.ErrClosed: running out of
// file descriptors (EMFILE, ENFILE) or kernel memory, an aborted handshake or
// any other accept failure is waited out with a backoff (5 ms doubling to
// 1 s) and retried, and logged at most once a second with the number of
// failures since the last line. A connection beyond MaxConns, or beyond
// MaxConnsPerIP from one address, is answered with Reject (a complete HTTP
// response) and closed; the server behind the listener never sees it.
//
// netlimit never reads a request: rejection writes its answer first, then
// drains what the client sent for at most a second so that the client reads
// the answer instead of a connection reset.
package netlimit

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Limits bound one listener. Zero values mean no limit.
type Limits struct {
	MaxConns      int // open connections at once
	MaxConnsPerIP int // open connections at once from one remote address
	// Reject is written to a connection refused for a limit; nil closes it
	// without a word.
	Reject []byte
	// Name tells the log lines of several listeners apart ("proxy",
	// "dashboard").
	Name string
}

// Listener is a net.Listener with Limits. Its connections must be closed
// by the server (every server does) for their slots to be freed.
type Listener struct {
	net.Listener
	lim Limits
	log zerolog.Logger

	open     atomic.Int64
	rejected atomic.Uint64
	failures atomic.Uint64

	mu    sync.Mutex
	perIP map[netip.Addr]int

	rejecting atomic.Int32 // rejections being answered now
	lastLog   time.Time    // accept-error log throttle; Accept's goroutine only
	heldLog   uint64
}

// Wrap returns ln with the limits. Accept errors are logged on log.
func Wrap(ln net.Listener, lim Limits, log zerolog.Logger) *Listener {
	l := &Listener{Listener: ln, lim: lim, log: log}
	if lim.MaxConnsPerIP > 0 {
		l.perIP = map[netip.Addr]int{}
	}
	return l
}

// Stats are a listener's counters.
type Stats struct {
	Open          int64  `json:"open"`
	Rejected      uint64 `json:"rejected"`
	AcceptErrors  uint64 `json:"accept_errors"`
	MaxConns      int    `json:"max_conns"`
	MaxConnsPerIP int    `json:"max_conns_per_ip"`
}

// Stats returns the counters now.
func (l *Listener) Stats() Stats {
	return Stats{Open: l.open.Load(), Rejected: l.rejected.Load(), AcceptErrors: l.failures.Load(),
		MaxConns: l.lim.MaxConns, MaxConnsPerIP: l.lim.MaxConnsPerIP}
}

const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
	// maxRejecting bounds the goroutines (and descriptors) spent answering
	// refused connections; beyond it they are closed without an answer.
	maxRejecting = 64
)

// Accept waits for the next connection within the limits. It returns an
// error only once the listener is closed.
func (l *Listener) Accept() (net.Conn, error) {
	delay := time.Duration(0)
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			delay = min(max(2*delay, minBackoff), maxBackoff)
			l.acceptFailed(err, delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if lc, ok := l.admit(c); ok {
			return lc, nil
		}
	}
}

func (l *Listener) acceptFailed(err error, delay time.Duration) {
	l.failures.Add(1)
	now := time.Now()
	if now.Sub(l.lastLog) < time.Second {
		l.heldLog++
		return
	}
	l.log.Warn().Str("listener", l.lim.Name).Err(err).Dur("retry_in", delay).Uint64("similar_not_logged", l.heldLog).
		Int64("open_connections", l.open.Load()).
		Msg("cannot accept connections; retrying (out of file descriptors? raise ulimit -n or lower server.max_conns)")
	l.lastLog, l.heldLog = now, 0
}

// admit counts c in or rejects it.
func (l *Listener) admit(c net.Conn) (net.Conn, bool) {
	if n := l.open.Add(1); l.lim.MaxConns > 0 && n > int64(l.lim.MaxConns) {
		l.open.Add(-1)
		l.reject(c)
		return nil, false
	}
	lc := &conn{Conn: c, l: l}
	if l.perIP != nil {
		if ip, ok := remoteIP(c); ok {
			lc.ip = ip
			l.mu.Lock()
			n := l.perIP[lc.ip] + 1
			if n > l.lim.MaxConnsPerIP {
				l.mu.Unlock()
				l.open.Add(-1)
				l.reject(c)
				return nil, false
			}
			l.perIP[lc.ip] = n
			l.mu.Unlock()
			lc.counted = true
		}
	}
	return lc, true
}

func remoteIP(c net.Conn) (netip.Addr, bool) {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap(), true
	}
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	return ap.Addr().Unmap(), err == nil
}

// reject answers c with Reject in the background and closes it.
func (l *Listener) reject(c net.Conn) {
	l.rejected.Add(1)
	if l.lim.Reject == nil || l.rejecting.Add(1) > maxRejecting {
		if l.lim.Reject != nil {
			l.rejecting.Add(-1)
		}
		_ = c.Close()
		return
	}
	go func() {
		defer l.rejecting.Add(-1)
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write(l.lim.Reject); err != nil {
			return
		}
		// Half-close, then read what the client sent: closing with unread
		// input would reset the connection and could discard the answer
		// before the client reads it.
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 1<<20))
	}()
}

func (l *Listener) release(ip netip.Addr, counted bool) {
	l.open.Add(-1)
	if !counted {
		return
	}
	l.mu.Lock()
	if n := l.perIP[ip] - 1; n > 0 {
		l.perIP[ip] = n
	} else {
		delete(l.perIP, ip)
	}
	l.mu.Unlock()
}

// conn frees its slot once, on the first Close.
type conn struct {
	net.Conn
	l       *Listener
	ip      netip.Addr
	counted bool
	closed  atomic.Bool
}

func (c *conn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.ip, c.counted)
	}
	return c.Conn.Close()
}
