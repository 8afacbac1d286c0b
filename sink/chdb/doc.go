// Package chdb is the embedded ClickHouse store, Perimeter's default: chDB
// (ClickHouse as a shared library) run in a supervised child process and
// exposed as a sink.Store. It owns loading libchdb, the worker process,
// its protocol and its supervision; it never sits on the request path and
// never decides what is stored (package sink renders the schema and the
// inserts).
//
// Promises:
//   - A crash, hang or memory blow-up of the engine costs analytics for a
//     moment, never traffic: the proxy re-executes itself as a worker
//     (perimeter __chdb-worker), which alone loads the library; the proxy
//     never maps it.
//   - While the worker is down every call fails at once with
//     sink.ErrUnavailable (the pipeline spills instead of waiting), and it
//     is restarted with backoff; a worker that hangs past its timeout or
//     passes MemoryLimit is killed and restarted. It never outlives the
//     proxy.
//   - Writes, dashboard reads and explorer reads run on separate
//     connections, so none holds up another; readers are read-only and
//     bounded in time, and an explorer result is cut at its byte limit.
//   - Everything read from the worker is untrusted: frames are bounded,
//     both parsers are fuzzed, a malformed frame kills the worker.
//   - A missing libchdb is not fatal: Open returns a Store whose Status
//     says how to install it (`make chdb` or CHDB_LIB_PATH), and the store
//     looks again every 10 s.
//   - The Go runtime's signal handling is intact in the worker after the
//     library loads.
//   - Data persists under storage.embedded.path; only an explicit
//     ephemeral setting keeps it in a temporary directory removed by Close.
//
// Why a worker, the protocol, supervision, the memory budget, the Native
// insert path, the loader and signals in detail: docs/embedded.md; what an
// event costs the engine: docs/storage.md.
package chdb
