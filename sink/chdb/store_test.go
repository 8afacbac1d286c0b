package chdb

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
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

// dummyLib is a file named libchdb.so: fake workers never load it.
func dummyLib(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "libchdb.so")
	if err := os.WriteFile(p, []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func fakeOptions(t *testing.T, mode string) Options {
	return Options{
		Path:          t.TempDir(),
		LibPath:       dummyLib(t),
		WorkerCommand: workerCommand(mode),
		Logger:        zerolog.New(zerolog.NewTestWriter(t)),
		MinBackoff:    20 * time.Millisecond,
		MaxBackoff:    200 * time.Millisecond,
		StartTimeout:  20 * time.Second,
		Setup:         func(context.Context, Conn) error { return nil },
	}
}

func open(t *testing.T, opts Options) (*Store, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, opts)
	if s == nil {
		t.Fatal("Open returned no store")
	}
	t.Cleanup(func() { s.Close() })
	return s, err
}

func mustOpen(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := open(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// untilClosed runs body in a goroutine of wg again and again until stop
// is closed, or until body returns false.
func untilClosed(wg *sync.WaitGroup, stop <-chan struct{}, body func() bool) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if !body() {
				return
			}
		}
	}()
}

// serveDuring serves HTTP from this process and keeps `clients` clients
// requesting it until stop is closed: what the parent must keep doing
// while its worker dies. It counts the requests served and failed.
func serveDuring(t *testing.T, wg *sync.WaitGroup, stop <-chan struct{}, clients int) (served, failed *atomic.Int64) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	served, failed = new(atomic.Int64), new(atomic.Int64)
	for range clients {
		untilClosed(wg, stop, func() bool {
			resp, err := srv.Client().Get(srv.URL)
			if err != nil || resp.StatusCode != 200 {
				failed.Add(1)
				return true
			}
			resp.Body.Close()
			served.Add(1)
			return true
		})
	}
	return served, failed
}

func waitAvailable(t *testing.T, s *Store) {
	t.Helper()
	testkit.WaitFor(t, 30*time.Second, "the store to be available", func() bool { return s.Status().Available })
}

func workerPID(s *Store) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return 0
	}
	return s.cur.cmd.Process.Pid
}

// fakeState asks a fake worker for its exec count and pid.
func fakeState(t *testing.T, s *Store) (execs int64, pid int64) {
	t.Helper()
	rows, err := s.Query(context.Background(), "STATE")
	if err != nil {
		t.Fatal(err)
	}
	return rows.Data[0][0].(int64), rows.Data[0][1].(int64)
}

func TestStoreServesAndRecoversFromCrash(t *testing.T) {
	s := mustOpen(t, fakeOptions(t, "fake"))
	st := s.Status()
	if !st.Available || st.Engine != "embedded" || st.Version != "fake 1.0 (ClickHouse 26.7.2.1)" || s.ServerVersion() != "26.7.2.1" {
		t.Fatalf("status %+v, server version %q", st, s.ServerVersion())
	}
	ctx := context.Background()
	if err := s.Exec(ctx, "INSERT x"); err != nil {
		t.Fatal(err)
	}
	execs, pid := fakeState(t, s)
	if execs != 1 || int(pid) != workerPID(s) {
		t.Fatalf("execs %d pid %d, worker %d", execs, pid, workerPID(s))
	}

	// An engine error is the statement's problem, not the engine's.
	err := s.Exec(ctx, "FAIL syntax error")
	var ee *EngineError
	if !errors.As(err, &ee) || errors.Is(err, sink.ErrUnavailable) || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("engine error: %v", err)
	}
	if workerPID(s) != int(pid) {
		t.Fatal("an engine error restarted the worker")
	}

	err = s.Exec(ctx, "CRASH")
	if !errors.Is(err, sink.ErrUnavailable) || !strings.Contains(err.Error(), "exit status 7") {
		t.Fatalf("crash: %v", err)
	}
	waitAvailable(t, s)
	execs, pid2 := fakeState(t, s)
	if pid2 == pid || execs != 0 {
		t.Fatalf("after the crash: pid %d (was %d), execs %d", pid2, pid, execs)
	}
	if st := s.Stats(); st.Crashes != 1 || st.Restarts != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStoreFailsFastWhileDown(t *testing.T) {
	opts := fakeOptions(t, "fake")
	opts.MinBackoff, opts.MaxBackoff = time.Second, time.Second
	s := mustOpen(t, opts)
	_ = s.Exec(context.Background(), "SEGV")
	if st := s.Status(); st.Available || !strings.Contains(st.Reason, "SIGSEGV") || !strings.Contains(st.Reason, "restarting in") {
		// The status flips when the supervisor sees the exit; allow it a moment.
		testkit.WaitFor(t, 2*time.Second, "status down", func() bool { return !s.Status().Available })
	}
	start := time.Now()
	for _, err := range []error{
		s.Exec(context.Background(), "x"),
		s.WriteBatch(context.Background(), []*sink.Event{{Name: "a"}}),
		func() error { _, err := s.Query(context.Background(), "x"); return err }(),
	} {
		if !errors.Is(err, sink.ErrUnavailable) {
			t.Fatalf("while down: %v", err)
		}
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("calls while down took %s; they must fail at once so the pipeline spills", d)
	}
	st := s.Status()
	if !strings.Contains(st.Reason, "killed by segmentation fault") || st.Fix == "" {
		t.Fatalf("status while down: %+v", st)
	}
	waitAvailable(t, s)
}

func TestStoreKill9WithRequestsInFlight(t *testing.T) {
	s := mustOpen(t, fakeOptions(t, "fake"))
	pid := workerPID(s)
	errs := make(chan error, 2)
	go func() { errs <- s.Exec(context.Background(), "SLEEP 10s") }()
	go func() { _, err := s.Query(context.Background(), "SLEEP 10s"); errs <- err }()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; !errors.Is(err, sink.ErrUnavailable) || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("in-flight request: %v", err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("in-flight requests failed %s after the kill", d)
	}
	waitAvailable(t, s)
	if _, p := fakeState(t, s); int(p) == pid {
		t.Fatal("not restarted")
	}
}

func TestStoreRestartsHungWorker(t *testing.T) {
	opts := fakeOptions(t, "fake")
	opts.QueryTimeout, opts.WriteTimeout, opts.hangGrace = 300*time.Millisecond, 300*time.Millisecond, 100*time.Millisecond
	s := mustOpen(t, opts)
	for _, lane := range []string{"read", "write"} {
		pid := workerPID(s)
		start := time.Now()
		var err error
		if lane == "read" {
			_, err = s.Query(context.Background(), "HANG")
		} else {
			err = s.Exec(context.Background(), "HANG")
		}
		if !errors.Is(err, sink.ErrUnavailable) || !strings.Contains(err.Error(), "hung: no answer on the "+lane+" connection") {
			t.Fatalf("%s lane: %v", lane, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%s lane: hang detected after %s", lane, d)
		}
		waitAvailable(t, s)
		if workerPID(s) == pid {
			t.Fatalf("%s lane: same worker after a hang", lane)
		}
	}
}

func TestStoreCallerGivingUpLeavesWorkerAlone(t *testing.T) {
	s := mustOpen(t, fakeOptions(t, "fake"))
	pid := workerPID(s)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Query(ctx, "SLEEP 300ms"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	// The late answer is dropped; the next request gets its own.
	_, p := fakeState(t, s)
	if int(p) != pid {
		t.Fatal("worker restarted because a caller gave up")
	}
}

func TestStoreMemoryLimit(t *testing.T) {
	opts := fakeOptions(t, "fake")
	opts.MemoryLimit = 120 << 20
	s := mustOpen(t, opts)
	pid := workerPID(s)
	// The sampler may catch the worker during the statement (the statement
	// fails) or just after it (the statement succeeded); either way the
	// worker over its limit is replaced.
	err := s.Exec(context.Background(), "GROW 400")
	if err != nil && (!errors.Is(err, sink.ErrUnavailable) || !strings.Contains(err.Error(), "over its limit of 120 MiB")) {
		t.Fatalf("err = %v", err)
	}
	testkit.WaitFor(t, 30*time.Second, "the worker over its memory limit to be replaced", func() bool {
		p := workerPID(s)
		return p != 0 && p != pid
	})
	waitAvailable(t, s)
}

func TestStoreStartFailures(t *testing.T) {
	tests := []struct {
		mode   string
		reason string
	}{
		{"exit", "cannot open the engine"},
		{"refuse", "disk full"},
		{"silent", "did not start within"},
		{"garbage", "worker protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			opts := fakeOptions(t, tt.mode)
			opts.StartTimeout = 500 * time.Millisecond
			opts.MinBackoff, opts.MaxBackoff = 10*time.Millisecond, 40*time.Millisecond
			s, err := open(t, opts)
			// The garbage worker greets correctly; whether its garbage has
			// arrived when Open returns is a matter of timing.
			if tt.mode != "garbage" && (!errors.Is(err, sink.ErrUnavailable) || !strings.Contains(err.Error(), tt.reason)) {
				t.Fatalf("Open: %v", err)
			}
			testkit.WaitFor(t, 20*time.Second, "keeps failing", func() bool {
				st := s.Status()
				return !st.Available && strings.Contains(st.Reason, "keeps failing") && strings.Contains(st.Reason, tt.reason)
			})
			if st := s.Status(); !strings.Contains(st.Fix, "chdb-worker lines in the log") {
				t.Fatalf("fix: %+v", st)
			}
		})
	}
}

func TestStoreLibraryMissing(t *testing.T) {
	opts := fakeOptions(t, "fake")
	opts.LibPath = filepath.Join(t.TempDir(), "libchdb.so")
	opts.LibRecheck = 50 * time.Millisecond
	s, err := open(t, opts)
	const why = `libchdb.so not found (run "make chdb" or set CHDB_LIB_PATH)`
	if !errors.Is(err, sink.ErrUnavailable) || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "open embedded ClickHouse at ") {
		t.Fatalf("Open: %v", err)
	}
	st := s.Status()
	if st.Available || st.Engine != "embedded" || !strings.Contains(st.Reason, why) || !strings.Contains(st.Fix, "make chdb") {
		t.Fatalf("status %+v", st)
	}
	if err := s.WriteBatch(context.Background(), []*sink.Event{{Name: "x"}}); !errors.Is(err, sink.ErrUnavailable) {
		t.Fatalf("WriteBatch: %v", err)
	}
	if _, err := s.Query(context.Background(), "SELECT 1"); !errors.Is(err, sink.ErrUnavailable) {
		t.Fatalf("Query: %v", err)
	}

	if workerPID(s) != 0 {
		t.Fatal("a worker runs without the library")
	}

	// Installing the library turns analytics on without a restart.
	if err := os.WriteFile(opts.LibPath, []byte("now it is here"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitAvailable(t, s)
}

func TestStoreWriteBatch(t *testing.T) {
	opts := fakeOptions(t, "fake")
	s := mustOpen(t, opts)
	var sent []string
	s.opts.Insert = func(dst []byte, batch []*sink.Event) []byte {
		dst = s.insertValues(dst, batch)
		sent = append(sent, string(dst))
		return dst
	}
	for i := range 3 {
		if err := s.WriteBatch(context.Background(), []*sink.Event{{Name: "n" + strconv.Itoa(i)}, {Name: "m"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteBatch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if execs, _ := fakeState(t, s); execs != 3 || len(sent) != 3 {
		t.Fatalf("execs %d, sent %d", execs, len(sent))
	}
	// The pooled buffer is reused without leaking one batch into the next.
	if !strings.HasPrefix(sent[2], "INSERT INTO `perimeter`.`events` (`id`") || !strings.Contains(sent[2], "'n2'") || strings.Contains(sent[2], "'n1'") {
		t.Fatalf("insert: %.200s", sent[2])
	}
}

// TestStoreWithoutInsertStream: with a library that has no streaming
// INSERT the store falls back to VALUES text at the first insert and stays
// there; no batch is lost.
func TestStoreWithoutInsertStream(t *testing.T) {
	s := mustOpen(t, fakeOptions(t, "fake-nostream"))
	for i := range 3 {
		if err := s.WriteBatch(context.Background(), []*sink.Event{{Name: "n" + strconv.Itoa(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if execs, _ := fakeState(t, s); execs != 3 || !s.noInsertStream.Load() {
		t.Fatalf("%d VALUES inserts, fallback %v", execs, s.noInsertStream.Load())
	}
}

func TestStoreCloseIsGracefulAndMemoryDirGoes(t *testing.T) {
	// A directory left by a proxy that died without closing.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(os.TempDir(), "perimeter-chdb-"+strconv.Itoa(dead.Process.Pid)+"-stale")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	opts := fakeOptions(t, "fake")
	opts.Memory = true
	s := mustOpen(t, opts)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale memory directory %s survived: %v", stale, err)
	}
	dir := s.Dir()
	if _, err := os.Stat(dir); err != nil || !strings.HasPrefix(filepath.Base(dir), "perimeter-chdb-"+strconv.Itoa(os.Getpid())+"-") {
		t.Fatalf("memory dir %q: %v", dir, err)
	}
	s.mu.Lock()
	p := s.cur
	s.mu.Unlock()
	s.Close()
	s.Close()
	if st := p.cmd.ProcessState; st == nil || st.ExitCode() != 0 {
		t.Fatalf("worker did not exit cleanly: %v", st)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("memory dir still there: %v", err)
	}
	if st := s.Status(); st.Available {
		t.Fatal("available after Close")
	}
}

// TestParentKeepsServingWhileWorkerDies is the isolation property with a
// fake engine: an HTTP server in this process answers every request while
// its worker crashes, segfaults, hangs and is killed.
func TestParentKeepsServingWhileWorkerDies(t *testing.T) {
	opts := fakeOptions(t, "fake")
	opts.QueryTimeout, opts.hangGrace = 200*time.Millisecond, 100*time.Millisecond
	s := mustOpen(t, opts)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	served, failed := serveDuring(t, &wg, stop, 4)
	for _, blow := range []func(){
		func() { _ = s.Exec(context.Background(), "CRASH") },
		func() { _ = s.Exec(context.Background(), "SEGV") },
		func() { _, _ = s.Query(context.Background(), "HANG") },
		func() { _ = syscall.Kill(workerPID(s), syscall.SIGKILL) },
	} {
		pid := workerPID(s)
		blow()
		testkit.WaitFor(t, 30*time.Second, "a new worker", func() bool { p := workerPID(s); return p != 0 && p != pid })
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || served.Load() == 0 {
		t.Fatalf("served %d, failed %d", served.Load(), failed.Load())
	}
	if c := s.Stats().Crashes; c != 4 {
		t.Fatalf("crashes %d, want 4", c)
	}
	t.Logf("served %d requests while the worker died 4 times", served.Load())
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 10: 5 * time.Second} {
		for range 50 {
			d := backoff(100*time.Millisecond, 5*time.Second, n)
			if d < want*8/10 || d > want*12/10 {
				t.Fatalf("backoff(n=%d) = %s, want %s ±20%%", n, d, want)
			}
		}
	}
}

func TestFindLib(t *testing.T) {
	lib := dummyLib(t)
	t.Setenv(EnvLibPath, "")
	if got, err := FindLib(lib); err != nil || got != lib {
		t.Fatalf("configured: %q, %v", got, err)
	}
	if _, err := FindLib(lib + ".missing"); !errors.Is(err, ErrLibNotFound) || !strings.Contains(err.Error(), "storage.embedded.lib_path") {
		t.Fatalf("configured but missing: %v", err)
	}
	t.Setenv(EnvLibPath, lib)
	if got, err := FindLib(""); err != nil || got != lib {
		t.Fatalf("env: %q, %v", got, err)
	}
	t.Setenv(EnvLibPath, "/nonexistent/libchdb.so")
	if _, err := FindLib(""); !errors.Is(err, ErrLibNotFound) || !strings.Contains(err.Error(), EnvLibPath) {
		t.Fatalf("env but missing: %v", err)
	}
	t.Setenv(EnvLibPath, "")
	// The install location, from a subdirectory of the module root.
	root := t.TempDir()
	inst := filepath.Join(root, installDir, "libchdb.so")
	if err := os.MkdirAll(filepath.Dir(inst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inst, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "sink", "chdb")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	if got, err := FindLib(""); err != nil || got != inst {
		t.Fatalf("install dir: %q, %v", got, err)
	}
}
