//go:build !unix

package edge

func (c *idleConn) pending() bool { return false }

func (c *idleConn) peekFunc() func(fd uintptr) bool { return nil }
