// Package chdb is the embedded ClickHouse store, Perimeter's default: chDB
// (ClickHouse as a ~566 MB shared library) run in a supervised child process
// and exposed as a sink.Store. It owns loading libchdb, the worker process,
// its protocol and its supervision; it never sits on the request path and
// never decides what is stored (the sink package renders the schema and the
// INSERTs).
//
// # Isolation
//
// A crash, hang or memory blow-up inside the C++ engine may cost analytics
// for a moment, never traffic. In-process, none of the three can be
// contained: a SIGSEGV or abort() in C++ ends the proxy, a call into C that
// never returns cannot be cancelled, and an engine that eats memory gets
// the proxy OOM-killed. So the proxy re-executes its own binary in a hidden
// worker mode,
//
//	perimeter __chdb-worker -- --path DIR --lib FILE [--max-memory B] [--query-timeout D]
//
// and the worker, not the proxy, loads libchdb and owns the engine. The
// proxy process never maps the library at all.
//
// The protocol runs over two pipes passed as file descriptors 3 (requests)
// and 4 (answers); the worker's stdout and stderr only carry logs, which the
// parent forwards to its own log, so nothing the engine prints can corrupt
// it. Both directions carry length-prefixed frames (frame.go): a 4-byte
// length, an op byte, a 4-byte request id, a payload. The worker greets
// with its version (or says why it cannot start), then answers each id
// exactly once: Exec (DDL, statements) and Insert with the rows written,
// Query with the result in TabSeparatedWithNamesAndTypes, which the parent parses into
// typed sink.Rows (result.go), or an error. The parent treats everything it
// reads as untrusted: frames are bounded by MaxFrame and grown only as
// bytes arrive, both parsers have fuzz targets, and a malformed frame or an
// answer to an unknown id kills the worker.
//
// The worker holds three chDB connections, one for writes, one for the
// dashboard's reads and one for the SQL explorer's (Store.QueryExplorer,
// sink.ExplorerQuerier), the two readers with the same settings (read-only,
// readonly=2, bounded by max_execution_time), each served in order on its
// own goroutine, so that a slow dashboard query never holds up ingestion
// and a heavy explorer query never holds up the dashboard. An explorer
// request carries a byte limit: the worker reads the result in chunks
// (chDB's streaming API, where the library has it) and cancels the
// statement once past the limit, so a huge result is never built; it sends
// at most the limit's worth of text, cut after a whole row, and says it cut
// it (opCut); the parent cuts again while decoding by sink.RowSize. chDB allows one engine
// (one data path) per process; the writers and the readers share it
// through the worker.
//
// Supervision (store.go, proc.go):
//   - The worker dies (crash, kill -9, OOM killer): every request in flight
//     fails at once with sink.ErrUnavailable, calls made while it is down
//     fail at once too (so the pipeline spills instead of waiting), and it
//     is restarted after an exponential backoff (250 ms doubling to 30 s,
//     ±20% jitter). Three failures in a row make Status say it "keeps
//     failing", with the worker's last output and what to check.
//   - The worker hangs: when a lane has had a request outstanding with no
//     answer for its timeout (QueryTimeout or WriteTimeout) plus 5 s, the
//     watchdog kills the worker's process group and it is restarted. A
//     caller whose context ends just stops waiting; that alone never kills
//     the engine.
//   - Memory: the engine gets max_server_memory_usage (¾ of MemoryLimit,
//     default 2 GiB) and each statement half of that as max_memory_usage,
//     so that a heavy query fails cleanly with MEMORY_LIMIT_EXCEEDED; the
//     watchdog kills the worker if its resident set still passes
//     MemoryLimit. Within that ceiling the engine runs on a budget
//     (engineBudget): a 64 MiB mark cache and 16 MiB index mark cache
//     (ClickHouse's defaults are 5 GiB each, which dashboards reading
//     months of events would fill), no uncompressed cache, two merge
//     threads (merges of one second's inserts need no more, and each
//     holds its parts' buffers), and no new merge while the engine holds
//     more than a quarter of its ceiling; a query never fails for the
//     budget, only for the ceiling. After start the worker also drops the
//     library pages starting touched (about 175 MiB of code and read-only
//     data, dropColdCode): the pages it keeps using come back from the
//     page cache, about 70 MiB under steady inserts.
//   - The worker never outlives the proxy (Pdeathsig, and it exits when its
//     request pipe closes), and runs in its own process group so that a
//     Ctrl-C at the terminal reaches only the proxy, which drains its queue
//     into the worker before Close asks it to finish.
//
// # Inserts
//
// WriteBatch sends the batch as one block of ClickHouse's Native format
// (sink.AppendNative: column-major, fixed-width values as they are in
// memory, strings with their length) and the worker hands it to chDB's
// streaming INSERT (chdb_stream_insert_n, chdb_stream_append,
// chdb_stream_done), so the engine copies values into columns instead of
// parsing SQL text: about 40 % less of its CPU per stored event than the
// same rows as INSERT … VALUES (docs/storage.md). The data never passes
// through the SQL parser; inline after FORMAT it could not be binary,
// since chDB ends inline data at the first empty line. With a library
// without the streaming INSERT (before chDB 26.7) the store says so in its
// log and inserts VALUES text instead.
//
// An INSERT in flight when the worker dies may have been stored without
// being acknowledged; the pipeline retries it, and the schema deduplicates
// by event id at read time, so nothing is counted twice.
//
// chDB 26.7 keeps the output a statement produced before it failed and
// prepends it to the next result on the same connection; the worker runs a
// throw-away statement after every error (and replaces the connection if
// that does not clean it), see conn.afterError.
//
// # Loading libchdb: purego, lazily
//
// github.com/chdb-io/chdb-go binds the library with purego in a package
// init that panics when libchdb.so is missing, which would stop a proxy
// that must run without it. This package binds the dozen C functions it
// needs (chdb_connect, chdb_query_n, chdb_result_*, chdb_destroy_query_result,
// chdb_close_conn, chdb_version, chdb_set_signal_handlers_enabled, and
// chdb_stream_query_n, chdb_stream_fetch_result and chdb_stream_cancel_query
// where present) itself
// with github.com/ebitengine/purego: dlopen at run time, in the worker only,
// with a missing symbol reported as an error rather than a panic. The
// library is found (FindLib) at storage.embedded.lib_path, else
// $CHDB_LIB_PATH, else third_party/chdb/libchdb.so beside or above the
// executable or the working directory, where `make chdb` installs it from
// the npm package @chdb/lib-linux-x64-gnu. When it is missing, Open still
// returns a Store: Status says `libchdb.so not found (run "make chdb" or set
// CHDB_LIB_PATH)`, every call fails at once with sink.ErrUnavailable, and
// the supervisor looks again every 10 s, so installing it turns analytics on
// without a restart.
//
// # Signals
//
// The Go runtime relies on its signal handlers: SIGINT/SIGTERM for graceful
// shutdown through signal.Notify, SIGQUIT for goroutine dumps, SIGPROF for
// the CPU profiler, SIGURG for preemption, SIGSEGV/SIGBUS for nil-pointer
// panics. By default chDB installs its own crash handlers for SIGSEGV,
// SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS and SIGTSTP (observed on
// 26.7.3), replacing Go's. The worker calls
// chdb_set_signal_handlers_enabled(0) before connecting, snapshots every
// disposition before loading, and afterwards restores any handler Go had
// that was replaced, and adds SA_ONSTACK (which the Go runtime requires of
// foreign handlers) to the one chDB still installs (signal 34, the first
// real-time signal). A test loads the library into a fresh process and checks that
// every Go handler is intact, that signal.Notify delivers SIGINT, SIGTERM
// and SIGHUP, that a nil dereference is still a recoverable panic and that
// the CPU profiler still samples. The worker itself uses them: SIGTERM
// closes the engine and exits 0, SIGQUIT prints Go's goroutine dump. The
// proxy never loads the library, so its own handling is untouched.
//
// # Storage modes
//
// Data lives under storage.embedded.path (default ./data/perimeter) and
// survives restarts. Only an explicit request keeps it ephemeral:
// storage.embedded.ephemeral, or the original live_trace storage_mode
// written as "memory" (ApplyLiveTraceMode; unlike the original, it is not
// the default). Ephemeral data is a private temporary directory
// (perimeter-chdb-<pid>-*) removed by Close, and removed on a later start if
// the proxy died without closing. It is not chDB's ":memory:", because then
// every worker restart would lose every event, and the point of isolating
// the engine is that a crash costs a moment, not the data. While ephemeral,
// Status carries Ephemeral and a Warning for every analytics surface.
// "sqlite", its persistent mode, is the engine on disk next to db_path,
// with a log line saying so.
package chdb
