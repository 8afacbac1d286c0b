package mockllm

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const streamChat = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`
const streamMessages = `{"model":"claude-x","stream":true,"max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`
const streamResponses = `{"model":"gpt-4.1","stream":true,"input":"hi"}`

func TestStatus(t *testing.T) {
	_, base := startServer(t, Config{})
	for _, tc := range []struct {
		path      string
		status    int
		errType   string
		retryHdr  bool
		anthropic bool
	}{
		{"/v1/chat/completions", 429, "requests", true, false},
		{"/v1/chat/completions", 500, "server_error", false, false},
		{"/v1/chat/completions", 401, "invalid_request_error", false, false},
		{"/v1/responses", 503, "server_error", true, false},
		{"/v1/messages", 429, "rate_limit_error", true, true},
		{"/v1/messages", 401, "authentication_error", false, true},
		{"/v1/messages", 529, "overloaded_error", false, true},
		{"/v1/messages", 500, "api_error", false, true},
	} {
		t.Run(tc.path+" "+itoa(tc.status), func(t *testing.T) {
			resp := post(t, base+tc.path, streamChat, HeaderStatus, itoa(tc.status))
			m := decode(t, readBody(t, resp))
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d content-type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if got := resp.Header.Get("retry-after") != ""; got != tc.retryHdr {
				t.Errorf("retry-after present=%v", got)
			}
			if tc.anthropic {
				if str(m, "type") != "error" || str(m, "error", "type") != tc.errType || str(m, "error", "message") == "" {
					t.Errorf("anthropic error %v", m)
				}
				return
			}
			e := get(m, "error")
			if str(e, "type") != tc.errType || str(e, "message") == "" || !has(e, "param") || !has(e, "code") {
				t.Errorf("openai error %v", m)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	_, base := startServer(t, Config{})

	resp := post(t, base+"/v1/embeddings", `{}`)
	m := decode(t, readBody(t, resp))
	if resp.StatusCode != 404 || str(m, "error", "message") != "Invalid URL (POST /v1/embeddings)" || get(m, "error", "code") != nil {
		t.Errorf("unknown path: %d %v", resp.StatusCode, m)
	}

	g, err := http.Get(base + "/v1/chat/completions")
	if err != nil {
		t.Fatal(err)
	}
	g.Body.Close()
	if g.StatusCode != 404 {
		t.Errorf("GET on a POST route: %d", g.StatusCode)
	}

	g, err = http.Get(base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	m = decode(t, readBody(t, g))
	if str(m, "object") != "list" || str(m, "data", 0, "object") != "model" {
		t.Errorf("models %v", m)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/models", nil)
	req.Header.Set("anthropic-version", "2023-06-01")
	g, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	m = decode(t, readBody(t, g))
	if str(m, "data", 0, "type") != "model" || !has(m, "has_more") {
		t.Errorf("anthropic models %v", m)
	}

	m = decode(t, readBody(t, post(t, base+"/v1/messages/count_tokens", `{"model":"claude","messages":[]}`)))
	if num(m, "input_tokens") != len(`{"model":"claude","messages":[]}`)/4 {
		t.Errorf("count_tokens %v", m)
	}

	for _, path := range []string{"/v1/chat/completions", "/v1/messages"} {
		resp = post(t, base+path, `{"model":`)
		m = decode(t, readBody(t, resp))
		if resp.StatusCode != 400 {
			t.Errorf("%s invalid JSON: %d %v", path, resp.StatusCode, m)
		}
	}

	resp = post(t, base+"/v1/chat/completions", streamChat, HeaderChunks, "lots")
	m = decode(t, readBody(t, resp))
	if resp.StatusCode != 400 || !strings.Contains(strings.ToLower(str(m, "error", "message")), HeaderChunks) {
		t.Errorf("bad control: %d %v", resp.StatusCode, m)
	}
}

func TestBodySize(t *testing.T) {
	_, base := startServer(t, Config{})
	for _, path := range []string{"/v1/chat/completions", "/v1/responses", "/v1/messages"} {
		b := readBody(t, post(t, base+path, `{"model":"m","messages":[]}`, HeaderBodySize, "4096"))
		decode(t, b)
		if len(b) < 4096 || len(b) > 4096+16 {
			t.Errorf("%s: %d bytes, want about 4096", path, len(b))
		}
	}
	_, base2 := startServer(t, Config{BodySize: 2048})
	if b := readBody(t, post(t, base2+"/v1/messages", `{}`)); len(b) < 2048 || len(b) > 2048+16 {
		t.Errorf("Config.BodySize: %d bytes", len(b))
	}
}

func TestHang(t *testing.T) {
	s, base := startServer(t, Config{})

	// A short hang answers normally afterwards.
	resp := post(t, base+"/v1/chat/completions", chatBody, HeaderHang, "20ms")
	if m := decode(t, readBody(t, resp)); resp.StatusCode != 200 || str(m, "object") != "chat.completion" {
		t.Fatalf("after hang: %d %v", resp.StatusCode, m)
	}

	// A peer that gives up ends the hang at once.
	host := strings.TrimPrefix(base, "http://")
	c, _ := rawExchange(t, base, rawPost(host, "/v1/chat/completions", chatBody, HeaderHang, "1h"))
	waitFor(t, "the hung request to arrive", func() bool { return s.RequestCount() == 2 })
	c.Close()
	waitFor(t, "HangsAborted", func() bool { return s.HangsAborted() == 1 })
}

func TestDisconnectAfter(t *testing.T) {
	s, base := startServer(t, Config{})
	for _, tc := range []struct{ path, body string }{
		{"/v1/chat/completions", streamChat},
		{"/v1/messages", streamMessages},
		{"/v1/responses", streamResponses},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp := post(t, base+tc.path, tc.body, HeaderDisconnectAfter, "3")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			evs, err := readStream(resp.Body)
			if len(evs) != 3 || err == nil {
				t.Fatalf("got %d events, err %v; want 3 events then a broken body", len(evs), err)
			}
		})
	}

	// On the wire: three chunks, then EOF without the terminating chunk.
	host := strings.TrimPrefix(base, "http://")
	_, r := rawExchange(t, base, rawPost(host, "/v1/chat/completions", streamChat, HeaderDisconnectAfter, "3"))
	if status, hdr := readRawHead(t, r); !strings.Contains(status, " 200 ") || hdr["transfer-encoding"] != "chunked" {
		t.Fatalf("head %q %v", status, hdr)
	}
	for i := range 3 {
		if _, err := readChunk(r); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	if _, err := readChunk(r); err != io.EOF {
		t.Fatalf("after 3 chunks: %v, want EOF", err)
	}

	// Zero events: headers, then nothing.
	resp := post(t, base+"/v1/messages", streamMessages, HeaderDisconnectAfter, "0")
	if evs, err := readStream(resp.Body); resp.StatusCode != 200 || len(evs) != 0 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("K=0: status %d, %d events, err %v", resp.StatusCode, len(evs), err)
	}

	// Non-streaming: full Content-Length, K bytes, then the connection drops.
	resp = post(t, base+"/v1/chat/completions", chatBody, HeaderDisconnectAfter, "10")
	b, err := io.ReadAll(resp.Body)
	if resp.ContentLength < 500 || len(b) != 10 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("non-stream: content-length %d, read %d bytes, err %v", resp.ContentLength, len(b), err)
	}
	if n := s.StreamsAborted(); n != 0 {
		t.Errorf("StreamsAborted = %d: a deliberate disconnect is not a peer abort", n)
	}
}

func TestErrorEventAfter(t *testing.T) {
	_, base := startServer(t, Config{})
	for _, tc := range []struct {
		path, body, name string
		check            func(m map[string]any) bool
	}{
		{"/v1/chat/completions", streamChat, "", func(m map[string]any) bool {
			return str(m, "error", "type") == "server_error" && has(m, "error", "code")
		}},
		{"/v1/messages", streamMessages, "error", func(m map[string]any) bool {
			return str(m, "type") == "error" && str(m, "error", "type") == "overloaded_error"
		}},
		{"/v1/responses", streamResponses, "error", func(m map[string]any) bool {
			return str(m, "type") == "error" && str(m, "code") == "server_error" && num(m, "sequence_number") == 2
		}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			evs := mustStream(t, post(t, base+tc.path, tc.body, HeaderErrorEventAfter, "2"))
			if len(evs) != 3 {
				t.Fatalf("%d events, want 2 then the error", len(evs))
			}
			last := evs[2]
			if last.name != tc.name || !tc.check(decode(t, []byte(last.data))) {
				t.Fatalf("error event %+v", last)
			}
		})
	}
}

func TestEcho(t *testing.T) {
	s, base := startServer(t, Config{})
	host := strings.TrimPrefix(base, "http://")
	body := `{"model":"m","messages":[{"role":"user","content":"é"}]}`
	hdr := []string{"X-Custom-B", "2", "authorization", "Bearer sk-test", "x-cylestio-session-id", "abc", "X-Custom-B", "3", HeaderEcho, "1"}
	_, r := rawExchange(t, base, rawPost(host, "/v1/chat/completions?beta=true&x=%20y", body, hdr...))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got echoReply
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := []Header{{"Host", host}, {"Content-Type", "application/json"}, {"Content-Length", itoa(len(body))}}
	for i := 0; i < len(hdr); i += 2 {
		want = append(want, Header{hdr[i], hdr[i+1]})
	}
	if got.Method != "POST" || got.URI != "/v1/chat/completions?beta=true&x=%20y" || got.Body != body || string(got.BodyBase64) != body {
		t.Errorf("echo %+v", got)
	}
	if !equalHeaders(got.Headers, want) {
		t.Errorf("headers\n got %v\nwant %v", got.Headers, want)
	}
	rec, ok := s.LastRequest()
	if !ok || !equalHeaders(rec.Headers, want) || string(rec.Body) != body || rec.URI != got.URI {
		t.Errorf("recorded %+v", rec)
	}
	if v := rec.Values("x-custom-b"); len(v) != 2 || v[0] != "2" || v[1] != "3" {
		t.Errorf("Values %v", v)
	}
	if v, ok := rec.Header("AUTHORIZATION"); !ok || v != "Bearer sk-test" {
		t.Errorf("Header %q %v", v, ok)
	}
}

func equalHeaders(a, b []Header) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRecorded(t *testing.T) {
	s, base := startServer(t, Config{MaxRecorded: 3})
	if _, ok := s.LastRequest(); ok {
		t.Fatal("LastRequest before any request")
	}
	for i := range 5 {
		readBody(t, post(t, base+"/v1/chat/completions?n="+itoa(i), chatBody))
	}
	recs := s.Requests()
	if len(recs) != 3 || s.RequestCount() != 5 {
		t.Fatalf("%d recorded of %d", len(recs), s.RequestCount())
	}
	for i, r := range recs {
		if r.Index != i+2 || r.URI != "/v1/chat/completions?n="+itoa(i+2) || r.Method != "POST" || string(r.Body) != chatBody {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	if last, _ := s.LastRequest(); last.Index != 4 {
		t.Errorf("LastRequest index %d", last.Index)
	}
	s.ClearRequests()
	if len(s.Requests()) != 0 {
		t.Error("ClearRequests kept records")
	}

	off, base2 := startServer(t, Config{MaxRecorded: -1})
	readBody(t, post(t, base2+"/v1/chat/completions", chatBody))
	if len(off.Requests()) != 0 || off.RequestCount() != 1 {
		t.Errorf("recording off: %d records, count %d", len(off.Requests()), off.RequestCount())
	}
}

// TestOneChunkPerEvent checks the cadence guarantee on the wire: every SSE
// event travels as exactly one HTTP chunk.
func TestOneChunkPerEvent(t *testing.T) {
	_, base := startServer(t, Config{})
	host := strings.TrimPrefix(base, "http://")
	for _, tc := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}`},
		{"/v1/messages", streamMessages},
		{"/v1/responses", streamResponses},
	} {
		_, r := rawExchange(t, base, rawPost(host, tc.path, tc.body))
		readRawHead(t, r)
		n := 0
		for ; ; n++ {
			chunk, err := readChunk(r)
			if err == errTerminated {
				break
			}
			if err != nil {
				t.Fatalf("%s chunk %d: %v", tc.path, n, err)
			}
			s := string(chunk)
			if !strings.HasSuffix(s, "\n\n") || strings.Contains(s[:len(s)-2], "\n\n") {
				t.Fatalf("%s chunk %d is not exactly one event: %q", tc.path, n, s)
			}
		}
		if n < 20 {
			t.Errorf("%s: only %d chunks", tc.path, n)
		}
	}
}

// TestStepGate shows the pattern a proxy test uses: the client sees event k
// while the mock has not yet sent event k+1.
func TestStepGate(t *testing.T) {
	var sent atomic.Int64
	s, base := startServer(t, Config{OnEvent: func(_, ev int) { sent.Store(int64(ev) + 1) }})
	resp := post(t, base+"/v1/messages", streamMessages, HeaderStep, "1", HeaderChunks, "3")
	r := bufio.NewReader(resp.Body)
	const total = 8 // message_start, block start, ping, 3 deltas, block stop, message_delta, message_stop
	for k := 0; k <= total; k++ {
		ev, err := readEvent(r)
		if err != nil {
			t.Fatalf("event %d: %v", k, err)
		}
		// The gate holds event k+1, so the client got event k on its own.
		if got := sent.Load(); got > int64(k)+1 {
			t.Fatalf("client reads event %d (%s) but the mock has already sent %d", k, ev.name, got)
		}
		waitFor(t, "OnEvent", func() bool { return sent.Load() == int64(k)+1 })
		if k < total {
			if s.ActiveStreams() != 1 {
				t.Fatalf("ActiveStreams = %d mid-stream", s.ActiveStreams())
			}
			s.Step() <- struct{}{}
		}
	}
	if _, err := readEvent(r); err != io.EOF {
		t.Fatalf("after the last event: %v", err)
	}
	waitFor(t, "the stream to end", func() bool { return s.ActiveStreams() == 0 })
	if s.StreamsAborted() != 0 || s.StreamsStarted() != 1 {
		t.Errorf("aborted %d started %d", s.StreamsAborted(), s.StreamsStarted())
	}
}

type streamEnd struct {
	idx, sent int
	aborted   bool
}

// TestClientGoneAbortsStream: a client that leaves mid-stream is noticed
// while the stream waits, without another write.
func TestClientGoneAbortsStream(t *testing.T) {
	for _, tc := range []struct {
		name     string
		inmemory bool
		hdr      []string
	}{
		{"tcp step", false, []string{HeaderStep, "1"}},
		{"tcp delay", false, []string{HeaderChunkDelay, "1h"}},
		{"inmemory step", true, []string{HeaderStep, "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ends := make(chan streamEnd, 1)
			cfg := Config{OnStreamEnd: func(idx, sent int, aborted bool) { ends <- streamEnd{idx, sent, aborted} }}
			var s *Server
			var r *bufio.Reader
			var closeConn func() error
			if tc.inmemory {
				srv, ln := StartInmemory(cfg)
				s = srv
				t.Cleanup(func() { s.Close() })
				c, err := ln.Dial()
				if err != nil {
					t.Fatal(err)
				}
				io.WriteString(c, rawPost("mock", "/v1/chat/completions", streamChat, tc.hdr...))
				r, closeConn = bufio.NewReader(c), c.Close
			} else {
				srv, base := startServer(t, cfg)
				s = srv
				c, rr := rawExchange(t, base, rawPost("mock", "/v1/chat/completions", streamChat, tc.hdr...))
				r, closeConn = rr, c.Close
			}
			readRawHead(t, r)
			if _, err := readChunk(r); err != nil {
				t.Fatal(err)
			}
			if s.ActiveStreams() != 1 {
				t.Fatalf("ActiveStreams = %d", s.ActiveStreams())
			}
			closeConn()
			end := <-ends
			if !end.aborted || end.sent != 1 || end.idx != 0 {
				t.Fatalf("stream end %+v, want aborted after 1 event", end)
			}
			if s.StreamsAborted() != 1 || s.ActiveStreams() != 0 {
				t.Fatalf("aborted %d active %d", s.StreamsAborted(), s.ActiveStreams())
			}
		})
	}
}

// TestWriteErrorAbortsStream: without waits, a failed write is the signal.
func TestWriteErrorAbortsStream(t *testing.T) {
	ends := make(chan streamEnd, 1)
	var once sync.Once
	gate := make(chan struct{})
	var s *Server
	s, base := startServer(t, Config{
		Chunks: 1000,
		OnEvent: func(_, ev int) {
			if ev == 0 {
				once.Do(func() { <-gate }) // hold the writer until the client has gone
			}
		},
		OnStreamEnd: func(idx, sent int, aborted bool) { ends <- streamEnd{idx, sent, aborted} },
	})
	c, r := rawExchange(t, base, rawPost("mock", "/v1/chat/completions", streamChat))
	readRawHead(t, r)
	c.Close()
	close(gate)
	if end := <-ends; !end.aborted || end.sent >= 1000 {
		t.Fatalf("stream end %+v", end)
	}
	if s.StreamsAborted() != 1 {
		t.Fatalf("StreamsAborted = %d", s.StreamsAborted())
	}
}

// TestKeepAliveAfterWaitingStream: watching the connection during waits
// must leave it usable for the next request.
func TestKeepAliveAfterWaitingStream(t *testing.T) {
	_, base := startServer(t, Config{Chunks: 2})
	req := rawPost("mock", "/v1/chat/completions", streamChat, HeaderChunkDelay, "1ms")
	c, r := rawExchange(t, base, req)
	for i := range 2 {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		evs, err := readStream(resp.Body)
		if err != nil || len(evs) != 5 {
			t.Fatalf("response %d: %d events, %v", i, len(evs), err)
		}
		if i == 0 {
			io.WriteString(c, req)
		}
	}
}

func TestCloseEndsWaitingStreams(t *testing.T) {
	ends := make(chan streamEnd, 1)
	s, base, err := Start(Config{OnStreamEnd: func(idx, sent int, aborted bool) { ends <- streamEnd{idx, sent, aborted} }})
	if err != nil {
		t.Fatal(err)
	}
	_, r := rawExchange(t, base, rawPost("mock", "/v1/chat/completions", streamChat, HeaderStep, "1"))
	readRawHead(t, r)
	if _, err := readChunk(r); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- s.Close() }()
	if end := <-ends; end.aborted {
		t.Errorf("Close counted as a peer abort: %+v", end)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}
