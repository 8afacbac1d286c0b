package sink

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cylestio/perimeter/internal/sched"
	"github.com/cylestio/perimeter/sink/spool"
)

// writerState is one writer's goroutine (run) and counters: it takes
// batches from its lane (a spool.Lane: the memory queue and the spill log,
// with their ordering invariant) and stores them, retrying with backoff,
// pacing a Pacer's writes and coalescing what queued behind.
type writerState struct {
	p    *Pipeline
	w    Writer
	name string
	lane *spool.Lane[*batch]

	drops    dropCounters
	reported [numDropReasons]uint64 // owned by the batcher (reportDrops)
	// lastRejected is the last RejectedError's text, for reportDrops.
	lastRejected atomic.Pointer[string]

	batches, events, retries atomic.Uint64
	replayed                 atomic.Uint64
	pendingSince             atomic.Int64 // unix ns of the oldest event being stored, 0 when idle
	healthy                  atomic.Bool
	lastErr                  atomic.Pointer[string]
	down                     bool // run's view: an outage is in progress (for logs)
	gaveUp                   bool // run's view: replay stopped for shutdown, the writer still failing
	stopSeen                 bool // run's view: a backoff was cut short because Close began

	interval  time.Duration // Pacer's WriteInterval; 0 writes each batch as it comes
	lastWrite time.Time     // run's view: when the last live write ended
}

// drop counts events the lane dropped (it calls this under its lock).
func (w *writerState) drop(r spool.Reason, events int, err error) {
	reason := DropSpillError
	switch r {
	case spool.DropQueueFull:
		reason = DropWriterQueueFull
	case spool.DropBudget:
		reason = DropSpillBudget
	case spool.DropDiskFull:
		reason = DropDiskFull
	case spool.DropShutdown:
		reason = DropShutdown
	}
	if err != nil {
		w.setErr(err)
	}
	w.drops[reason].Add(uint64(events))
}

func (w *writerState) run() {
	prio := sched.LowerThread()
	defer w.p.wg.Done()
	queue, wake := w.lane.Queue(), w.lane.Wake()
	memOpen := true
	handle := func(b *batch, ok bool) {
		if !ok {
			memOpen = false
			return
		}
		prio.Adjust(w.lane.Depth(), w.lane.Cap())
		w.pace()
		if w.writeLive(b) {
			memOpen = false
		}
		w.lastWrite = time.Now()
	}
	for {
		if memOpen {
			select {
			case b, ok := <-queue:
				handle(b, ok)
				continue
			default:
			}
		}
		if w.p.ctx.Err() == nil && !w.gaveUp && w.lane.ReadBackDue() {
			w.replay()
			continue
		}
		if !memOpen {
			return
		}
		select {
		case b, ok := <-queue:
			handle(b, ok)
		case <-wake:
		}
	}
}

// pace holds a write back until the writer's interval (Pacer) has passed
// since the last one, unless as many batches are queued as a full write
// holds (MaxWriteRows/MaxRows: it may go early with small batches, never
// late with full ones, so pacing never caps throughput), the memory queue
// is half full (a small queue_size must not overflow while it waits), or
// the pipeline is closing. After an idle spell longer than the interval
// the write goes at once.
func (w *writerState) pace() {
	if w.interval <= 0 {
		return
	}
	full := max(1, min(w.p.opts.MaxWriteRows/w.p.opts.MaxRows, w.lane.Cap()/2))
	for {
		wait := time.Until(w.lastWrite.Add(w.interval))
		if wait <= 0 || w.lane.Depth()+1 >= full || w.p.closing() {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-w.p.stop:
		case <-t.C:
		case <-w.lane.Wake(): // a batch was queued (or spilled: run's loop checks the log anyway)
		}
		t.Stop()
	}
}

// writeLive stores a batch from memory, together with the batches queued
// behind it (see gather), retrying with backoff. After Attempts failures
// it hands them and the rest of the memory queue to the lane's log
// (lane.Spill: at once with durability, since they are logged already;
// otherwise when the log holds no backlog, so order holds, and else it
// keeps retrying, since newer batches are already on disk). It reports
// whether it found the memory queue closed.
func (w *writerState) writeLive(first *batch) (memClosed bool) {
	group, events, memClosed := w.gather(first)
	w.pendingSince.Store(first.created.UnixNano())
	defer w.pendingSince.Store(0)
	backoff := w.p.opts.BackoffMin
	stored := len(events) // less what any attempt rejected
	for attempt := 1; ; attempt++ {
		if w.p.ctx.Err() != nil {
			return w.evacuate(group) || memClosed
		}
		rejected, err := w.write(events)
		stored -= rejected
		if err == nil {
			w.stored(stored)
			w.lane.Stored(len(group))
			return memClosed
		}
		w.failed(err)
		if w.lane.HasLog() && attempt >= w.p.opts.Attempts {
			if w.p.closing() {
				// Shutting down with the writer failing: spill now rather
				// than retry until the deadline (an absent libchdb must not
				// make Ctrl-C take shutdown_timeout). Order is kept for the
				// next run unless newer batches already sit on disk.
				return w.evacuate(group) || memClosed
			}
			if spilled, closed := w.lane.Spill(group); spilled {
				w.wentDown()
				return closed || memClosed
			}
		}
		w.retries.Add(1)
		w.sleep(backoff)
		backoff = min(2*backoff, w.p.opts.BackoffMax)
	}
}

// evacuate hands group and the memory queue to the log whatever it holds
// (lane.Evacuate), or drops them when there is no log.
func (w *writerState) evacuate(group []*batch) (memClosed bool) {
	memClosed = w.lane.Evacuate(group)
	if w.lane.HasLog() {
		w.wentDown()
	}
	return memClosed
}

// wentDown logs, once per outage, that the writer's batches now wait in
// its log.
func (w *writerState) wentDown() {
	if w.down {
		return
	}
	w.down = true
	msg := "sink: writer failing; spilling batches to disk until it recovers"
	if w.lane.Durable() {
		msg = "sink: writer failing; batches wait in the spill log until it recovers"
	}
	w.p.log.Warn().Str("writer", w.name).Str("error", w.lastError()).Str("dir", w.lane.Dir()).Msg(msg)
}

// gather coalesces the batches already queued behind first into one write
// of up to MaxWriteRows events: when the store keeps up each batch goes
// alone (low latency); when it falls behind, inserts grow, which is what
// ClickHouse wants (fewer, larger parts).
func (w *writerState) gather(first *batch) (group []*batch, events []*Event, memClosed bool) {
	group, memClosed = w.lane.Gather(first, w.p.opts.MaxWriteRows)
	return group, eventsOf(group), memClosed
}

// eventsOf is the events of group in order, without a copy for one batch.
func eventsOf(group []*batch) []*Event {
	if len(group) == 1 {
		return group[0].events
	}
	n := 0
	for _, b := range group {
		n += len(b.events)
	}
	events := make([]*Event, 0, n)
	for _, b := range group {
		events = append(events, b.events...)
	}
	return events
}

// replay stores the oldest spilled records (up to MaxWriteRows events in one
// write), retrying until it succeeds or Close's deadline passes, then
// commits them.
func (w *writerState) replay() {
	group, bytes, err := w.lane.ReadBack(w.p.opts.MaxWriteRows)
	if err != nil {
		w.p.log.Error().Err(err).Str("writer", w.name).Msg("sink: skipping an unreadable spill record")
	}
	if len(group) > 0 {
		events := eventsOf(group)
		w.pendingSince.Store(group[0].created.UnixNano())
		defer w.pendingSince.Store(0)
		backoff := w.p.opts.BackoffMin
		stored := len(events)
		for attempt := 1; ; attempt++ {
			if w.p.ctx.Err() != nil {
				return // still on disk, uncommitted: the next run replays it
			}
			rejected, err := w.write(events)
			stored -= rejected
			if err == nil {
				break
			}
			w.failed(err)
			if w.p.closing() && attempt >= w.p.opts.Attempts {
				w.gaveUp = true
				return // still on disk, uncommitted: the next run replays it
			}
			w.retries.Add(1)
			w.sleep(backoff)
			backoff = min(2*backoff, w.p.opts.BackoffMax)
		}
		w.stored(stored)
		w.replayed.Add(uint64(bytes))
	}
	w.lane.Commit()
	if w.down && !w.lane.Backlog() {
		w.down = false
		w.p.log.Info().Str("writer", w.name).Uint64("replayed_bytes", w.replayed.Load()).
			Msg("sink: writer recovered; spilled batches replayed")
	}
}

// write is one WriteBatch attempt with a timeout. A panicking writer is
// an error, not a crash: analytics may stop, traffic must not. Events the
// writer rejected (RejectedError) are counted as dropped here and are not
// part of err; rejected is how many.
func (w *writerState) write(events []*Event) (rejected int, err error) {
	err = w.writeBatch(events)
	var rej []*RejectedError
	if rej, err = splitRejected(nil, err); len(rej) > 0 {
		for _, r := range rej {
			rejected += r.Events
		}
		w.drops[DropRejected].Add(uint64(rejected))
		s := rej[len(rej)-1].Error()
		w.lastRejected.Store(&s)
	}
	return rejected, err
}

func (w *writerState) writeBatch(events []*Event) (err error) {
	ctx, cancel := context.WithTimeout(w.p.ctx, w.p.opts.WriteTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("writer %s panicked: %v", w.name, r)
		}
	}()
	return w.w.WriteBatch(ctx, events)
}

func (w *writerState) stored(n int) {
	w.batches.Add(1)
	w.events.Add(uint64(n))
	w.healthy.Store(true)
}

func (w *writerState) failed(err error) {
	w.healthy.Store(false)
	w.setErr(err)
}

func (w *writerState) setErr(err error) {
	s := err.Error()
	w.lastErr.Store(&s)
}

func (w *writerState) lastError() string {
	if s := w.lastErr.Load(); s != nil {
		return *s
	}
	return ""
}

// sleep waits d or until Close's deadline passes. The first wait under way
// (or begun) once Close has started ends at once: a writer that has failed
// for a while backs off for up to BackoffMax, and shutdown must not sit
// that out before the writer spills and stops. Later waits run their
// course, so a writer without a log does not retry in a tight loop.
func (w *writerState) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	var stop <-chan struct{}
	if !w.stopSeen {
		stop = w.p.stop
	}
	select {
	case <-t.C:
	case <-stop:
		w.stopSeen = true
	case <-w.p.ctx.Done():
	}
}

func (w *writerState) reportDrops() {
	for r := range w.drops {
		if n := w.drops[r].Load(); n > w.reported[r] {
			l := w.p.log.Warn().Str("writer", w.name).Str("reason", DropReason(r).String()).
				Uint64("events", n-w.reported[r]).Uint64("total", n)
			if s := w.lastRejected.Load(); r == int(DropRejected) && s != nil {
				l = l.Str("error", *s)
			}
			l.Msg("sink: dropped events (" + dropHint(DropReason(r)) + ")")
			w.reported[r] = n
		}
	}
}

func (w *writerState) metrics(now time.Time) WriterMetrics {
	m := WriterMetrics{
		Name:          w.name,
		Healthy:       w.healthy.Load(),
		QueueDepth:    w.lane.Depth(),
		QueueCapacity: w.lane.Cap(),
		Batches:       w.batches.Load(),
		Events:        w.events.Load(),
		Retries:       w.retries.Load(),
		SpilledBytes:  w.lane.SpilledBytes(),
		ReplayedBytes: w.replayed.Load(),
		Dropped:       w.drops.total(),
		DropReasons:   w.drops.snapshot(),
		LastError:     w.lastError(),
	}
	if len(m.DropReasons) == 0 {
		m.DropReasons = nil
	}
	if ps := w.pendingSince.Load(); ps > 0 {
		m.LagSeconds = now.Sub(time.Unix(0, ps)).Seconds()
	}
	m.BacklogBytes = w.lane.BacklogBytes()
	m.CorruptBytes = w.lane.CorruptBytes()
	return m
}
