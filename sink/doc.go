// Package sink owns what happens to events after the proxy has answered:
// the Event type, the non-blocking Publisher the proxy hands events to, and
// (as it grows) the asynchronous pipeline, batching, spill-to-disk, the
// writers (ClickHouse server, embedded chDB, JSONL files, recorders, the
// console printer) and the Store query interface the dashboard reads.
//
// sink never serves HTTP and never sits on the request path: Publish must
// return at once whatever the state of the writers behind it.
package sink
