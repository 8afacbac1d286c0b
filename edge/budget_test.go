package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/valyala/fasthttp"
)

// TestStalledBodiesStayWithinBudget: clients that declare large bodies and
// stall hold at most server.max_inflight_body_bytes; the ones beyond it are
// answered 503 at once, and the budget is free again when they go.
func TestStalledBodiesStayWithinBudget(t *testing.T) {
	const mib = 1 << 20
	h := startProxy(t, Options{BaseURL: fixedUpstream(t, map[string][]byte{"/ok": []byte("ok")}),
		MaxRequestBodySize: 2 * mib, MaxInflightBodyBytes: 8 * mib})
	addr := h.addr()
	const clients = 12
	type result struct {
		status  int
		typ     string
		elapsed time.Duration
	}
	results := make(chan result, clients)
	var conns []net.Conn
	var mu sync.Mutex
	for range clients {
		go func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				results <- result{}
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			start := time.Now()
			fmt.Fprintf(c, "POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 2*mib)
			c.Write(make([]byte, 64<<10)) // then stall
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				results <- result{elapsed: time.Since(start)} // stalled: no answer
				return
			}
			b, _ := io.ReadAll(resp.Body)
			typ := ""
			if i := strings.Index(string(b), `"error":{"type":"`); i >= 0 {
				typ = strings.SplitN(string(b)[i+17:], `"`, 2)[0]
			}
			results <- result{resp.StatusCode, typ, time.Since(start)}
		}()
	}
	refused, stalled := 0, 0
	for range clients {
		r := <-results
		switch {
		case r.status == 503 && r.typ == "memory_budget_exceeded" && r.elapsed < time.Second:
			refused++
		case r.status == 0:
			stalled++
		default:
			t.Errorf("unexpected answer %+v", r)
		}
		if used := h.srv.proxy.bodies.used.Load(); used > 8*mib {
			t.Fatalf("bodies in flight hold %d bytes, budget %d", used, 8*mib)
		}
	}
	if stalled != 4 || refused != clients-4 {
		t.Fatalf("%d stalled within the budget (want 4), %d refused (want %d)", stalled, refused, clients-4)
	}
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	waitFor(t, func() bool { return h.srv.proxy.bodies.used.Load() == 0 })
	resp := h.post("/ok", strings.Repeat("x", mib))
	if b := readAll(t, resp.Body); resp.StatusCode != 201 || string(b) != "ok" {
		t.Fatalf("after the stalled clients left: %d %s", resp.StatusCode, b)
	}
}

// TestBufferedAnswersStayWithinBudget: buffered answers that arrive slowly
// hold at most llm.max_buffered_response_bytes together; the calls whose
// answers would pass it are answered 503.
func TestBufferedAnswersStayWithinBudget(t *testing.T) {
	// tail is small enough that the answers holding their first 2 MiB
	// (at most three: each holds its chunk framing too) can all finish.
	const mib, tail = 1 << 20, 64 << 10
	release := make(chan struct{})
	up := serveUpstream(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			w.Write(make([]byte, 2*mib))
			w.Flush()
			<-release
			w.Write(make([]byte, tail))
		})
	})
	h := startProxy(t, Options{BaseURL: "http://" + up,
		MaxResponseBufferSize: 4 * mib, MaxBufferedResponseBytes: 8 * mib})

	const calls = 8
	statuses := make(chan string, calls)
	for range calls {
		go func() {
			resp := h.post("/v1/chat/completions", `{"model":"m"}`)
			b := readAll(t, resp.Body)
			if resp.StatusCode == 200 {
				statuses <- fmt.Sprintf("200 %d bytes", len(b))
				return
			}
			statuses <- fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("X-Perimeter-Error"))
		}()
	}
	// The answers that fit wait for their tail, each holding its
	// first 2 MiB; the rest are refused meanwhile (at most three of 2 MiB
	// fit in 8 MiB). Wait until every call is one or the other, however
	// slowly a loaded machine sends them.
	refused := 0
	for deadline := time.Now().Add(30 * time.Second); ; {
		select {
		case s := <-statuses:
			if s != "503 memory_budget_exceeded" {
				t.Fatalf("before the answers completed: %s", s)
			}
			refused++
			continue
		default:
		}
		holding := int(h.srv.proxy.answers.used.Load() / (2 * mib))
		if refused+holding == calls {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d calls refused, %d holding 2 MiB, of %d", refused, holding, calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if used := h.srv.proxy.answers.used.Load(); used > 8*mib {
		t.Fatalf("buffered answers hold %d bytes, budget %d", used, 8*mib)
	}
	if refused < calls-3 || refused == calls {
		t.Fatalf("%d of %d calls refused, want %d or a few more", refused, calls, calls-3)
	}
	close(release)
	for range calls - refused {
		if s := <-statuses; s != fmt.Sprintf("200 %d bytes", 2*mib+tail) {
			t.Errorf("an answer within the budget: %s", s)
		}
	}
	waitFor(t, func() bool { return h.srv.proxy.answers.used.Load() == 0 })
}

// TestContentLengthIsTakenOnce: an answer of known length takes its whole
// length from the budget before its body is read (one atomic add, however
// many reads), so the calls that cannot fit are refused while the first
// ones still wait for their bodies, and everything is given back.
func TestContentLengthIsTakenOnce(t *testing.T) {
	const mib = 1 << 20
	release := make(chan struct{})
	upstream := testkit.Serve(t, func(c net.Conn) {
		var req fasthttp.Request
		if req.Read(bufio.NewReader(c)) != nil {
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 3*mib)
		<-release
		c.Write(make([]byte, 3*mib-1))
	})
	h := startProxy(t, Options{BaseURL: "http://" + upstream,
		MaxResponseBufferSize: 4 * mib, MaxBufferedResponseBytes: 8 * mib})
	statuses := make(chan string, 3)
	call := func() {
		resp := h.post("/v1/chat/completions", `{"model":"m"}`)
		b := readAll(t, resp.Body)
		statuses <- fmt.Sprintf("%d %d", resp.StatusCode, len(b))
	}
	go call()
	waitFor(t, func() bool { return h.srv.proxy.answers.used.Load() == 3*mib })
	go call()
	waitFor(t, func() bool { return h.srv.proxy.answers.used.Load() == 6*mib })
	go call() // 9 MiB would pass the budget
	select {
	case s := <-statuses:
		if !strings.HasPrefix(s, "503 ") {
			t.Fatalf("the call past the budget: %s", s)
		}
	case <-time.After(waitLimit):
		t.Fatal("the call past the budget waited for the others")
	}
	if used := h.srv.proxy.answers.used.Load(); used != 6*mib {
		t.Fatalf("two answers of 3 MiB hold %d bytes", used)
	}
	close(release)
	for range 2 {
		if s := <-statuses; s != fmt.Sprintf("200 %d", 3*mib) {
			t.Errorf("an answer within the budget: %s", s)
		}
	}
	waitFor(t, func() bool { return h.srv.proxy.answers.used.Load() == 0 })
}
