package mockllm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
)

// request renders a typed request (package llmreq) for a test.
func request(t *testing.T, r interface{ JSON() ([]byte, error) }) string {
	t.Helper()
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func startServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	s, base, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, base
}

// post sends body to base+path with the given header pairs.
func post(t *testing.T, url, body string, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return b
}

// decode unmarshals JSON into a generic map, failing the test when invalid.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	return m
}

// get walks a decoded JSON value by keys and indexes: get(m, "choices", 0, "message").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func has(v any, path ...any) bool {
	last := path[len(path)-1].(string)
	m, ok := get(v, path[:len(path)-1]...).(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[last]
	return ok
}

func num(v any, path ...any) int {
	f, ok := get(v, path...).(float64)
	if !ok {
		return -1
	}
	return int(f)
}

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

type sseEvent struct {
	name string // "" when the event had no event: line
	data string
}

// readEvent reads one SSE event, following the framing rules: field lines
// until a blank line, data lines joined with "\n", comments ignored.
func readEvent(r *bufio.Reader) (sseEvent, error) {
	var ev sseEvent
	var data []string
	seen := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if err == io.EOF && (line != "" || seen) {
				return ev, io.ErrUnexpectedEOF
			}
			return ev, err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if !seen {
				continue
			}
			ev.data = strings.Join(data, "\n")
			return ev, nil
		}
		seen = true
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "":
		case "event":
			ev.name = value
		case "data":
			data = append(data, value)
		default:
			return ev, fmt.Errorf("unexpected SSE field %q", line)
		}
	}
}

// readStream reads every event of an SSE body; err is nil only when the
// body ended cleanly after a complete event.
func readStream(body io.Reader) ([]sseEvent, error) {
	r := bufio.NewReader(body)
	var evs []sseEvent
	for {
		ev, err := readEvent(r)
		if err == io.EOF {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

func mustStream(t *testing.T, resp *http.Response) []sseEvent {
	t.Helper()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readBody(t, resp))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content-type %q", ct)
	}
	evs, err := readStream(resp.Body)
	if err != nil {
		t.Fatalf("stream after %d events: %v", len(evs), err)
	}
	return evs
}

// rawExchange writes a raw HTTP/1.1 request on a new connection and returns
// the connection and a reader positioned at the response.
func rawExchange(t *testing.T, base, request string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	return c, bufio.NewReader(c)
}

func rawPost(host, path, body string, hdr ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, host, len(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.String()
}

// readRawHead reads a response status line and headers.
func readRawHead(t *testing.T, r *bufio.Reader) (status string, hdr map[string]string) {
	t.Helper()
	hdr = map[string]string{}
	for i := 0; ; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read head: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return status, hdr
		}
		if i == 0 {
			status = line
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		hdr[strings.ToLower(k)] = strings.TrimSpace(v)
	}
}

var errTerminated = errors.New("terminating chunk")

// readChunk reads one chunk of a chunked body.
func readChunk(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.ParseInt(strings.TrimRight(line, "\r\n"), 16, 64)
	if err != nil {
		return nil, fmt.Errorf("bad chunk size line %q", line)
	}
	if n == 0 {
		if tail, err := r.ReadString('\n'); err != nil || tail != "\r\n" {
			return nil, fmt.Errorf("bad chunked trailer %q: %v", tail, err)
		}
		return nil, errTerminated
	}
	b := make([]byte, n+2)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		return nil, fmt.Errorf("chunk not followed by CRLF")
	}
	return b[:n], nil
}

// waitFor polls cond until it holds; the deadline only bounds a broken run.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.WaitFor(t, 10*time.Second, what, cond)
}

func itoa(n int) string { return strconv.Itoa(n) }
