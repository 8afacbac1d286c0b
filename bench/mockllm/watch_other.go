//go:build !linux

package mockllm

import "net"

func peekConn(net.Conn) (hasData, ok bool, err error) { return false, false, nil }
