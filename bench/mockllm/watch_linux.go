package mockllm

import (
	"io"
	"net"
	"syscall"
)

// peekConn waits until c is readable and peeks one byte without consuming
// it. ok is false when c is not a socket.
func peekConn(c net.Conn) (hasData, ok bool, err error) {
	sc, isSock := c.(syscall.Conn)
	if !isSock {
		return false, false, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, false, nil
	}
	var buf [1]byte
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return rerr != syscall.EAGAIN && rerr != syscall.EINTR
	})
	switch {
	case err != nil: // deadline set by stop, or the conn was closed
		return false, true, err
	case rerr != nil:
		return false, true, rerr
	case n == 0:
		return false, true, io.EOF
	}
	return true, true, nil
}
