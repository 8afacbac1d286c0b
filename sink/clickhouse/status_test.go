package clickhouse

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentServer accepts connections on 127.0.0.1 and never answers, like a
// server that hangs or a firewall that swallows the handshake. accepted
// receives once per connection.
func silentServer(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 64)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String(), ch
}

// Status and Version answer from memory while Connect waits on a server
// that never replies: /metrics and /config must not hang for DialTimeout
// plus QueryTimeout.
func TestStatusDoesNotWaitForConnect(t *testing.T) {
	addr, accepted := silentServer(t)
	o := Options{Addresses: []string{addr}, DialTimeout: 2 * time.Second, QueryTimeout: 2 * time.Second}
	openCtx, cancelOpen := context.WithTimeout(context.Background(), 100*time.Millisecond)
	s, err := Open(openCtx, o)
	cancelOpen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for drained := false; !drained; {
		select {
		case <-accepted:
		default:
			drained = true
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	connected := make(chan error, 1)
	go func() { connected <- s.Connect(ctx) }()
	select {
	case <-accepted: // the attempt is waiting on the silent server
	case <-time.After(time.Second):
		t.Log("no new connection seen; checking Status anyway")
	}

	for range 3 {
		start := time.Now()
		st := s.Status()
		_ = s.Version()
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Fatalf("Status took %v while a connect was in progress", d)
		}
		if st.Available || st.Reason == "" || st.Fix != Fix {
			t.Fatalf("status %+v during a failing connect", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-connected:
		t.Fatalf("Connect returned %v before its deadline: the test did not catch it waiting", err)
	default:
	}
	cancel()
	if err := <-connected; err == nil {
		t.Fatal("connect to a silent server succeeded")
	}
	if st := s.Status(); st.Available || st.Reason == "" {
		t.Fatalf("status %+v after a failed connect", st)
	}
}

// A server that refuses the user: Status names the user settings to check,
// not "start clickhouse-server".
func TestStatusFixForRefusedUser(t *testing.T) {
	addr := needServer(t)
	s, err := Open(ctxT(t), Options{Addresses: []string{addr}, Username: "no_such_user_perimeter", Database: "perimeter_nouser",
		DialTimeout: 2 * time.Second, QueryTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st := s.Status()
	if st.Available || !strings.Contains(st.Fix, "storage.clickhouse.username") {
		t.Fatalf("status with an unknown user: %+v", st)
	}
}
