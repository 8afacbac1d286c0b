// Package spool is a writer's lane in the sink pipeline: a bounded memory
// queue of batches and, when spilling is on, a log of segment files on
// disk (log.go has the file format), behind one small API. The batcher
// calls Push. The writer's goroutine takes its next write from the queue
// (Queue, then Gather for what queued behind) or, when the log has a
// backlog, from the log (ReadBack, decoded by Config.Decode); it stores
// it and says so (Stored, Commit), or gives up on it for now (Spill,
// Evacuate). The lane never blocks the batcher and never retries:
// retries, pacing and the store are the writer's.
//
// What a lane keeps invariant:
//   - Order: batches are read out (queue first, then the log) in the order
//     they were pushed. While the log holds a backlog, Push appends to it
//     instead of queueing, so everything in memory is older than anything
//     on disk; the log goes inactive (new batches may take the memory path
//     again) only once the reader has caught up.
//   - One place: a batch is in the memory queue or in the log's unread
//     records, never lost between them; with durability a queued batch is
//     also in the log, and Spill drops the memory copies instead of
//     appending again.
//   - Durability (Config.Durable): every batch is appended to the log
//     before the writer can see it; Stored acknowledges queued batches and
//     removes their records, sealing the segment so that a crash replays
//     the records of at most the last two writes again.
//   - Replay oldest first: segments a previous run left are adopted by
//     Open and read back before anything new.
//   - Budget: all logs share one Budget of disk bytes; a batch that does
//     not fit, or meets a full disk, is dropped and counted (Config.Drop)
//     with its reason, as is a batch a lane without a log cannot queue.
//     Leftovers from a previous run count against the budget even beyond
//     it.
//
// Damaged records (a torn tail after a crash, a flipped bit) are skipped
// and counted (CorruptBytes), never returned.
package spool
