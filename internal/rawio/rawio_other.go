//go:build !unix

package rawio

import "net"

// Wrap returns c: raw reads and writes are built for Linux only.
func Wrap(c net.Conn) net.Conn { return c }
