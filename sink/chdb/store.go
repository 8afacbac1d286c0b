package chdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/internal/defaults"
	"github.com/cylestio/perimeter/internal/sched"
	"github.com/cylestio/perimeter/sink"
)

// DefaultPath is storage.embedded.path's default.
const DefaultPath = "./data/perimeter"

// Options configure Open. Zero values take the defaults.
type Options struct {
	// Path is the data directory (storage.embedded.path). Ignored when
	// Memory is set.
	Path string
	// Memory keeps the data in a private temporary directory that Close
	// removes: storage.embedded.ephemeral, or the original's live_trace
	// storage_mode "memory" written explicitly. It survives worker
	// restarts, not the proxy. Status reports it (Ephemeral, Warning).
	Memory bool
	// MemoryReason is the setting that asked for Memory, for Status.
	MemoryReason string
	// LibPath is libchdb.so (storage.embedded.lib_path); empty looks it up
	// with FindLib.
	LibPath string
	Logger  zerolog.Logger
	// WorkerCommand starts a worker; "--" and the worker flags are
	// appended. Default: this executable with WorkerCommand. Tests pass
	// their own binary.
	WorkerCommand []string
	// MemoryLimit bounds the worker's resident memory: above it the worker
	// is killed and restarted. Inside, the engine gets three quarters of it
	// as max_server_memory_usage and each statement half of that as
	// max_memory_usage, so that a heavy query fails on its own long before
	// the watchdog has to act. Default 2 GiB; negative turns all three off.
	MemoryLimit int64
	// QueryTimeout bounds a read inside the engine (max_execution_time);
	// a read lane silent for QueryTimeout+5s means the engine is hung and
	// it is restarted. Default 30s.
	QueryTimeout time.Duration
	// WriteTimeout is the same for writes. Default 60s.
	WriteTimeout time.Duration
	// StartTimeout bounds loading the library and opening the engine.
	// Default 60s.
	StartTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between restarts; it
	// doubles with each failure in a row. Defaults 250ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// LibRecheck is how often a missing libchdb.so is looked for again, so
	// that "make chdb" turns analytics on without a restart. Default 10s.
	LibRecheck time.Duration
	// Schema says where the events tables live (database; Cluster must be
	// empty for the embedded engine).
	Schema sink.SchemaOptions
	// Setup runs after every worker start, before the store reports itself
	// available. An error counts as a failed start. Default: the events
	// schema's migrations (sink.Migrate).
	Setup func(ctx context.Context, c Conn) error
	// InsertInterval is the least time between two inserts
	// (storage.embedded.insert_interval_ms; sink.Pacer): the pipeline
	// coalesces the batches queued meanwhile into one insert, or writes at
	// once when a full write (sink.Options.MaxWriteRows) is queued. Each
	// insert makes a part that merges rewrite, so one insert a second costs
	// the engine about a third of the CPU per event of five. Default 1s;
	// negative writes each batch as it comes.
	InsertInterval time.Duration
	// Insert renders a batch as one INSERT statement appended to dst
	// (tests, other tables). Default: the events table's columns in
	// ClickHouse's Native format (sink.AppendNative) through chDB's
	// streaming INSERT, which costs the engine about 40 % less CPU than
	// the same rows as VALUES text (docs/storage.md).
	Insert func(dst []byte, batch []*sink.Event) []byte

	// settings are extra engine settings for the worker, keepCode its
	// KeepCode, noBudget leaves out engineBudget (benchmarks).
	settings   []string
	keepCode   bool
	noBudget   bool
	mallocConf string // replaces engineMallocConf (benchmarks)

	// hangGrace is how long past its timeout a lane may stay silent before
	// the worker counts as hung (tests shorten it).
	hangGrace time.Duration
}

// Conn is a started engine as Setup sees it (and as sink.Migrate wants it).
type Conn interface {
	Exec(ctx context.Context, sql string) error
	Query(ctx context.Context, sql string, args ...any) (*sink.Rows, error)
	// ServerVersion is the engine's ClickHouse version, "26.7.2.1".
	ServerVersion() string
}

// engineName is this store in Status and logs.
const engineName = configs.EngineEmbedded

const fixTransient = "nothing to do if it comes back; the proxy is unaffected and writes are kept until it does"

func (o *Options) defaults() {
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = 2 << 30
	}
	defaults.Set(&o.QueryTimeout, 30*time.Second)
	if o.InsertInterval == 0 {
		o.InsertInterval = time.Second
	}
	defaults.Set(&o.WriteTimeout, 60*time.Second)
	defaults.Set(&o.StartTimeout, 60*time.Second)
	defaults.Set(&o.MinBackoff, 250*time.Millisecond)
	defaults.Set(&o.MaxBackoff, 30*time.Second)
	defaults.Set(&o.LibRecheck, 10*time.Second)
	defaults.Set(&o.hangGrace, 5*time.Second)
}

// Store is the embedded ClickHouse behind a supervised worker process. It
// implements sink.Store. All methods are safe for concurrent use; writes
// and reads run on separate engine connections.
type Store struct {
	opts         Options
	log          zerolog.Logger
	insertPrefix string
	dir          string
	tempDir      bool

	mu       sync.Mutex
	cur      *proc // nil while no worker is serving
	status   sink.Status
	chVer    string
	settled  chan struct{} // closed once the first start has succeeded or failed
	settleMu sync.Once

	restarts       atomic.Int64
	crashes        atomic.Int64
	noInsertStream atomic.Bool // the library has no streaming INSERT

	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	bufs      sync.Pool // *insertBuf
}

// insertBuf is what rendering one insert needs, pooled.
type insertBuf struct {
	b    []byte
	cols sink.ColumnBatch
}

// Open starts the embedded engine and waits, at most until ctx ends, for
// the first start to succeed or fail. It never fails the caller's startup:
// it always returns a usable Store, whose Status says why analytics are off
// while they are (libchdb.so missing, engine crashing) and which keeps
// trying in the background. The error is non-nil exactly when the store is
// not available on return; it carries the Status reason and fix, for the
// startup log.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts.defaults()
	s := &Store{
		opts:    opts,
		log:     opts.Logger.With().Str("store", "embedded").Logger(),
		settled: make(chan struct{}),
		done:    make(chan struct{}),
		status:  sink.Status{Engine: engineName, Reason: "embedded ClickHouse is starting"},
	}
	s.opts.Schema.Cluster = "" // one engine, one node
	s.opts.Schema.Embedded = true
	s.insertPrefix = sink.InsertPrefix(s.opts.Schema)
	if s.opts.Setup == nil {
		s.opts.Setup = s.migrate
	}
	if len(s.opts.WorkerCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			exe = os.Args[0]
		}
		s.opts.WorkerCommand = []string{exe, WorkerCommand}
	}
	if err := s.prepareDir(); err != nil {
		s.setDown(err.Error(), "set storage.embedded.path to a writable directory")
		s.settle()
		close(s.done)
		s.cancel = func() {}
		return s, s.statusErr()
	}
	sctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.supervise(sctx)
	select {
	case <-s.settled:
	case <-ctx.Done():
	}
	return s, s.statusErr()
}

func (s *Store) statusErr() error {
	st := s.Status()
	if st.Available {
		return nil
	}
	msg := "open embedded ClickHouse at " + s.dir + ": " + st.Reason
	if st.Fix != "" {
		msg += "; " + st.Fix
	}
	return fmt.Errorf("%s: %w", msg, sink.ErrUnavailable)
}

// prepareDir settles the data directory: Path, or for Memory a fresh
// temporary directory (and the removal of those left by proxies that died
// without closing).
func (s *Store) prepareDir() error {
	if !s.opts.Memory {
		abs, err := filepath.Abs(s.opts.Path)
		if err != nil {
			return err
		}
		s.dir = abs
		if err := os.MkdirAll(abs, 0o750); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		return nil
	}
	removeStaleTempDirs()
	dir, err := os.MkdirTemp("", "perimeter-chdb-"+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return fmt.Errorf("temporary data directory for storage_mode memory: %w", err)
	}
	s.dir, s.tempDir = dir, true
	return nil
}

func removeStaleTempDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "perimeter-chdb-*-*"))
	for _, d := range dirs {
		f := strings.SplitN(filepath.Base(d), "-", 4)
		if len(f) < 4 {
			continue
		}
		pid, err := strconv.Atoi(f[2])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(d)
		}
	}
}

// Dir is the data directory in use.
func (s *Store) Dir() string { return s.dir }

// Name implements sink.Writer.
func (s *Store) Name() string { return engineName }

// WriteInterval implements sink.Pacer: Options.InsertInterval, 0 when
// pacing is off.
func (s *Store) WriteInterval() time.Duration { return max(s.opts.InsertInterval, 0) }

// Status implements sink.Store.
func (s *Store) Status() sink.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.isDead() {
		// The supervisor is about to say more; until then, do not claim
		// a worker that is gone.
		return s.ephemeral(sink.Status{Engine: engineName, Reason: "embedded ClickHouse worker stopped (" + s.cur.err().Error() + "); restarting", Fix: fixTransient, Version: s.status.Version})
	}
	return s.ephemeral(s.status)
}

// ephemeral marks st when the data dies with the proxy.
func (s *Store) ephemeral(st sink.Status) sink.Status {
	if s.opts.Memory {
		st.Ephemeral = true
		st.Warning = EphemeralWarning(s.opts.MemoryReason)
	}
	return st
}

// EphemeralWarning says that analytics do not survive a restart, why, and
// how to keep them.
func EphemeralWarning(reason string) string {
	if reason == "" {
		reason = "Options.Memory"
	}
	return "analytics are ephemeral: events are kept in a temporary directory deleted when perimeter stops (" + reason +
		"); remove that setting to keep them in storage.embedded.path"
}

// ServerVersion is the engine's ClickHouse version ("26.7.2.1"), empty
// until it has started once.
func (s *Store) ServerVersion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chVer
}

// Version is ServerVersion parsed, as the server store reports it.
func (s *Store) Version() sink.ServerVersion {
	v, _ := sink.ParseServerVersion(s.ServerVersion())
	return v
}

// Schema is where the tables live (for readers building SQL).
func (s *Store) Schema() sink.SchemaOptions { return s.opts.Schema }

// Stats are counters and gauges for /metrics.
type Stats struct {
	Restarts  int64 // worker starts after the first
	Crashes   int64 // worker exits the store did not ask for (crash, kill, hang, memory)
	WorkerPID int   // 0 while no worker serves
	WorkerRSS int64 // the worker's resident memory in bytes
}

// Stats returns the counters so far and the worker's current size.
func (s *Store) Stats() Stats {
	st := Stats{Restarts: s.restarts.Load(), Crashes: s.crashes.Load()}
	s.mu.Lock()
	if s.cur != nil && !s.cur.isDead() {
		st.WorkerPID = s.cur.cmd.Process.Pid
	}
	s.mu.Unlock()
	if st.WorkerPID != 0 {
		st.WorkerRSS = processRSS(st.WorkerPID)
	}
	return st
}

func (s *Store) settle() { s.settleMu.Do(func() { close(s.settled) }) }

func (s *Store) setDown(reason, fix string) {
	s.mu.Lock()
	s.cur = nil
	s.status = sink.Status{Engine: engineName, Reason: reason, Fix: fix, Version: s.status.Version}
	s.mu.Unlock()
}

func (s *Store) current() (*proc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return nil, fmt.Errorf("embedded ClickHouse: %s: %w", s.status.Reason, sink.ErrUnavailable)
	}
	if s.cur.isDead() {
		return nil, fmt.Errorf("embedded ClickHouse: %w: %w", s.cur.err(), sink.ErrUnavailable)
	}
	return s.cur, nil
}

// WriteBatch implements sink.Writer: one INSERT per batch on the write
// connection. It fails at once with sink.ErrUnavailable while the engine is
// down, so that the pipeline spills instead of waiting.
func (s *Store) WriteBatch(ctx context.Context, batch []*sink.Event) error {
	if len(batch) == 0 {
		return nil
	}
	p, err := s.current()
	if err != nil {
		return err
	}
	buf, _ := s.bufs.Get().(*insertBuf)
	if buf == nil {
		buf = new(insertBuf)
	}
	op := byte(opExec)
	switch {
	case s.opts.Insert != nil:
		buf.b = s.opts.Insert(buf.b[:0], batch)
	case s.noInsertStream.Load():
		buf.b = s.insertValues(buf.b[:0], batch)
	default:
		op, buf.b = opInsert, s.insertNative(buf.b[:0], &buf.cols, batch)
	}
	_, err = s.send(ctx, p, op, buf.b)
	var ee *EngineError
	if op == opInsert && errors.As(err, &ee) && strings.Contains(ee.Message, errNoInsertStream.Error()) {
		// An older libchdb: VALUES text from now on.
		s.noInsertStream.Store(true)
		s.log.Warn().Msg("embedded ClickHouse: " + errNoInsertStream.Error() + "; inserting VALUES text meanwhile, which costs the engine more CPU")
		buf.b = s.insertValues(buf.b[:0], batch)
		_, err = s.send(ctx, p, opExec, buf.b)
	}
	if cap(buf.b) <= 16<<20 {
		buf.cols.Reset()
		s.bufs.Put(buf)
	}
	return err
}

// Exec runs one statement whose result is not wanted (DDL, INSERT) on the
// write connection (it satisfies sink.SchemaExecer, like the server store).
// Bind values with sink.Bind.
func (s *Store) Exec(ctx context.Context, sql string) error {
	p, err := s.current()
	if err != nil {
		return err
	}
	return s.execOn(ctx, p, sql)
}

// Query implements sink.Store on the read connection, which is read-only
// (readonly=2) and bounded by QueryTimeout inside the engine. The query
// must not have a FORMAT clause.
func (s *Store) Query(ctx context.Context, query string, args ...any) (*sink.Rows, error) {
	p, err := s.current()
	if err != nil {
		return nil, err
	}
	return s.queryOn(ctx, p, query, args...)
}

var _ sink.ExplorerQuerier = (*Store)(nil)

// ExplorerConcurrency implements sink.ExplorerConcurrency: the worker runs
// explorer statements one after another on their connection.
func (s *Store) ExplorerConcurrency() int { return 1 }

// QueryExplorer implements sink.ExplorerQuerier on the explorer
// connection, a second read connection with the read connection's settings
// (readonly=2, QueryTimeout), so that explorer queries queue behind each
// other, never in front of the dashboard's. The worker sends at most
// maxBytes of result text and the rows are cut again while decoding, so a
// huge result costs the proxy no more than maxBytes.
func (s *Store) QueryExplorer(ctx context.Context, query string, maxBytes int64) (*sink.Rows, error) {
	p, err := s.current()
	if err != nil {
		return nil, err
	}
	payload := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(query)), uint64(max(maxBytes, 0)))
	f, err := s.send(ctx, p, opExplore, append(payload, query...))
	if err != nil {
		return nil, err
	}
	rows, cut, err := parseResultLimit(f.payload, max(maxBytes, 0))
	if err != nil {
		return nil, fmt.Errorf("embedded ClickHouse: unreadable result (a FORMAT clause in the query?): %w", err)
	}
	if cut || f.op == opCut {
		rows.Truncated = sink.TruncatedReason(maxBytes)
	}
	return rows, nil
}

func (s *Store) execOn(ctx context.Context, p *proc, sql string) error {
	_, err := s.send(ctx, p, opExec, []byte(sql))
	return err
}

func (s *Store) queryOn(ctx context.Context, p *proc, query string, args ...any) (*sink.Rows, error) {
	if len(args) > 0 {
		var err error
		if query, err = sink.Bind(query, args...); err != nil {
			return nil, err
		}
	}
	f, err := s.send(ctx, p, opQuery, []byte(query))
	if err != nil {
		return nil, err
	}
	rows, err := parseResult(f.payload)
	if err != nil {
		return nil, fmt.Errorf("embedded ClickHouse: unreadable result (a FORMAT clause in the query?): %w", err)
	}
	return rows, nil
}

func (s *Store) send(ctx context.Context, p *proc, op byte, q []byte) (frame, error) {
	limit := s.opts.WriteTimeout
	if op != opExec {
		limit = s.opts.QueryTimeout
	}
	f, err := p.call(ctx, op, q, time.Now().Add(limit+s.opts.hangGrace))
	if err != nil && !errors.As(err, new(*EngineError)) && ctx.Err() == nil {
		// The worker is gone: say so in the terms callers check.
		return f, fmt.Errorf("%w: %w", sink.ErrUnavailable, err)
	}
	return f, err
}

// Close stops the worker gracefully (it finishes the statements it has and
// closes the engine), stops restarting it and, for Memory, removes the data.
// Call it after the pipeline has drained.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		<-s.done
		if s.tempDir {
			_ = os.RemoveAll(s.dir)
		}
	})
	return nil
}

// procConn is Conn on one worker before the store serves from it.
type procConn struct {
	s   *Store
	p   *proc
	ver string
}

func (c procConn) Exec(ctx context.Context, sql string) error { return c.s.execOn(ctx, c.p, sql) }
func (c procConn) Query(ctx context.Context, sql string, args ...any) (*sink.Rows, error) {
	return c.s.queryOn(ctx, c.p, sql, args...)
}
func (c procConn) ServerVersion() string { return c.ver }

// supervise keeps a worker running until ctx ends.
func (s *Store) supervise(ctx context.Context) {
	defer close(s.done)
	fails := 0
	missingLogged := false
	for starts := 0; ; starts++ {
		lib, err := FindLib(s.opts.LibPath)
		if err != nil {
			if !missingLogged {
				s.log.Warn().Err(err).Msg("analytics are off: embedded ClickHouse needs libchdb.so; the proxy runs without it")
				missingLogged = true
			}
			s.setDown(err.Error(), `run "make chdb" (installs npm @chdb/lib-linux-x64-gnu, ~178 MB, into third_party/chdb), or set CHDB_LIB_PATH or storage.embedded.lib_path to a libchdb.so; analytics turn on within `+s.opts.LibRecheck.String()+`, no restart needed`)
			s.settle()
			if !sched.Sleep(ctx, s.opts.LibRecheck) {
				return
			}
			starts--
			continue
		}
		if starts > 0 {
			s.restarts.Add(1)
		}
		p, err := s.start(ctx, lib)
		what := "could not start"
		if err == nil {
			what = "stopped"
			s.settle()
			up := time.Now()
			select {
			case <-ctx.Done():
				s.mu.Lock()
				s.cur = nil
				s.status = sink.Status{Engine: engineName, Reason: "embedded ClickHouse is stopped", Version: s.status.Version}
				s.mu.Unlock()
				p.close(s.opts.WriteTimeout)
				return
			case <-p.dead:
			}
			s.crashes.Add(1)
			<-p.exited
			err = p.err()
			if tail := p.lastLines(); tail != "" {
				err = fmt.Errorf("%w; last output: %s", err, tail)
			}
			if time.Since(up) > s.opts.MaxBackoff {
				// It served for a while: this failure starts a new series.
				fails = 0
			}
			s.log.Error().Err(err).Dur("ran_for", time.Since(up)).
				Msg("embedded ClickHouse worker stopped; the proxy is unaffected, analytics writes spill until it is back")
		}
		if ctx.Err() != nil {
			return
		}
		fails++
		wait := backoff(s.opts.MinBackoff, s.opts.MaxBackoff, fails)
		reason := fmt.Sprintf("embedded ClickHouse %s (%v); restarting in %s", what, err, wait.Round(time.Millisecond))
		fix := fixTransient
		if fails >= 3 {
			reason = fmt.Sprintf("embedded ClickHouse keeps failing (%d times in a row; last: %v); next try in %s", fails, err, wait.Round(time.Millisecond))
			fix = "see the chdb-worker lines in the log; check free disk space and permissions of " + s.dir + " and the memory limit; storage.engine: none turns analytics off"
		}
		s.log.Warn().Int("failures_in_a_row", fails).Dur("retry_in", wait).Err(err).Msg("embedded ClickHouse is down")
		s.setDown(reason, fix)
		s.settle()
		if !sched.Sleep(ctx, wait) {
			return
		}
	}
}

// start runs one worker up to serving: greeting, then Setup.
func (s *Store) start(ctx context.Context, lib string) (*proc, error) {
	cfg := WorkerConfig{Path: s.dir, Lib: lib, QueryTimeout: s.opts.QueryTimeout, KeepCode: s.opts.keepCode}
	var maxRSS int64
	if s.opts.MemoryLimit > 0 {
		maxRSS = s.opts.MemoryLimit
		cfg.MaxMemory = s.opts.MemoryLimit / 4 * 3
	}
	if !s.opts.noBudget {
		cfg.Settings = engineBudget(cfg.MaxMemory)
		cfg.MallocConf = engineMallocConf
	}
	if s.opts.mallocConf != "" {
		cfg.MallocConf = s.opts.mallocConf
	}
	cfg.Settings = append(cfg.Settings, s.opts.settings...)
	p, err := startProc(s.opts.WorkerCommand, cfg, s.log)
	if err != nil {
		return nil, err
	}
	read := s.opts.QueryTimeout + s.opts.hangGrace
	go p.watch([lanes]time.Duration{s.opts.WriteTimeout + s.opts.hangGrace, read, read}, maxRSS)
	hello, err := p.awaitHello(s.opts.StartTimeout)
	if err != nil {
		p.kill(err)
		<-p.exited
		if tail := p.lastLines(); tail != "" && !strings.Contains(err.Error(), tail) {
			err = fmt.Errorf("%w; last output: %s", err, tail)
		}
		return nil, err
	}
	version, chVer, _ := strings.Cut(hello, "\n")
	if s.opts.Setup != nil {
		sctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
		err = s.opts.Setup(sctx, procConn{s: s, p: p, ver: chVer})
		cancel()
		if err != nil {
			p.kill(err)
			<-p.exited
			return nil, fmt.Errorf("schema setup: %w", err)
		}
	}
	s.mu.Lock()
	s.cur = p
	s.chVer = chVer
	s.status = sink.Status{Engine: engineName, Available: true, Version: version}
	s.mu.Unlock()
	s.log.Info().Str("version", version).Str("path", s.dir).Bool("memory", s.tempDir).
		Int("worker_pid", p.cmd.Process.Pid).Msg("embedded ClickHouse is up")
	return p, nil
}

// engineBudget is the engine's share of the machine beyond its memory
// ceiling (docs/embedded.md, "Isolation", Memory): bounded caches, two merge
// threads, and no merge started while the engine holds more than a
// quarter of maxMemory (0: no ceiling).
func engineBudget(maxMemory int64) []string {
	b := []string{
		"mark_cache_size=" + strconv.Itoa(64<<20),
		"index_mark_cache_size=" + strconv.Itoa(16<<20),
		"uncompressed_cache_size=0",
		"background_pool_size=2",
		"background_merges_mutations_concurrency_ratio=1",
	}
	if maxMemory > 0 {
		b = append(b, "merges_mutations_memory_usage_soft_limit="+strconv.FormatInt(maxMemory/4, 10))
	}
	return b
}

// engineMallocConf has the engine's allocator hand freed pages back to
// the system within a second. chDB's jemalloc keeps them 5 s
// (dirty_decay_ms) and purges only as it allocates, so between two
// inserts it held about 150 MiB of freed pages next to 40 MiB in use. At
// 1 s the worker's peak under 10,000 events/s falls by about 50 MiB for
// 7 % more of its CPU; at 0 by about 95 MiB, but every insert then faults
// its buffers in again, for about 35 % more (BenchmarkRealSteadyCapture
// with PERIMETER_STEADY_MEMORY).
const engineMallocConf = "dirty_decay_ms:1000"

// backoff is min·2^(n-1), at most max, with ±20% jitter so that several
// proxies on one machine do not restart in step.
func backoff(min, max time.Duration, n int) time.Duration {
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
