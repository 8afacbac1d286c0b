package edge

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/testkit"
)

// waitLimit only guards against a hung test; no assertion depends on it.
const waitLimit = 10 * time.Second

type harness struct {
	t    *testing.T
	srv  *Server
	url  string // proxy base URL
	mock *mockllm.Server
}

// startProxy runs a proxy in front of baseURL on 127.0.0.1.
func startProxy(t *testing.T, o Options) *harness {
	t.Helper()
	return startProxyOn(t, o, testkit.Loopback(t))
}

// startProxyOn runs a proxy on ln until the test ends, then shuts it down
// and closes its capture.
func startProxyOn(t *testing.T, o Options, ln net.Listener) *harness {
	t.Helper()
	if o.Provider == "" {
		o.Provider = OpenAI
	}
	o.Logger = zerolog.Nop()
	srv, err := NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
		if o.Capture != nil {
			o.Capture.Close(ctx)
		}
	})
	return &harness{t: t, srv: srv, url: "http://" + ln.Addr().String()}
}

// startWithMock runs a mock provider and a proxy in front of it.
func startWithMock(t *testing.T, cfg mockllm.Config, o Options) *harness {
	t.Helper()
	mock, base, err := mockllm.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mock.Close() })
	o.BaseURL = base + o.BaseURL // o.BaseURL may carry a path prefix
	h := startProxy(t, o)
	h.mock = mock
	return h
}

// addr is the proxy's host:port.
func (h *harness) addr() string { return strings.TrimPrefix(h.url, "http://") }

func (h *harness) post(path, body string, headers ...string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest("POST", h.url+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	testkit.WaitFor(t, waitLimit, "the condition", cond)
}

// serveUpstream serves handler on 127.0.0.1 until the test ends and
// returns its host:port.
func serveUpstream(t testing.TB, handler fasthttp.RequestHandler) string {
	t.Helper()
	ln := testkit.Loopback(t)
	s := &fasthttp.Server{Handler: handler}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown() })
	return ln.Addr().String()
}

// fixedUpstream serves the given bodies by path, with headers that must pass.
func fixedUpstream(t *testing.T, bodies map[string][]byte) string {
	return "http://" + serveUpstream(t, func(ctx *fasthttp.RequestCtx) {
		b, ok := bodies[string(ctx.Path())]
		if !ok {
			ctx.SetStatusCode(404)
			return
		}
		ctx.SetStatusCode(201)
		ctx.Response.Header.Set("Content-Type", "application/octet-stream")
		ctx.Response.Header.Set("X-Request-Id", "req_123")
		ctx.Response.Header.Set("Openai-Processing-Ms", "42")
		ctx.Response.Header.Add("Set-Cookie", "a=1")
		ctx.Response.Header.Add("Set-Cookie", "b=2")
		ctx.SetBody(b)
	})
}

// deadUpstream is the URL of a port of 127.0.0.1 that nothing listens on.
func deadUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	return "http://" + ln.Addr().String()
}

// rawUpstream serves each connection once: it reads a request with a body of
// len(benchStream) bytes and hands the connection to respond.
func rawUpstream(t *testing.T, respond func(c net.Conn)) string {
	t.Helper()
	return testkit.Serve(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		readHead(br)
		br.Discard(len(benchStream))
		respond(c)
		io.Copy(io.Discard, c) // until the proxy closes the connection
	})
}

// readHead reads an HTTP message's start line and header, through the
// empty line that ends them.
func readHead(br *bufio.Reader) error {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			return nil
		}
	}
}

// postRaw sends a chat completion call with body on a new connection to
// addr and returns the connection, closed when the test ends, and a reader
// of the answer.
func postRaw(t *testing.T, addr string, body []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	conn.SetReadDeadline(time.Now().Add(waitLimit))
	return conn, bufio.NewReader(conn)
}

// readThroughEnd reads until the last chunk of a chunked answer.
func readThroughEnd(t *testing.T, br *bufio.Reader) []byte {
	t.Helper()
	var got []byte
	for !bytes.HasSuffix(got, []byte("\r\n0\r\n\r\n")) {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatalf("%v after %q", err, got)
		}
		got = append(got, b)
	}
	return got
}

// pieceReader returns its pieces one Read at a time.
type pieceReader struct{ parts []string }

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.parts[0])
	r.parts[0] = r.parts[0][n:]
	if r.parts[0] == "" {
		r.parts = r.parts[1:]
	}
	return n, nil
}

// rest is what the reader has not delivered yet.
func (r *pieceReader) rest() int {
	n := 0
	for _, s := range r.parts {
		n += len(s)
	}
	return n
}
