package edge

import (
	"io"
	"net"
	"sort"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func headerMap(h *fasthttp.RequestHeader) map[string]string {
	m := map[string]string{}
	for k, v := range h.All() {
		m[strings.ToLower(string(k))] = string(v)
	}
	return m
}

func TestPrepareRequestHeader(t *testing.T) {
	client := map[string]string{
		"Host":                  "127.0.0.1:4000",
		"Content-Type":          "application/json",
		"User-Agent":            "OpenAI/Python 1.60.0",
		"Authorization":         "Bearer sk-dummy-from-sdk",
		"X-Api-Key":             "sk-ant-dummy",
		"Api-Key":               "azure-dummy",
		"X-Cylestio-Session-Id": "s1",
		"x-CYLESTIO-AGENT-id":   "a1",
		"X-CYLESTIO-CUSTOM":     "c",
		"X-Cylestio-Trace-Id":   "t",
		"Connection":            "keep-alive, X-Hop",
		"X-Hop":                 "drop me",
		"Keep-Alive":            "timeout=5",
		"Proxy-Authorization":   "Basic x",
		"Te":                    "trailers",
		"Upgrade":               "h2c",
		"Expect":                "100-continue",
		"Openai-Beta":           "assistants=v2",
		"Accept-Encoding":       "gzip",
	}
	tests := []struct {
		name     string
		provider Provider
		key      string
		set      map[string]string // extra client headers
		want     map[string]string // must be present with this value
		absent   []string
	}{
		{
			name: "openai key replaces every client credential", provider: OpenAI, key: "sk-real",
			want:   map[string]string{"authorization": "Bearer sk-real", "user-agent": "OpenAI/Python 1.60.0", "openai-beta": "assistants=v2", "accept-encoding": "gzip", "content-type": "application/json"},
			absent: []string{"x-api-key", "api-key", "anthropic-version"},
		},
		{
			name: "anthropic key goes in x-api-key, Authorization removed", provider: Anthropic, key: "sk-ant-real",
			want:   map[string]string{"x-api-key": "sk-ant-real", "anthropic-version": "2023-06-01"},
			absent: []string{"authorization", "api-key"},
		},
		{
			name: "anthropic-version from the client is kept", provider: Anthropic, key: "k",
			set:  map[string]string{"Anthropic-Version": "2024-10-22"},
			want: map[string]string{"anthropic-version": "2024-10-22"},
		},
		{
			name: "no key: client credentials pass untouched", provider: OpenAI,
			want: map[string]string{"authorization": "Bearer sk-dummy-from-sdk", "x-api-key": "sk-ant-dummy", "api-key": "azure-dummy"},
		},
	}
	always := []string{"x-cylestio-session-id", "x-cylestio-agent-id", "x-cylestio-custom", "x-cylestio-trace-id",
		"connection", "x-hop", "keep-alive", "proxy-authorization", "te", "upgrade", "expect"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h fasthttp.RequestHeader
			h.SetMethod("POST")
			for k, v := range client {
				h.Set(k, v)
			}
			for k, v := range tt.set {
				h.Set(k, v)
			}
			prepareRequestHeader(&h, tt.provider, newCredential(tt.provider, tt.key), nil)
			got := headerMap(&h)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for _, k := range append(always, tt.absent...) {
				if v, ok := got[k]; ok {
					t.Errorf("%s = %q should have been dropped", k, v)
				}
			}
			if n := strings.Count(strings.ToLower(string(h.Header())), "\r\nauthorization:"); n > 1 {
				t.Errorf("%d Authorization headers", n)
			}
		})
	}
}

func TestPrepareResponseHeader(t *testing.T) {
	var h fasthttp.ResponseHeader
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Request-Id", "req_1")
	h.Set("Openai-Processing-Ms", "12")
	h.Set("Connection", "close, X-Internal")
	h.Set("X-Internal", "secret-routing")
	h.Set("Keep-Alive", "timeout=5")
	h.Set("Set-Cookie", "__cf_bm=abc")
	prepareResponseHeader(&h, nil)
	var keys []string
	for k := range h.All() {
		keys = append(keys, strings.ToLower(string(k)))
	}
	sort.Strings(keys)
	got := strings.Join(keys, ",")
	for _, k := range []string{"content-type", "x-request-id", "openai-processing-ms", "set-cookie"} {
		if !strings.Contains(got, k) {
			t.Errorf("%s dropped from %s", k, got)
		}
	}
	for _, k := range []string{"x-internal", "keep-alive"} {
		if strings.Contains(got, k) {
			t.Errorf("%s kept in %s", k, got)
		}
	}
	if h.ConnectionClose() {
		t.Error("upstream Connection: close must not close the client's connection")
	}
}

func TestWantsStream(t *testing.T) {
	tests := []struct {
		method, accept, body string
		want                 bool
	}{
		{"POST", "", `{"model":"m","stream":true}`, true},
		{"POST", "", `{"model":"m","stream" :  true}`, true},
		{"POST", "", "{\"stream\":\n true}", true},
		{"POST", "", `{"model":"m","stream":false}`, false},
		{"POST", "", `{"model":"m"}`, false},
		{"POST", "", `{"messages":[{"content":"say \"stream\": true"}]}`, false},
		{"POST", "text/event-stream", `{"model":"m"}`, true},
		{"GET", "", ``, true},
		{"POST", "", ``, false},
	}
	for _, tt := range tests {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod(tt.method)
		if tt.accept != "" {
			ctx.Request.Header.Set("Accept", tt.accept)
		}
		ctx.Request.SetBodyString(tt.body)
		if got := wantsStream(&ctx, ctx.PostBody()); got != tt.want {
			t.Errorf("%s %q accept=%q: got %v, want %v", tt.method, tt.body, tt.accept, got, tt.want)
		}
	}
}

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		in, prefix, addr string
		err              bool
	}{
		{"https://api.openai.com", "https://api.openai.com", "api.openai.com:443", false},
		{"https://api.openai.com/v1/", "https://api.openai.com/v1", "api.openai.com:443", false},
		{"http://127.0.0.1:8080/proxy/v1", "http://127.0.0.1:8080/proxy/v1", "127.0.0.1:8080", false},
		{"http://[::1]:9000", "http://[::1]:9000", "[::1]:9000", false},
		{"api.openai.com", "", "", true},
		{"ftp://x", "", "", true},
		{"https://x/?a=b", "", "", true},
	}
	for _, tt := range tests {
		up, err := parseBaseURL(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("%q: err = %v", tt.in, err)
			continue
		}
		if err == nil && (string(up.prefix) != tt.prefix || up.addr != tt.addr) {
			t.Errorf("%q: prefix %q addr %q", tt.in, up.prefix, up.addr)
		}
	}
}

// TestNoContentTypeIsAdded: a request without Content-Type reaches the
// upstream without one (fasthttp would add application/octet-stream).
func TestNoContentTypeIsAdded(t *testing.T) {
	seen := make(chan string, 2)
	up := "http://" + serveUpstream(t, func(ctx *fasthttp.RequestCtx) {
		seen <- string(ctx.Request.Header.Peek("Content-Type"))
	})
	h := startProxy(t, Options{BaseURL: up})
	for _, ct := range []string{"", "application/json"} {
		req := "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n"
		if ct != "" {
			req += "Content-Type: " + ct + "\r\n"
		}
		conn, err := net.Dial("tcp", h.addr())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, req+"\r\n{}")
		io.Copy(io.Discard, conn)
		conn.Close()
		if got := <-seen; got != ct {
			t.Errorf("sent Content-Type %q, upstream saw %q", ct, got)
		}
	}
}
