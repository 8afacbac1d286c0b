//go:build linux

package rawio

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// Conn is a stream socket (TCP or Unix) whose Read and Write enter the
// kernel without telling Go's scheduler (syscall.RawSyscall). It behaves
// as the connection it wraps: deadlines, Close and addresses are its own,
// a read or write that would block parks the goroutine in the runtime's
// poller, and errors are the *net.OpError the connection would return.
type Conn struct {
	net.Conn
	rc syscall.RawConn

	rmu   sync.Mutex
	rbuf  []byte
	rn    int
	rerr  syscall.Errno
	readf func(fd uintptr) bool

	wmu    sync.Mutex
	wbuf   []byte
	wn     int
	werr   syscall.Errno
	writef func(fd uintptr) bool
}

// Wrap returns c with raw reads and writes, or c itself when it is not a
// TCP or Unix socket (a pipe, a TLS connection).
func Wrap(c net.Conn) net.Conn {
	var sc syscall.Conn
	switch t := c.(type) {
	case *net.TCPConn:
		sc = t
	case *net.UnixConn:
		sc = t
	default:
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	rw := &Conn{Conn: c, rc: rc}
	rw.readf = rw.readFD
	rw.writef = rw.writeFD
	return rw
}

// Read reads as net.Conn's Read does.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	c.rbuf, c.rn, c.rerr = p, 0, 0
	err := c.rc.Read(c.readf)
	n, errno := c.rn, c.rerr
	c.rbuf = nil
	c.rmu.Unlock()
	if n == 0 && err == nil && errno == 0 {
		return 0, io.EOF
	}
	return c.result("read", n, err, errno)
}

// readFD is the raw read: done unless the socket has nothing yet.
func (c *Conn) readFD(fd uintptr) bool {
	for {
		n, e := sysRead(fd, c.rbuf)
		switch e {
		case 0:
			c.rn = n
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		c.rerr = e
		return true
	}
}

// Write writes all of p as net.Conn's Write does.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	c.wbuf, c.wn, c.werr = p, 0, 0
	err := c.rc.Write(c.writef)
	n, errno := c.wn, c.werr
	c.wbuf = nil
	c.wmu.Unlock()
	return c.result("write", n, err, errno)
}

// result is what Read or Write returns: err from the raw connection (a
// deadline, a closed connection) or errno from the system call, as the
// *net.OpError the connection would return.
func (c *Conn) result(op string, n int, err error, errno syscall.Errno) (int, error) {
	switch {
	case err != nil:
		return n, c.opError(op, err)
	case errno != 0:
		return n, c.opError(op, os.NewSyscallError(op, errno))
	}
	return n, nil
}

// writeFD is the raw write: done once all is written or on an error.
func (c *Conn) writeFD(fd uintptr) bool {
	for c.wn < len(c.wbuf) {
		rest := c.wbuf[c.wn:]
		n, e := sysWrite(fd, rest)
		switch e {
		case 0:
			c.wn += n
			continue
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		c.werr = e
		return true
	}
	return true
}

func (c *Conn) opError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err // the raw connection's own "raw-read"/"raw-write" wrapping
	}
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// NetConn returns the wrapped connection.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// SyscallConn returns the wrapped connection's raw connection.
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

// CloseWrite shuts the sending side, as *net.TCPConn's does.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Peek looks at the socket fd without reading or waiting (recv with
// MSG_PEEK|MSG_DONTWAIT into b): nil when input is waiting or the peer
// closed (it then reads 0 bytes), syscall.EAGAIN when neither.
func Peek(fd uintptr, b []byte) error {
	for {
		_, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		}
		return e
	}
}
