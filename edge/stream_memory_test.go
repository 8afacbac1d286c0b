//go:build !race

package edge

import (
	"bytes"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"
)

// heldStreams opens n event streams to addr over 127.0.0.1 and returns once
// every one has delivered its first event; release ends them. The upstream
// is holdUpstream's, so every stream stays open until released.
func heldStreams(t testing.TB, addr string, n int) []net.Conn {
	t.Helper()
	req := []byte("POST /v1/chat/completions HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\nContent-Length: " +
		fmt.Sprint(len(benchStream)) + "\r\n\r\n" + string(benchStream))
	conns := make([]net.Conn, 0, n)
	buf := make([]byte, 4096)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		// Read until the first event's end arrives.
		var got []byte
		c.SetReadDeadline(time.Now().Add(waitLimit))
		for !bytes.Contains(got, []byte("\n\n")) {
			k, err := c.Read(buf)
			if err != nil {
				t.Fatalf("stream %d: %v after %q", len(conns), err, got)
			}
			got = append(got, buf[:k]...)
		}
	}
	return conns
}

// liveMemory is the heap in use plus goroutine stacks after a collection.
func liveMemory() (heap, stack uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse, runtime.NumGoroutine()
}

// streamCost opens n streams to addr and returns what each costs the
// process: bytes of live heap and stacks, and goroutines.
func streamCost(t testing.TB, addr string, n int) (heap, stack, goroutines float64) {
	t.Helper()
	// Warm pools and the runtime first.
	for _, c := range heldStreams(t, addr, 8) {
		defer c.Close()
	}
	h0, s0, g0 := liveMemory()
	conns := heldStreams(t, addr, n)
	h1, s1, g1 := liveMemory()
	for _, c := range conns {
		c.Close()
	}
	per := func(a, b uint64) float64 { return float64(int64(b)-int64(a)) / float64(n) }
	return per(h0, h1), per(s0, s1), float64(g1-g0) / float64(n)
}

// TestMemoryPerOpenStream holds streams open through the proxy and directly
// against the same upstream; the difference is what the proxy holds per
// open stream: its heap, its goroutines' stacks and its goroutines.
func TestMemoryPerOpenStream(t *testing.T) {
	if testing.Short() {
		t.Skip("opens hundreds of connections")
	}
	const n = 200
	release := make(chan struct{})
	defer close(release)
	up := holdUpstream(t, release)

	dHeap, dStack, dG := streamCost(t, up, n)

	h := startProxy(t, Options{BaseURL: "http://" + up, MaxConns: 2 * n})
	pHeap, pStack, pG := streamCost(t, h.addr(), n)

	heap, stack := (pHeap-dHeap)/1024, (pStack-dStack)/1024
	kib := heap + stack
	goroutines := pG - dG
	t.Logf("per open stream: proxy %.1f KiB (heap %.1f, stacks %.1f), %.2f goroutines; direct %.1f KiB, through the proxy %.1f KiB",
		kib, heap, stack, goroutines, (dHeap+dStack)/1024, (pHeap+pStack)/1024)
	if goroutines > 1.05 {
		t.Errorf("the proxy runs %.2f goroutines per open stream, want 1 (the client connection's)", goroutines)
	}
	if kib > maxStreamKiB {
		t.Errorf("the proxy holds %.1f KiB per open stream, want at most %d", kib, maxStreamKiB)
	}
}

// maxStreamKiB bounds the proxy's heap and stack per open stream, measured
// at 28 KiB: the client connection's read buffer (8 KiB, the largest
// request header accepted by default), its write buffer (4 KiB), its
// RequestCtx, the exchange and the connection goroutine's stack (8 KiB).
// An open stream waiting for its next event holds no upstream read buffer,
// no copy buffer (relay.go) and no capture.Call: any of these back would
// pass the bound.
const maxStreamKiB = 33
