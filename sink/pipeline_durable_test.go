package sink

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink/spool"
)

func durableOptions(t *testing.T, commit time.Duration) Options {
	o := withSpill(t, testOptions(t), 16<<20)
	o.MaxRows = 1000
	o.MaxDelay = time.Second // the commit interval, not the batch age, must cut batches
	o.Durable = true
	o.CommitInterval = commit
	return o
}

// copyDir copies the regular files of src (one level of subdirectories,
// as the spool lays them out) to a new directory: a snapshot of what a
// process killed at this moment leaves on disk.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// crashSnapshot copies o's spill directory until the copy of the store
// writer's log holds enough events, and returns o on the copy: what a
// process killed at that moment leaves for the next start.
func crashSnapshot(t *testing.T, o Options, what string, enough func(events int) bool) Options {
	t.Helper()
	live := o.SpillDir
	waitFor(t, what, func() bool {
		o.SpillDir = copyDir(t, live)
		return enough(eventsIn(t, filepath.Join(o.SpillDir, "store")))
	})
	return o
}

// eventsIn counts the events in the spill log directory dir.
func eventsIn(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := spool.ReadDir(dir, func(payload []byte) {
		_, evs, err := decodeBatch(payload)
		if err != nil {
			t.Fatal(err)
		}
		n += len(evs)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDurableBatchIsLoggedBeforeAnyWrite: with Durable, every published
// event is in the spill log within the commit interval although the
// writer has acknowledged nothing (it hangs); a pipeline started on a
// snapshot of the log (a crash at that moment) stores every event, in
// order.
func TestDurableBatchIsLoggedBeforeAnyWrite(t *testing.T) {
	const commit = 100 * time.Millisecond
	o := durableOptions(t, commit)
	hung := &fakeWriter{name: "store", gate: make(chan struct{})}
	p := newTestPipeline(t, o, hung)
	defer close(hung.gate)
	const n = 500
	publishN(t, p, 0, n)
	published := time.Now()
	after := crashSnapshot(t, o, "every event in the spill log", func(events int) bool { return events == n })
	took := time.Since(published)
	// The bound is the commit interval; the slack is for a shared CPU.
	if took > commit+150*time.Millisecond {
		t.Fatalf("events reached the log %v after they were published; the commit interval is %v", took, commit)
	}
	if len(hung.stored()) != 0 {
		t.Fatal("the hung writer stored something")
	}

	drainAfterRestart(t, after, n)
	t.Logf("%d events in the log %v after publishing (commit interval %v)", n, took.Round(time.Millisecond), commit)
}

// TestDurableWriterAcksTheLog: a healthy durable pipeline logs every batch
// and stores it from memory, in order; a paced writer still gets one write
// per interval; acks empty the log (no backlog while idle, no segment left
// after Close) and nothing is read back.
func TestDurableWriterAcksTheLog(t *testing.T) {
	o := durableOptions(t, 20*time.Millisecond)
	o.MaxWriteRows = 10000
	w := &pacedWriter{fakeWriter: fakeWriter{name: "paced"}, interval: 300 * time.Millisecond}
	p := newTestPipeline(t, o, wrapped{w})
	began := time.Now()
	n := trickle(t, p, 0, 100, 1, 10*time.Millisecond)
	waitFor(t, "the trickle stored", func() bool { return len(w.stored()) == n })
	// A second of events (longer on a busy machine) at one write per
	// 300 ms: a writer that wrote as events came would make ~100 writes.
	most := int(time.Since(began)/w.interval) + 2
	if writes := len(w.batchSizes()); writes < 2 || writes > most {
		t.Fatalf("%d writes for %v of events at a 300 ms interval, want 2–%d (sizes %v)", writes, time.Since(began).Round(time.Millisecond), most, w.batchSizes())
	}
	waitFor(t, "the log committed", func() bool { return p.Metrics().Writers[0].BacklogBytes == 0 })
	if pm := p.Metrics(); pm.Durability != "spill" || pm.CommitIntervalMS != 20 {
		t.Fatalf("pipeline metrics say durability %q, commit %d ms", pm.Durability, pm.CommitIntervalMS)
	}
	m := p.Metrics().Writers[0]
	if m.SpilledBytes == 0 || m.ReplayedBytes != 0 || m.Dropped != 0 {
		t.Fatalf("writer metrics %+v: want log traffic, nothing read back (the memory copies were stored), nothing dropped", m)
	}
	publishN(t, p, n, 25)
	n += 25
	start := time.Now()
	mustClose(t, p)
	if el := time.Since(start); el >= 250*time.Millisecond {
		t.Fatalf("Close took %v: it waited for the write interval", el)
	}
	checkInOrder(t, w.stored(), n)
	if segs := segments(o, "*"); len(segs) != 0 {
		t.Fatalf("segments left after a clean Close: %v", segs)
	}
}

// TestDurableWriterDownKeepsTheLog: a durable writer that fails keeps
// every batch in the log (nothing in memory to lose), and the next start
// replays it.
func TestDurableWriterDownKeepsTheLog(t *testing.T) {
	o := durableOptions(t, 10*time.Millisecond)
	down := downWriter("store")
	p := newTestPipeline(t, o, down)
	publishN(t, p, 0, 300)
	waitFor(t, "the writer to fail", func() bool { return down.calls.Load() > 0 })
	if err := p.Close(context.Background()); err == nil || !strings.Contains(err.Error(), "next start") {
		t.Fatalf("Close with the writer down: %v", err)
	}
	drainAfterRestart(t, o, 300)
}

// TestDurableBatchAgeWithinCommitInterval: the batch age limit plus the
// batcher's poll never exceeds the commit interval, whatever max_delay_ms
// says; without durability max_delay_ms stands.
func TestDurableBatchAgeWithinCommitInterval(t *testing.T) {
	for _, commit := range []time.Duration{2 * time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second} {
		o := Options{Durable: true, CommitInterval: commit, MaxDelay: 200 * time.Millisecond}
		o.setDefaults()
		if worst := o.MaxDelay + pollInterval(o.MaxDelay); worst > commit {
			t.Errorf("commit %v: max delay %v + poll %v exceeds it", commit, o.MaxDelay, pollInterval(o.MaxDelay))
		}
	}
	o := Options{CommitInterval: 10 * time.Millisecond, MaxDelay: 200 * time.Millisecond}
	o.setDefaults()
	if o.MaxDelay != 200*time.Millisecond {
		t.Errorf("without durability the max delay became %v", o.MaxDelay)
	}
	if _, err := NewPipeline(Options{Durable: true}, &fakeWriter{name: "x"}); err == nil || !strings.Contains(err.Error(), "storage.spill.max_bytes") {
		t.Errorf("durable without a spill budget: %v", err)
	}
}

// TestDurableCrashReplaysOnlyUnstored: after some writes were stored and
// acked, a crash (a snapshot of the log while the writer hangs) replays
// every event not yet stored, and of the stored ones at most those of the
// last two writes.
func TestDurableCrashReplaysOnlyUnstored(t *testing.T) {
	o := durableOptions(t, 10*time.Millisecond)
	o.MaxRows = 10
	w := &fakeWriter{name: "store"}
	p := newTestPipeline(t, o, w)
	const first = 200
	for i := 0; i < first; i += 10 {
		publishN(t, p, i, 10)
		time.Sleep(3 * time.Millisecond) // several writes, each acked
	}
	waitFor(t, "the first events stored", func() bool { return len(w.stored()) == first })
	sizes := w.batchSizes()
	lastWrites := sizes[len(sizes)-1] + sizes[len(sizes)-2]

	w.gate = make(chan struct{}) // from now on writes hang
	defer close(w.gate)
	const more = 150
	publishN(t, p, first, more)
	after := crashSnapshot(t, o, "the new events in the log", func(events int) bool { return events >= more })
	_, got := restart(t, after)
	if len(got) < more || len(got) > more+lastWrites {
		t.Fatalf("replayed %d events: want the %d unstored, plus at most the last two writes' %d", len(got), more, lastWrites)
	}
	start := first + more - len(got)
	for i, e := range got {
		if seqOf(e) != start+i {
			t.Fatalf("replayed event %d is %d, want %d (order or a gap)", i, seqOf(e), start+i)
		}
	}
}

// TestDurableOverflowAndOutage: a writer that is slow, then down, then
// back: batches that find its memory queue full wait in the log alone,
// those in memory when it fails are read back from the log, and every
// event is stored once, in order, with nothing dropped and the log empty.
func TestDurableOverflowAndOutage(t *testing.T) {
	o := durableOptions(t, 5*time.Millisecond)
	o.MaxRows = 10
	o.WriterQueue = 2
	w := &fakeWriter{name: "store", delay: 5 * time.Millisecond}
	p := newTestPipeline(t, o, w)
	n := trickle(t, p, 0, 30, 10, time.Millisecond)
	w.down.Store(true)
	n = trickle(t, p, n, 20, 10, 2*time.Millisecond)
	waitFor(t, "the writer to fail", func() bool { return !p.Metrics().Writers[0].Healthy })
	w.down.Store(false)
	waitFor(t, "every event stored", func() bool { return len(w.stored()) >= n })
	waitFor(t, "the log empty", func() bool { return p.Metrics().Writers[0].BacklogBytes == 0 })
	mustClose(t, p)
	m := p.Metrics().Writers[0]
	if m.Dropped != 0 || m.ReplayedBytes == 0 {
		t.Fatalf("writer metrics %+v: want nothing dropped, some batches read back from the log", m)
	}
	checkInOrder(t, w.stored(), n)
}

// TestDurableFullLogFallsBackToMemory: when the spill budget cannot take a
// batch, a healthy writer still gets it from memory (not durable, but not
// lost), and acks skip the batches that have no record.
func TestDurableFullLogFallsBackToMemory(t *testing.T) {
	o := durableOptions(t, 5*time.Millisecond)
	o.MaxRows = 10
	o.SpillMaxBytes = 2 << 10 // a few batches at most
	w := &fakeWriter{name: "store", delay: 2 * time.Millisecond}
	p := newTestPipeline(t, o, w)
	n := trickle(t, p, 0, 40, 10, time.Millisecond)
	mustClose(t, p)
	if m := p.Metrics(); m.Dropped != 0 || m.SpillBytes != 0 {
		t.Fatalf("metrics %+v: want nothing dropped and the log empty", m)
	}
	checkInOrder(t, w.stored(), n)
}

// TestDurableWritersIndependent: each writer has its own log; one failing
// keeps its batches there while the other stores and acks its own.
func TestDurableWritersIndependent(t *testing.T) {
	o := durableOptions(t, 5*time.Millisecond)
	o.MaxRows = 10
	good := &fakeWriter{name: "jsonl"}
	bad := downWriter("clickhouse")
	p := newTestPipeline(t, o, good, bad)
	for i := 0; i < 200; i += 10 {
		publishN(t, p, i, 10)
		time.Sleep(time.Millisecond)
	}
	waitFor(t, "the good writer stored all", func() bool { return len(good.stored()) == 200 })
	waitFor(t, "the good writer's log empty, the bad one's not", func() bool {
		m := p.Metrics()
		return m.Writers[0].BacklogBytes == 0 && m.Writers[1].BacklogBytes > 0
	})
	bad.down.Store(false)
	mustClose(t, p)
	checkInOrder(t, good.stored(), 200)
	checkInOrder(t, bad.stored(), 200)
}

// volatileWriter counts what it is given and keeps nothing worth a log.
type volatileWriter struct{ n atomic.Int64 }

func (v *volatileWriter) Name() string { return "counter" }
func (v *volatileWriter) WriteBatch(_ context.Context, b []*Event) error {
	v.n.Add(int64(len(b)))
	return nil
}
func (v *volatileWriter) Close() error   { return nil }
func (v *volatileWriter) Volatile() bool { return true }

// A volatile writer gets no spill log, even with durability on: the store
// beside it is logged as before, the counter costs no disk.
func TestVolatileWriterHasNoSpillLog(t *testing.T) {
	dir := t.TempDir()
	store := &fakeWriter{name: "store"}
	counter := &volatileWriter{}
	p := newTestPipeline(t, Options{Durable: true, SpillDir: dir, SpillMaxBytes: 1 << 20, MaxRows: 10, MaxDelay: time.Millisecond}, store, counter)
	for range 25 {
		p.Publish(&Event{ID: NewID(), Name: "x"})
	}
	p.Close(context.Background())
	if got := counter.n.Load(); got != 25 {
		t.Errorf("the volatile writer saw %d events, want 25", got)
	}
	if _, err := os.Stat(filepath.Join(dir, dirName("counter"))); !os.IsNotExist(err) {
		t.Errorf("the volatile writer has a spill directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, dirName(store.Name()))); err != nil {
		t.Errorf("the store has no spill log: %v", err)
	}
	for _, w := range p.Metrics().Writers {
		if w.Name == "counter" && (w.SpilledBytes != 0 || w.BacklogBytes != 0) {
			t.Errorf("volatile writer metrics %+v", w)
		}
	}
}
