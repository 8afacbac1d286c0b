package dashboard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// guardCase is a request the guard must answer with code: GET path, or
// POST for /mcp, with the headers hdr (Host sets the request's host).
type guardCase struct {
	name string
	path string
	hdr  map[string]string
	code int
}

// check sends the request and reports a status other than c.code; it
// returns the body, and whether the status was right.
func (c guardCase) check(t *testing.T, s *Server) ([]byte, bool) {
	t.Helper()
	method := "GET"
	if c.path == "/mcp" {
		method = "POST"
	}
	code, body := call(t, s, method, c.path, nil, c.hdr)
	if code != c.code {
		t.Errorf("%s: %d %s, want %d", c.name, code, body, c.code)
		return body, false
	}
	return body, true
}

func TestGuardLoopback(t *testing.T) {
	s := testServer(t, nil, nil)
	port := s.URL()[strings.LastIndexByte(s.URL(), ':')+1:]
	for _, c := range []guardCase{
		{"local host", "/api/agents", nil, 200},
		{"localhost name", "/api/agents", map[string]string{"Host": "localhost:" + port}, 200},
		{"ipv6 loopback", "/api/agents", map[string]string{"Host": "[::1]:" + port}, 200},
		{"rebound name", "/api/agents", map[string]string{"Host": "evil.example:" + port}, 403},
		{"unspecified", "/api/agents", map[string]string{"Host": "0.0.0.0:" + port}, 403},
		{"rebound name on the UI", "/", map[string]string{"Host": "evil.example"}, 403},
		{"rebound name on mcp", "/mcp", map[string]string{"Host": "evil.example"}, 403},
		{"own origin", "/api/agents", map[string]string{"Origin": "http://127.0.0.1:" + port}, 200},
		{"dev server origin", "/api/agents", map[string]string{"Origin": "http://localhost:5173"}, 200},
		{"foreign origin", "/api/agents", map[string]string{"Origin": "http://evil.example"}, 403},
		{"null origin", "/api/agents", map[string]string{"Origin": "null"}, 403},
		{"file origin", "/mcp", map[string]string{"Origin": "file://"}, 403},
		{"other local port", "/api/agents", map[string]string{"Origin": "http://127.0.0.1:9999"}, 403},
	} {
		if b, ok := c.check(t, s); ok && c.code == 403 {
			var e map[string]string
			if json.Unmarshal(b, &e) != nil || e["error"] == "" || e["detail"] == "" {
				t.Errorf("%s: 403 body %s", c.name, b)
			}
		}
	}
	// CORS for the allowed origins, preflight included.
	code, _ := call(t, s, "OPTIONS", "/api/sql", nil, map[string]string{"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"})
	if code != http.StatusNoContent {
		t.Errorf("preflight: %d", code)
	}
}

func TestGuardToken(t *testing.T) {
	s := testServer(t, nil, func(o *Options) { o.Token = "s3cret" })
	for _, c := range []guardCase{
		{"no token", "/api/agents", nil, 401},
		{"wrong token", "/api/agents", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"bearer", "/api/agents", map[string]string{"Authorization": "Bearer s3cret"}, 200},
		{"query", "/api/agents?token=s3cret", nil, 200},
		{"stream by query", "/api/events/stream?token=nope", nil, 401},
		{"mcp without", "/mcp", nil, 401},
		{"ui needs none", "/", nil, 200},
		{"health needs none", "/health", nil, 200},
	} {
		c.check(t, s)
	}
	if !strings.Contains(s.BrowserURL(), "?token=s3cret") {
		t.Errorf("browser URL %s", s.BrowserURL())
	}
}

// A non-loopback bind needs a token, and then answers any Host.
func TestGuardBeyondLoopback(t *testing.T) {
	if _, err := New(Options{Host: "0.0.0.0"}); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("0.0.0.0 without a token: %v", err)
	}
	s, err := New(Options{Host: "0.0.0.0", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "http://dash.example.com/api/agents", nil)
	req.Header.Set("Authorization", "Bearer t")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	req.Header.Set("Origin", "https://dash.example.com")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "https://dash.example.com" {
		t.Fatalf("same-origin behind TLS: %d %v", rec.Code, rec.Header())
	}
}
