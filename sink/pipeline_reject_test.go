package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/rs/zerolog"
)

// rejectingWriter stores every event but those of session "bad", which it
// reports as rejected, as a file writer whose file for that session can
// never be created.
type rejectingWriter struct {
	fakeWriter
}

func (w *rejectingWriter) WriteBatch(ctx context.Context, b []*Event) error {
	var keep []*Event
	for _, e := range b {
		if e.SessionID != "bad" {
			keep = append(keep, e)
		}
	}
	if err := w.fakeWriter.WriteBatch(ctx, keep); err != nil {
		return err
	}
	if n := len(b) - len(keep); n > 0 {
		return fmt.Errorf("session file: %w", &RejectedError{Events: n, Err: errors.New("file name too long (shorten x-cylestio-session-id)")})
	}
	return nil
}

// Events a writer can never store are dropped and counted, with a log
// line that says why; they neither stall the writer nor fill the spill.
func TestPipelineCountsRejectedEvents(t *testing.T) {
	var logBuf testkit.SyncBuffer
	o := withSpill(t, testOptions(t), 1<<20)
	o.Logger = zerolog.New(&logBuf)
	w := &rejectingWriter{fakeWriter{name: "files"}}
	p := newTestPipeline(t, o, w)
	bad := 0
	for i := range 40 {
		e := seqEvent(i)
		if i%4 == 0 {
			e.SessionID = "bad"
			bad++
		}
		if !p.Publish(e) {
			t.Fatal("publish dropped")
		}
	}
	mustClose(t, p)
	if got := len(w.stored()); got != 40-bad {
		t.Fatalf("%d events stored, want %d", got, 40-bad)
	}
	m := p.Metrics().Writers[0]
	if !m.Healthy || m.Retries != 0 || m.SpilledBytes != 0 || m.BacklogBytes != 0 || m.Events != uint64(40-bad) {
		t.Fatalf("writer metrics %+v", m)
	}
	if m.Dropped != uint64(bad) || m.DropReasons["rejected"] != uint64(bad) {
		t.Fatalf("drops %d %v, want %d rejected", m.Dropped, m.DropReasons, bad)
	}
	if log := logBuf.String(); !strings.Contains(log, `"reason":"rejected"`) || !strings.Contains(log, "shorten x-cylestio-session-id") {
		t.Fatalf("no log line says why events were rejected:\n%s", log)
	}
}

func TestSplitRejected(t *testing.T) {
	down := errors.New("down")
	rej := func(n int) error { return &RejectedError{Events: n, Err: errors.New("bad")} }
	for _, c := range []struct {
		name     string
		err      error
		rest     error
		rejected int
	}{
		{"nil", nil, nil, 0},
		{"plain", down, down, 0},
		{"rejected", rej(2), nil, 2},
		{"wrapped", fmt.Errorf("w: %w", rej(3)), nil, 3},
		{"joined rejections", errors.Join(rej(1), rej(2)), nil, 3},
		{"joined with a failure", errors.Join(down, rej(2)), down, 2},
		{"failures only", errors.Join(down, down), errors.Join(down, down), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs, rest := splitRejected(nil, c.err)
			n := 0
			for _, r := range rs {
				n += r.Events
			}
			if n != c.rejected || (rest == nil) != (c.rest == nil) || rest != nil && rest.Error() != c.rest.Error() {
				t.Fatalf("rest %v, %d rejected; want %v, %d", rest, n, c.rest, c.rejected)
			}
			if c.rest != nil && !errors.Is(rest, down) {
				t.Fatalf("rest %v lost the failure", rest)
			}
		})
	}
}

// flakyRejectingWriter rejects session "bad"'s events, each once (a retry
// does not reject them again, as RejectedError asks), and fails its first
// attempt for the rest.
type flakyRejectingWriter struct {
	fakeWriter
	mu       sync.Mutex
	attempts int
	rejected map[*Event]bool
}

func (w *flakyRejectingWriter) WriteBatch(ctx context.Context, b []*Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attempts++
	var keep []*Event
	n := 0
	for _, e := range b {
		switch {
		case e.SessionID != "bad":
			keep = append(keep, e)
		case !w.rejected[e]:
			w.rejected[e] = true
			n++
		}
	}
	var rej error
	if n > 0 {
		rej = &RejectedError{Events: n, Err: errors.New("bad session file")}
	}
	if w.attempts == 1 {
		return errors.Join(errors.New("disk busy"), rej)
	}
	if err := w.fakeWriter.WriteBatch(ctx, keep); err != nil {
		return err
	}
	return rej
}

// Events rejected on an attempt that also failed are not counted as
// stored when the retry succeeds: stored and dropped add up to what was
// published.
func TestRejectedEventsCountOnceAcrossRetries(t *testing.T) {
	w := &flakyRejectingWriter{fakeWriter: fakeWriter{name: "files"}, rejected: map[*Event]bool{}}
	p := newTestPipeline(t, testOptions(t), w)
	for i := range 8 {
		e := seqEvent(i)
		if i < 3 {
			e.SessionID = "bad"
		}
		if !p.Publish(e) {
			t.Fatal("publish dropped")
		}
	}
	mustClose(t, p)
	m := p.Metrics().Writers[0]
	if len(w.stored()) != 5 || m.Events != 5 || m.DropReasons["rejected"] != 3 || m.Retries == 0 {
		t.Fatalf("stored %d, metrics %+v", len(w.stored()), m)
	}
}
