package sink

import (
	"sync/atomic"
	"time"
)

// DropReason says why events were dropped.
type DropReason int

// Drop reasons. Publish drops with QueueFull or Closed; a writer drops a
// batch with the others.
const (
	DropQueueFull       DropReason = iota // the publish queue was full (proxy produced faster than batching)
	DropClosed                            // published after Close
	DropWriterQueueFull                   // a writer's memory queue was full and spilling is off
	DropSpillBudget                       // spilling would exceed storage.spill.max_bytes
	DropDiskFull                          // the spill disk is full
	DropSpillError                        // another spill I/O error
	DropShutdown                          // Close's deadline passed with the batch neither stored nor spillable
	DropRejected                          // the writer can never store them (RejectedError)
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
	DropQueueFull:       "queue_full",
	DropClosed:          "closed",
	DropWriterQueueFull: "writer_queue_full",
	DropSpillBudget:     "spill_budget",
	DropDiskFull:        "disk_full",
	DropSpillError:      "spill_error",
	DropShutdown:        "shutdown",
	DropRejected:        "rejected",
}

func (r DropReason) String() string {
	if r >= 0 && r < numDropReasons {
		return dropReasonNames[r]
	}
	return "unknown"
}

// dropCounters counts dropped events by reason; cheap enough for Publish.
type dropCounters [numDropReasons]atomic.Uint64

func (d *dropCounters) snapshot() map[string]uint64 {
	out := make(map[string]uint64, numDropReasons)
	for i := range d {
		if n := d[i].Load(); n > 0 {
			out[DropReason(i).String()] = n
		}
	}
	return out
}

func (d *dropCounters) total() uint64 {
	var t uint64
	for i := range d {
		t += d[i].Load()
	}
	return t
}

// Metrics is a snapshot of the pipeline for /metrics.
type Metrics struct {
	QueueDepth    int               `json:"queue_depth"`    // events waiting to be batched
	QueueCapacity int               `json:"queue_capacity"` // storage.batch.queue_size
	Received      uint64            `json:"received"`       // events taken from the queue
	Batches       uint64            `json:"batches"`        // batches formed
	Dropped       uint64            `json:"dropped"`        // events dropped anywhere (all writers)
	DropReasons   map[string]uint64 `json:"dropped_by_reason,omitempty"`
	SpillBytes    int64             `json:"spill_bytes"`        // on disk now, all writers
	SpillBudget   int64             `json:"spill_budget_bytes"` // storage.spill.max_bytes (0: spilling off)
	// Durability is "spill" when every batch is appended to the spill log
	// before a writer sees it (a crash loses at most CommitIntervalMS),
	// "none" when batches wait in memory. With spill, a writer's
	// SpilledBytes counts all traffic, and its BacklogBytes includes the
	// batches it has not acked yet (and, until the next ack, the end of
	// the last write), not only outages.
	Durability       string          `json:"durability"`
	CommitIntervalMS int64           `json:"commit_interval_ms,omitempty"`
	Writers          []WriterMetrics `json:"writers"`
}

// WriterMetrics is one writer's part of Metrics.
type WriterMetrics struct {
	Name          string            `json:"name"`
	Healthy       bool              `json:"healthy"`        // last write succeeded
	QueueDepth    int               `json:"queue_depth"`    // batches waiting in memory
	QueueCapacity int               `json:"queue_capacity"` // batches
	Batches       uint64            `json:"batches"`        // batches stored
	Events        uint64            `json:"events"`         // events stored
	Retries       uint64            `json:"retries"`        // failed attempts that were retried
	LagSeconds    float64           `json:"lag_seconds"`    // age of the oldest event not yet stored (0 when idle)
	SpilledBytes  uint64            `json:"spilled_bytes"`  // written to spill files, total
	ReplayedBytes uint64            `json:"replayed_bytes"` // read back from spill files and stored, total
	BacklogBytes  int64             `json:"backlog_bytes"`  // spilled and not yet stored
	CorruptBytes  int64             `json:"corrupt_bytes"`  // skipped as damaged when replaying
	Dropped       uint64            `json:"dropped"`
	DropReasons   map[string]uint64 `json:"dropped_by_reason,omitempty"`
	LastError     string            `json:"last_error,omitempty"`
}

// Metrics returns a snapshot; it is safe to call at any time.
func (p *Pipeline) Metrics() Metrics {
	m := Metrics{
		QueueDepth:    len(p.events),
		QueueCapacity: cap(p.events),
		Received:      p.received.Load(),
		Batches:       p.batches.Load(),
		Dropped:       p.drops.total(),
		DropReasons:   p.drops.snapshot(),
		SpillBudget:   p.opts.SpillMaxBytes,
		Durability:    "none",
	}
	if p.opts.Durable {
		m.Durability, m.CommitIntervalMS = "spill", p.opts.CommitInterval.Milliseconds()
	}
	if p.budget != nil {
		m.SpillBytes = p.budget.Used()
	}
	now := time.Now()
	for _, w := range p.writers {
		wm := w.metrics(now)
		m.Dropped += wm.Dropped
		for k, v := range wm.DropReasons {
			if m.DropReasons == nil {
				m.DropReasons = map[string]uint64{}
			}
			m.DropReasons[k] += v
		}
		m.Writers = append(m.Writers, wm)
	}
	return m
}
