package loadgen

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/textproto"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/testkit"
)

// cannedServer answers each request on a connection with the next of
// answers; an answer is written in pieces separated by pause. A last piece
// equal to closeConn closes the connection instead.
func cannedServer(t *testing.T, pause time.Duration, answers ...[]string) string {
	t.Helper()
	return testkit.Serve(t, func(c net.Conn) {
		r := textproto.NewReader(bufio.NewReader(c))
		for _, pieces := range answers {
			if _, err := r.ReadLine(); err != nil { // request line
				return
			}
			if _, err := r.ReadMIMEHeader(); err != nil {
				return
			}
			for i, p := range pieces {
				if p == closeConn {
					return
				}
				if i > 0 {
					time.Sleep(pause)
				}
				if _, err := c.Write([]byte(p)); err != nil {
					return
				}
			}
		}
	})
}

const closeConn = "\x00close"

var getReq = []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")

func TestRoundTripBodies(t *testing.T) {
	sse := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
	cases := []struct {
		name       string
		answer     []string
		wantStatus int
		wantEvents int
		wantClosed bool
		wantErr    bool
	}{
		{name: "content-length", answer: []string{"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"}, wantStatus: 200},
		{name: "chunked with extension and trailer", answer: []string{"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n", "A\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n"}, wantStatus: 201},
		{name: "sse split across chunks", answer: []string{sse + "9\r\ndata: a\n\n\r\n", "4\r\ndata\r\n", "5\r\n: b\n\n\r\n0\r\n\r\n"}, wantStatus: 200, wantEvents: 2},
		{name: "connection close", answer: []string{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", closeConn}, wantStatus: 200, wantClosed: true},
		{name: "http/1.0 read to EOF", answer: []string{"HTTP/1.0 200 OK\r\n\r\nuntil eof", closeConn}, wantStatus: 200, wantClosed: true},
		{name: "204 has no body", answer: []string{"HTTP/1.1 204 No Content\r\n\r\n"}, wantStatus: 204},
		{name: "error status is read whole", answer: []string{"HTTP/1.1 429 Too Many\r\nContent-Length: 2\r\n\r\n{}"}, wantStatus: 429},
		{name: "garbage status", answer: []string{"HTTP/1.1 2x0 OK\r\n\r\n"}, wantErr: true, wantClosed: true},
		{name: "bad chunk size", answer: []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}, wantErr: true, wantClosed: true},
		{name: "truncated body", answer: []string{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", closeConn}, wantErr: true, wantClosed: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Each answer twice on one connection, to check keep-alive reuse.
			addr := cannedServer(t, time.Millisecond, c.answer, c.answer)
			conn := NewConn(addr)
			defer conn.Close()
			for round := range 2 {
				res, err := conn.RoundTrip(getReq, time.Now().Add(2*time.Second), nil)
				if (err != nil) != c.wantErr {
					t.Fatalf("round %d: err = %v, want error %v", round, err, c.wantErr)
				}
				if c.wantErr {
					if conn.c != nil {
						t.Error("connection kept after an error")
					}
					return
				}
				if res.Status != c.wantStatus || res.Events != c.wantEvents {
					t.Errorf("round %d: status %d events %d, want %d %d", round, res.Status, res.Events, c.wantStatus, c.wantEvents)
				}
				if (conn.c == nil) != c.wantClosed {
					t.Errorf("round %d: closed = %v, want %v", round, conn.c == nil, c.wantClosed)
				}
				if res.FirstByte.IsZero() || res.Done.Before(res.FirstByte) {
					t.Errorf("round %d: first byte %v, done %v", round, res.FirstByte, res.Done)
				}
			}
		})
	}
}

func TestRoundTripTimesEvents(t *testing.T) {
	const pause = 30 * time.Millisecond
	addr := cannedServer(t, pause, []string{
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 30\r\n\r\ndata: 1\n\n",
		"data: 2\n\n", "data: 3\n\n", "xyz",
	})
	conn := NewConn(addr)
	defer conn.Close()
	var gaps Histogram
	res, err := conn.RoundTrip(getReq, time.Now().Add(2*time.Second), &gaps)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 3 || gaps.Count() != 2 {
		t.Fatalf("events %d gaps %d, want 3 and 2", res.Events, gaps.Count())
	}
	if gaps.Min() < pause*8/10 || gaps.Max() > pause*5 {
		t.Errorf("gaps %v..%v, want about %v", gaps.Min(), gaps.Max(), pause)
	}
	if res.Done.Sub(res.FirstByte) < 3*pause*8/10 {
		t.Errorf("done only %v after first byte", res.Done.Sub(res.FirstByte))
	}
}

func TestRoundTripDeadline(t *testing.T) {
	addr := cannedServer(t, time.Second, []string{"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab", "cd"})
	conn := NewConn(addr)
	start := time.Now()
	_, err := conn.RoundTrip(getReq, start.Add(50*time.Millisecond), nil)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Errorf("deadline ignored: returned after %v", el)
	}
}

// mockAddr runs an in-process mock provider on loopback.
func mockAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := mockllm.New(mockllm.Config{MaxRecorded: -1})
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}

func chatRequest(addr string, stream bool, extra string) []byte {
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`
	if stream {
		body = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]}`
	}
	return []byte("POST /v1/chat/completions HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\n" + extra +
		"Content-Length: " + itoa(len(body)) + "\r\n\r\n" + body)
}

func TestOpenLoopPacesAndMeasures(t *testing.T) {
	addr := mockAddr(t)
	measured := 0
	st := OpenLoop{
		Addr: addr, Requests: Fixed(chatRequest(addr, false, "")),
		Rate: 400, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond, Conns: 4,
		OnMeasure: func() { measured++ },
	}.Run(context.Background())
	if measured != 1 {
		t.Errorf("OnMeasure called %d times", measured)
	}
	if st.OK.Load() != 80 || st.Errors.Load() != 0 || st.Unsent.Load() != 0 {
		t.Fatalf("ok %d errors %d (%s) unsent %d, want 80 measured requests", st.OK.Load(), st.Errors.Load(), st.FirstErr, st.Unsent.Load())
	}
	if st.Latency.Count() != 80 || st.Latency.Min() <= 0 {
		t.Errorf("latency count %d min %v", st.Latency.Count(), st.Latency.Min())
	}
	if rps := st.RPS(); rps < 300 || rps > 420 {
		t.Errorf("rate %.0f req/s, want about 400", rps)
	}
}

func TestOpenLoopCountsQueueingAsLatency(t *testing.T) {
	// One connection, each answer takes ≥20 ms (4 pauses of 5 ms), 100 req/s
	// due: requests queue behind each other and their latency must grow with
	// the queue.
	addr := mockAddr(t)
	st := OpenLoop{
		Addr: addr, Requests: Fixed(chatRequest(addr, true, "x-mock-chunks: 2\r\nx-mock-chunk-delay: 5ms\r\n")),
		Rate: 100, Duration: 200 * time.Millisecond, Conns: 1,
	}.Run(context.Background())
	if st.OK.Load() != 20 {
		t.Fatalf("ok %d (%s), want 20", st.OK.Load(), st.FirstErr)
	}
	// The last request was due at 190 ms but could only end after 20
	// answers of ≥20 ms each, at ≥400 ms.
	if st.Latency.Max() < 200*time.Millisecond {
		t.Errorf("max latency %v: queueing behind a busy connection was not counted", st.Latency.Max())
	}
	if st.Gaps.Count() == 0 || st.Gaps.Quantile(0.5) < 4*time.Millisecond {
		t.Errorf("gaps: %d, p50 %v; want about 5ms", st.Gaps.Count(), st.Gaps.Quantile(0.5))
	}
}

func TestClosedLoop(t *testing.T) {
	addr := mockAddr(t)
	st := ClosedLoop{
		Addr: addr, Requests: Fixed(chatRequest(addr, true, "x-mock-chunks: 3\r\n")),
		Conns: 2, Warmup: 20 * time.Millisecond, Duration: 100 * time.Millisecond, MaxRequests: 200_000,
	}.Run(context.Background())
	if st.Errors.Load() != 0 || st.OK.Load() == 0 {
		t.Fatalf("ok %d errors %d (%s)", st.OK.Load(), st.Errors.Load(), st.FirstErr)
	}
	// role delta + 3 content deltas + finish chunk + [DONE]
	if per := st.Events.Load() / st.OK.Load(); per != 6 {
		t.Errorf("%d events per stream, want 6", per)
	}
}

func TestHoldStreams(t *testing.T) {
	addr := mockAddr(t)
	var steps []int
	st, err := HoldStreams{
		Addr: addr, Request: chatRequest(addr, true, "x-mock-chunks: 100\r\nx-mock-chunk-delay: 50ms\r\n"),
		Steps: []int{5, 20}, Settle: 10 * time.Millisecond,
		OnStep: func(n int) { steps = append(steps, n) },
	}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[0] != 5 || steps[1] != 20 {
		t.Errorf("steps seen %v", steps)
	}
	if st.Opened != 20 || st.Failed != 0 || st.TTFB.Count() != 20 {
		t.Errorf("opened %d failed %d ttfb %d", st.Opened, st.Failed, st.TTFB.Count())
	}
}

func TestPacerIsPrecise(t *testing.T) {
	p := newPacer()
	defer p.close()
	// Runtime timers on an idle process are late by up to 1 ms; the pacer
	// should mostly not be. Other work on the machine can delay any one
	// attempt, so one good attempt out of three passes.
	var p50 time.Duration
	for range 3 {
		var lateness Histogram
		for range 50 {
			start := time.Now()
			p.sleep(context.Background(), 200*time.Microsecond)
			lateness.Record(time.Since(start) - 200*time.Microsecond)
		}
		if p50 = lateness.Quantile(0.5); p50 <= 400*time.Microsecond {
			return
		}
	}
	t.Errorf("pacer sleeps late by %v at p50", p50)
}
