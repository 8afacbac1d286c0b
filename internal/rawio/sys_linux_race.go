//go:build linux && race

package rawio

import "syscall"

// Under the race detector reads and writes go through package syscall,
// whose annotations tell the detector what a socket tells the program:
// what was done before a write happens before what its reader does after
// the read (as with Go's own sockets). Raw calls would hide that and make
// the detector report races that cannot happen.

func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	if err != nil {
		return 0, err.(syscall.Errno)
	}
	return n, 0
}

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), p)
	if err != nil {
		return 0, err.(syscall.Errno)
	}
	return n, 0
}
