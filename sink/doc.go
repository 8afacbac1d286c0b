// Package sink owns what happens to events after the proxy has answered:
// the Event type, the non-blocking Publisher the proxy hands events to, the
// asynchronous Pipeline (batching, retries, backpressure, spill-to-disk),
// the portable ClickHouse schema and its migrations, and the Writer and
// Store interfaces the engines implement (sink/clickhouse for a server or
// cluster, sink/chdb for the embedded engine).
//
// sink never serves HTTP and never sits on the request path: Publish
// returns at once, without allocating, whatever the state of the writers
// behind it.
//
// # Pipeline
//
// Publish puts the event on a bounded channel (storage.batch.queue_size);
// when it is full the event is dropped and counted (queue_full). One
// batching goroutine stamps each event with Options.Instance
// (server.instance_id) unless it has an instance already, and cuts
// batches at max_rows events or when the oldest event is max_delay_ms old and hands each batch to every writer's lane.
// Each writer has its own goroutine, a bounded memory queue of batches and,
// when storage.spill.max_bytes > 0, a spool of segment files under
// storage.spill.dir/<writer>. A failed write is retried with exponential
// backoff; after a few attempts, or as soon as the memory queue is full
// (a slow writer), batches go to the spool and are replayed oldest first
// once the writer keeps up again, then new batches take the memory path
// again (with durability, below, every batch is also appended). Order
// is kept throughout. Events are dropped only when the disk budget or the
// disk is exhausted (spill_budget, disk_full), or when
// spilling is off and a writer's queue is full; every drop is counted in
// Metrics and logged with its reason at most once a second, never from
// Publish. Spilled segments survive a crash or restart and are replayed
// first on the next start. Close drains the queue, the memory queues and
// the spools into the stores; if its context ends first, what is still in
// memory is spilled for the next run.
//
// # Durability
//
// With Options.Durable (storage.durability: spill, the default whenever a
// spill budget is set) every batch is in every writer's spool before the
// writer sees it: the batcher cuts a batch at least every CommitInterval
// (storage.commit_interval_ms, default 100 ms; it lowers max_delay_ms so
// that the batch age plus the batcher's poll stays within it), runs
// detection on it, encodes it once and appends it to each spool with one
// write — a group commit of everything published meanwhile. The batch is
// then also queued in the writer's memory; the writer stores it from there
// (no read back) and acks its record, and acked records are removed (the
// segment they end in is sealed, so that a crash replays the records of
// at most the last two writes again). A batch that finds the memory queue full, or the
// batches of a writer that keeps failing, are read back from the spool as
// when spilling. A crash of the process (SIGKILL, an OOM kill, a panic)
// therefore loses at most the events published in the last commit
// interval, plus the detection time of one batch and the capture loop's
// poll (10 ms) in edge; the next start replays the rest, and what was
// stored but not yet acked is stored again and deduplicated (below).
// Appends are not fsynced (a segment is, when it reaches its size limit or
// at shutdown): a power loss or kernel crash may also lose what the page
// cache held. cmd/perimeter's TestKill9LosesAtMostTheCommitInterval checks
// the bound with kill -9 under load. A writer that is Volatile (counters,
// a best-effort exporter) has no spool at all: durability and spilling
// cost it nothing, and a batch its memory queue cannot take is dropped
// and counted.
//
// With durability none batches wait in memory for their writer — up to
// the batch age plus a paced writer's interval (the embedded engine's
// insert_interval_ms, 1 s) — and a crash loses them.
//
// # Scheduling
//
// The pipeline shares the machine with the proxy, so it is built to lose
// every contest for the CPU it does not need to win:
//
//   - the batcher polls the queue every max_delay_ms/4 (1–20 ms) instead of
//     waiting on it, so Publish never wakes a goroutine: no thread switch on
//     the request's path per event;
//   - the batcher and every writer (and edge's capture loop) run locked to
//     OS threads in the batch scheduling class at nice sched.BackgroundNice (Linux)
//     with the kernel's default slice, while the proxy's threads ask for a
//     short one (internal/sched): on Linux 6.12+ a waking
//     thread with a shorter slice preempts the running one, so the kernel
//     hands the CPU to a thread serving a request as soon as one is ready
//     instead of letting a pipeline thread finish its 1.4 ms slice; a thread
//     whose queue is more than a quarter full returns to normal priority
//     until it is nearly empty again, so that a saturated proxy slows down a
//     little instead of dropping events (internal/sched);
//   - long loops (detection, insert rendering) call sched.Yielder.Tick, which lets
//     other goroutines run every 100 µs of work;
//   - perimeter runs with at least two Go processors (unless GOMAXPROCS is
//     set): with one, a busy pipeline goroutine would keep the scheduler from
//     polling the network for up to 10 ms.
//
// The embedded engine's worker process runs all its threads at nice 19 in
// the batch class (sink/chdb.LowerPriority).
//
// # Duplicates
//
// Delivery is at least once: a batch whose acknowledgement was lost is
// retried, and after a crash the records stored but not yet committed
// (read back from a spill, or acked with durability) are replayed again. Every event carries a random 128-bit ID, and the events table
// deduplicates by it: it is a ReplacingMergeTree whose sorting key ends in
// the id, (agent_id, session_id, ts_us, id), so copies of an event (same
// id, hence same agent, session and time, hence same partition) collapse
// into one row when parts merge. Until a merge has happened, reads
// deduplicate with FINAL: every aggregate reads FROM EventsSource(o)
// ("`perimeter`.`events` FINAL"). This works on ClickHouse 18.16 and 26.x
// alike; ClickHouse's own insert deduplication was not chosen because it
// needs Replicated tables (or non_replicated_deduplication_window, absent
// from 18.16) and identical blocks, which a replay that regroups records
// does not produce. In cluster mode the Distributed table shards by
// session, so copies of an event always land on the same shard.
//
// # Schema
//
// schema.go is the single definition both engines use: SchemaStatements
// (or Migrate, which is idempotent and versioned) for the DDL of a given
// server version, InsertColumns/InsertPrefix for the explicit column list
// 18.16 requires, ColumnBatch for native (columnar) inserts and
// AppendValues/RenderInsert for SQL text inserts. Newer servers get
// LowCardinality, codecs and the retention TTL; 18.16 gets plain types.
package sink
