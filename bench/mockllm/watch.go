package mockllm

import (
	"net"
	"sync/atomic"
	"time"
)

// connWatch notices a peer that closes its connection while the mock is
// waiting (hang, chunk delay, step gate) rather than writing, so aborts are
// seen at once instead of at the next failed write. On sockets it peeks and
// never consumes bytes; on other connections (in-memory pipes) it reads one
// byte, so a request pipelined behind a waiting answer is lost and the
// connection is closed after that answer.
type connWatch struct {
	c        net.Conn
	gone     chan struct{} // closed when the peer went away
	done     chan struct{} // closed when the watching goroutine exits
	stopping atomic.Bool
	lost     bool // a byte was consumed; written before done closes
}

var aLongTimeAgo = time.Unix(1, 0)

func watchConn(c net.Conn) *connWatch {
	w := &connWatch{c: c, gone: make(chan struct{}), done: make(chan struct{})}
	if c == nil {
		close(w.done)
		return w
	}
	go w.run()
	return w
}

func (w *connWatch) run() {
	defer close(w.done)
	hasData, ok, err := peekConn(w.c)
	if !ok {
		var b [1]byte
		var n int
		n, err = w.c.Read(b[:])
		if n > 0 {
			w.lost = true
			return
		}
	}
	if hasData {
		return // a pipelined request waits in the socket; the peer is alive
	}
	if err != nil && !w.stopping.Load() {
		close(w.gone)
	}
}

// stop ends the watch and reports whether it consumed a byte of the next
// request (then the connection must be closed after the current answer).
func (w *connWatch) stop() (lost bool) {
	if w.c == nil {
		return false
	}
	w.stopping.Store(true)
	_ = w.c.SetReadDeadline(aLongTimeAgo)
	<-w.done
	_ = w.c.SetReadDeadline(time.Time{})
	return w.lost
}
