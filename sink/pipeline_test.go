package sink

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/internal/testkit"
)

// fakeWriter stores batches in memory. It fails while down is set, can be
// slowed down, and can block until a gate opens.
type fakeWriter struct {
	name  string
	down  atomic.Bool
	delay time.Duration
	gate  chan struct{} // when non-nil, WriteBatch waits for it to be closed
	calls atomic.Int64
	// failFirst makes the first n calls fail.
	failFirst int64
	// storeThenFail stores the batch and then reports an error, as a
	// server that committed an insert whose acknowledgement was lost.
	storeThenFail atomic.Bool

	mu      sync.Mutex
	batches [][]*Event
	closed  bool
}

func (f *fakeWriter) Name() string { return f.name }

func (f *fakeWriter) WriteBatch(ctx context.Context, b []*Event) error {
	n := f.calls.Add(1)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if f.down.Load() || n <= f.failFirst {
		return errors.New("store down")
	}
	f.mu.Lock()
	f.batches = append(f.batches, append([]*Event(nil), b...))
	f.mu.Unlock()
	if f.storeThenFail.Load() {
		return errors.New("ack lost")
	}
	return nil
}

func (f *fakeWriter) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

func (f *fakeWriter) stored() []*Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*Event
	for _, b := range f.batches {
		out = append(out, b...)
	}
	return out
}

func (f *fakeWriter) batchSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, b := range f.batches {
		out = append(out, len(b))
	}
	return out
}

// seqEvent is an event whose id carries its publish sequence number.
func seqEvent(i int) *Event {
	e := &Event{
		Time:      time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		Name:      LLMCallFinish,
		Level:     LevelInfo,
		SessionID: "s1",
		AgentID:   "a1",
		Model:     "gpt-4o",
		Status:    200,

		InputTokens: int64(i),
		Attributes:  []byte(`{"k":"v"}`),
	}
	binary.BigEndian.PutUint64(e.ID[8:], uint64(i))
	return e
}

func seqOf(e *Event) int { return int(binary.BigEndian.Uint64(e.ID[8:])) }

func testOptions(t *testing.T) Options {
	return Options{
		MaxRows:      10,
		MaxDelay:     10 * time.Millisecond,
		QueueSize:    100000,
		BackoffMin:   time.Millisecond,
		BackoffMax:   5 * time.Millisecond,
		WriteTimeout: time.Second,
	}
}

func withSpill(t *testing.T, o Options, budget int64) Options {
	o.SpillDir = t.TempDir()
	o.SpillMaxBytes = budget
	o.SegmentBytes = 4 << 10
	return o
}

func newTestPipeline(t *testing.T, o Options, ws ...Writer) *Pipeline {
	t.Helper()
	p, err := NewPipeline(o, ws...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeWithin(p, 2*time.Second) })
	return p
}

// downWriter is a fakeWriter whose store is down until down is cleared.
func downWriter(name string) *fakeWriter {
	w := &fakeWriter{name: name}
	w.down.Store(true)
	return w
}

func mustClose(t *testing.T, p *Pipeline) {
	t.Helper()
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// closeWithin closes p with a deadline d from now.
func closeWithin(p *Pipeline, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return p.Close(ctx)
}

// closeSpillsAtOnce closes p, whose writer is down, without a deadline
// and requires it to return at once (no waiting out a backoff or a
// deadline: a missing libchdb must not make Ctrl-C slow) having lost
// nothing: every event in the backlog on disk and the error saying the
// next start stores it. why names what Close might have waited for.
func closeSpillsAtOnce(t *testing.T, p *Pipeline, why string) {
	t.Helper()
	start := time.Now()
	err := p.Close(context.Background())
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Close took %s: it waited for %s", took, why)
	}
	if err == nil || !strings.Contains(err.Error(), "next start") {
		t.Fatalf("Close: %v, want the spilled bytes reported", err)
	}
	if m := p.Metrics(); m.Dropped != 0 || m.Writers[0].BacklogBytes == 0 {
		t.Fatalf("metrics %+v: want nothing dropped and a backlog on disk", m)
	}
}

// segments lists the spill segments of the writer named writer ("*" for
// every writer) in o's spill directory.
func segments(o Options, writer string) []string {
	segs, _ := filepath.Glob(filepath.Join(o.SpillDir, writer, "*.seg"))
	return segs
}

// downStorePipeline is a pipeline with a 1 MiB spill log and one writer,
// store, that is down.
func downStorePipeline(t *testing.T) (Options, *fakeWriter, *Pipeline) {
	o := withSpill(t, testOptions(t), 1<<20)
	w := downWriter("store")
	return o, w, newTestPipeline(t, o, w)
}

func publishN(t *testing.T, p *Pipeline, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if !p.Publish(seqEvent(i)) {
			t.Fatalf("publish %d dropped", i)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.WaitFor(t, 10*time.Second, what, cond)
}

// trickle publishes rounds batches of size events, numbered from from,
// pausing between them, and returns the number after the last.
func trickle(t *testing.T, p *Pipeline, from, rounds, size int, pause time.Duration) int {
	t.Helper()
	for range rounds {
		publishN(t, p, from, size)
		from += size
		time.Sleep(pause)
	}
	return from
}

// restart starts a pipeline on o's spill log with a healthy writer named
// store, closes it, and returns it and what the writer stored.
func restart(t *testing.T, o Options) (*Pipeline, []*Event) {
	t.Helper()
	up := &fakeWriter{name: "store"}
	p := newTestPipeline(t, o, up)
	mustClose(t, p)
	return p, up.stored()
}

// drainAfterRestart restarts on o's spill log and requires the n events
// the log held stored in order.
func drainAfterRestart(t *testing.T, o Options, n int) *Pipeline {
	t.Helper()
	p, stored := restart(t, o)
	checkInOrder(t, stored, n)
	return p
}

// checkInOrder asserts that events are exactly 0..n-1 in publish order.
func checkInOrder(t *testing.T, events []*Event, n int) {
	t.Helper()
	if len(events) != n {
		t.Fatalf("stored %d events, want %d", len(events), n)
	}
	for i, e := range events {
		if seqOf(e) != i {
			t.Fatalf("event %d has sequence %d: order lost", i, seqOf(e))
		}
	}
}

func TestBatchBySize(t *testing.T) {
	o := testOptions(t)
	o.MaxDelay = time.Hour
	o.MaxWriteRows = o.MaxRows // no coalescing: the writer sees each batch
	w := &fakeWriter{name: "w"}
	p := newTestPipeline(t, o, w)
	publishN(t, p, 0, 25)
	waitFor(t, "two full batches", func() bool { return len(w.batchSizes()) == 2 })
	mustClose(t, p)
	if got := w.batchSizes(); len(got) != 3 || got[0] != 10 || got[1] != 10 || got[2] != 5 {
		t.Fatalf("batch sizes %v, want [10 10 5]", got)
	}
	checkInOrder(t, w.stored(), 25)
}

func TestBatchByAge(t *testing.T) {
	o := testOptions(t)
	o.MaxRows = 1000
	o.MaxDelay = 20 * time.Millisecond
	w := &fakeWriter{name: "w"}
	p := newTestPipeline(t, o, w)
	start := time.Now()
	publishN(t, p, 0, 3)
	waitFor(t, "a batch by age", func() bool { return len(w.batchSizes()) == 1 })
	if el := time.Since(start); el < 15*time.Millisecond {
		t.Fatalf("batch flushed after %v, before its 20ms age", el)
	}
	if got := w.batchSizes(); got[0] != 3 {
		t.Fatalf("batch sizes %v", got)
	}
	// A second, later batch starts its own clock.
	publishN(t, p, 3, 2)
	waitFor(t, "second batch", func() bool { return len(w.batchSizes()) == 2 })
	checkInOrder(t, w.stored(), 5)
}

func TestBehindWriterCoalescesBatches(t *testing.T) {
	o := testOptions(t)
	o.MaxDelay = time.Hour
	o.MaxWriteRows = 35
	gate := make(chan struct{})
	w := &fakeWriter{name: "w", gate: gate}
	p := newTestPipeline(t, o, w)
	publishN(t, p, 0, 10)
	waitFor(t, "the first write to block", func() bool { return w.calls.Load() == 1 })
	publishN(t, p, 10, 90) // nine more batches of ten
	waitFor(t, "nine batches queued", func() bool { return p.Metrics().Writers[0].QueueDepth == 9 })
	close(gate)
	mustClose(t, p)
	// The first batch alone, then the queue in writes of whole batches,
	// adding batches while under 35 rows.
	if got := w.batchSizes(); len(got) != 4 || got[0] != 10 || got[1] != 40 || got[2] != 40 || got[3] != 10 {
		t.Fatalf("write sizes %v, want [10 40 40 10]", got)
	}
	checkInOrder(t, w.stored(), 100)
}

func TestBackpressureDropsCounted(t *testing.T) {
	o := testOptions(t)
	o.QueueSize = 20
	o.WriterQueue = 1
	gate := make(chan struct{})
	w := &fakeWriter{name: "w", gate: gate}
	p := newTestPipeline(t, o, w)
	accepted := 0
	const n = 5000
	for i := range n {
		if p.Publish(seqEvent(i)) {
			accepted++
		}
	}
	if accepted == n {
		t.Fatal("nothing dropped with a blocked writer and a 20-event queue")
	}
	m := p.Metrics()
	if m.DropReasons["queue_full"]+m.DropReasons["writer_queue_full"] == 0 {
		t.Fatalf("no drops counted: %+v", m)
	}
	close(gate)
	mustClose(t, p)
	m = p.Metrics()
	stored := len(w.stored())
	if uint64(stored)+m.Dropped != n {
		t.Fatalf("stored %d + dropped %d != published %d (%+v)", stored, m.Dropped, n, m.DropReasons)
	}
	if m.DropReasons["queue_full"] != uint64(n-accepted) {
		t.Fatalf("queue_full %d, want %d", m.DropReasons["queue_full"], n-accepted)
	}
}

func TestRetryWithBackoff(t *testing.T) {
	o := testOptions(t)
	w := &fakeWriter{name: "w", failFirst: 2}
	p := newTestPipeline(t, o, w)
	publishN(t, p, 0, 10)
	mustClose(t, p)
	checkInOrder(t, w.stored(), 10)
	m := p.Metrics().Writers[0]
	if m.Retries != 2 || !m.Healthy || m.Batches != 1 {
		t.Fatalf("metrics %+v, want 2 retries, healthy, 1 batch", m)
	}
}

func TestSpillThenReplayInOrder(t *testing.T) {
	o, w, p := downStorePipeline(t)
	const n = 500
	for i := range n {
		if !p.Publish(seqEvent(i)) {
			t.Fatalf("publish %d dropped", i)
		}
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // let batches form while the store is down
		}
	}
	waitFor(t, "everything spilled", func() bool {
		m := p.Metrics()
		return m.Received == n && m.Writers[0].QueueDepth == 0 && m.Writers[0].BacklogBytes > 0 && len(p.events) == 0
	})
	m := p.Metrics()
	if m.Writers[0].Healthy || m.Writers[0].SpilledBytes == 0 || m.SpillBytes == 0 {
		t.Fatalf("expected an unhealthy writer with spilled bytes: %+v", m)
	}
	segs := segments(o, "store")
	if len(segs) < 2 {
		t.Fatalf("want several 4 KiB segments, got %v", segs)
	}
	// Events published while the backlog exists go to disk too, behind it.
	publishN(t, p, n, 20)
	w.down.Store(false)
	waitFor(t, "replay", func() bool { return len(w.stored()) == n+20 })
	checkInOrder(t, w.stored(), n+20)
	waitFor(t, "backlog cleared", func() bool { return p.Metrics().Writers[0].BacklogBytes == 0 })
	m = p.Metrics()
	if m.SpillBytes != 0 || m.Writers[0].ReplayedBytes == 0 || m.Dropped != 0 {
		t.Fatalf("after replay: %+v", m)
	}
	if segs := segments(o, "store"); len(segs) != 0 {
		t.Fatalf("segments left after replay: %v", segs)
	}
	// Back on the memory path.
	publishN(t, p, n+20, 5)
	mustClose(t, p)
	checkInOrder(t, w.stored(), n+25)
}

func TestSlowWriterSpillsAndKeepsOrder(t *testing.T) {
	o := withSpill(t, testOptions(t), 1<<20)
	o.WriterQueue = 1
	w := &fakeWriter{name: "slow", delay: 3 * time.Millisecond}
	p := newTestPipeline(t, o, w)
	const n = 2000
	publishN(t, p, 0, n)
	mustClose(t, p)
	checkInOrder(t, w.stored(), n)
	m := p.Metrics().Writers[0]
	if m.SpilledBytes == 0 {
		t.Fatalf("a slow writer with a one-batch queue should have spilled: %+v", m)
	}
}

func TestRestartReplaysLeftoverSegments(t *testing.T) {
	o, down, p1 := downStorePipeline(t)
	const n = 300
	publishN(t, p1, 0, n)
	if err := closeWithin(p1, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "next start") {
		t.Fatalf("Close with the store down: %v, want a deadline error", err)
	}
	if len(down.stored()) != 0 || p1.Metrics().Dropped != 0 {
		t.Fatal("nothing should be stored or dropped")
	}

	up := &fakeWriter{name: "store"}
	p2 := newTestPipeline(t, o, up)
	waitFor(t, "leftovers replayed", func() bool { return len(up.stored()) == n })
	publishN(t, p2, n, 10)
	mustClose(t, p2)
	checkInOrder(t, up.stored(), n+10)
	if segs := segments(o, "store"); len(segs) != 0 {
		t.Fatalf("segments left: %v", segs)
	}
}

func TestCloseDeadlineSpillsMemoryBatches(t *testing.T) {
	// A writer stuck mid-write when the deadline passes: its batch and the
	// memory queue go to disk, not to /dev/null.
	o := withSpill(t, testOptions(t), 1<<20)
	gate := make(chan struct{})
	w := &fakeWriter{name: "store", gate: gate}
	p1 := newTestPipeline(t, o, w)
	publishN(t, p1, 0, 100)
	if err := closeWithin(p1, 50*time.Millisecond); err == nil {
		t.Fatal("want a deadline error")
	}
	if d := p1.Metrics().Dropped; d != 0 {
		t.Fatalf("dropped %d", d)
	}
	drainAfterRestart(t, o, 100)
}

func TestCloseDeadlineWithoutSpillCountsDrops(t *testing.T) {
	o := testOptions(t)
	w := downWriter("store")
	p := newTestPipeline(t, o, w)
	publishN(t, p, 0, 100)
	if err := closeWithin(p, 50*time.Millisecond); err == nil {
		t.Fatal("want a deadline error")
	}
	m := p.Metrics()
	if m.DropReasons["shutdown"] != 100 {
		t.Fatalf("drops %+v, want 100 shutdown", m.DropReasons)
	}
}

func TestSpillBudgetExceededDropsCounted(t *testing.T) {
	o := withSpill(t, testOptions(t), 8<<10)
	w := downWriter("store")
	p := newTestPipeline(t, o, w)
	const n = 2000
	publishN(t, p, 0, n)
	waitFor(t, "budget exhausted", func() bool {
		return p.Metrics().DropReasons["spill_budget"] > 0
	})
	waitFor(t, "everything handled", func() bool {
		m := p.Metrics()
		return m.Received == n && len(p.events) == 0 && m.Writers[0].QueueDepth == 0
	})
	if used := p.Metrics().SpillBytes; used > 8<<10 {
		t.Fatalf("spill uses %d bytes, budget 8192", used)
	}
	w.down.Store(false)
	mustClose(t, p)
	m := p.Metrics()
	stored := w.stored()
	if uint64(len(stored))+m.Dropped != n {
		t.Fatalf("stored %d + dropped %d != %d", len(stored), m.Dropped, n)
	}
	// What was kept is in order.
	for i := 1; i < len(stored); i++ {
		if seqOf(stored[i]) <= seqOf(stored[i-1]) {
			t.Fatalf("order lost at %d", i)
		}
	}
}

func TestRetriedBatchMayRepeatButNeverLoses(t *testing.T) {
	// The store commits but the acknowledgement is lost: the pipeline must
	// retry (at-least-once), and ids let the store deduplicate.
	o := testOptions(t)
	w := &fakeWriter{name: "store", failFirst: 0}
	w.storeThenFail.Store(true)
	p := newTestPipeline(t, o, w)
	publishN(t, p, 0, 5)
	waitFor(t, "a retry", func() bool { return w.calls.Load() >= 2 })
	w.storeThenFail.Store(false)
	mustClose(t, p)
	seen := map[int]int{}
	for _, e := range w.stored() {
		seen[seqOf(e)]++
	}
	for i := range 5 {
		if seen[i] < 2 {
			t.Fatalf("event %d stored %d times; want the retried copy too", i, seen[i])
		}
	}
}

type panicWriter struct{ fakeWriter }

func (p *panicWriter) WriteBatch(ctx context.Context, b []*Event) error {
	if p.calls.Add(1) == 1 {
		panic("engine crashed")
	}
	p.mu.Lock()
	p.batches = append(p.batches, b)
	p.mu.Unlock()
	return nil
}

func TestPanickingWriterIsAnError(t *testing.T) {
	w := &panicWriter{fakeWriter{name: "boom"}}
	p := newTestPipeline(t, testOptions(t), w)
	publishN(t, p, 0, 3)
	mustClose(t, p)
	if got := len(w.stored()); got != 3 {
		t.Fatalf("stored %d, want 3 after the retry", got)
	}
	if m := p.Metrics().Writers[0]; m.Retries != 1 || !strings.Contains(m.LastError, "panicked") {
		t.Fatalf("metrics %+v", m)
	}
}

func TestMultipleWritersIndependent(t *testing.T) {
	o := withSpill(t, testOptions(t), 1<<20)
	good := &fakeWriter{name: "jsonl"}
	bad := downWriter("clickhouse")
	p := newTestPipeline(t, o, good, bad)
	publishN(t, p, 0, 200)
	waitFor(t, "good writer stored all", func() bool { return len(good.stored()) == 200 })
	bad.down.Store(false)
	mustClose(t, p)
	checkInOrder(t, good.stored(), 200)
	checkInOrder(t, bad.stored(), 200)
	if !good.closed || !bad.closed {
		t.Fatal("Close must close the writers")
	}
}

func TestDuplicateWriterNames(t *testing.T) {
	if _, err := NewPipeline(testOptions(t), &fakeWriter{name: "a"}, &fakeWriter{name: "A"}); err == nil {
		t.Fatal("want an error for writers sharing a spill directory")
	}
}

func TestPublishAfterClose(t *testing.T) {
	p := newTestPipeline(t, testOptions(t), &fakeWriter{name: "w"})
	mustClose(t, p)
	if p.Publish(seqEvent(0)) {
		t.Fatal("Publish after Close accepted an event")
	}
	if p.Metrics().DropReasons["closed"] != 1 {
		t.Fatal("drop after close not counted")
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestConcurrentPublishAndClose(t *testing.T) {
	// Every event is either stored or counted as dropped, even when Close
	// races with publishers.
	w := &fakeWriter{name: "w"}
	p := newTestPipeline(t, testOptions(t), w)
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				if p.Publish(seqEvent(g*10000 + i)) {
					accepted.Add(1)
				}
			}
		}()
	}
	time.Sleep(time.Millisecond)
	mustClose(t, p)
	wg.Wait()
	m := p.Metrics()
	if int64(len(w.stored())) != accepted.Load() {
		t.Fatalf("stored %d, accepted %d", len(w.stored()), accepted.Load())
	}
	if uint64(accepted.Load())+m.Dropped != 8000 {
		t.Fatalf("accepted %d + dropped %d != 8000", accepted.Load(), m.Dropped)
	}
}

func TestCorruptSpillTailSkipped(t *testing.T) {
	o, _, p1 := downStorePipeline(t)
	publishN(t, p1, 0, 30)
	_ = closeWithin(p1, 30*time.Millisecond)
	segs := segments(o, "store")
	if len(segs) == 0 {
		t.Fatal("no segments")
	}
	// A torn record at the end of the newest segment, as a crash leaves it.
	f, err := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, 5})
	_ = f.Close()

	p2 := drainAfterRestart(t, o, 30)
	if c := p2.Metrics().Writers[0].CorruptBytes; c != 9 {
		t.Fatalf("corrupt bytes %d, want 9", c)
	}
	if segs := segments(o, "store"); len(segs) != 0 {
		t.Fatalf("segments left: %v", segs)
	}
}

func TestMetricsLag(t *testing.T) {
	gate := make(chan struct{})
	w := &fakeWriter{name: "w", gate: gate}
	p := newTestPipeline(t, testOptions(t), w)
	publishN(t, p, 0, 1)
	waitFor(t, "a write in progress", func() bool { return w.calls.Load() == 1 })
	time.Sleep(30 * time.Millisecond)
	if lag := p.Metrics().Writers[0].LagSeconds; lag < 0.02 {
		t.Fatalf("lag %v, want >= 20ms while a write hangs", lag)
	}
	close(gate)
	waitFor(t, "stored", func() bool { return len(w.stored()) == 1 })
	waitFor(t, "idle", func() bool { return p.Metrics().Writers[0].LagSeconds == 0 })
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 5 {
		o := withSpill(t, testOptions(t), 1<<20)
		w := &fakeWriter{name: "w", failFirst: 4}
		p, err := NewPipeline(o, w, &fakeWriter{name: "x"})
		if err != nil {
			t.Fatal(err)
		}
		publishN(t, p, 0, 50)
		mustClose(t, p)
	}
	waitFor(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}

func TestOptionsFromConfig(t *testing.T) {
	o := OptionsFromConfig(configs.Default().Storage)
	if o.MaxRows != 1000 || o.MaxDelay != 200*time.Millisecond || o.QueueSize != 100000 ||
		o.SpillDir != "./data/spill" || o.SpillMaxBytes != 1<<30 || !o.Durable || o.CommitInterval != 100*time.Millisecond {
		t.Fatalf("defaults map to %+v", o)
	}
	o.setDefaults()
	if o.WriterQueue != durableWriterQueue || o.MaxWriteRows != 10000 || o.Attempts != 3 || o.SegmentBytes != 16<<20 {
		t.Fatalf("derived defaults %+v", o)
	}
	o.Durable, o.WriterQueue = false, 0
	if o.setDefaults(); o.WriterQueue != 100 {
		t.Fatalf("without durability a writer holds %d batches, want queue_size/max_rows", o.WriterQueue)
	}
}

// stuckWriter ignores its context: Close must still return.
type stuckWriter struct {
	fakeWriter
	release chan struct{}
}

func (s *stuckWriter) WriteBatch(context.Context, []*Event) error {
	s.calls.Add(1)
	<-s.release
	return nil
}

func TestCloseReturnsDespiteStuckWriter(t *testing.T) {
	w := &stuckWriter{fakeWriter: fakeWriter{name: "stuck"}, release: make(chan struct{})}
	defer close(w.release)
	p := newTestPipeline(t, testOptions(t), w)
	publishN(t, p, 0, 5)
	waitFor(t, "the write to hang", func() bool { return w.calls.Load() == 1 })
	start := time.Now()
	if err := closeWithin(p, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "stuck") {
		t.Fatalf("Close: %v", err)
	}
	if el := time.Since(start); el > closeGrace+2*time.Second {
		t.Fatalf("Close took %v", el)
	}
}

// TestCloseSpillsAtOnceWhenAWriterIsDown: shutting down while a writer is
// down must not wait for any deadline — a missing libchdb must not make
// Ctrl-C slow — and must lose nothing.
func TestCloseSpillsAtOnceWhenAWriterIsDown(t *testing.T) {
	_, _, p := downStorePipeline(t)
	publishN(t, p, 0, 200)
	closeSpillsAtOnce(t, p, "a deadline it was not given")
}

// pacedWriter is a fakeWriter that asks for a write interval (Pacer) and
// notes when each write began.
type pacedWriter struct {
	fakeWriter
	interval time.Duration
	times    []time.Time // under fakeWriter.mu
}

func (p *pacedWriter) WriteInterval() time.Duration { return p.interval }

func (p *pacedWriter) WriteBatch(ctx context.Context, b []*Event) error {
	p.mu.Lock()
	p.times = append(p.times, time.Now())
	p.mu.Unlock()
	return p.fakeWriter.WriteBatch(ctx, b)
}

// wrapped hides a writer behind another, as notifiers and filters do.
type wrapped struct{ Writer }

func (w wrapped) Unwrap() Writer { return w.Writer }

// TestPacedWriterCoalescesBatches: a writer with a write interval gets one
// write per interval holding every batch cut meanwhile (through a wrapper
// too); a full write's worth queued goes at once; Close does not wait for
// the interval; nothing is lost or reordered.
func TestPacedWriterCoalescesBatches(t *testing.T) {
	o := testOptions(t)
	o.MaxDelay = 40 * time.Millisecond // batches of 10 rows or 40 ms
	o.MaxWriteRows = 100               // a full write: 10 batches
	w := &pacedWriter{fakeWriter: fakeWriter{name: "paced"}, interval: 300 * time.Millisecond}
	p := newTestPipeline(t, o, wrapped{w})
	// 1: a trickle of 100 events/s for a second: about 25 batches cut,
	// written in four or five writes.
	n := trickle(t, p, 0, 100, 1, 10*time.Millisecond)
	waitFor(t, "the trickle stored", func() bool { return len(w.stored()) == n })
	w.mu.Lock()
	times := append([]time.Time(nil), w.times...)
	w.mu.Unlock()
	if len(times) < 2 || len(times) > 6 {
		t.Fatalf("%d writes for a second of batches every ~10 ms at a 300 ms interval, want 2–6 (sizes %v)", len(times), w.batchSizes())
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 250*time.Millisecond {
			t.Fatalf("writes %d and %d only %v apart: the interval was not kept (sizes %v)", i-1, i, gap, w.batchSizes())
		}
	}
	// 2: a burst of 250 events right after a write: writes of 100 go at
	// once instead of waiting for the interval.
	before := len(w.batchSizes())
	start := time.Now()
	publishN(t, p, n, 250)
	n += 250
	waitFor(t, "two full writes", func() bool { return len(w.batchSizes()) >= before+2 })
	if el := time.Since(start); el >= 250*time.Millisecond {
		t.Fatalf("two full writes took %v: they waited for the interval", el)
	}
	// 3: Close writes what is left without waiting for the interval.
	publishN(t, p, n, 5)
	n += 5
	start = time.Now()
	mustClose(t, p)
	if el := time.Since(start); el >= 250*time.Millisecond {
		t.Fatalf("Close took %v: it waited for the write interval", el)
	}
	checkInOrder(t, w.stored(), n)
}

// TestPacedWriterSmallQueueLosesNothing: with a memory queue shorter than
// a full write, pacing writes once the queue is half full instead of
// letting it overflow while the interval runs.
func TestPacedWriterSmallQueueLosesNothing(t *testing.T) {
	o := testOptions(t)
	o.MaxDelay = 5 * time.Millisecond
	o.MaxWriteRows = 100 // 10 batches
	o.WriterQueue = 4
	w := &pacedWriter{fakeWriter: fakeWriter{name: "paced"}, interval: time.Hour}
	p := newTestPipeline(t, o, w)
	publishN(t, p, 0, 10)
	waitFor(t, "the first write", func() bool { return len(w.stored()) == 10 })
	for i := 1; i < 20; i++ {
		publishN(t, p, 10*i, 10)
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the batcher dispatch everything
	mustClose(t, p)
	if d := p.Metrics().Dropped; d != 0 {
		t.Fatalf("%d events dropped behind a paced writer", d)
	}
	checkInOrder(t, w.stored(), 200)
}

// Every event leaves the pipeline with an instance id: Options.Instance
// when it had none, its own otherwise (a replayed or forwarded event).
func TestPipelineStampsInstance(t *testing.T) {
	o := testOptions(t)
	o.Instance = "proxy-a:4000"
	w := &fakeWriter{name: "w"}
	p := newTestPipeline(t, o, w)
	own := seqEvent(1)
	own.InstanceID = "proxy-b:4000"
	if !p.Publish(seqEvent(0)) || !p.Publish(own) {
		t.Fatal("publish dropped")
	}
	mustClose(t, p)
	got := map[int]string{}
	for _, e := range w.stored() {
		got[seqOf(e)] = e.InstanceID
	}
	if got[0] != "proxy-a:4000" || got[1] != "proxy-b:4000" {
		t.Fatalf("instance ids %v", got)
	}
}

// Events a Process hook adds (security findings) are stamped too: they
// are made after the batcher stamped the batch.
func TestPipelineStampsInstanceOfProcessedEvents(t *testing.T) {
	o := testOptions(t)
	o.Instance = "proxy-a:4000"
	o.Process = func(b []*Event) []*Event {
		return append(b, &Event{ID: NewID(), Name: SecurityFinding})
	}
	w := &fakeWriter{name: "w"}
	p := newTestPipeline(t, o, w)
	if !p.Publish(seqEvent(0)) {
		t.Fatal("publish dropped")
	}
	mustClose(t, p)
	var findings int
	for _, e := range w.stored() {
		if e.InstanceID != "proxy-a:4000" {
			t.Fatalf("%s event with instance %q", e.Name, e.InstanceID)
		}
		if e.Name == SecurityFinding {
			findings++
		}
	}
	if findings != 1 {
		t.Fatalf("%d findings stored", findings)
	}
}

// ScanAttributes is for Process alone: it sees them, no writer does.
func TestScanAttributesReachProcessOnly(t *testing.T) {
	o := testOptions(t)
	var seen []string
	o.Process = func(b []*Event) []*Event {
		for _, e := range b {
			seen = append(seen, string(e.ScanAttributes))
		}
		return b
	}
	w := &fakeWriter{name: "w"}
	p := newTestPipeline(t, o, w)
	e := seqEvent(0)
	e.ScanAttributes = []byte(`{"llm.request.data":{"secret":"as sent"}}`)
	if !p.Publish(e) {
		t.Fatal("publish dropped")
	}
	mustClose(t, p)
	if len(seen) != 1 || seen[0] != `{"llm.request.data":{"secret":"as sent"}}` {
		t.Fatalf("Process saw %q", seen)
	}
	for _, e := range w.stored() {
		if e.ScanAttributes != nil {
			t.Fatalf("a writer got ScanAttributes %s", e.ScanAttributes)
		}
	}
}

// ctxCloser records the context its CloseContext got.
type ctxCloser struct {
	fakeWriter
	deadline time.Time
	plain    bool // Close was called instead
}

func (w *ctxCloser) CloseContext(ctx context.Context) error {
	w.deadline, _ = ctx.Deadline()
	return nil
}

func (w *ctxCloser) Close() error {
	w.plain = true
	return nil
}

// A writer whose Close may wait (sink.ContextCloser) is closed with the
// pipeline's context, through a wrapper too, so the wait ends with the
// shutdown's deadline.
func TestContextCloserGetsTheDeadline(t *testing.T) {
	w := &ctxCloser{fakeWriter: fakeWriter{name: "exporter"}}
	p := newTestPipeline(t, testOptions(t), wrapped{w})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want, _ := ctx.Deadline()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if w.plain || !w.deadline.Equal(want) {
		t.Fatalf("closed with Close %v, deadline %v; want CloseContext with %v", w.plain, w.deadline, want)
	}
}
