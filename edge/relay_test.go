package edge

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/stream"
)

// tapLog records the events a tap sees.
type tapLog struct{ events []string }

func (l *tapLog) Event(ev []byte) { l.events = append(l.events, string(ev)) }

// TestEventSplitterMatchesCopier: fed a stream in pieces, as relay feeds
// it what each read brought, the splitter taps the same events in the same
// order as stream.Copier and counts the same, wherever the pieces split
// events, their ends, or an oversized event.
func TestEventSplitterMatchesCopier(t *testing.T) {
	huge := "data: " + strings.Repeat("x", stream.DefaultMaxEventSize+100) + "\n\n"
	streams := []string{
		"data: a\n\ndata: b\n\n",
		"event: x\ndata: {\"a\":1}\n\n\n\ndata: [DONE]\n\n",
		"data: a\r\n\r\ndata: b\r\n\r\n: comment\n\ndata: c\n\n",
		"data: small\n\n" + huge + "data: after\n\n",
		"data: no end",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, in := range streams {
		trials := 30
		if len(in) > 1<<20 {
			trials = 4
		}
		for trial := range trials {
			var parts []string
			for rest := in; rest != ""; {
				n := min(len(rest), 1+rng.IntN(max(2, len(rest)/(1+trial%5))))
				if trial == 0 {
					n = len(rest) // all at once
				}
				parts = append(parts, rest[:n])
				rest = rest[n:]
			}
			got, want, res, wantRes := splitBoth(parts)
			if strings.Join(got.events, "|") != strings.Join(want.events, "|") {
				t.Fatalf("%.40q in %d pieces: tapped %d events, the copier %d", in, len(parts), len(got.events), len(want.events))
			}
			if res.Events != wantRes.Events || res.Oversized != wantRes.Oversized {
				t.Fatalf("%.40q in %d pieces: %d events, %d oversized; the copier %d, %d",
					in, len(parts), res.Events, res.Oversized, wantRes.Events, wantRes.Oversized)
			}
		}
	}
}

// splitBoth feeds parts to an eventSplitter, as relay feeds it what each
// read brought, and to stream.Copier as its reads: what each tapped and
// counted.
func splitBoth(parts []string) (got, want tapLog, res, wantRes stream.Result) {
	c := stream.AcquireCopier()
	wantRes = c.Copy(io.Discard, &pieceReader{parts: append([]string(nil), parts...)}, &want)
	stream.ReleaseCopier(c)
	var sp eventSplitter
	for _, p := range parts {
		sp.feed([]byte(p), &got, &res)
	}
	sp.release()
	return got, want, res, wantRes
}

// FuzzEventSplitter: whatever the stream and however reads cut it, the
// splitter taps and counts what stream.Copier does.
func FuzzEventSplitter(f *testing.F) {
	f.Add([]byte("data: a\n\ndata: b\r\n\r\n"), uint8(3))
	f.Add([]byte("event: x\rdata: y\r\r:c\n\n"), uint8(1))
	f.Add([]byte("data: a\r"+"\n\ndata: long line without end"), uint8(7))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		n := int(step%64) + 1
		var parts []string
		for i := 0; i < len(in); i += n {
			parts = append(parts, string(in[i:min(i+n, len(in))]))
		}
		got, want, res, wantRes := splitBoth(parts)
		if strings.Join(got.events, "|") != strings.Join(want.events, "|") || res.Events != wantRes.Events {
			t.Fatalf("%q in pieces of %d: tapped %q (%d), the copier %q (%d)", in, n, got.events, res.Events, want.events, wantRes.Events)
		}
	})
}

// TestStalledStreamIsCutAtTheIdleTimeout: an upstream that goes silent
// mid-stream is given up after llm.stream_idle_timeout even while the
// stream waits holding no read buffer; the client's answer is cut (no
// last chunk) and the cut is counted.
func TestStalledStreamIsCutAtTheIdleTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	up := holdUpstream(t, release)
	h := startProxy(t, Options{BaseURL: "http://" + up, StreamIdleTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", h.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"stream":true}`
	fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	conn.SetReadDeadline(time.Now().Add(waitLimit))
	start := time.Now()
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("%v after %q", err, got)
	}
	if !bytes.Contains(got, benchChunk) {
		t.Fatalf("the first event did not arrive: %q", got)
	}
	if bytes.HasSuffix(got, []byte("0\r\n\r\n")) {
		t.Fatalf("the cut answer ends like a complete one: %q", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cut after %s, want about the idle timeout", d)
	}
	if n := h.srv.Proxy().stats.errors[errStreamBroken].Load(); n != 1 {
		t.Fatalf("stream_interrupted counted %d times, want 1", n)
	}
}
