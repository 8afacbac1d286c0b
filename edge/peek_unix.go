//go:build unix

package edge

import (
	"errors"
	"os"
	"syscall"
	"time"

	"github.com/cylestio/perimeter/internal/rawio"
)

// pending reports whether the connection has input waiting or was closed by
// its peer, without reading or blocking (recv with MSG_PEEK|MSG_DONTWAIT).
func (c *idleConn) pending() bool {
	if c.raw == nil {
		return false
	}
	c.peeked = false
	err := c.raw.Read(c.peek)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The idle read deadline passed while the connection sat in the
		// pool; the next Read arms a fresh one.
		if c.Conn.SetReadDeadline(time.Time{}) != nil {
			return true
		}
		c.readArmed, c.readArmedFor = time.Time{}, 0
		err = c.raw.Read(c.peek)
	}
	return err != nil || c.peeked
}

// canWait reports whether waitReadable works on this connection.
func (c *idleConn) canWait() bool { return c.raw != nil }

// waitReadable returns once the connection has input or was closed by its
// peer, without reading it, or with the read deadline's error: a stream
// waits for the upstream's next event holding no read buffer.
func (c *idleConn) waitReadable() error {
	if err := c.armRead(); err != nil {
		return err
	}
	c.waited = false
	return c.raw.Read(c.wait)
}

// waitFunc is the raw read waitReadable runs: done unless the socket
// would block; then the runtime waits for the poller to report it readable
// and calls it again, and it is done without a second look (a report left
// over from bytes already read only means the next Read waits, holding the
// buffer, as every read did before). So a wait costs the syscalls a
// blocking read does: one that finds nothing, one that reads.
func (c *idleConn) waitFunc() func(fd uintptr) bool {
	return func(fd uintptr) bool {
		if c.waited {
			return true
		}
		c.waited = true
		return rawio.Peek(fd, c.peekBuf[:]) != syscall.EAGAIN
	}
}

// peekFunc is the raw read pending runs; it is built once per connection.
func (c *idleConn) peekFunc() func(fd uintptr) bool {
	return func(fd uintptr) bool {
		// Without error, a byte is waiting or (0 bytes) the peer closed;
		// EAGAIN means neither.
		c.peeked = rawio.Peek(fd, c.peekBuf[:]) != syscall.EAGAIN
		return true
	}
}
