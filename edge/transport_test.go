package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
)

// startDesyncUpstream serves raw HTTP/1.1 on 127.0.0.1: every answer echoes
// the request's X-Req-Id; every third answer is followed, in the same
// write, by a complete extra answer for id "stray", as an upstream whose
// Content-Length is shorter than what it sends would. In mode "idle" the
// extra answer comes 50 ms after every answer instead, while the connection
// is idle in the proxy's pool; in mode "first" only the first answer has
// one. It returns the upstream's URL and its count of accepted connections. (Bytes that arrive only after the proxy sent
// the next request on the connection cannot be told from its answer; see
// framedTransport.)
func startDesyncUpstream(t *testing.T, mode string) (string, *atomic.Int64) {
	t.Helper()
	var n, accepted atomic.Int64
	answer := func(id string) string {
		body := `{"id":"` + id + `"}`
		return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	addr := testkit.Serve(t, func(c net.Conn) {
		accepted.Add(1)
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			out := answer(req.Header.Get("X-Req-Id"))
			k := n.Add(1)
			switch {
			case mode == "idle":
				io.WriteString(c, out)
				time.AfterFunc(50*time.Millisecond, func() { io.WriteString(c, answer("stray")) })
			case mode == "first" && k == 1, mode == "every3" && k%3 == 0:
				io.WriteString(c, out+answer("stray"))
			default:
				io.WriteString(c, out)
			}
		}
	})
	return "http://" + addr, &accepted
}

// idCall sends one request with id, POST (buffered pool) or GET (streamed
// pool), and returns the answer's body or "status N" / the error.
func idCall(client *http.Client, url, id string, get bool) string {
	method, body := "POST", strings.NewReader(`{"model":"m"}`)
	if get {
		method, body = "GET", strings.NewReader("")
	}
	req, _ := http.NewRequest(method, url+"/v1/models", body)
	req.Header.Set("X-Req-Id", id)
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	return string(b)
}

// ownAnswer makes idCall's call and fails the test unless the answer is
// the one for id.
func ownAnswer(t *testing.T, client *http.Client, url, id string, get bool) {
	t.Helper()
	if got := idCall(client, url, id, get); got != `{"id":"`+id+`"}` {
		t.Fatalf("request %s got %s", id, got)
	}
}

// TestFramingAnomalyNeverCrossesClients: with an upstream that sends bytes
// beyond its answers, each of many concurrent clients still gets its own
// answer, buffered (POST) and streamed (GET), and the connections that
// carried extra bytes were closed.
func TestFramingAnomalyNeverCrossesClients(t *testing.T) {
	up, _ := startDesyncUpstream(t, "every3")
	h := startProxy(t, Options{BaseURL: up, MaxConns: 8})
	const clients, each = 24, 25
	client := &http.Client{Timeout: waitLimit}
	var wrong, failed atomic.Int64
	var firstWrong atomic.Value
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("c%d-r%d", c, i)
				switch got := idCall(client, h.url, id, i%2 == 1); {
				case strings.HasPrefix(got, `{"id":`) && got != `{"id":"`+id+`"}`:
					wrong.Add(1)
					firstWrong.CompareAndSwap(nil, id+" got "+got)
				case got != `{"id":"`+id+`"}`:
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Fatalf("%d of %d clients got another answer than their own, e.g. %v", n, clients*each, firstWrong.Load())
	}
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed", n, clients*each)
	}
	if n := h.srv.proxy.stats.framing.Load(); n == 0 {
		t.Error("no connection was closed for a framing anomaly")
	}
}

// TestUnsolicitedAnswerClosesConnection: an answer that arrives while the
// connection is idle in the pool is found before the next request is sent
// on it; the connection is closed and the request goes out on another.
func TestUnsolicitedAnswerClosesConnection(t *testing.T) {
	up, _ := startDesyncUpstream(t, "idle")
	h := startProxy(t, Options{BaseURL: up, MaxConns: 1})
	client := &http.Client{Timeout: waitLimit}
	for i := range 4 {
		ownAnswer(t, client, h.url, fmt.Sprintf("r%d", i), i%2 == 1)
		time.Sleep(150 * time.Millisecond) // the stray answer arrives meanwhile
	}
	// Each pool (POST buffered, GET streamed) found it on reuse.
	if n := h.srv.proxy.stats.framing.Load(); n != 2 {
		t.Errorf("%d connections closed for unsolicited input, want 2", n)
	}
}

// TestAnomalyStopsConnectionReuse: after an upstream broke framing once,
// its connections are not reused for a while, even for answers that were
// framed right: stray bytes it sends later cannot reach another call.
func TestAnomalyStopsConnectionReuse(t *testing.T) {
	up, accepted := startDesyncUpstream(t, "first")
	h := startProxy(t, Options{BaseURL: up, MaxConns: 1})
	client := &http.Client{Timeout: waitLimit}
	for i := range 5 {
		ownAnswer(t, client, h.url, fmt.Sprintf("r%d", i), false)
	}
	if n := accepted.Load(); n != 5 {
		t.Fatalf("%d upstream connections for 5 calls after an anomaly, want one each", n)
	}
}

// closingUpstream answers every connection's first request with answer, as
// written, and then closes it. A "|" in answer is not sent: it is a pause of
// 50 ms, during which a streamed body waits for the rest.
func closingUpstream(t *testing.T, answer string) string {
	t.Helper()
	return "http://" + testkit.Serve(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
			for i, part := range strings.Split(answer, "|") {
				if i > 0 {
					time.Sleep(50 * time.Millisecond)
				}
				io.WriteString(c, part)
			}
		}
	})
}

// TestStreamedPlainBodies: a streamed answer framed by its Content-Length
// or by the upstream's close reaches the client whole; one the upstream cuts
// short of its Content-Length is cut for the client too, and counted.
func TestStreamedPlainBodies(t *testing.T) {
	get := func(h *harness) (string, error) {
		resp, err := http.Get(h.url + "/v1/files/f/content")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	body := strings.Repeat("0123456789", 1000)
	for _, tc := range []struct{ name, answer string }{
		{"content-length", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n%s", len(body), body)},
		{"until close", "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + body},
		{"content-length, in pauses", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n%s|%s|%s", len(body), body[:10], body[10:5000], body[5000:])},
		{"until close, in pauses", "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + body[:10] + "|" + body[10:]},
	} {
		h := startProxy(t, Options{BaseURL: closingUpstream(t, tc.answer)})
		got, err := get(h)
		if err != nil || got != body {
			t.Fatalf("%s: %d bytes, %v; want the %d sent", tc.name, len(got), err, len(body))
		}
	}
	h := startProxy(t, Options{BaseURL: closingUpstream(t, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n%s", len(body)+10, body))})
	if got, err := get(h); err == nil {
		t.Fatalf("an answer cut short of its Content-Length reached the client whole (%d bytes)", len(got))
	}
	waitFor(t, func() bool { return h.srv.Proxy().stats.errors[errStreamBroken].Load() == 1 })
}
