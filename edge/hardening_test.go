package edge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/bench/mockllm"
)

// rawExchange writes req on a fresh connection and returns everything the
// proxy sent until it closed the connection.
func rawExchange(t *testing.T, url, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitLimit))
	io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestRequestTargetsThatCouldLeaveTheBasePath(t *testing.T) {
	h := startWithMock(t, mockllm.Config{}, Options{BaseURL: "/openai/v1", APIKey: "sk-configured-0123456789"})
	for _, tc := range []struct {
		target, status, typ string
	}{
		{"/../admin", "400", "invalid_request_target"},
		{"/chat/../../admin", "400", "invalid_request_target"},
		{"/%2e%2e/admin", "400", "invalid_request_target"},
		{"/%2E./admin", "400", "invalid_request_target"},
		{"/chat%2f..%2fadmin", "400", "invalid_request_target"},
		{"/chat\\..\\admin", "400", "invalid_request_target"},
		{"/./models", "400", "invalid_request_target"},
		{"/agent-workflow/w1/../../admin", "400", "invalid_request_target"},
		{"/models/..", "400", "invalid_request_target"},
		{"http://proxy/../admin", "400", "invalid_request_target"},
		{"*", "400", ""},                // fasthttp refuses these itself
		{"evil.example:443", "400", ""}, // (bad_request)
	} {
		got := rawExchange(t, h.url, "GET "+tc.target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 "+tc.status) || !strings.Contains(got, `"type":"`+tc.typ) {
			t.Errorf("%s: %.200q, want %s %s", tc.target, got, tc.status, tc.typ)
		}
	}
	// CONNECT, with a malformed authority too.
	for _, target := range []string{"api.openai.com:443", "bad host:x"} {
		got := rawExchange(t, h.url, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 405") && !strings.HasPrefix(got, "HTTP/1.1 400") {
			t.Errorf("CONNECT %s: %.200q, want 405 (or 400 when unparseable)", target, got)
		}
		if h.mock.RequestCount() > 0 {
			t.Fatalf("CONNECT %s reached the upstream", target)
		}
	}
	// Dots that are not segments pass.
	for _, target := range []string{"/models/gpt-4.1", "/files/a..b", "/.well-known/x", "/models?after=../x"} {
		got := rawExchange(t, h.url, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if strings.Contains(got, "invalid_request_target") {
			t.Errorf("%s refused: %.200q", target, got)
		}
	}
}

func TestHasDotSegment(t *testing.T) {
	for in, want := range map[string]bool{
		"/": false, "": false, "/a/b": false, "/a.b/c": false, "/...": false, "/a/.b": false,
		"/.": true, "/..": true, "/./": true, "/a/../b": true, "/%2e%2e/": true, "/a%2F.%2Fb": true,
		"/a%5c..%5cb": true, "/a%2": false, "/%zz": false,
	} {
		if got := hasDotSegment([]byte(in)); got != want {
			t.Errorf("hasDotSegment(%q) = %v", in, got)
		}
	}
}

// TestHTTP10ClientGetsCloseDelimitedStream: an HTTP/1.0 client cannot read
// chunked framing; a streamed answer of unknown length reaches it as a
// body that ends when the connection closes.
func TestHTTP10ClientGetsCloseDelimitedStream(t *testing.T) {
	h := startWithMock(t, mockllm.Config{Chunks: 3}, Options{})
	const call = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	post := func(version, extra string) string {
		return rawExchange(t, h.url, fmt.Sprintf("POST /v1/chat/completions HTTP/%s\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			version, extra, len(call), call))
	}
	got := post("1.0", "")
	head, body, _ := strings.Cut(got, "\r\n\r\n")
	lower := strings.ToLower(head)
	if !strings.HasPrefix(head, "HTTP/1.1 200") || strings.Contains(lower, "transfer-encoding") ||
		strings.Contains(lower, "content-length") || !strings.Contains(lower, "connection: close") {
		t.Fatalf("head:\n%s", head)
	}
	if !strings.HasPrefix(body, "data: ") || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Fatalf("body is not the raw event stream: %q", body)
	}
	// The same request over HTTP/1.1 is still chunked.
	got = post("1.1", "Connection: close\r\n")
	if !strings.Contains(strings.ToLower(got), "transfer-encoding: chunked") {
		t.Fatalf("HTTP/1.1 stream: %.300q", got)
	}
}

func TestUnderscoreCredentialHeadersAreStripped(t *testing.T) {
	h := startWithMock(t, mockllm.Config{}, Options{Provider: OpenAI, APIKey: "sk-configured-0123456789"})
	c, err := net.Dial("tcp", h.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nx-mock-echo: 1\r\nContent-Length: 2\r\n"+
		"X_Api_Key: client-1\r\nApi_Key: client-2\r\nx_api_key: client-3\r\nProxy_Authorization: client-4\r\nAuthorization: Bearer client-5\r\nX_Other_Thing: kept\r\n\r\n{}")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, hdr, _ := echoOf(t, resp)
	for k, v := range hdr {
		for _, x := range v {
			if strings.HasPrefix(x, "client-") || strings.Contains(x, "client-5") {
				t.Errorf("%s: %s reached the upstream", k, x)
			}
		}
	}
	if v := hdr["authorization"]; len(v) != 1 || v[0] != "Bearer sk-configured-0123456789" {
		t.Errorf("authorization = %v", v)
	}
	if len(hdr["x_other_thing"]) != 1 {
		t.Errorf("an ordinary underscore header was dropped: %v", hdr)
	}
}

// reflectingUpstream answers every call with an error quoting the
// credential it received, as some gateways do.
func reflectingUpstream(t *testing.T) string {
	return "http://" + serveUpstream(t, func(ctx *fasthttp.RequestCtx) {
		msg, _ := json.Marshal("Incorrect API key provided: " + string(ctx.Request.Header.Peek("Authorization")))
		ctx.SetStatusCode(401)
		ctx.SetContentType("application/json")
		ctx.Response.Header.Set("X-Debug-Auth", string(ctx.Request.Header.Peek("Authorization")))
		ctx.SetBodyString(`{"error":{"message":` + string(msg) + `,"type":"invalid_request_error"}}`)
	})
}

func TestReflectedKeyIsMaskedInCapturedEvents(t *testing.T) {
	const key = "sk-configured-0123456789abcdef"
	h, rec := startRecording(t, 1<<20, Options{BaseURL: reflectingUpstream(t), APIKey: key})
	resp := h.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`)
	readAll(t, resp.Body)
	waitFor(t, func() bool { return len(rec.Events()) >= 3 })
	time.Sleep(50 * time.Millisecond)
	var all bytes.Buffer
	for _, e := range rec.Events() {
		json.NewEncoder(&all).Encode(e)
	}
	if strings.Contains(all.String(), key) || strings.Contains(all.String(), key[:20]) {
		t.Fatalf("the configured key is in the captured events:\n%s", all.String())
	}
	if !strings.Contains(all.String(), "[REDACTED]") {
		t.Fatalf("no masked text in the events (was the error captured?):\n%s", all.String())
	}
}

func TestBaseURLErrorsHideThePassword(t *testing.T) {
	for _, raw := range []string{"ftp://u:hunter2-secret@host", "http://u:hunter2-secret@host/v1?x=1", "http://u:hunter2-secret@ho st"} {
		_, err := parseBaseURL(raw)
		if err == nil || strings.Contains(err.Error(), "hunter2-secret") {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

// TestOversizeRequestHeaderGets431: a request whose line and headers pass
// server.max_request_header_size is answered 431, naming the setting,
// without reaching the upstream; one within it, or within a raised limit,
// is forwarded.
func TestOversizeRequestHeaderGets431(t *testing.T) {
	const call = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	post := func(h *harness, headerBytes int) string {
		return rawExchange(t, h.url, fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			strings.Repeat("p", headerBytes), len(call), call))
	}
	status := func(got string) string {
		line, _, _ := strings.Cut(got, "\r\n")
		return line
	}
	h := startWithMock(t, mockllm.Config{}, Options{})
	if got := post(h, DefaultMaxRequestHeaderSize-512); !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Fatalf("a header within the default limit: %q", status(got))
	}
	got := post(h, DefaultMaxRequestHeaderSize)
	if !strings.HasPrefix(got, "HTTP/1.1 431") {
		t.Fatalf("a header past the default limit: %q, want 431", status(got))
	}
	_, body, _ := strings.Cut(got, "\r\n\r\n")
	var e errorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("431 body %q: %v", body, err)
	}
	if e.Error.Type != "request_header_too_large" || !strings.Contains(e.Error.Message, "server.max_request_header_size") ||
		!strings.Contains(e.Error.Message, fmt.Sprint(DefaultMaxRequestHeaderSize)) {
		t.Fatalf("431 body does not name the setting and its value: %+v", e.Error)
	}
	if n := len(h.mock.Requests()); n != 1 {
		t.Fatalf("the upstream saw %d requests, want only the one within the limit", n)
	}
	if n := h.srv.Proxy().stats.errors[errHeaderTooLarge].Load(); n != 1 {
		t.Fatalf("request_header_too_large counted %d times, want 1", n)
	}

	raised := startWithMock(t, mockllm.Config{}, Options{MaxRequestHeaderSize: 4 * DefaultMaxRequestHeaderSize})
	if got := post(raised, DefaultMaxRequestHeaderSize); !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Fatalf("the same header with the limit raised: %q", status(got))
	}
}
