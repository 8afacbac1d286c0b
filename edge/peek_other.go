//go:build !unix

package edge

func (c *idleConn) pending() bool { return false }

func (c *idleConn) peekFunc() func(fd uintptr) bool { return nil }

func (c *idleConn) waitFunc() func(fd uintptr) bool { return nil }

func (c *idleConn) canWait() bool { return false }

func (c *idleConn) waitReadable() error { return nil }
