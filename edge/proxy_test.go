package edge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/testkit"
)

func TestNonStreamingBodiesAreByteIdentical(t *testing.T) {
	bodies := map[string][]byte{"/empty": {}, "/one": {'x'}, "/json": []byte(`{"a": "é\u0000", "b":[1,2]}` + "\n")}
	for _, n := range []int{1 << 10, 64 << 10, 3 << 20} {
		b := make([]byte, n)
		rand.Read(b)
		bodies[fmt.Sprintf("/bin%d", n)] = b
	}
	h := startProxy(t, Options{BaseURL: fixedUpstream(t, bodies)})
	for path, want := range bodies {
		resp := h.post(path, `{"model":"m"}`)
		got := readAll(t, resp.Body)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: body differs (%d bytes, want %d)", path, len(got), len(want))
		}
		if resp.StatusCode != 201 || resp.Header.Get("X-Request-Id") != "req_123" ||
			resp.Header.Get("Openai-Processing-Ms") != "42" || len(resp.Header.Values("Set-Cookie")) != 2 ||
			resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("%s: status %d headers %v", path, resp.StatusCode, resp.Header)
		}
	}
}

func TestStreamedDownloadIsByteIdentical(t *testing.T) {
	big := make([]byte, 5<<20)
	rand.Read(big)
	h := startProxy(t, Options{BaseURL: fixedUpstream(t, map[string][]byte{"/v1/files/f/content": big})})
	resp, err := http.Get(h.url + "/v1/files/f/content")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := readAll(t, resp.Body); !bytes.Equal(got, big) {
		t.Fatalf("download differs: %d bytes", len(got))
	}
}

func echoOf(t *testing.T, resp *http.Response) (uri string, headers map[string][]string, body string) {
	t.Helper()
	var e struct {
		URI     string `json:"uri"`
		Headers []struct{ Name, Value string }
		Body    string `json:"body"`
	}
	raw := readAll(t, resp.Body)
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("echo: %v: %s", err, raw)
	}
	headers = map[string][]string{}
	for _, h := range e.Headers {
		k := strings.ToLower(h.Name)
		headers[k] = append(headers[k], h.Value)
	}
	return e.URI, headers, e.Body
}

func TestUpstreamSeesPathQueryKeyAndCleanHeaders(t *testing.T) {
	h := startWithMock(t, mockllm.Config{}, Options{BaseURL: "/v1", Provider: Anthropic, APIKey: "sk-ant-real"})
	body := `{"model":"claude","messages":[{"role":"user","content":"hi"}], "unknown": [1,}`
	resp := h.post("/messages?beta=true&x=%2F", body,
		"x-mock-echo", "1",
		"Authorization", "Bearer sdk-dummy",
		"X-Api-Key", "sdk-dummy-2",
		"X-Cylestio-Session-Id", "s1", "x-cylestio-agent-id", "a1", "X-CYLESTIO-TAGS", "k:v",
		"Anthropic-Beta", "tools-2024-04-04")
	uri, hdr, got := echoOf(t, resp)
	if uri != "/v1/messages?beta=true&x=%2F" {
		t.Errorf("upstream URI %q", uri)
	}
	if got != body {
		t.Errorf("upstream body %q, want the client's bytes (invalid JSON is the provider's business)", got)
	}
	if v := hdr["x-api-key"]; len(v) != 1 || v[0] != "sk-ant-real" {
		t.Errorf("x-api-key = %v, want exactly the configured key", v)
	}
	if v, ok := hdr["authorization"]; ok {
		t.Errorf("client Authorization %v leaked upstream", v)
	}
	if v := hdr["anthropic-version"]; len(v) != 1 || v[0] != defaultAnthropicVersion {
		t.Errorf("anthropic-version = %v", v)
	}
	if v := hdr["anthropic-beta"]; len(v) != 1 {
		t.Errorf("anthropic-beta not forwarded: %v", hdr)
	}
	for k := range hdr {
		if strings.HasPrefix(k, "x-cylestio-") || k == "x-mock-echo-never" {
			t.Errorf("%s forwarded", k)
		}
	}
	if hosts := hdr["host"]; len(hosts) != 1 || !strings.HasPrefix(hosts[0], "127.0.0.1:") || strings.Contains(h.url, hosts[0]) {
		t.Errorf("Host = %v, want the upstream's", hosts)
	}
}

func TestNoKeyPassesClientCredentials(t *testing.T) {
	h := startWithMock(t, mockllm.Config{}, Options{Provider: OpenAI})
	_, hdr, _ := echoOf(t, h.post("/v1/chat/completions", `{}`, "x-mock-echo", "1", "Authorization", "Bearer sk-client"))
	if v := hdr["authorization"]; len(v) != 1 || v[0] != "Bearer sk-client" {
		t.Fatalf("authorization = %v", v)
	}
}

// sseReader reads SSE events from a response body one at a time.
type sseReader struct{ br *bufio.Reader }

func (r *sseReader) next() (string, error) {
	var ev strings.Builder
	for {
		line, err := r.br.ReadString('\n')
		ev.WriteString(line)
		if err != nil {
			return ev.String(), err
		}
		if line == "\n" || line == "\r\n" {
			return ev.String(), nil
		}
	}
}

// TestSSEEventsArriveBeforeTheNextIsSent gates the mock: it sends event k+1
// only after the test has read event k through the proxy. A proxy that
// buffered would deadlock here instead of passing.
func TestSSEEventsArriveBeforeTheNextIsSent(t *testing.T) {
	var sent atomic.Int64
	h := startWithMock(t, mockllm.Config{OnEvent: func(_, ev int) { sent.Store(int64(ev + 1)) }}, Options{})
	resp := h.post("/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`,
		"x-mock-step", "1", "x-mock-chunks", "5")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d content-type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := &sseReader{bufio.NewReader(resp.Body)}
	var events []string
	for k := 0; ; k++ {
		type got struct {
			ev  string
			err error
		}
		ch := make(chan got, 1)
		go func() { ev, err := r.next(); ch <- got{ev, err} }()
		var g got
		select {
		case g = <-ch:
		case <-time.After(waitLimit):
			t.Fatalf("event %d never arrived while the mock waited: the proxy buffers", k)
		}
		if g.err == io.EOF && g.ev == "" {
			break
		}
		if g.err != nil {
			t.Fatalf("event %d: %v", k, g.err)
		}
		// OnEvent runs just after the mock's flush, so the counter may still
		// lag by one; it can never be ahead, since the mock is gated.
		if s := sent.Load(); s > int64(k+1) {
			t.Fatalf("client read event %d while the mock had sent %d", k, s)
		}
		events = append(events, g.ev)
		select {
		case h.mock.Step() <- struct{}{}:
		case <-time.After(100 * time.Millisecond):
			// The mock sent its last event and is not waiting any more.
		}
	}
	if len(events) < 5 || events[len(events)-1] != "data: [DONE]\n\n" {
		t.Fatalf("events = %q", events)
	}
	for _, ev := range events[:len(events)-1] {
		var v map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(ev, "data: "))), &v); err != nil {
			t.Fatalf("event %q is not intact JSON: %v", ev, err)
		}
	}
}

func TestAnthropicStreamPassesThroughUnchanged(t *testing.T) {
	h := startWithMock(t, mockllm.Config{}, Options{Provider: Anthropic, APIKey: "k"})
	req := `{"model":"claude-sonnet-4-5","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`
	via := readAll(t, h.post("/v1/messages", req).Body)
	var names []string
	for _, ev := range strings.SplitAfter(string(via), "\n\n") {
		if strings.HasPrefix(ev, "event: ") {
			names = append(names, strings.TrimPrefix(strings.SplitN(ev, "\n", 2)[0], "event: "))
		}
	}
	want := "message_start content_block_start ping content_block_delta"
	if got := strings.Join(names, " "); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "content_block_stop message_delta message_stop") {
		t.Fatalf("event sequence %q", got)
	}
}

func TestUpstreamStatusAndHeadersSurviveOnStreams(t *testing.T) {
	h := startWithMock(t, mockllm.Config{}, Options{})
	resp := h.post("/v1/chat/completions", `{"stream":true,"messages":[]}`, "x-mock-status", "429")
	body := readAll(t, resp.Body)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !bytes.Contains(body, []byte(`"error"`)) {
		t.Fatalf("status %d retry-after %q body %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if resp.Header.Get("X-Perimeter-Error") != "" {
		t.Fatal("a provider error must not look like a proxy error")
	}
	resp = h.post("/v1/chat/completions", `{"messages":[]}`, "x-mock-status", "500")
	if resp.StatusCode != 500 {
		t.Fatalf("non-stream 500 became %d", resp.StatusCode)
	}
}

func proxyError(t *testing.T, resp *http.Response) (typ, msg string) {
	t.Helper()
	var e errorBody
	raw := readAll(t, resp.Body)
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", raw)
	}
	if resp.Header.Get("X-Perimeter-Error") != e.Error.Type || e.Error.Message == "" {
		t.Fatalf("error %s with header %q", raw, resp.Header.Get("X-Perimeter-Error"))
	}
	return e.Error.Type, e.Error.Message
}

func TestErrorAnswers(t *testing.T) {
	deadURL := deadUpstream(t)

	t.Run("unreachable upstream is 502", func(t *testing.T) {
		h := startProxy(t, Options{BaseURL: deadURL})
		resp := h.post("/v1/chat/completions", `{}`)
		typ, msg := proxyError(t, resp)
		if resp.StatusCode != 502 || typ != "upstream_unreachable" || !strings.Contains(msg, "llm.base_url") {
			t.Fatalf("%d %s %s", resp.StatusCode, typ, msg)
		}
	})
	t.Run("silent upstream is 504", func(t *testing.T) {
		h := startWithMock(t, mockllm.Config{}, Options{ResponseHeaderTimeout: 200 * time.Millisecond})
		for _, body := range []string{`{}`, `{"stream":true}`} {
			resp := h.post("/v1/chat/completions", body, "x-mock-hang", "5s")
			typ, _ := proxyError(t, resp)
			if resp.StatusCode != 504 || typ != "upstream_timeout" {
				t.Fatalf("%s: %d %s", body, resp.StatusCode, typ)
			}
		}
	})
	t.Run("504 names the timeout that fired", func(t *testing.T) {
		h := startWithMock(t, mockllm.Config{}, Options{ResponseHeaderTimeout: 200 * time.Millisecond, StreamIdleTimeout: 5 * time.Second})
		resp := h.post("/v1/chat/completions", `{}`, "x-mock-hang", "2s")
		if _, msg := proxyError(t, resp); !strings.Contains(msg, "200ms (llm.response_header_timeout") || strings.Contains(msg, "5s") {
			t.Errorf("silent upstream: %s", msg)
		}
		// A header, then silence within the body.
		stalled := "http://" + testkit.Serve(t, func(c net.Conn) {
			br := bufio.NewReader(c)
			readHead(br)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
			io.Copy(io.Discard, c)
		})
		h = startProxy(t, Options{BaseURL: stalled, ResponseHeaderTimeout: 5 * time.Second, StreamIdleTimeout: 200 * time.Millisecond})
		resp = h.post("/v1/chat/completions", `{}`)
		if _, msg := proxyError(t, resp); resp.StatusCode != 504 || !strings.Contains(msg, "200ms (llm.stream_idle_timeout") || strings.Contains(msg, "5s") {
			t.Errorf("stalled answer: %d %s", resp.StatusCode, msg)
		}
	})
	t.Run("oversize body is 413 and never forwarded", func(t *testing.T) {
		h := startWithMock(t, mockllm.Config{}, Options{MaxRequestBodySize: 1024})
		resp := h.post("/v1/chat/completions", `{"x":"`+strings.Repeat("a", 4096)+`"}`)
		typ, msg := proxyError(t, resp)
		if resp.StatusCode != 413 || typ != "request_too_large" || !strings.Contains(msg, "max_request_body_size") {
			t.Fatalf("%d %s %s", resp.StatusCode, typ, msg)
		}
		if n := h.mock.RequestCount(); n != 0 {
			t.Fatalf("upstream saw %d requests", n)
		}
	})
	t.Run("upstream cut before a complete answer is 502", func(t *testing.T) {
		h := startWithMock(t, mockllm.Config{}, Options{})
		resp := h.post("/v1/chat/completions", `{}`, "x-mock-disconnect-after", "10")
		typ, _ := proxyError(t, resp)
		if resp.StatusCode != 502 || typ != "upstream_connection_closed" {
			t.Fatalf("%d %s", resp.StatusCode, typ)
		}
	})
	t.Run("stream cut mid-way reaches the client as a cut stream", func(t *testing.T) {
		h := startWithMock(t, mockllm.Config{}, Options{})
		resp := h.post("/v1/chat/completions", `{"stream":true}`, "x-mock-disconnect-after", "3")
		b, err := io.ReadAll(resp.Body)
		if err == nil {
			t.Fatalf("client saw a clean end after %q", b)
		}
		if strings.Count(string(b), "\n\n") != 3 {
			t.Fatalf("client got %q before the cut", b)
		}
		waitFor(t, func() bool { return h.srv.proxy.stats.errors[errStreamBroken].Load() == 1 })
	})
	t.Run("panic is 500 and the server keeps serving", func(t *testing.T) {
		h := startProxy(t, Options{BaseURL: deadURL, ConfigView: func() any { panic("boom") }})
		resp, err := http.Get(h.url + "/config")
		if err != nil {
			t.Fatal(err)
		}
		typ, _ := proxyError(t, resp)
		if resp.StatusCode != 500 || typ != "internal_error" {
			t.Fatalf("%d %s", resp.StatusCode, typ)
		}
		resp, err = http.Get(h.url + "/health")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("after panic: %v %v", err, resp)
		}
	})
}

func TestClientDisconnectReleasesUpstream(t *testing.T) {
	h := startWithMock(t, mockllm.Config{}, Options{})
	conn, err := net.Dial("tcp", h.addr())
	if err != nil {
		t.Fatal(err)
	}
	body := `{"stream":true,"messages":[{"role":"user","content":"hi"}]}`
	fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-mock-step: 1\r\nx-mock-chunks: 50\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	br := bufio.NewReader(conn)
	// Read until the first event has arrived, then hang up.
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "data: ") {
			break
		}
	}
	if h.mock.ActiveStreams() != 1 {
		t.Fatalf("active upstream streams = %d", h.mock.ActiveStreams())
	}
	conn.Close()
	// The mock waits for a step; the proxy's next write fails, it closes the
	// upstream connection, and the mock sees its stream aborted.
	go func() {
		for range 50 {
			select {
			case h.mock.Step() <- struct{}{}:
			case <-time.After(waitLimit):
				return
			}
			if h.mock.ActiveStreams() == 0 {
				return
			}
		}
	}()
	waitFor(t, func() bool { return h.mock.ActiveStreams() == 0 && h.mock.StreamsAborted() == 1 })
	waitFor(t, func() bool { return h.srv.InFlight() == 0 })
	if n := h.srv.proxy.stats.errors[errClientGone].Load(); n != 1 {
		t.Fatalf("client_disconnected = %d", n)
	}
}

func TestGracefulShutdownFinishesInFlightStream(t *testing.T) {
	h := startWithMock(t, mockllm.Config{}, Options{})
	resp := h.post("/v1/chat/completions", `{"stream":true,"messages":[]}`, "x-mock-step", "1", "x-mock-chunks", "4")
	r := &sseReader{bufio.NewReader(resp.Body)}
	if _, err := r.next(); err != nil {
		t.Fatal(err)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		shut <- h.srv.Shutdown(ctx)
	}()
	// New connections are refused once shutdown started.
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", h.addr())
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-shut:
		t.Fatalf("shutdown returned (%v) while a stream was in flight", err)
	default:
	}
	var rest []string
	for {
		select {
		case h.mock.Step() <- struct{}{}:
		case <-time.After(50 * time.Millisecond):
		}
		ev, err := r.next()
		if ev != "" {
			rest = append(rest, ev)
		}
		if err != nil {
			break
		}
	}
	if len(rest) == 0 || rest[len(rest)-1] != "data: [DONE]\n\n" {
		t.Fatalf("stream did not complete during shutdown: %q", rest)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("shutdown did not return after the stream ended")
	}
}

func TestAdminEndpoints(t *testing.T) {
	h := startWithMock(t, mockllm.Config{}, Options{APIKey: "sk-secret-value", ConfigView: func() any { return map[string]any{"llm": map[string]any{"api_key": "[REDACTED]"}} }})
	h.post("/v1/chat/completions", `{}`).Body.Close()
	h.post("/v1/chat/completions", `{}`, "x-mock-status", "503").Body.Close()

	get := func(path string, accept string) []byte {
		req, _ := http.NewRequest("GET", h.url+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return readAll(t, resp.Body)
	}
	var health map[string]any
	json.Unmarshal(get("/health", ""), &health)
	if health["status"] != "healthy" || health["service"] != "llm-proxy" {
		t.Fatalf("health = %v", health)
	}
	var m struct {
		Requests map[string]float64
		Upstream struct {
			Status    map[string]float64
			LatencyMs map[string]float64 `json:"latency_ms"`
		}
	}
	if err := json.Unmarshal(get("/metrics", ""), &m); err != nil {
		t.Fatal(err)
	}
	if m.Requests["total"] != 2 || m.Upstream.Status["2xx"] != 1 || m.Upstream.Status["5xx"] != 1 || m.Upstream.LatencyMs["count"] != 2 || m.Upstream.LatencyMs["p50"] <= 0 {
		t.Fatalf("metrics = %+v", m)
	}
	prom := string(get("/metrics", "text/plain"))
	if !strings.Contains(prom, "perimeter_requests_total 2\n") || !strings.Contains(prom, `perimeter_upstream_responses_total{class="5xx"} 1`) {
		t.Fatalf("prometheus:\n%s", prom)
	}
	if cfg := get("/config", ""); bytes.Contains(cfg, []byte("sk-secret-value")) || !bytes.Contains(cfg, []byte("[REDACTED]")) {
		t.Fatalf("config = %s", cfg)
	}
	// Only the exact admin paths are local: everything else is proxied.
	resp := h.post("/health", `{}`, "x-mock-echo", "1")
	if uri, _, _ := echoOf(t, resp); uri != "/health" {
		t.Fatalf("POST /health went to %q", uri)
	}
}

// TestShutdownDoesNotWaitForSilentConnections: a client that opened a
// connection and never sent a request must not hold shutdown for the 5 s
// fasthttp gives new connections before it counts them as idle.
func TestShutdownDoesNotWaitForSilentConnections(t *testing.T) {
	h := startWithMock(t, mockllm.Config{}, Options{})
	h.post("/v1/chat/completions", `{"messages":[]}`) // a keep-alive connection that served a request
	c, err := net.Dial("tcp", h.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond) // accepted, no request sent
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v with nothing in flight", d)
	}
}

// An upstream URL refused for its query or fragment is named without them
// (or its password): either may carry a key.
func TestUpstreamURLErrorHidesSecrets(t *testing.T) {
	for _, raw := range []string{"http://user:pw@127.0.0.1:1/v1?key=QUERYSECRET", "http://127.0.0.1:1/v1#QUERYSECRET"} {
		_, err := parseBaseURL(raw)
		if err == nil || strings.Contains(err.Error(), "QUERYSECRET") || strings.Contains(err.Error(), ":pw@") || !strings.Contains(err.Error(), "query or fragment") {
			t.Errorf("%s: %v", raw, err)
		}
	}
}
