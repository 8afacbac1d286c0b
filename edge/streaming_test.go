package edge

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/testkit"
)

// TestStalledClientIsCutAfterWriteIdleTimeout: a client that stops reading
// a stream holds it no longer than server.write_idle_timeout (the deadline
// is re-armed lazily, within [7/8, 1] of it), and the upstream is let go.
func TestStalledClientIsCutAfterWriteIdleTimeout(t *testing.T) {
	upstreamDone := make(chan error, 1)
	up := rawUpstream(t, func(c net.Conn) {
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
	})
	const timeout = 300 * time.Millisecond
	h := startProxy(t, Options{BaseURL: "http://" + up, WriteIdleTimeout: timeout})
	conn, err := net.Dial("tcp", h.addr())
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

// TestAccessLogCountsStreamEvents: with capture off nothing taps a stream,
// yet the access log still reports its events, counted as they pass.
func TestAccessLogCountsStreamEvents(t *testing.T) {
	var logs testkit.SyncBuffer
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
	return serveUpstream(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			w.Write(benchChunk)
			w.Flush()
			<-release
			w.WriteString("data: [DONE]\n\n")
		})
	})
}

// TestOpenStreamHoldsNoRequestBody: once a stream's answer flows, with
// capture and policies off, the proxy holds neither the request body nor its
// share of the in-flight body budget, and the next call reuses the buffer.
func TestOpenStreamHoldsNoRequestBody(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	up := holdUpstream(t, release)
	h := startProxy(t, Options{BaseURL: "http://" + up})
	body := []byte(`{"stream":true,"messages":[{"role":"user","content":"` + strings.Repeat("x", 64<<10) + `"}]}`)
	for i := range 3 {
		_, br := postRaw(t, h.addr(), body)
		var got []byte
		buf := make([]byte, 4096)
		for !bytes.Contains(got, []byte("\n\n")) {
			n, err := br.Read(buf)
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

// writeCounter counts the writes the proxy makes to its clients.
type writeCounter struct {
	net.Listener
	writes atomic.Int64
}

func (l *writeCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, n: &l.writes}, nil
}

type countedConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countedConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// proxyCountingWrites runs a proxy in front of upstream whose writes to
// clients are counted.
func proxyCountingWrites(t *testing.T, upstream string) (addr string, writes *atomic.Int64) {
	t.Helper()
	wc := &writeCounter{Listener: testkit.Loopback(t)}
	return startProxyOn(t, Options{BaseURL: "http://" + upstream}, wc).addr(), &wc.writes
}

// TestStreamHeaderLeavesWithEventsThatArrivedWithIt: an answer whose header
// and events arrive together leaves the proxy in one write, and its end in
// one more.
func TestStreamHeaderLeavesWithEventsThatArrivedWithIt(t *testing.T) {
	var framed strings.Builder
	for i := range 5 {
		ev := fmt.Sprintf("data: {\"n\":%d}\n\n", i)
		fmt.Fprintf(&framed, "%x\r\n%s\r\n", len(ev), ev)
	}
	up := rawUpstream(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"+framed.String()+"0\r\n\r\n")
	})
	addr, writes := proxyCountingWrites(t, up)
	_, br := postRaw(t, addr, benchStream)
	got := readThroughEnd(t, br)
	if !bytes.HasSuffix(got, []byte("\r\n0\r\n\r\n")) || !bytes.Contains(got, []byte(`data: {"n":4}`)) {
		t.Fatalf("the client got %q", got)
	}
	if n := writes.Load(); n != 2 {
		t.Fatalf("the proxy wrote %d times, want 2: the header with the events, then the end", n)
	}
}

// TestStreamHeaderIsNotHeldForTheFirstEvent: an answer whose first event
// has not arrived has its header forwarded at once; the upstream sends the
// first event only after the client has the header.
func TestStreamHeaderIsNotHeldForTheFirstEvent(t *testing.T) {
	gotHeader := make(chan struct{})
	up := rawUpstream(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
		select {
		case <-gotHeader:
		case <-time.After(waitLimit):
			return
		}
		ev := "data: {}\n\n"
		fmt.Fprintf(c, "%x\r\n%s\r\n0\r\n\r\n", len(ev), ev)
	})
	addr, _ := proxyCountingWrites(t, up)
	_, br := postRaw(t, addr, benchStream)
	if err := readHead(br); err != nil {
		t.Fatalf("no header while the upstream waited for it: %v", err)
	}
	close(gotHeader)
	rest := readThroughEnd(t, br)
	if !bytes.Contains(rest, []byte("data: {}\n\n")) {
		t.Fatalf("the event did not follow: %q", rest)
	}
}
