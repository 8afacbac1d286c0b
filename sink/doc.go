// Package sink owns what happens to events after the proxy has answered:
// the Event type, the non-blocking Publisher the proxy hands events to,
// the asynchronous Pipeline that batches them for the writers, the
// portable ClickHouse schema and its migrations, and the Writer and Store
// interfaces the engines implement (sink/clickhouse for a server or
// cluster, sink/chdb for the embedded engine).
//
// sink never serves HTTP and never sits on the request path: Publish
// returns at once, without allocating, whatever the state of the writers
// behind it.
//
// The Pipeline promises:
//   - Publish queues an event without blocking or allocating; when the
//     queue (storage.batch.queue_size) is full, or the pipeline is closed,
//     the event is dropped and counted.
//   - Batches are cut at max_rows events or when the oldest event is
//     max_delay_ms old, and every writer gets every batch, in order, on
//     its own goroutine; a slow or failing writer delays no other.
//   - Nothing is lost while the spill budget lasts (storage.spill): a
//     writer that fails or falls behind spills to its lane's log
//     (sink/spool) and replays it, oldest first, once it recovers, also
//     after a restart. Every drop is counted in Metrics with its reason
//     and logged at most once a second, never from Publish.
//   - Events a writer can never store (a RejectedError: a file name the
//     file system refuses, say) are dropped and counted as "rejected",
//     not retried, so one bad event never stalls a writer or fills its
//     spill.
//   - With durability (storage.durability: spill) every batch is on disk
//     before any writer sees it: a crash of the process loses at most the
//     last commit interval (storage.commit_interval_ms).
//   - Delivery is at least once; events carry a random 128-bit ID and the
//     events table deduplicates by it (reads use FINAL).
//   - Close drains the queue and every writer's backlog into the stores;
//     past its deadline what is still in memory is spilled for the next
//     run.
//   - The pipeline's threads run at low priority and its long loops yield
//     (internal/sched), so it loses every contest for the CPU it does not
//     need to win.
//
// schema.go is the single schema both engines use, for ClickHouse 18.16
// and 26.x alike. docs/pipeline.md has the mechanics in depth: batching,
// spilling and durability step by step, scheduling, deduplication, and
// why each number is what it is.
package sink
