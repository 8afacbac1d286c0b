package chdb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// WorkerCommand is the hidden perimeter subcommand that runs the worker:
//
//	perimeter __chdb-worker -- --path DIR --lib FILE [--max-memory BYTES] [--query-timeout D]
//
// Requests arrive on file descriptor 3 and answers leave on 4 (see
// frame.go); stdout and stderr carry only logs, so nothing the C++ engine
// prints can corrupt the protocol.
const WorkerCommand = "__chdb-worker"

// Worker file descriptors, as the parent passes them in ExtraFiles.
const (
	workerInFD  = 3
	workerOutFD = 4
)

// WorkerConfig is what the parent tells a worker.
type WorkerConfig struct {
	Path         string        // data directory (chDB --path)
	Lib          string        // libchdb.so
	MaxMemory    int64         // the engine's memory ceiling (max_server_memory_usage) in bytes; a statement gets half; 0 = chDB's defaults
	QueryTimeout time.Duration // max_execution_time of reads; 0 = none
	// Settings are engine settings ("name=value") for the connection that
	// boots the engine: server settings (caches, pools, limits) apply to
	// the engine, query settings to the write connection.
	Settings []string
	// KeepCode leaves resident the library pages starting the engine
	// touched (dropColdCode; benchmarks compare).
	KeepCode bool
	// MallocConf is the engine allocator's options (jemalloc's
	// JE_MALLOC_CONF), handed to the worker in its environment: the
	// allocator reads them as the library loads, before any flag is
	// parsed. Empty, or JE_MALLOC_CONF already in the proxy's
	// environment, leaves the environment as it is.
	MallocConf string
}

// mallocConfEnv is the environment variable libchdb's jemalloc reads its
// options from (it is built with the je_ prefix).
const mallocConfEnv = "JE_MALLOC_CONF"

// env is the worker's environment: the proxy's, with MallocConf unless the
// proxy's environment sets the allocator's options itself.
func (c WorkerConfig) env() []string {
	if c.MallocConf == "" {
		return nil // inherit
	}
	if _, ok := os.LookupEnv(mallocConfEnv); ok {
		return nil
	}
	return append(os.Environ(), mallocConfEnv+"="+c.MallocConf)
}

func (c WorkerConfig) args() []string {
	a := []string{"--path", c.Path, "--lib", c.Lib}
	if c.MaxMemory > 0 {
		a = append(a, "--max-memory", strconv.FormatInt(c.MaxMemory, 10))
	}
	if c.QueryTimeout > 0 {
		a = append(a, "--query-timeout", c.QueryTimeout.String())
	}
	for _, kv := range c.Settings {
		a = append(a, "--setting", kv)
	}
	if c.KeepCode {
		a = append(a, "--keep-code")
	}
	return a
}

func parseWorkerArgs(args []string) (WorkerConfig, error) {
	var c WorkerConfig
	fs := flag.NewFlagSet(WorkerCommand, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.Path, "path", "", "data directory")
	fs.StringVar(&c.Lib, "lib", "", "libchdb.so")
	fs.Int64Var(&c.MaxMemory, "max-memory", 0, "max_memory_usage in bytes")
	fs.DurationVar(&c.QueryTimeout, "query-timeout", 0, "max_execution_time of reads")
	fs.BoolVar(&c.KeepCode, "keep-code", false, "leave the library's start-up pages resident")
	fs.Func("setting", "engine setting name=value (repeatable)", func(kv string) error {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
			return fmt.Errorf("setting %q: want name=value", kv)
		}
		c.Settings = append(c.Settings, kv)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.Path == "" || c.Lib == "" {
		return c, errors.New("--path and --lib are required")
	}
	return c, nil
}

// engine is what the worker serves: chDB, or a fake in tests. Exec, Query
// and Explore are called from one goroutine each, never concurrently with
// themselves.
type engine interface {
	// Version is the greeting: a display version, a newline and the bare
	// ClickHouse version ("chDB 26.7.3 (ClickHouse 26.7.2.1)\n26.7.2.1").
	Version() string
	Exec(q []byte) (rowsWritten uint64, err error)
	// Insert runs stmt, an INSERT without FORMAT, with data in format, on
	// the write connection (Exec's).
	Insert(stmt, format, data []byte) (rowsWritten uint64, err error)
	// Query runs the dashboard's reads; Explore the explorer's, on a
	// connection of its own with the same read-only settings, where the
	// engine may stop once more than limit bytes of result have come (0:
	// no limit).
	Query(q []byte, use func(out []byte)) error
	Explore(q []byte, limit uint64, use func(out []byte)) error
	Close()
}

// WorkerMain is the worker process: it loads libchdb, opens the engine and
// serves the parent until the parent closes its end or sends SIGTERM. It
// returns the process exit code. Only the __chdb-worker subcommand calls
// it.
func WorkerMain(args []string) int {
	if !isPipe(workerInFD) || !isPipe(workerOutFD) {
		fmt.Fprintln(os.Stderr, "chdb-worker: started by perimeter only (it needs pipes on descriptors 3 and 4)")
		return 2
	}
	in, out := os.NewFile(workerInFD, "requests"), os.NewFile(workerOutFD, "responses")
	cfg, err := parseWorkerArgs(args)
	if err != nil {
		return refuse(out, fmt.Errorf("chdb-worker: %w", err))
	}
	e, err := openChdb(cfg)
	if err != nil {
		return refuse(out, err)
	}
	return runWorker(e, in, out)
}

// runWorker serves e on in/out with the worker's signal policy: SIGTERM
// lets the statements running finish, closes the engine and exits 0;
// SIGINT is ignored, because the parent, not the terminal, decides when the
// engine stops (it drains its queue into the worker first).
func runWorker(e engine, in io.Reader, out io.Writer) int {
	signal.Ignore(syscall.SIGINT)
	w := &workerServer{e: e}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		fmt.Fprintln(os.Stderr, "chdb-worker: SIGTERM: closing the engine")
		w.closeEngine()
		os.Exit(0)
	}()
	return w.serve(in, out)
}

// isPipe tells the parent's pipes from whatever else a process started by
// hand has on a low descriptor (the Go runtime's epoll instance, say).
func isPipe(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO
}

// refuse tells the parent why the worker cannot start.
func refuse(out io.Writer, err error) int {
	fmt.Fprintln(os.Stderr, err)
	_ = writeFrame(bufio.NewWriter(out), opError, 0, []byte(err.Error()))
	return 1
}

// workerServer runs requests on three lanes (laneWrite, laneRead,
// laneExplore), each in order.
type workerServer struct {
	e       engine
	running [lanes]sync.Mutex // held while a statement runs on the lane
	closed  sync.Once
}

func (w *workerServer) closeEngine() {
	w.closed.Do(func() {
		for i := range w.running {
			w.running[i].Lock()
		}
		w.e.Close()
	})
}

// serve answers requests from in on out until in ends (the parent is done:
// 0) or the stream is corrupt (3), then closes the engine.
func (w *workerServer) serve(in io.Reader, out io.Writer) int {
	bw := bufio.NewWriterSize(out, 64<<10)
	var wmu sync.Mutex
	reply := func(op byte, id uint32, p []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		if err := writeFrame(bw, op, id, p); err != nil {
			// The parent is gone; its end of the request pipe closes too,
			// which ends serve.
			fmt.Fprintln(os.Stderr, "chdb-worker: write to parent:", err)
		}
	}
	reply(opHello, 0, []byte(w.e.Version()))

	var queues [lanes]chan frame
	var wg sync.WaitGroup
	for lane := range queues {
		queues[lane] = make(chan frame, 256)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range queues[lane] {
				w.running[lane].Lock()
				w.run(f, reply)
				w.running[lane].Unlock()
				if len(f.payload) >= bigFrame {
					f = frame{}
					debug.FreeOSMemory()
				}
			}
		}()
	}
	br := bufio.NewReaderSize(in, 1<<20)
	code := 0
	for code == 0 {
		f, err := readRequest(br)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				fmt.Fprintln(os.Stderr, "chdb-worker: read request:", err)
				code = 3
			}
			break
		}
		switch f.op {
		case opExec, opInsert, opQuery, opExplore:
			queues[laneOf(f.op)] <- f
		default:
			fmt.Fprintf(os.Stderr, "chdb-worker: unknown request op %q\n", f.op)
			code = 3
		}
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	w.closeEngine()
	return code
}

// bigFrame is the request size (a second's inserts are 10 MiB or more)
// after which the worker hands its Go heap back to the system: the
// request, and the buffers it outgrew as it arrived, are garbage once
// served, and without that they stay resident until the next GC and the
// scavenger, next to the engine's own memory. One collection of a heap
// of a few MiB per insert costs well under a millisecond.
const bigFrame = 4 << 20

func (w *workerServer) run(f frame, reply func(op byte, id uint32, p []byte)) {
	if f.op == opExec || f.op == opInsert {
		var n uint64
		var err error
		if f.op == opExec {
			n, err = w.e.Exec(f.payload)
		} else {
			var stmt, format, data []byte
			if stmt, format, data, err = parseInsertPayload(f.payload); err == nil {
				n, err = w.e.Insert(stmt, format, data)
			}
		}
		if err != nil {
			reply(opError, f.id, []byte(err.Error()))
			return
		}
		reply(opDone, f.id, binary.BigEndian.AppendUint64(nil, n))
		return
	}
	q, run, limit := f.payload, w.e.Query, uint64(0)
	if f.op == opExplore {
		if len(q) < 8 {
			reply(opError, f.id, []byte("explorer request without its byte limit"))
			return
		}
		limit, q = binary.BigEndian.Uint64(q), q[8:]
		run = func(q []byte, use func([]byte)) error { return w.e.Explore(q, limit, use) }
	}
	answered := false
	err := run(q, func(out []byte) {
		answered = true
		op := byte(opRows)
		if limit > 0 && uint64(len(out)) > limit {
			op, out = opCut, cutRows(out, limit)
		}
		if len(out) > MaxFrame-5 {
			reply(opError, f.id, fmt.Appendf(nil, "result of %d bytes is larger than the worker protocol allows (%d MiB): add a LIMIT or select fewer columns", len(out), MaxFrame>>20))
			return
		}
		reply(op, f.id, out)
	})
	switch {
	case err != nil:
		reply(opError, f.id, []byte(err.Error()))
	case !answered:
		reply(opRows, f.id, nil)
	}
}

// cutRows shortens a TabSeparatedWithNamesAndTypes result to at most limit
// bytes ending with a whole row, keeping the two header lines whatever
// their length.
func cutRows(out []byte, limit uint64) []byte {
	header := 0
	for range 2 {
		i := bytes.IndexByte(out[header:], '\n')
		if i < 0 {
			return out
		}
		header += i + 1
	}
	if limit <= uint64(header) {
		return out[:header]
	}
	if i := bytes.LastIndexByte(out[header:limit], '\n'); i >= 0 {
		return out[:header+i+1]
	}
	return out[:header]
}

// chdbEngine is the real engine: one chDB connection for writes, one for
// the dashboard's reads and one for the explorer's, so that a slow
// dashboard query never holds up ingestion and a heavy explorer query
// never holds up the dashboard.
type chdbEngine struct {
	lib                  *lib
	write, read, explore *conn
	version              string
}

func openChdb(cfg WorkerConfig) (*chdbEngine, error) {
	before := snapshotSignals()
	l, err := loadLib(cfg.Lib)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Path, 0o750); err != nil {
		return nil, fmt.Errorf("embedded ClickHouse data directory: %w", err)
	}
	common := []string{"clickhouse", "--path=" + cfg.Path, "--session_timezone=UTC"}
	if cfg.MaxMemory > 0 {
		common = append(common, "--max_memory_usage="+strconv.FormatInt(cfg.MaxMemory/2, 10))
	}
	first := common
	if cfg.MaxMemory > 0 {
		// The engine's own ceiling over all statements: it refuses work
		// before the parent's watchdog has to kill it.
		first = append(common[:len(common):len(common)], "--max_server_memory_usage="+strconv.FormatInt(cfg.MaxMemory, 10))
	}
	for _, kv := range cfg.Settings {
		first = append(first[:len(first):len(first)], "--"+kv)
	}
	w, err := l.connectArgs(first)
	if err != nil {
		return nil, fmt.Errorf("chDB at %s: %w", cfg.Path, err)
	}
	readArgs := append(common[:len(common):len(common)], "--readonly=2")
	if cfg.QueryTimeout > 0 {
		readArgs = append(readArgs, "--max_execution_time="+strconv.FormatFloat(cfg.QueryTimeout.Seconds(), 'f', -1, 64))
	}
	r, err := l.connectArgs(readArgs)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("chDB at %s (read connection): %w", cfg.Path, err)
	}
	x, err := l.connectArgs(readArgs)
	if err != nil {
		r.close()
		w.close()
		return nil, fmt.Errorf("chDB at %s (explorer connection): %w", cfg.Path, err)
	}
	// SA_ONSTACK on chDB's real-time signal handler is expected; Go handlers
	// replaced despite chdb_set_signal_handlers_enabled(0) are news.
	if fix := guardSignals(before); len(fix.Restored) > 0 {
		fmt.Fprintf(os.Stderr, "chdb-worker: chDB replaced Go's handlers for %v; restored them\n", fix.Restored)
	}
	ch := ""
	if err := r.query([]byte("SELECT version()"), "TabSeparated", func(out []byte, _ uint64) { ch = trimNL(out) }); err != nil {
		x.close()
		r.close()
		w.close()
		return nil, fmt.Errorf("chDB at %s does not answer: %w", cfg.Path, err)
	}
	if !cfg.KeepCode {
		dropColdCode(cfg.Lib)
	}
	return &chdbEngine{lib: l, write: w, read: r, explore: x, version: "chDB " + l.version() + " (ClickHouse " + ch + ")\n" + ch}, nil
}

func trimNL(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return string(b)
}

func (e *chdbEngine) Version() string { return e.version }

func (e *chdbEngine) Exec(q []byte) (uint64, error) {
	var n uint64
	err := e.write.query(q, "TabSeparated", func(_ []byte, w uint64) { n = w })
	if err != nil {
		if rerr := e.write.afterError(); rerr != nil {
			// Without a connection the worker is useless: let the parent
			// restart it.
			fmt.Fprintln(os.Stderr, "chdb-worker: write connection lost:", rerr)
			os.Exit(4)
		}
	}
	return n, err
}

func (e *chdbEngine) Insert(stmt, format, data []byte) (uint64, error) {
	n, err := e.write.insert(stmt, format, data)
	if err != nil && !errors.Is(err, errNoInsertStream) {
		if rerr := e.write.afterError(); rerr != nil {
			fmt.Fprintln(os.Stderr, "chdb-worker: write connection lost:", rerr)
			os.Exit(4)
		}
	}
	return n, err
}

func (e *chdbEngine) Query(q []byte, use func([]byte)) error {
	return readOn(e.read, "read", q, 0, use)
}

// Explore streams the result where the library can, so that a result far
// past limit is never built: the engine stops once limit bytes have come.
func (e *chdbEngine) Explore(q []byte, limit uint64, use func([]byte)) error {
	return readOn(e.explore, "explorer", q, limit, use)
}

func readOn(c *conn, name string, q []byte, limit uint64, use func([]byte)) error {
	err := c.queryLimited(q, resultFormat, limit, func(out []byte, _ bool) { use(out) })
	if err != nil {
		if rerr := c.afterError(); rerr != nil {
			fmt.Fprintln(os.Stderr, "chdb-worker: "+name+" connection lost:", rerr)
			os.Exit(4)
		}
	}
	return err
}

func (e *chdbEngine) Close() {
	e.explore.close()
	e.read.close()
	e.write.close()
}
