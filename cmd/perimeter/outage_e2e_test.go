package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/chdb"
	"github.com/cylestio/perimeter/sink/clickhouse"
	"github.com/cylestio/perimeter/sink/clickhouse/chtest"
)

// The tests in this file are issue 4's failure scenarios, end to end: the
// built binary proxies real calls to a mock while its store is killed,
// restarted or out of spill budget, and the store is then read with SQL.
// Every wait is bounded; every call must be answered whatever the store
// does.

// eventsPerCall is what one plain chat call (a new conversation, no tools,
// detection off) produces: session.start, llm.call.start, llm.call.finish.
const eventsPerCall = 3

// metricsView is the part of GET /metrics these tests read.
type metricsView struct {
	Sink    sink.Metrics `json:"sink"`
	Storage struct {
		Status   sink.Status `json:"status"`
		Embedded struct {
			Restarts, Crashes int64
			WorkerPID         int
		} `json:"embedded"`
	} `json:"storage"`
}

func (p *perimeterProc) metrics(t *testing.T) metricsView {
	t.Helper()
	var m metricsView
	getJSON(t, p.url+"/metrics", &m)
	// The store's lane, and besides it only writers that keep no spill
	// log (the Prometheus counters).
	stores := 0
	for _, w := range m.Sink.Writers {
		switch w.Name {
		case "embedded", "clickhouse":
			stores++
		case "prometheus":
			if w.SpilledBytes != 0 || w.BacklogBytes != 0 {
				t.Fatalf("/metrics: the prometheus writer has a spill log: %+v", w)
			}
		default:
			t.Fatalf("/metrics: unexpected writer %+v", w)
		}
	}
	if stores != 1 {
		t.Fatalf("/metrics: writers %+v, want one store", m.Sink.Writers)
	}
	return m
}

// store is the store's writer lane.
func (m metricsView) store() sink.WriterMetrics {
	for _, w := range m.Sink.Writers {
		if w.Name == "embedded" || w.Name == "clickhouse" {
			return w
		}
	}
	return sink.WriterMetrics{}
}

// restartAndReplay brings the server back and starts perimeter again,
// waiting until it has replayed what the last run spilled.
func restartAndReplay(t *testing.T, srv *chtest.Server, upstream, storage string) *perimeterProc {
	t.Helper()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	p := startPerimeter(t, upstream, storage)
	waitUntil(t, 60*time.Second, "the spill replayed", func() bool {
		w := p.metrics(t).store()
		return w.ReplayedBytes > 0 && w.BacklogBytes == 0
	})
	return p
}

// load sends numbered calls through the proxy from a few goroutines and
// keeps score. A call succeeds when it is answered 200 with a complete
// body: the whole stream up to [DONE], or a completion with choices.
type load struct {
	url      string
	client   *http.Client
	answered atomic.Int64
	failed   atomic.Int64
	mu       sync.Mutex
	errs     []string // the first few failures
}

func newLoad(url string) *load {
	return &load{url: url, client: &http.Client{Timeout: 30 * time.Second}}
}

// calls is one run of load: calls numbered from..to-1 in flight.
type calls struct {
	next atomic.Int64
	to   int
	quit chan struct{}
	wg   sync.WaitGroup
}

// wait returns once the calls ran out and every one was answered.
func (c *calls) wait() { c.wg.Wait() }

// stop sends no more calls and returns, once every call sent is answered,
// the number after the last one sent.
func (c *calls) stop() int {
	close(c.quit)
	c.wg.Wait()
	return min(int(c.next.Load()), c.to)
}

// run sends calls from (inclusive) to to (exclusive) from workers
// goroutines, each pausing pace after each call.
func (l *load) run(from, to, workers int, pace time.Duration) *calls {
	c := &calls{to: to, quit: make(chan struct{})}
	c.next.Store(int64(from))
	for range workers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for {
				select {
				case <-c.quit:
					return
				default:
				}
				i := int(c.next.Add(1) - 1)
				if i >= to {
					return
				}
				l.send(i)
				if pace > 0 {
					time.Sleep(pace)
				}
			}
		}()
	}
	return c
}

// all sends calls from to to and returns once every one is answered.
func (l *load) all(from, to, workers int) { l.run(from, to, workers, 0).wait() }

// send makes call i and keeps its score.
func (l *load) send(i int) {
	if err := l.call(i); err != nil {
		l.failed.Add(1)
		l.mu.Lock()
		if len(l.errs) < 5 {
			l.errs = append(l.errs, err.Error())
		}
		l.mu.Unlock()
	}
	l.answered.Add(1)
}

func (l *load) call(i int) error {
	stream := i%3 == 0
	opt := ""
	if stream {
		opt = `"stream":true,"stream_options":{"include_usage":true},`
	}
	body := fmt.Sprintf(`{"model":"gpt-4o-mini",%s"messages":[{"role":"system","content":"agent %d"},{"role":"user","content":"outage question %d"}]}`, opt, i%4, i)
	resp, err := l.client.Post(l.url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("call %d: %w", i, err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("call %d: reading the answer: %w", i, err)
	case resp.StatusCode != 200:
		return fmt.Errorf("call %d: status %d: %.200s", i, resp.StatusCode, got)
	case stream && !bytes.HasSuffix(got, []byte("data: [DONE]\n\n")):
		return fmt.Errorf("call %d: stream cut: %.200q", i, got)
	case !stream && !bytes.Contains(got, []byte(`"choices"`)):
		return fmt.Errorf("call %d: incomplete answer: %.200q", i, got)
	}
	return nil
}

// requireAllAnswered fails the test unless every call so far succeeded.
func (l *load) requireAllAnswered(t *testing.T, want int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed.Load() != 0 || l.answered.Load() != int64(want) {
		t.Fatalf("%d of %d calls answered, %d failed; first failures: %v", l.answered.Load(), want, l.failed.Load(), l.errs)
	}
}

// privateClickHouse starts a clickhouse-server of the test's own: these
// tests kill it, so the shared one (PERIMETER_TEST_CLICKHOUSE) will not do.
// Without clickhouse-server they skip, unless CI asked for ClickHouse.
func privateClickHouse(t *testing.T) *chtest.Server {
	t.Helper()
	srv, err := chtest.Start(t.Name())
	if errors.Is(err, chtest.ErrNotInstalled) && os.Getenv("PERIMETER_TEST_CLICKHOUSE") == "" {
		t.Skip("SKIPPED LOUDLY: clickhouse-server is not installed (apt-get install -y clickhouse-server); this test kills and restarts a server of its own")
	}
	if err != nil {
		t.Fatalf("a private clickhouse-server is required (PERIMETER_TEST_CLICKHOUSE is set): %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// clickhouseStorage is the storage block for a ClickHouse server with
// short batches and a spill directory.
func clickhouseStorage(addr, db, spillDir, budget string) string {
	return fmt.Sprintf(`storage:
  engine: clickhouse
  clickhouse: {addresses: [%q], database: %s, dial_timeout: 1s}
  batch: {max_rows: 100, max_delay_ms: 20}
  spill: {dir: %q, max_bytes: %s}
`, addr, db, spillDir, budget)
}

// serverCounts reads events by name from the server, deduplicated as every
// aggregate reads them (FINAL); countEvents also requires count() and
// uniqExact(id) to agree.
func serverCounts(t *testing.T, addr, db string) map[string]int64 {
	t.Helper()
	return onServer(t, addr, db, func(st sink.Store, o sink.SchemaOptions) map[string]int64 {
		return countEvents(t, st, sink.EventsSource(o))
	})
}

func total(counts map[string]int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

// requireExactlyOnce: every event of every one of n calls, once, as the
// aggregates read them (FINAL: count() and uniqExact(id) agree and equal n
// per event name), and every one of them in the table itself (uniqExact(id)
// per name without FINAL). It returns how many extra copies the table
// holds before merging: retried or replayed inserts that FINAL collapses.
func requireExactlyOnce(t *testing.T, st sink.Store, schema sink.SchemaOptions, n int) (copies int64) {
	t.Helper()
	counts := countEvents(t, st, sink.EventsSource(schema))
	checkCounts(t, counts, n)
	if got := total(counts); got != int64(eventsPerCall*n) {
		t.Fatalf("%d events stored for %d calls, want %d: %v", got, n, eventsPerCall*n, counts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	raw, err := st.Query(ctx, "SELECT name, uniqExact(id), count() FROM "+schema.Table(sink.EventsTable)+" GROUP BY name")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range raw.Data {
		if u := toInt(r[1]); u != int64(n) {
			t.Errorf("%v: %d distinct ids in the table, want %d", r[0], u, n)
		}
		copies += toInt(r[2]) - toInt(r[1])
	}
	return copies
}

// onServer runs check against the events of db on the server at addr.
func onServer[T any](t *testing.T, addr, db string, check func(sink.Store, sink.SchemaOptions) T) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := clickhouse.Open(ctx, clickhouse.Options{Addresses: []string{addr}, Database: db, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return check(st, st.Schema())
}

// exactlyOnceOnServer is requireExactlyOnce on the server at addr.
func exactlyOnceOnServer(t *testing.T, addr, db string, n int) int64 {
	t.Helper()
	return onServer(t, addr, db, func(st sink.Store, o sink.SchemaOptions) int64 { return requireExactlyOnce(t, st, o, n) })
}

// traffic is how the outage tests load the proxy: 8 clients, a pause of
// 20 ms after each call (a few hundred calls a second, so that kills and
// restarts fall among calls in flight), at most maxCalls in all.
const (
	workers  = 8
	pace     = 20 * time.Millisecond
	maxCalls = 5000
	// stretch is how many calls each stage of an outage test lasts.
	stretch = 100
)

// afterMore waits until stretch more calls have been answered.
func afterMore(t *testing.T, l *load, what string) {
	t.Helper()
	mark := l.answered.Load()
	waitUntil(t, 60*time.Second, fmt.Sprintf("%d calls %s", stretch, what), func() bool { return l.answered.Load() >= mark+stretch })
}

// stopTraffic ends a paced run and requires that it ended by being
// stopped, every call answered.
func stopTraffic(t *testing.T, l *load, c *calls) int {
	t.Helper()
	n := c.stop()
	if n >= maxCalls {
		t.Fatalf("the traffic ran out (%d calls) before the scenario ended", n)
	}
	l.requireAllAnswered(t, n)
	return n
}

// TestClickHouseKilledMidRun: clickhouse-server is SIGKILLed while calls
// are in flight, traffic goes on while it is down, it is restarted while
// calls are in flight; every call is answered, /metrics shows the writer
// failing and spilling, and once the spill is replayed every event of
// every call is on the server exactly once.
func TestClickHouseKilledMidRun(t *testing.T) {
	srv := privateClickHouse(t)
	const db = "perimeter_outage"
	p := startPerimeter(t, startMock(t), clickhouseStorage(srv.Addr, db, t.TempDir(), "64MB"))
	l := newLoad(p.url)
	started := time.Now()
	traffic := l.run(0, maxCalls, workers, pace)
	afterMore(t, l, "with ClickHouse up")
	if m := p.metrics(t); !m.store().Healthy || m.store().Events == 0 {
		t.Fatalf("writer before the kill: %+v", m.store())
	}

	srv.Kill()
	atKill := l.answered.Load()
	waitUntil(t, 30*time.Second, "the store writer to fail and spill", func() bool {
		m := p.metrics(t)
		w := m.store()
		return !w.Healthy && w.SpilledBytes > 0 && w.BacklogBytes > 0 && w.LastError != "" && !m.Storage.Status.Available
	})
	down := p.metrics(t).store()
	afterMore(t, l, "with ClickHouse down and the spool active")

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	restartedAt := time.Now()
	afterMore(t, l, "after the restart")
	n := stopTraffic(t, l, traffic)

	// The pipeline reconnects by itself and replays the spill.
	waitUntil(t, 60*time.Second, "every event on the server", func() bool {
		return total(serverCounts(t, srv.Addr, db)) >= int64(eventsPerCall*n)
	})
	replayed := time.Since(restartedAt)
	// The spool marks a replayed segment done just after its write
	// returns, so its backlog may lag the server by a moment.
	waitUntil(t, 10*time.Second, "the spool's backlog to clear", func() bool {
		w := p.metrics(t).store()
		return w.Healthy && w.BacklogBytes == 0
	})
	m := p.metrics(t)
	w := m.store()
	if !w.Healthy || w.ReplayedBytes == 0 || w.BacklogBytes != 0 || m.Sink.Dropped != 0 || !m.Storage.Status.Available {
		t.Fatalf("after recovery: writer %+v, dropped %d, status %+v", w, m.Sink.Dropped, m.Storage.Status)
	}
	exactlyOnceOnServer(t, srv.Addr, db, n)

	// Shutting down adds nothing twice.
	p.stop(t, 30*time.Second)
	copies := exactlyOnceOnServer(t, srv.Addr, db, n)
	t.Logf("%d calls, all answered (killed after %d); %d bytes spilled while down (%.90s); all stored %s after the restart; %d retries, %d duplicate rows not yet merged away; test took %s",
		n, atKill, down.SpilledBytes, down.LastError, replayed.Round(time.Millisecond), w.Retries, copies, time.Since(started).Round(time.Millisecond))
}

// TestClickHouseDownAtShutdown: perimeter stops (SIGTERM) while ClickHouse
// is down. It exits promptly, what it held stays in the spill directory,
// and the next run replays it into the restarted server: every event once.
func TestClickHouseDownAtShutdown(t *testing.T) {
	srv := privateClickHouse(t)
	const db = "perimeter_shutdown"
	upstream, spill := startMock(t), t.TempDir()
	storage := clickhouseStorage(srv.Addr, db, spill, "64MB")
	p := startPerimeter(t, upstream, storage)
	l := newLoad(p.url)
	const n1, n2, n3 = 100, 100, 20
	l.all(0, n1, workers)
	waitUntil(t, 30*time.Second, "the first calls stored", func() bool { return p.metrics(t).store().Events >= eventsPerCall*n1 })
	srv.Kill()
	l.all(n1, n1+n2, workers)
	l.requireAllAnswered(t, n1+n2)
	took := p.stop(t, 30*time.Second)
	if !strings.Contains(p.logs.String(), "stay in") {
		t.Fatalf("shutdown did not say that events stay on disk:\n%s", p.logs.String())
	}
	spilled := dirBytes(t, spill)
	if spilled == 0 {
		t.Fatal("nothing in the spill directory after a shutdown with the store down")
	}

	p = restartAndReplay(t, srv, upstream, storage)
	l = newLoad(p.url)
	l.all(n1+n2, n1+n2+n3, workers)
	l.requireAllAnswered(t, n3)
	p.stop(t, 30*time.Second)
	exactlyOnceOnServer(t, srv.Addr, db, n1+n2+n3)
	if left := dirBytes(t, spill); left != 0 {
		t.Fatalf("%d bytes left in the spill directory after the replay", left)
	}
	t.Logf("stopped in %s with ClickHouse down, %d bytes spilled; the next run replayed them", took.Round(time.Millisecond), spilled)
}

// dirBytes is the size of the regular files under dir.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEmbeddedEngineKilledMidRun: the chDB worker is SIGKILLed while calls
// are in flight; every call is answered, the supervisor brings a new
// worker, and every event of every call is stored exactly once.
func TestEmbeddedEngineKilledMidRun(t *testing.T) {
	lib := requireLibchdb(t)
	data := t.TempDir()
	storage := fmt.Sprintf("storage:\n  embedded: {path: %q}\n  batch: {max_rows: 100, max_delay_ms: 20}\n  spill: {dir: %q, max_bytes: 64MB}\n", data, t.TempDir())
	p := startPerimeter(t, startMock(t), storage, "CHDB_LIB_PATH="+lib)
	before := p.metrics(t).Storage.Embedded
	if before.WorkerPID == 0 {
		t.Fatalf("no embedded worker: %+v", p.metrics(t).Storage)
	}
	l := newLoad(p.url)
	traffic := l.run(0, maxCalls, workers, pace)
	afterMore(t, l, "with the engine up")
	if err := syscall.Kill(before.WorkerPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	waitUntil(t, 60*time.Second, "a new worker", func() bool {
		e := p.metrics(t).Storage.Embedded
		return e.WorkerPID != 0 && e.WorkerPID != before.WorkerPID
	})
	back := time.Since(killed)
	afterMore(t, l, "after the new worker")
	n := stopTraffic(t, l, traffic)

	waitUntil(t, 60*time.Second, "every event stored", func() bool {
		w := p.metrics(t).store()
		return w.Events >= uint64(eventsPerCall*n) && w.BacklogBytes == 0 && w.Healthy
	})
	m := p.metrics(t)
	if e := m.Storage.Embedded; e.Crashes != before.Crashes+1 {
		t.Fatalf("crashes %d, want %d", e.Crashes, before.Crashes+1)
	}
	if m.Sink.Dropped != 0 {
		t.Fatalf("dropped %d: %v", m.Sink.Dropped, m.Sink.DropReasons)
	}
	p.stop(t, 60*time.Second)

	st, err := chdb.Open(context.Background(), chdb.Options{Path: data, LibPath: lib, WorkerCommand: []string{binary, "__chdb-worker"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	copies := requireExactlyOnce(t, st, st.Schema(), n)
	t.Logf("%d calls, all answered; a new worker %s after the kill; the writer retried %d times and spilled %d bytes; %d duplicate rows not yet merged away",
		n, back.Round(time.Millisecond), m.store().Retries, m.store().SpilledBytes, copies)
}

// TestSpillBudgetExhausted: the store is down and the spill budget small;
// every call is still answered, drops are counted as spill_budget, the
// spill stays within its budget, and (when a server can be brought back)
// what was kept plus what was counted dropped is every event.
func TestSpillBudgetExhausted(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t)) // nothing listens there
	srv, err := chtest.Start(t.Name())
	switch {
	case err == nil:
		t.Cleanup(srv.Stop)
		addr = srv.Addr
		srv.Kill() // down from the start; restarted below to replay
	case os.Getenv("PERIMETER_TEST_CLICKHOUSE") != "":
		t.Fatalf("a private clickhouse-server is required (PERIMETER_TEST_CLICKHOUSE is set): %v", err)
	default:
		srv = nil
		t.Logf("no clickhouse-server (%v): the store stays down and the replay is not checked", err)
	}
	// About 570 bytes an event spilled: 900 events do not fit in 200 KiB.
	const db, budget, n = "perimeter_budget", 200 << 10, 300
	upstream, spill := startMock(t), t.TempDir()
	storage := clickhouseStorage(addr, db, spill, fmt.Sprint(budget))
	p := startPerimeter(t, upstream, storage)
	l := newLoad(p.url)
	start := time.Now()
	l.run(0, n, workers, pace).wait()
	took := time.Since(start)
	l.requireAllAnswered(t, n)

	// Every event has left the queue and its last batch the batcher.
	waitUntil(t, 30*time.Second, "every event batched", func() bool {
		m := p.metrics(t)
		return m.Sink.Received == eventsPerCall*n && m.Sink.QueueDepth == 0 && m.store().QueueDepth == 0
	})
	time.Sleep(500 * time.Millisecond) // max_delay_ms is 20: the last batch is cut by now
	m := p.metrics(t)
	w := m.store()
	dropped := m.Sink.DropReasons["spill_budget"]
	switch {
	case dropped == 0 || m.Sink.Dropped != dropped:
		t.Fatalf("drops %v (total %d), want spill_budget only", m.Sink.DropReasons, m.Sink.Dropped)
	case w.SpilledBytes == 0 || m.Sink.SpillBytes <= 0 || m.Sink.SpillBytes > budget || m.Sink.SpillBudget != budget:
		t.Fatalf("spill %d bytes on disk, %d written, budget %d (reported %d)", m.Sink.SpillBytes, w.SpilledBytes, budget, m.Sink.SpillBudget)
	case w.Events != 0 || w.Healthy:
		t.Fatalf("writer %+v with the store down", w)
	}
	if !strings.Contains(p.logs.String(), "spill budget exhausted") {
		t.Fatalf("the drops were not logged with their reason:\n%s", p.logs.String())
	}
	p.stop(t, 30*time.Second)
	if used := dirBytes(t, spill); used > budget {
		t.Fatalf("%d bytes in the spill directory, budget %d", used, budget)
	}
	t.Logf("%d calls answered in %s with the store down; %d of %d events dropped (spill_budget), %d bytes spilled",
		n, took.Round(time.Millisecond), dropped, eventsPerCall*n, m.Sink.SpillBytes)
	if srv == nil {
		return
	}

	// Back up: the next run replays what was kept; kept + dropped = all.
	p = restartAndReplay(t, srv, upstream, storage)
	p.stop(t, 30*time.Second)
	counts := serverCounts(t, srv.Addr, db)
	if kept := total(counts); kept+int64(dropped) != eventsPerCall*n {
		t.Fatalf("%d events stored + %d counted dropped = %d, want %d: %v", kept, dropped, kept+int64(dropped), eventsPerCall*n, counts)
	}
}
