package edge

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/bench/mockllm"
)

// TestStalledClientIsCutAfterWriteIdleTimeout: a client that stops reading
// a stream holds it no longer than server.write_idle_timeout (the deadline
// is re-armed lazily, within [7/8, 1] of it), and the upstream is let go.
func TestStalledClientIsCutAfterWriteIdleTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	upstreamDone := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		br.Discard(len(benchStream))
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"); err != nil {
			upstreamDone <- err
			return
		}
		ev := "data: " + strings.Repeat("x", 16<<10) + "\n\n"
		chunk := fmt.Sprintf("%x\r\n%s\r\n", len(ev), ev)
		c.SetWriteDeadline(time.Now().Add(waitLimit))
		for { // until the proxy lets go of the stream
			if _, err := io.WriteString(c, chunk); err != nil {
				upstreamDone <- err
				return
			}
		}
	}()
	const timeout = 300 * time.Millisecond
	h := startProxy(t, Options{BaseURL: "http://" + ln.Addr().String(), WriteIdleTimeout: timeout})
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(benchStream), benchStream)
	// The client reads nothing: the proxy's writes stall once the socket
	// buffers are full.
	start := time.Now()
	waitFor(t, func() bool { return h.srv.proxy.stats.errors[errClientGone].Load() == 1 })
	if took := time.Since(start); took < timeout*7/8 {
		t.Fatalf("the stream was cut after %v, before the %v write timeout", took, timeout)
	}
	select {
	case err := <-upstreamDone:
		if err == nil {
			t.Fatal("upstream stopped without an error")
		}
	case <-time.After(waitLimit):
		t.Fatal("the upstream connection was kept after the client was cut")
	}
	waitFor(t, func() bool { return h.srv.InFlight() == 0 })
}

// syncBuffer is a log destination safe for the proxy's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAccessLogCountsStreamEvents: with capture off nothing taps a stream,
// yet the access log still reports its events, counted as they pass.
func TestAccessLogCountsStreamEvents(t *testing.T) {
	var logs syncBuffer
	h := startWithMock(t, mockllm.Config{Chunks: 3}, Options{AccessLog: true})
	h.srv.proxy.opts.Logger = zerolog.New(&logs)
	resp := h.post("/v1/chat/completions", `{"model":"m","stream":true,"messages":[]}`)
	body := string(readAll(t, resp.Body))
	events := strings.Count(body, "\n\n")
	if events < 4 {
		t.Fatalf("the client got %d events: %q", events, body)
	}
	want := fmt.Sprintf(`"events":%d`, events)
	waitFor(t, func() bool { return strings.Contains(logs.String(), want) })
}

// holdUpstream answers every request with an event stream whose first
// event is sent at once and whose end waits for release to be closed.
func holdUpstream(t testing.TB, release chan struct{}) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			w.Write(benchChunk)
			w.Flush()
			<-release
			w.WriteString("data: [DONE]\n\n")
		})
	}}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown() })
	return ln.Addr().String()
}

// TestOpenStreamHoldsNoRequestBody: once a stream's answer flows, with
// capture and policies off, the proxy holds neither the request body nor its
// share of the in-flight body budget, and the next call reuses the buffer.
func TestOpenStreamHoldsNoRequestBody(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	up := holdUpstream(t, release)
	h := startProxy(t, Options{BaseURL: "http://" + up})
	body := `{"stream":true,"messages":[{"role":"user","content":"` + strings.Repeat("x", 64<<10) + `"}]}`
	for i := range 3 {
		conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		conn.SetReadDeadline(time.Now().Add(waitLimit))
		var got []byte
		buf := make([]byte, 4096)
		for !bytes.Contains(got, []byte("\n\n")) {
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
			got = append(got, buf[:n]...)
		}
		if used := h.srv.proxy.bodies.used.Load(); used != 0 {
			t.Fatalf("%d open streams hold %d bytes of request bodies, want 0", i+1, used)
		}
	}
}
