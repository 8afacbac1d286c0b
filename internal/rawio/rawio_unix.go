//go:build unix && !linux

package rawio

import (
	"net"
	"syscall"
)

// Wrap returns c: raw reads and writes are built for Linux only.
func Wrap(c net.Conn) net.Conn { return c }

// Peek looks at the socket fd without reading or waiting (recv with
// MSG_PEEK|MSG_DONTWAIT into b): nil when input is waiting or the peer
// closed, syscall.EAGAIN when neither.
func Peek(fd uintptr, b []byte) error {
	for {
		_, _, err := syscall.Recvfrom(int(fd), b, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if err != syscall.EINTR {
			return err
		}
	}
}
