package netlimit

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/rs/zerolog"
)

// failingListener fails Accept with errs before handing out real
// connections.
type failingListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (f *failingListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		f.mu.Unlock()
		return nil, err
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

func TestAcceptErrorsAreWaitedOut(t *testing.T) {
	inner := testkit.Loopback(t)
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	enfile := &net.OpError{Op: "accept", Net: "tcp", Err: syscall.ENFILE}
	other := &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EPROTO}
	var logs bytes.Buffer
	l := Wrap(&failingListener{Listener: inner, errs: []error{emfile, emfile, enfile, other, emfile}}, Limits{Name: "test"}, zerolog.New(&logs))
	go func() {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err == nil {
			defer c.Close()
			time.Sleep(2 * time.Second)
		}
	}()
	start := time.Now()
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept gave up: %v", err)
	}
	c.Close()
	// 5 failures back off 5+10+20+40+80 ms, logged once (the rest within
	// the same second are counted).
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("backoff took %v", d)
	}
	if n := strings.Count(logs.String(), "cannot accept"); n != 1 {
		t.Errorf("%d log lines, want 1:\n%s", n, logs.String())
	}
	if got := l.Stats().AcceptErrors; got != 5 {
		t.Errorf("accept errors %d, want 5", got)
	}
	inner.Close()
	if _, err := l.Accept(); err == nil {
		t.Fatal("Accept on a closed listener succeeded")
	}
}

const answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 13\r\n\r\n{\"error\":\"x\"}"

// serve echoes "ok" to every HTTP request on l.
func serve(l net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(l)
}

func get(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "error: " + err.Error()
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + string(b)
}

func TestConnectionLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		lim  Limits
	}{
		{"total", Limits{MaxConns: 2, Reject: []byte(answer)}},
		{"per-ip", Limits{MaxConnsPerIP: 2, Reject: []byte(answer)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := Wrap(testkit.Loopback(t), tc.lim, zerolog.Nop())
			serve(l)
			addr := l.Addr().String()
			dial := func() net.Conn {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			a, b := dial(), dial()
			defer b.Close()
			for _, c := range []net.Conn{a, b} {
				if got := get(t, c); got != "200 OK ok" {
					t.Fatalf("within the limit: %q", got)
				}
			}
			over := dial()
			if got := get(t, over); got != `503 Service Unavailable {"error":"x"}` {
				t.Fatalf("over the limit: %q", got)
			}
			over.Close()
			a.Close()
			testkit.Eventually(5*time.Second, 5*time.Millisecond, func() bool { return l.Stats().Open <= 1 })
			again := dial()
			defer again.Close()
			if got := get(t, again); got != "200 OK ok" {
				t.Fatalf("after a slot was freed: %q", got)
			}
			if s := l.Stats(); s.Rejected != 1 || s.Open != 2 {
				t.Errorf("stats %+v, want 1 rejected, 2 open", s)
			}
		})
	}
}
