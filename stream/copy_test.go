package stream

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// chunkReader returns its chunks one Read at a time.
type chunkReader struct {
	chunks [][]byte
	err    error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	if len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

func chunks(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// writeLog records each Write separately.
type writeLog struct {
	writes []string
	failAt int // fail the n-th write (1-based); 0 never
}

func (w *writeLog) Write(p []byte) (int, error) {
	if w.failAt > 0 && len(w.writes)+1 == w.failAt {
		return 0, errors.New("client gone")
	}
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

type tapLog struct{ events []string }

func (t *tapLog) Event(ev []byte) { t.events = append(t.events, string(ev)) }

func TestCopyForwardsEachReadAndTapsEvents(t *testing.T) {
	src := &chunkReader{chunks: chunks(
		"data: {\"a\":1}\n\nda",
		"ta: {\"a\":2}\n",
		"\nevent: e\r\ndata: x\r\n\r\n",
		"data: [DONE]\n\n",
	)}
	var dst writeLog
	var tap tapLog
	c := AcquireCopier()
	defer ReleaseCopier(c)
	res := c.Copy(&dst, src, &tap)
	if res.Err() != nil {
		t.Fatal(res.Err())
	}
	wantWrites := []string{"data: {\"a\":1}\n\nda", "ta: {\"a\":2}\n", "\nevent: e\r\ndata: x\r\n\r\n", "data: [DONE]\n\n"}
	if strings.Join(dst.writes, "|") != strings.Join(wantWrites, "|") {
		t.Fatalf("writes = %q, want one per read %q", dst.writes, wantWrites)
	}
	wantEvents := []string{"data: {\"a\":1}\n\n", "data: {\"a\":2}\n\n", "event: e\r\ndata: x\r\n\r\n", "data: [DONE]\n\n"}
	if strings.Join(tap.events, "|") != strings.Join(wantEvents, "|") {
		t.Fatalf("events = %q, want %q", tap.events, wantEvents)
	}
	if res.Events != 4 || res.Bytes != int64(len(strings.Join(wantWrites, ""))) {
		t.Fatalf("result = %+v", res)
	}
}

func TestCopyReportsClientAndUpstreamErrors(t *testing.T) {
	boom := errors.New("upstream reset")
	for _, count := range []bool{true, false} {
		src := &chunkReader{chunks: chunks("data: 1\n\n", "data: 2\n\n"), err: boom}
		c := AcquireCopier()
		c.CountEvents = count
		res := c.Copy(&writeLog{}, src, nil)
		wantEvents := 0
		if count {
			wantEvents = 2
		}
		if !errors.Is(res.SrcErr, boom) || res.DstErr != nil || res.Events != wantEvents || res.Bytes != 18 {
			t.Fatalf("upstream error, counting %v: %+v", count, res)
		}

		src = &chunkReader{chunks: chunks("data: 1\n\n", "data: 2\n\n", "data: 3\n\n")}
		dst := &writeLog{failAt: 2}
		c.CountEvents = count
		res = c.Copy(dst, src, nil)
		if res.DstErr == nil || len(dst.writes) != 1 || len(src.chunks) != 1 {
			t.Fatalf("counting %v: client error should stop reading at once: %+v, %d chunks left", count, res, len(src.chunks))
		}
		ReleaseCopier(c)
	}
}

// TestCopyWithoutTapMovesEachRead: with neither a tap nor CountEvents,
// Copy writes each read whole and as it came, events split or not.
func TestCopyWithoutTapMovesEachRead(t *testing.T) {
	reads := []string{"data: {\"a\":1}\n\nda", "ta: 2\n", "\n", strings.Repeat("x", 3000), "\n\n"}
	var dst writeLog
	c := &Copier{buf: make([]byte, 4096)}
	res := c.Copy(&dst, &chunkReader{chunks: chunks(reads...)}, nil)
	if strings.Join(dst.writes, "|") != strings.Join(reads, "|") || res.Err() != nil || res.Events != 0 {
		t.Fatalf("writes %q, result %+v", dst.writes, res)
	}
}

func TestCopyOversizedEventIsForwardedNotTapped(t *testing.T) {
	big := "data: " + strings.Repeat("x", 100) + "\n\n"
	src := &chunkReader{chunks: chunks("data: small\n\n", big[:40], big[40:], "data: after\n\n")}
	var dst writeLog
	var tap tapLog
	c := &Copier{buf: make([]byte, 32), MaxEventSize: 64}
	res := c.Copy(&dst, src, &tap)
	if got := strings.Join(dst.writes, ""); got != "data: small\n\n"+big+"data: after\n\n" {
		t.Fatalf("client got %q", got)
	}
	if strings.Join(tap.events, "|") != "data: small\n\n|data: after\n\n" {
		t.Fatalf("tapped %q", tap.events)
	}
	if res.Oversized != 1 {
		t.Fatalf("oversized = %d", res.Oversized)
	}
}

func TestCopyGrowsForLargeEvents(t *testing.T) {
	big := "data: " + strings.Repeat("y", 5000) + "\n\n"
	var parts []string
	for i := 0; i < len(big); i += 700 {
		parts = append(parts, big[i:min(i+700, len(big))])
	}
	var tap tapLog
	c := &Copier{buf: make([]byte, 1024)}
	res := c.Copy(io.Discard, &chunkReader{chunks: chunks(parts...)}, &tap)
	if len(tap.events) != 1 || tap.events[0] != big || res.Oversized != 0 {
		t.Fatalf("events %d oversized %d", len(tap.events), res.Oversized)
	}
}

func FuzzCopy(f *testing.F) {
	f.Add([]byte("data: a\n\ndata: b\r\n\r\n"), uint8(3))
	f.Add([]byte("event: x\rdata: y\r\r:c\n\n"), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		n := int(step%64) + 1
		var parts [][]byte
		for i := 0; i < len(in); i += n {
			parts = append(parts, append([]byte(nil), in[i:min(i+n, len(in))]...))
		}
		var out bytes.Buffer
		var tap tapLog
		c := &Copier{buf: make([]byte, 16), MaxEventSize: 128}
		res := c.Copy(&out, &chunkReader{chunks: parts}, &tap)
		if res.Err() != nil || !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("output differs from input: %v", res.Err())
		}
		// Every tapped event is a complete event found in the input, in order.
		rest := in
		for _, ev := range tap.events {
			i := bytes.Index(rest, []byte(ev))
			if i < 0 {
				t.Fatalf("tapped %q not in input order", ev)
			}
			rest = rest[i+len(ev):]
		}
		// Without an event past the bound, the events are those a search
		// from each event's start at every read finds (ResumeAt changes
		// where the search starts, never what it finds).
		var all tapLog
		big := &Copier{buf: make([]byte, 16), MaxEventSize: 1 << 20}
		big.Copy(io.Discard, &chunkReader{chunks: parts}, &all)
		if want := refEvents(parts); strings.Join(all.events, "|") != strings.Join(want, "|") {
			t.Fatalf("reads %q: tapped %q, want %q", parts, all.events, want)
		}
	})
}

// refEvents splits reads into events as the copier did before ResumeAt:
// the pending event searched from its start at every read.
func refEvents(parts [][]byte) []string {
	var pending []byte
	var out []string
	for _, p := range parts {
		pending = append(pending, p...)
		for {
			n := EventEnd(pending)
			if n < 0 {
				break
			}
			if !isBlank(pending[:n]) {
				out = append(out, string(pending[:n]))
			}
			pending = pending[n:]
		}
	}
	return out
}

// shortWriter accepts one byte less than it is given, without an error.
type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return max(len(p)-1, 0), nil }

func TestCopyShortWriteIsAnError(t *testing.T) {
	src := &chunkReader{chunks: chunks("data: 1\n\n", "data: 2\n\n")}
	res := AcquireCopier().Copy(shortWriter{}, src, &tapLog{})
	if !errors.Is(res.DstErr, io.ErrShortWrite) || len(src.chunks) != 1 || res.Bytes != 8 {
		t.Fatalf("a short write: %+v, %d chunks left; want io.ErrShortWrite at once", res, len(src.chunks))
	}
}

// TestCopyKeepsReadsWhole: a partial event left near the buffer's end is
// moved to its front before the next read, so that read is not cut into a
// small write and another.
func TestCopyKeepsReadsWhole(t *testing.T) {
	first := "data: " + strings.Repeat("a", 32) + "\n\n" + "data: " + strings.Repeat("b", 14) // 40 + 20 bytes
	second := strings.Repeat("b", 28) + "\n\n"
	src := &chunkReader{chunks: chunks(first, second)}
	var dst writeLog
	var tap tapLog
	c := &Copier{buf: make([]byte, 64)}
	c.Copy(&dst, src, &tap)
	if len(dst.writes) != 2 || dst.writes[0] != first || dst.writes[1] != second {
		t.Fatalf("writes = %q, want the two reads whole", dst.writes)
	}
	if len(tap.events) != 2 || tap.events[1] != "data: "+strings.Repeat("b", 42)+"\n\n" {
		t.Fatalf("events = %q", tap.events)
	}
}

func TestCopyShortWriteWithoutTapIsAnError(t *testing.T) {
	src := &chunkReader{chunks: chunks("data: 1\n\n", "data: 2\n\n")}
	res := AcquireCopier().Copy(shortWriter{}, src, nil)
	if !errors.Is(res.DstErr, io.ErrShortWrite) || len(src.chunks) != 1 {
		t.Fatalf("a short write: %+v, %d chunks left; want io.ErrShortWrite at once", res, len(src.chunks))
	}
}
