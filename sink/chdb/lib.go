package chdb

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// EnvLibPath names libchdb.so when the config does not.
const EnvLibPath = "CHDB_LIB_PATH"

// installDir is where `make chdb` puts the library, relative to the module
// root (and so to the working directory of `make run`, `go test` and a
// checkout's bin/perimeter).
const installDir = "third_party/chdb"

// ErrLibNotFound says libchdb.so is not installed where Perimeter looks.
var ErrLibNotFound = errors.New(`libchdb.so not found (run "make chdb" or set CHDB_LIB_PATH)`)

// FindLib returns the libchdb.so to load: configured (storage.embedded.lib_path)
// if set, else $CHDB_LIB_PATH, else the first of third_party/chdb/libchdb.so
// beside or above the executable and the working directory. A configured or
// environment path that does not exist is an error, not a fallback: the user
// asked for that file.
func FindLib(configured string) (string, error) {
	for _, p := range []struct{ path, from string }{{configured, "storage.embedded.lib_path"}, {os.Getenv(EnvLibPath), EnvLibPath}} {
		if p.path == "" {
			continue
		}
		if st, err := os.Stat(p.path); err != nil || st.IsDir() {
			return "", fmt.Errorf("%s=%s: %w", p.from, p.path, ErrLibNotFound)
		}
		return filepath.Abs(p.path)
	}
	var roots []string
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			roots = append(roots, filepath.Dir(exe))
		}
	}
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, wd)
	}
	for _, root := range roots {
		// bin/perimeter and the test binaries of sink/chdb sit a few levels
		// below the module root.
		for dir, up := root, 0; up < 4; dir, up = filepath.Dir(dir), up+1 {
			p := filepath.Join(dir, installDir, "libchdb.so")
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", ErrLibNotFound
}

// lib is the part of chDB's C API (chdb.h, connection API) Perimeter uses,
// bound at run time with purego so that a binary without libchdb.so next to
// it still starts: the library is opened only by the worker process.
type lib struct {
	version            func() string
	setSignalHandlers  func(enabled int32)
	connect            func(argc int32, argv **byte) unsafe.Pointer // chdb_connection*
	closeConn          func(conn unsafe.Pointer)                    // takes chdb_connection*
	queryN             func(conn unsafe.Pointer, query []byte, queryLen uintptr, format string, formatLen uintptr) unsafe.Pointer
	resultBuffer       func(res unsafe.Pointer) unsafe.Pointer
	resultLength       func(res unsafe.Pointer) uintptr
	resultRowsWritten  func(res unsafe.Pointer) uint64
	resultError        func(res unsafe.Pointer) string
	destroyQueryResult func(res unsafe.Pointer)
	// The streaming API, where the library has it (nil otherwise): a
	// result read in chunks can be abandoned half-way.
	streamQueryN func(conn unsafe.Pointer, query []byte, queryLen uintptr, format string, formatLen uintptr) unsafe.Pointer
	streamFetch  func(conn unsafe.Pointer, res unsafe.Pointer) unsafe.Pointer
	streamCancel func(conn unsafe.Pointer, res unsafe.Pointer)
	// The streaming INSERT, where the library has it (nil otherwise):
	// binary input formats travel as data, never through the SQL parser.
	insertN       func(conn unsafe.Pointer, query []byte, queryLen uintptr, format []byte, formatLen uintptr) unsafe.Pointer
	insertAppend  func(stream unsafe.Pointer, data unsafe.Pointer, n uintptr) int32
	insertDone    func(stream unsafe.Pointer) unsafe.Pointer
	insertError   func(stream unsafe.Pointer) string
	insertDestroy func(stream unsafe.Pointer)
	handle        uintptr
	path          string
}

var (
	loadOnce sync.Once
	loaded   *lib
	loadErr  error
)

// loadLib opens libchdb.so once per process and binds its functions. chDB
// is told not to install its own signal handlers before anything else runs
// (docs/embedded.md, "Signals").
func loadLib(path string) (*lib, error) {
	loadOnce.Do(func() { loaded, loadErr = openLib(path) })
	if loadErr == nil && loaded.path != path {
		return nil, fmt.Errorf("libchdb already loaded from %s, cannot load %s too", loaded.path, path)
	}
	return loaded, loadErr
}

func openLib(path string) (l *lib, err error) {
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("embedded ClickHouse is built for Linux only (this is %s)", runtime.GOOS)
	}
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	l = &lib{handle: h, path: path}
	// RegisterLibFunc panics on a missing symbol; an older or foreign
	// library is an error to report, not a crash.
	defer func() {
		if r := recover(); r != nil {
			l, err = nil, fmt.Errorf("load %s: not a compatible libchdb (need chDB 25.x or later with the chdb_connect API): %v", path, r)
		}
	}()
	bind := func(fptr any, name string) { purego.RegisterLibFunc(fptr, h, name) }
	bind(&l.version, "chdb_version")
	bind(&l.setSignalHandlers, "chdb_set_signal_handlers_enabled")
	bind(&l.connect, "chdb_connect")
	bind(&l.closeConn, "chdb_close_conn")
	bind(&l.queryN, "chdb_query_n")
	bind(&l.resultBuffer, "chdb_result_buffer")
	bind(&l.resultLength, "chdb_result_length")
	bind(&l.resultRowsWritten, "chdb_result_rows_written")
	bind(&l.resultError, "chdb_result_error")
	bind(&l.destroyQueryResult, "chdb_destroy_query_result")
	l.bindStreaming()
	l.bindInsertStream()
	l.setSignalHandlers(0)
	return l, nil
}

// bindStreaming binds the streaming API, all three functions or none.
func (l *lib) bindStreaming() {
	defer func() {
		if recover() != nil {
			l.streamQueryN, l.streamFetch, l.streamCancel = nil, nil, nil
		}
	}()
	purego.RegisterLibFunc(&l.streamQueryN, l.handle, "chdb_stream_query_n")
	purego.RegisterLibFunc(&l.streamFetch, l.handle, "chdb_stream_fetch_result")
	purego.RegisterLibFunc(&l.streamCancel, l.handle, "chdb_stream_cancel_query")
}

// bindInsertStream binds the streaming INSERT, all five functions or none.
func (l *lib) bindInsertStream() {
	defer func() {
		if recover() != nil {
			l.insertN, l.insertAppend, l.insertDone, l.insertError, l.insertDestroy = nil, nil, nil, nil, nil
		}
	}()
	purego.RegisterLibFunc(&l.insertN, l.handle, "chdb_stream_insert_n")
	purego.RegisterLibFunc(&l.insertAppend, l.handle, "chdb_stream_append")
	purego.RegisterLibFunc(&l.insertDone, l.handle, "chdb_stream_done")
	purego.RegisterLibFunc(&l.insertError, l.handle, "chdb_stream_insert_error")
	purego.RegisterLibFunc(&l.insertDestroy, l.handle, "chdb_destroy_insert_stream")
}

// conn is one chDB connection. A connection runs one statement at a time;
// the worker gives each its own goroutine.
type conn struct {
	lib  *lib
	ptr  unsafe.Pointer // chdb_connection*
	args []string
}

// connectArgs opens a connection with chDB's command-line style arguments
// ("--path=DIR", "--max_memory_usage=N", any query-level setting).
func (l *lib) connectArgs(args []string) (*conn, error) {
	argv := make([]*byte, len(args)+1)
	keep := make([][]byte, len(args))
	for i, a := range args {
		keep[i] = append([]byte(a), 0)
		argv[i] = &keep[i][0]
	}
	p := l.connect(int32(len(args)), &argv[0])
	runtime.KeepAlive(keep)
	if p == nil || *(*unsafe.Pointer)(p) == nil {
		return nil, errors.New("chdb_connect failed (is the data directory writable and used by no other process?)")
	}
	return &conn{lib: l, ptr: p, args: args}, nil
}

// afterError puts the connection back in a clean state. chDB 26.7 keeps
// the output a statement had produced before it failed (the header, or
// thousands of rows of a query that failed half-way) and prepends it to the
// next statement's result on the same connection. One throw-away statement
// takes the leftovers; a second must then come back clean, or the
// connection is replaced.
func (c *conn) afterError() error {
	_ = c.query([]byte("SELECT 1"), "TabSeparated", func([]byte, uint64) {})
	clean := false
	_ = c.query([]byte("SELECT 1"), "TabSeparated", func(out []byte, _ uint64) { clean = string(out) == "1\n" })
	if clean {
		return nil
	}
	c.close()
	fresh, err := c.lib.connectArgs(c.args)
	if err != nil {
		return err
	}
	c.ptr = fresh.ptr
	return nil
}

func (c *conn) close() {
	if c.ptr != nil {
		c.lib.closeConn(c.ptr)
		c.ptr = nil
	}
}

// queryLimited runs q and hands use the first limit bytes of its result or
// more (0: all of it), and whether there was more. With the streaming API
// the engine stops producing the result once limit bytes have come;
// without it the whole result is built first. The bytes are valid until
// use returns.
func (c *conn) queryLimited(q []byte, format string, limit uint64, use func(out []byte, more bool)) error {
	l := c.lib
	if limit == 0 || l.streamQueryN == nil {
		return c.query(q, format, func(out []byte, _ uint64) { use(out, limit > 0 && uint64(len(out)) > limit) })
	}
	if len(q) == 0 {
		return errors.New("empty query")
	}
	cp := *(*unsafe.Pointer)(c.ptr)
	res := l.streamQueryN(cp, q, uintptr(len(q)), format, uintptr(len(format)))
	if res == nil {
		return errors.New("chdb_stream_query_n returned no result")
	}
	defer l.destroyQueryResult(res)
	if msg := l.resultError(res); msg != "" {
		return errors.New(msg)
	}
	var out []byte
	header := -1 // length of the names and types lines, which each chunk repeats
	for {
		chunk := l.streamFetch(cp, res)
		if chunk == nil {
			break
		}
		msg := l.resultError(chunk)
		n := l.resultLength(chunk)
		if msg == "" && n > 0 {
			b := unsafe.Slice((*byte)(l.resultBuffer(chunk)), n)
			if header < 0 {
				header = headerLen(b)
			} else if header > 0 && len(b) >= header && bytes.Equal(b[:header], out[:header]) {
				b = b[header:]
			}
			out = append(out, b...)
		}
		l.destroyQueryResult(chunk)
		if msg != "" {
			return errors.New(msg)
		}
		if n == 0 {
			break
		}
		if uint64(len(out)) > limit {
			l.streamCancel(cp, res)
			use(out, true)
			return nil
		}
	}
	use(out, false)
	return nil
}

// headerLen is the length of a TabSeparatedWithNamesAndTypes result's two
// header lines, 0 when b does not hold both.
func headerLen(b []byte) int {
	n := 0
	for range 2 {
		i := bytes.IndexByte(b[n:], '\n')
		if i < 0 {
			return 0
		}
		n += i + 1
	}
	return n
}

// query runs q and hands the result bytes to use, which must not keep
// them: they belong to chDB and are freed when use returns.
func (c *conn) query(q []byte, format string, use func(out []byte, rowsWritten uint64)) error {
	if len(q) == 0 {
		return errors.New("empty query")
	}
	res := c.lib.queryN(*(*unsafe.Pointer)(c.ptr), q, uintptr(len(q)), format, uintptr(len(format)))
	if res == nil {
		return errors.New("chdb_query_n returned no result")
	}
	defer c.lib.destroyQueryResult(res)
	if msg := c.lib.resultError(res); msg != "" {
		return errors.New(msg)
	}
	var out []byte
	if n := c.lib.resultLength(res); n > 0 {
		out = unsafe.Slice((*byte)(c.lib.resultBuffer(res)), n)
	}
	use(out, c.lib.resultRowsWritten(res))
	return nil
}

// errNoInsertStream says the library predates chDB's streaming INSERT.
var errNoInsertStream = errors.New("this libchdb has no streaming INSERT (chdb_stream_insert_n); install chDB 26.7 or later with \"make chdb\"")

// insert runs stmt (an INSERT without FORMAT or data) with data in format
// through chDB's streaming INSERT, and returns the rows written. The data
// never passes through the SQL parser, so binary formats are safe (inline
// after FORMAT, an empty line would end them early).
func (c *conn) insert(stmt, format, data []byte) (uint64, error) {
	l := c.lib
	if l.insertN == nil {
		return 0, errNoInsertStream
	}
	if len(stmt) == 0 || len(format) == 0 {
		return 0, errors.New("empty insert statement or format")
	}
	st := l.insertN(*(*unsafe.Pointer)(c.ptr), stmt, uintptr(len(stmt)), format, uintptr(len(format)))
	if st == nil {
		return 0, errors.New("chdb_stream_insert_n returned no stream")
	}
	defer l.insertDestroy(st)
	if msg := l.insertError(st); msg != "" {
		return 0, errors.New(msg)
	}
	if len(data) > 0 {
		ok := l.insertAppend(st, unsafe.Pointer(unsafe.SliceData(data)), uintptr(len(data)))
		runtime.KeepAlive(data)
		if ok != 0 {
			msg := l.insertError(st)
			if msg == "" {
				msg = "chdb_stream_append failed"
			}
			return 0, errors.New(msg)
		}
	}
	res := l.insertDone(st)
	if res == nil {
		return 0, errors.New("chdb_stream_done returned no result")
	}
	defer l.destroyQueryResult(res)
	if msg := l.resultError(res); msg != "" {
		return 0, errors.New(msg)
	}
	return l.resultRowsWritten(res), nil
}
