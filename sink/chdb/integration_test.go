package chdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
)

// EnvRequireChdb makes the real-engine tests fail instead of skip when
// libchdb.so is missing; CI sets it.
const EnvRequireChdb = "PERIMETER_REQUIRE_CHDB"

// realLib finds libchdb.so or skips the test loudly.
func realLib(tb testing.TB) string {
	tb.Helper()
	lib, err := FindLib("")
	if err != nil {
		if os.Getenv(EnvRequireChdb) != "" {
			tb.Fatalf("%s is set but: %v", EnvRequireChdb, err)
		}
		msg := fmt.Sprintf("\n\n!!! SKIPPING %s: it needs the real embedded ClickHouse: %v.\n!!! Run `make chdb` to run it here; CI installs libchdb and runs it.\n\n", tb.Name(), err)
		fmt.Fprint(os.Stderr, msg)
		tb.Skip(msg)
	}
	return lib
}

// testTable is a minimal table of our own, so that these tests exercise
// the engine and the worker, not the events schema.
const testTable = "perimeter_test.ev"

func createTestTable(ctx context.Context, c Conn) error {
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS perimeter_test",
		"CREATE TABLE IF NOT EXISTS " + testTable + " (id String, agent String, tokens Int64, dur Float64, ts DateTime) ENGINE = MergeTree ORDER BY (agent, id)",
	} {
		if err := c.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func renderTestInsert(dst []byte, batch []*sink.Event) []byte {
	dst = append(dst, "INSERT INTO "+testTable+" VALUES "...)
	for i, e := range batch {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = fmt.Appendf(dst, "('%s','%s',%d,%g,%d)", e.IDString(), e.AgentID, e.InputTokens, e.DurationMs, e.Time.Unix())
	}
	return dst
}

func realOptions(tb testing.TB) Options {
	return Options{
		LibPath:       realLib(tb),
		Path:          tb.TempDir(),
		WorkerCommand: workerCommand("real"),
		Logger:        zerolog.New(zerolog.NewTestWriter(tb)),
		MinBackoff:    100 * time.Millisecond,
		MaxBackoff:    time.Second,
		Setup:         createTestTable,
		Insert:        renderTestInsert,
	}
}

func testBatch(n, agents int, base time.Time) []*sink.Event {
	b := make([]*sink.Event, n)
	for i := range b {
		b[i] = &sink.Event{ID: sink.NewID(), AgentID: "agent-" + strconv.Itoa(i%agents), InputTokens: int64(i % 100), DurationMs: 1.5, Time: base}
	}
	return b
}

func count(t *testing.T, s *Store) uint64 {
	t.Helper()
	rows, err := s.Query(context.Background(), "SELECT count() FROM "+testTable)
	if err != nil {
		t.Fatal(err)
	}
	return rows.Data[0][0].(uint64)
}

func TestRealEngine(t *testing.T) {
	s := mustOpen(t, realOptions(t))
	ctx := context.Background()
	st := s.Status()
	if !st.Available || !strings.HasPrefix(st.Version, "chDB 26.") || !strings.HasPrefix(s.ServerVersion(), "26.") {
		t.Fatalf("status %+v, server version %q", st, s.ServerVersion())
	}
	t.Logf("%s; worker RSS %d MiB", st.Version, processRSS(workerPID(s))>>20)

	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for range 5 {
		if err := s.WriteBatch(ctx, testBatch(1000, 4, base)); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	rows, err := s.Query(ctx, "SELECT agent, count() AS n, sum(tokens) AS tok, avg(dur) AS d, max(ts) AS last FROM "+testTable+" WHERE agent IN ? GROUP BY agent ORDER BY agent",
		[]string{"agent-1", "agent-3", "it's not there"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("aggregate query: %s", time.Since(start))
	want := &sink.Rows{
		Columns: []string{"agent", "n", "tok", "d", "last"},
		Types:   []string{"String", "UInt64", "Int64", "Float64", "DateTime"},
		Data: [][]any{
			{"agent-1", uint64(1250), int64(5 * 12 * 1225 / 12 * 1), 1.5, base},
			{"agent-3", uint64(1250), int64(0), 1.5, base},
		},
	}
	// Tokens: i%100 over i ≡ agent (mod 4) in 0..999, five times.
	for r, agent := range []int{1, 3} {
		var sum int64
		for i := agent; i < 1000; i += 4 {
			sum += int64(i % 100)
		}
		want.Data[r][2] = 5 * sum
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("got  %v\nwant %v", rows, want)
	}

	// The read connection is read-only.
	_, err = s.Query(ctx, "INSERT INTO "+testTable+" (id) VALUES ('x')")
	var ee *EngineError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("write through Query: %v", err)
	}
	// A bad statement is the statement's error; the engine stays.
	pid := workerPID(s)
	if err := s.Exec(ctx, "SELEKT 1"); !errors.As(err, &ee) || !strings.Contains(err.Error(), "Syntax error") {
		t.Fatalf("bad SQL: %v", err)
	}
	if workerPID(s) != pid {
		t.Fatal("a bad statement restarted the worker")
	}
}

// TestRealEngineSurvivesKill9 kills the worker with inserts and queries in
// flight while this process serves HTTP: traffic never fails, the store
// comes back with every acknowledged row, and queries work again.
func TestRealEngineSurvivesKill9(t *testing.T) {
	for _, memory := range []bool{false, true} {
		t.Run(map[bool]string{false: "disk", true: "memory"}[memory], func(t *testing.T) {
			opts := realOptions(t)
			opts.Memory = memory
			s := mustOpen(t, opts)
			ctx := context.Background()

			stop := make(chan struct{})
			var wg sync.WaitGroup
			served, failedHTTP := serveDuring(t, &wg, stop, 1)
			var acked, refused atomic.Int64
			untilClosed(&wg, stop, func() bool {
				if err := s.WriteBatch(ctx, testBatch(500, 3, time.Now())); err == nil {
					acked.Add(500)
				} else if errors.Is(err, sink.ErrUnavailable) {
					refused.Add(1)
					time.Sleep(20 * time.Millisecond)
				} else {
					t.Error(err)
					return false
				}
				return true
			})
			untilClosed(&wg, stop, func() bool {
				if _, err := s.Query(ctx, "SELECT agent, count() FROM "+testTable+" GROUP BY agent"); err != nil && !errors.Is(err, sink.ErrUnavailable) {
					t.Error(err)
					return false
				}
				return true
			})

			testkit.WaitFor(t, 30*time.Second, "some rows", func() bool { return acked.Load() >= 5000 })
			pid := workerPID(s)
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed := time.Now()
			testkit.WaitFor(t, 60*time.Second, "a new worker", func() bool { p := workerPID(s); return p != 0 && p != pid })
			back := time.Since(killed)
			ackedAtKill := acked.Load()
			testkit.WaitFor(t, 30*time.Second, "writes after the restart", func() bool { return acked.Load() > ackedAtKill+5000 })
			close(stop)
			wg.Wait()

			if n := count(t, s); n < uint64(acked.Load()) {
				t.Fatalf("%d rows stored, %d acknowledged: acknowledged rows were lost", n, acked.Load())
			} else {
				t.Logf("back %s after kill -9; %d rows acknowledged, %d stored (a batch in flight at the kill may be stored yet unacknowledged), %d writes refused while down; HTTP: %d served, %d failed",
					back.Round(time.Millisecond), acked.Load(), n, refused.Load(), served.Load(), failedHTTP.Load())
			}
			if failedHTTP.Load() != 0 {
				t.Fatalf("%d HTTP requests failed while the engine was killed", failedHTTP.Load())
			}
			if c := s.Stats().Crashes; c != 1 {
				t.Fatalf("crashes %d", c)
			}
			dir := s.Dir()
			s.Close()
			if _, err := os.Stat(dir); memory == !os.IsNotExist(err) {
				t.Fatalf("memory=%v: data dir after Close: %v", memory, err)
			}
		})
	}
}

// TestRealEngineLimits: a query over the memory limit or the time limit
// fails inside the engine, cleanly, without a restart, and leaves nothing
// behind for the next query.
func TestRealEngineLimits(t *testing.T) {
	opts := realOptions(t)
	opts.MemoryLimit = 1 << 30
	opts.QueryTimeout = 20 * time.Second
	s := mustOpen(t, opts)
	ctx := context.Background()
	pid := workerPID(s)
	rows, err := s.Query(ctx, "SELECT getSetting('max_memory_usage') AS m, getSetting('max_execution_time') AS t, getSetting('readonly') AS r")
	if err != nil || fmt.Sprint(rows.Data) != "[[402653184 20 2]]" {
		t.Fatalf("read connection settings: %v, %v", rows, err)
	}
	var ee *EngineError
	_, err = s.Query(ctx, "SELECT length(groupArray(toString(number))) FROM numbers(100000000)")
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "MEMORY_LIMIT_EXCEEDED") {
		t.Fatalf("memory: %v", err)
	}
	_, err = s.Query(ctx, "SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1 SETTINGS max_execution_time = 1")
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "TIMEOUT_EXCEEDED") {
		t.Fatalf("timeout: %v", err)
	}
	// chDB keeps the output of a statement that failed half-way and hands
	// it to the next one; the worker must have cleaned it up.
	_, err = s.Query(ctx, "SELECT number, throwIf(number = 300000, 'boom') FROM numbers(1000000)")
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("failing half-way: %v", err)
	}
	rows, err = s.Query(ctx, "SELECT 42 AS answer")
	if err != nil || fmt.Sprint(rows.Columns, rows.Types, rows.Data) != "[answer] [UInt8] [[42]]" {
		t.Fatalf("after a failed query: %v, %v", rows, err)
	}
	if err := s.Exec(ctx, "SELECT number, throwIf(number = 300000, 'boom') FROM numbers(1000000)"); err == nil {
		t.Fatal("exec of a failing statement succeeded")
	}
	if err := s.Exec(ctx, "INSERT INTO "+testTable+" (id) VALUES ('after')"); err != nil || count(t, s) != 1 {
		t.Fatalf("write after a failed statement: %v", err)
	}
	if workerPID(s) != pid {
		t.Fatal("limits restarted the worker")
	}
}

// TestRealWorkerSignals: the process that loads libchdb keeps Go's signal
// handling. SIGTERM closes the engine and exits 0, SIGINT is ignored (the
// parent decides), SIGQUIT prints Go's goroutine dump.
func TestRealWorkerSignals(t *testing.T) {
	opts := realOptions(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	opts.Logger = zerolog.New(zerolog.SyncWriter(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	})))
	s := mustOpen(t, opts)
	logged := func(s string) bool { mu.Lock(); defer mu.Unlock(); return strings.Contains(logs.String(), s) }

	// The parent, whose worker has the library loaded, still gets its
	// signals through signal.Notify.
	parent := make(chan os.Signal, 1)
	signal.Notify(parent, syscall.SIGHUP)
	_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
	select {
	case <-parent:
		signal.Stop(parent)
	case <-time.After(5 * time.Second):
		t.Fatal("SIGHUP to the parent never arrived")
	}

	pid := workerPID(s)
	_ = syscall.Kill(pid, syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	if workerPID(s) != pid || count(t, s) != 0 {
		t.Fatal("SIGINT stopped the worker")
	}
	if st := s.Stats(); st.WorkerPID != pid || st.WorkerRSS < 50<<20 {
		t.Fatalf("stats %+v", st)
	}

	_ = syscall.Kill(pid, syscall.SIGTERM)
	testkit.WaitFor(t, 30*time.Second, "SIGTERM exit", func() bool { return logged("SIGTERM: closing the engine") && logged("exit status 0") })
	testkit.WaitFor(t, 60*time.Second, "a new worker", func() bool { p := workerPID(s); return p != 0 && p != pid })

	_ = syscall.Kill(workerPID(s), syscall.SIGQUIT)
	testkit.WaitFor(t, 30*time.Second, "a goroutine dump", func() bool { return logged("SIGQUIT: quit") && logged("goroutine ") })
	waitAvailable(t, s)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestRealSignalsInLoadingProcess loads libchdb into a fresh process (this
// test binary in "signals" mode) and checks there that every handler Go had
// is still Go's, that signal.Notify still delivers, and that a nil pointer
// dereference is still a recoverable Go panic.
func TestRealSignalsInLoadingProcess(t *testing.T) {
	lib := realLib(t)
	cmd := exec.Command(os.Args[0], "--", "--path", t.TempDir(), "--lib", lib)
	cmd.Env = append(os.Environ(), testWorkerEnv+"=signals", "GORACE=atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil || !strings.Contains(string(out), "signals OK") {
		t.Fatalf("signal checks failed: %v", err)
	}
}

// signalsCheck runs in the child of TestRealSignalsInLoadingProcess.
func signalsCheck(args []string) int {
	cfg, err := parseWorkerArgs(args)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	notified := make(chan os.Signal, 1)
	signal.Notify(notified, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	before := snapshotSignals()
	e, err := openChdb(cfg)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer e.Close()
	if _, err := e.Exec([]byte("CREATE TABLE t (a UInt8) ENGINE = Memory")); err != nil {
		fmt.Println(err)
		return 1
	}
	after := snapshotSignals()
	bad := 0
	for sig := 1; sig < numSignals; sig++ {
		if h := before[sig].handler; h != sigDfl && h != sigIgn && after[sig] != before[sig] {
			fmt.Printf("signal %d (%s): Go's handler was replaced\n", sig, syscall.Signal(sig))
			bad++
		}
		if h := after[sig].handler; h != sigDfl && h != sigIgn && after[sig].flags&saOnStack == 0 {
			fmt.Printf("signal %d (%s): handler without SA_ONSTACK\n", sig, syscall.Signal(sig))
			bad++
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		_ = syscall.Kill(os.Getpid(), sig)
		select {
		case got := <-notified:
			if got != sig {
				fmt.Printf("sent %s, got %s\n", sig, got)
				bad++
			}
		case <-time.After(5 * time.Second):
			fmt.Printf("%s sent to self never arrived through signal.Notify\n", sig)
			bad++
		}
	}
	if !nilPanicRecovers() {
		fmt.Println("a nil pointer dereference is no longer a Go panic")
		bad++
	}
	// SIGPROF: the CPU profiler still gets samples.
	var prof bytes.Buffer
	if err := pprof.StartCPUProfile(&prof); err != nil {
		fmt.Println(err)
		bad++
	} else {
		for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		}
		pprof.StopCPUProfile()
		if prof.Len() < 200 {
			fmt.Printf("CPU profile of %d bytes: no samples\n", prof.Len())
			bad++
		}
	}
	if bad > 0 {
		return 1
	}
	fmt.Println("signals OK")
	return 0
}

func nilPanicRecovers() (ok bool) {
	defer func() { ok = recover() != nil }()
	var p *int
	return *p == 1
}

// TestRealPerimeterBinaryWorker runs the worker the way production does:
// the perimeter binary re-executed as `perimeter __chdb-worker -- …`.
func TestRealPerimeterBinaryWorker(t *testing.T) {
	opts := eventsOptions(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build cmd/perimeter with")
	}
	bin := filepath.Join(t.TempDir(), "perimeter")
	build := exec.Command(goTool, "build", "-o", bin, "../../cmd/perimeter")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build cmd/perimeter: %v\n%s", err, out)
	}
	opts.WorkerCommand = []string{bin, WorkerCommand}
	s := mustOpen(t, opts)
	ctx := context.Background()
	if err := s.WriteBatch(ctx, eventsBatch(100, time.Now())); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Query(ctx, "SELECT count() FROM "+sink.EventsSource(s.Schema()))
	if err != nil || fmt.Sprint(rows.Data) != "[[100]]" {
		t.Fatalf("%v, %v", rows, err)
	}
	// By hand, without the parent's descriptors, it refuses politely.
	out, err := exec.Command(bin, WorkerCommand, "--", "--path", t.TempDir(), "--lib", opts.LibPath).CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), "started by perimeter only") {
		t.Fatalf("by hand: exit %d, %s", code, out)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestRealEngineBudget: the worker's engine runs with engineBudget's
// caches and merge pool and the memory ceiling, and has let go of the
// library pages its start touched: its file-backed resident set is well
// below the ~175 MiB a start leaves, and code it dropped (JSON functions,
// quantiles, date formatting, the merge of a table) still runs.
func TestRealEngineBudget(t *testing.T) {
	opts := eventsOptions(t)
	opts.MemoryLimit = 1 << 30
	s := mustOpen(t, opts)
	ctx := context.Background()
	pid := workerPID(s)
	rss, anon := rssOf(pid)
	if file := rss - anon; file > 120<<20 {
		t.Errorf("worker keeps %d MiB of the library resident after start", file>>20)
	}
	rows, err := s.Query(ctx, "SELECT name, value FROM system.server_settings WHERE name IN ('max_server_memory_usage', 'mark_cache_size', 'background_pool_size', 'merges_mutations_memory_usage_soft_limit') ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([][]any{{"background_pool_size", "2"}, {"mark_cache_size", strconv.Itoa(64 << 20)}, {"max_server_memory_usage", strconv.Itoa(3 << 28)}, {"merges_mutations_memory_usage_soft_limit", strconv.Itoa(3 << 26)}})
	if got := fmt.Sprint(rows.Data); got != want {
		t.Fatalf("engine settings %s, want %s", got, want)
	}
	rows, err = s.Query(ctx, "SELECT * FROM system.jemalloc_stats")
	if err != nil {
		t.Fatal(err)
	}
	if stats := fmt.Sprint(rows.Data); !strings.Contains(stats, "opt.dirty_decay_ms: 1000 ") {
		t.Errorf("the engine's allocator keeps freed pages: %s", regexp.MustCompile(`opt\.dirty_decay_ms: [^\n]*`).FindString(stats))
	}
	for range 3 {
		if err := s.WriteBatch(ctx, captureBatch(2000, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Exec(ctx, "OPTIMIZE TABLE perimeter.events FINAL"); err != nil {
		t.Fatal(err)
	}
	rows, err = s.Query(ctx, "SELECT count(), uniqExact(JSONExtractString(attributes, 'session.id')), quantileExact(0.5)(length(attributes)) > 0, formatDateTime(max(ts), '%Y') FROM "+sink.EventsSource(s.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rows.Data); got != fmt.Sprint([][]any{{uint64(6000), uint64(200), uint8(1), time.Now().UTC().Format("2006")}}) {
		t.Fatalf("after dropping start-up pages: %s", got)
	}
}
