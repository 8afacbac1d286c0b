package sink

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cylestio/perimeter/internal/sched"
)

// writerState is one writer's lane: a bounded memory queue of batches fed
// by the batcher, an optional spool, and the goroutine (run) that stores
// them.
//
// Ordering: while the spool is active (has a backlog) the batcher appends
// to it instead of the memory queue, so everything in memory is older than
// everything on disk; run therefore empties memory first, then replays the
// spool, and the spool goes inactive (under its lock) only once the reader
// has caught up. Batches reach the store in the order they were formed.
//
// With durability every batch is appended to the spool first, then queued
// in memory as well while the spool holds nothing else (inactive): the
// writer stores it from memory and acks its record (spool.ack). A batch
// that finds the memory queue full stays in the spool only and makes it
// active, as a spilled batch does; a writer that keeps failing drops its
// memory copies and reads them back from the spool (toLog). Either way the
// order holds, because every record is appended in batch order.
type writerState struct {
	p    *Pipeline
	w    Writer
	name string
	mem  chan *batch
	wake chan struct{} // the batcher appended to the spool
	sp   *spool        // nil when spilling is off

	drops    dropCounters
	reported [numDropReasons]uint64 // owned by the batcher (reportDrops)

	batches, events, retries atomic.Uint64
	spilled, replayed        atomic.Uint64
	pendingSince             atomic.Int64 // unix ns of the oldest event being stored, 0 when idle
	healthy                  atomic.Bool
	lastErr                  atomic.Pointer[string]
	down                     bool // run's view: an outage is in progress (for logs)
	gaveUp                   bool // run's view: replay stopped for shutdown, the writer still failing
	stopSeen                 bool // run's view: a backoff was cut short because Close began

	interval  time.Duration // Pacer's WriteInterval; 0 writes each batch as it comes
	lastWrite time.Time     // run's view: when the last live write ended
}

// dispatch is called by the batcher; it never blocks on the writer. rec
// is b's spill record, encoded by the batcher when durability is on.
func (w *writerState) dispatch(b *batch, rec []byte) {
	if w.sp == nil {
		select {
		case w.mem <- b:
			w.notifyPaced()
		default:
			w.drops[DropWriterQueueFull].Add(uint64(len(b.events)))
		}
		return
	}
	w.sp.mu.Lock()
	if w.durable() {
		w.logLocked(b, rec)
		w.sp.mu.Unlock()
		return
	}
	if !w.sp.active {
		select {
		case w.mem <- b:
			w.sp.mu.Unlock()
			w.notifyPaced()
			return
		default:
		}
	}
	w.spillLocked(b)
	w.sp.mu.Unlock()
	w.notify()
}

// notify wakes run (or pace) if it waits.
func (w *writerState) notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// notifyPaced wakes a paced writer's pace to look at its queue again (an
// unpaced writer is already waiting on the queue itself).
func (w *writerState) notifyPaced() {
	if w.interval > 0 {
		w.notify()
	}
}

// logLocked is dispatch with durability: b's record is appended, then,
// while the spool holds nothing unqueued (inactive), b is queued in memory
// with its record's position; if the memory queue is full it stays in the
// spool alone and the spool goes active. A batch the spool refuses
// (budget, disk) is still queued in memory when the spool is inactive and
// there is room, without a record.
func (w *writerState) logLocked(b *batch, rec []byte) {
	n, err := w.sp.appendRecordLocked(rec)
	if err == nil && w.sp.active {
		w.spilled.Add(uint64(n))
		w.notify()
		return
	}
	if w.sp.active {
		w.spillFailed(b, err)
		return
	}
	if err == nil {
		w.spilled.Add(uint64(n))
		pos := w.sp.tailLocked()
		select {
		case w.mem <- b:
			w.sp.inMem = append(w.sp.inMem, pos)
			w.notifyPaced()
		default:
			w.sp.active = true
			w.notify()
		}
		return
	}
	select {
	case w.mem <- b:
		w.sp.inMem = append(w.sp.inMem, logPos{})
		w.notifyPaced()
	default:
		w.spillFailed(b, err)
	}
}

// spillLocked appends b to the spool (its lock held) or counts it dropped.
func (w *writerState) spillLocked(b *batch) {
	n, err := w.sp.appendLocked(b.encoded())
	if err == nil {
		w.spilled.Add(uint64(n))
		w.sp.active = true
		return
	}
	w.spillFailed(b, err)
}

// spillFailed counts b dropped for the reason err gives.
func (w *writerState) spillFailed(b *batch, err error) {
	reason := DropSpillError
	switch {
	case errors.Is(err, errBudget):
		reason = DropSpillBudget
	case errors.Is(err, errDiskFull):
		reason = DropDiskFull
	default:
		w.setErr(err)
	}
	w.drops[reason].Add(uint64(len(b.events)))
}

func (w *writerState) run() {
	prio := sched.LowerThread()
	defer w.p.wg.Done()
	memOpen := true
	handle := func(b *batch, ok bool) {
		if !ok {
			memOpen = false
			return
		}
		prio.Adjust(len(w.mem), cap(w.mem))
		w.pace()
		if w.writeLive(b) {
			memOpen = false
		}
		w.lastWrite = time.Now()
	}
	for {
		if memOpen {
			select {
			case b, ok := <-w.mem:
				handle(b, ok)
				continue
			default:
			}
		}
		if w.sp != nil && w.p.ctx.Err() == nil && w.sp.hasBacklog() && !w.gaveUp {
			w.replay()
			continue
		}
		if !memOpen {
			return
		}
		select {
		case b, ok := <-w.mem:
			handle(b, ok)
		case <-w.wake:
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
	full := max(1, min(w.p.opts.MaxWriteRows/w.p.opts.MaxRows, cap(w.mem)/2))
	for {
		wait := time.Until(w.lastWrite.Add(w.interval))
		if wait <= 0 || len(w.mem)+1 >= full || w.p.closing() {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-w.p.stop:
		case <-t.C:
		case <-w.wake: // a batch was queued (or spilled: run's loop checks the spool anyway)
		}
		t.Stop()
	}
}

// writeLive stores a batch from memory, together with the batches queued
// behind it (see gather), retrying with backoff. After Attempts failures
// it spills them and the rest of the memory queue (when the spool is
// empty, so order holds; otherwise it keeps retrying, since newer batches
// are already on disk). It reports whether it found the memory queue
// closed.
func (w *writerState) writeLive(first *batch) (memClosed bool) {
	group, events, memClosed := w.gather(first)
	w.pendingSince.Store(first.created.UnixNano())
	defer w.pendingSince.Store(0)
	backoff := w.p.opts.BackoffMin
	for attempt := 1; ; attempt++ {
		if w.p.ctx.Err() != nil {
			return w.evacuate(group) || memClosed
		}
		err := w.write(events)
		if err == nil {
			w.stored(len(events))
			if w.durable() {
				w.sp.ack(len(group))
			}
			return memClosed
		}
		w.failed(err)
		if w.durable() && attempt >= w.p.opts.Attempts {
			// Every batch in memory is in the spool too: read them back
			// from there, in order, once the writer recovers.
			return w.toLog(group) || memClosed
		}
		if w.sp != nil && w.p.closing() && attempt >= w.p.opts.Attempts {
			// Shutting down with the writer failing: spill now rather than
			// retry until the deadline (an absent libchdb must not make
			// Ctrl-C take shutdown_timeout). Order is kept for the next run
			// unless newer batches already sit on disk.
			return w.evacuate(group) || memClosed
		}
		if w.sp != nil && attempt >= w.p.opts.Attempts {
			if spilled, closed := w.tryEvacuate(group); spilled {
				return closed || memClosed
			}
		}
		w.retries.Add(1)
		w.sleep(backoff)
		backoff = min(2*backoff, w.p.opts.BackoffMax)
	}
}

// gather coalesces the batches already queued behind first into one write
// of up to MaxWriteRows events: when the store keeps up each batch goes
// alone (low latency); when it falls behind, inserts grow, which is what
// ClickHouse wants (fewer, larger parts).
func (w *writerState) gather(first *batch) (group []*batch, events []*Event, memClosed bool) {
	group = []*batch{first}
	n := len(first.events)
loop:
	for n < w.p.opts.MaxWriteRows {
		select {
		case b, ok := <-w.mem:
			if !ok {
				memClosed = true
				break loop
			}
			group = append(group, b)
			n += len(b.events)
		default:
			break loop
		}
	}
	if len(group) == 1 {
		return group, first.events, memClosed
	}
	events = make([]*Event, 0, n)
	for _, b := range group {
		events = append(events, b.events...)
	}
	return group, events, memClosed
}

// tryEvacuate moves group and the memory queue to an empty spool.
func (w *writerState) tryEvacuate(group []*batch) (spilled, memClosed bool) {
	w.sp.mu.Lock()
	defer w.sp.mu.Unlock()
	if w.sp.active {
		return false, false
	}
	return true, w.evacuateLocked(group)
}

// evacuate moves group and the memory queue to the spool whatever it
// holds (shutdown: order across an interrupted drain is not kept, data
// is), or drops them when spilling is off.
func (w *writerState) evacuate(group []*batch) (memClosed bool) {
	if w.durable() {
		return w.toLog(group)
	}
	if w.sp == nil {
		for _, b := range group {
			w.drops[DropShutdown].Add(uint64(len(b.events)))
		}
		for {
			select {
			case x, ok := <-w.mem:
				if !ok {
					return true
				}
				w.drops[DropShutdown].Add(uint64(len(x.events)))
			default:
				return false
			}
		}
	}
	w.sp.mu.Lock()
	defer w.sp.mu.Unlock()
	return w.evacuateLocked(group)
}

// toLog is evacuate with durability: group and the memory queue are
// already in the spool, so their memory copies are dropped and the spool
// goes active (replay reads them back from the reader's position, the
// first unstored record). A batch the spool had refused is appended now.
func (w *writerState) toLog(group []*batch) (memClosed bool) {
	w.sp.mu.Lock()
	defer w.sp.mu.Unlock()
	if !w.down {
		w.down = true
		w.p.log.Warn().Str("writer", w.name).Str("error", w.lastError()).Str("dir", w.sp.dir).
			Msg("sink: writer failing; batches wait in the spill log until it recovers")
	}
	logged, i := w.sp.inMem, 0
	drop := func(b *batch) {
		if i < len(logged) && !logged[i].ok {
			w.spillLocked(b)
		}
		i++
	}
	for _, b := range group {
		drop(b)
	}
drain:
	for {
		select {
		case x, ok := <-w.mem:
			if !ok {
				memClosed = true
				break drain
			}
			drop(x)
		default:
			break drain
		}
	}
	w.sp.dropMemLocked()
	if len(w.sp.segs) > 0 {
		w.sp.active = true
	}
	return memClosed
}

func (w *writerState) evacuateLocked(group []*batch) (memClosed bool) {
	if !w.down {
		w.down = true
		w.p.log.Warn().Str("writer", w.name).Str("error", w.lastError()).Str("dir", w.sp.dir).
			Msg("sink: writer failing; spilling batches to disk until it recovers")
	}
	for _, b := range group {
		w.spillLocked(b)
	}
	for {
		select {
		case x, ok := <-w.mem:
			if !ok {
				return true
			}
			w.spillLocked(x)
		default:
			return false
		}
	}
}

// replay stores the oldest spilled records (up to MaxWriteRows events in one
// write), retrying until it succeeds or Close's deadline passes, then
// commits them.
func (w *writerState) replay() {
	var (
		events  []*Event
		created time.Time
		bytes   int
	)
	for len(events) < w.p.opts.MaxWriteRows {
		payload, ok := w.sp.readNext()
		if !ok {
			break
		}
		c, evs, err := decodeBatch(payload)
		if err != nil {
			w.sp.corrupt.Add(int64(len(payload) + recordHeaderSize))
			w.p.log.Error().Err(err).Str("writer", w.name).Msg("sink: skipping an unreadable spill record")
			continue
		}
		if len(events) == 0 {
			created = c
		}
		events = append(events, evs...)
		bytes += len(payload) + recordHeaderSize
	}
	if len(events) > 0 {
		w.pendingSince.Store(created.UnixNano())
		defer w.pendingSince.Store(0)
		backoff := w.p.opts.BackoffMin
		for attempt := 1; ; attempt++ {
			if w.p.ctx.Err() != nil {
				return // still on disk, uncommitted: the next run replays it
			}
			err := w.write(events)
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
		w.stored(len(events))
		w.replayed.Add(uint64(bytes))
	}
	w.sp.commit()
	if w.down && !w.sp.hasBacklog() {
		w.down = false
		w.p.log.Info().Str("writer", w.name).Uint64("replayed_bytes", w.replayed.Load()).
			Msg("sink: writer recovered; spilled batches replayed")
	}
}

// write is one WriteBatch attempt with a timeout. A panicking writer is
// an error, not a crash: analytics may stop, traffic must not.
func (w *writerState) write(events []*Event) (err error) {
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
// course, so a writer without a spool does not retry in a tight loop.
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
			w.p.log.Warn().Str("writer", w.name).Str("reason", DropReason(r).String()).
				Uint64("events", n-w.reported[r]).Uint64("total", n).
				Msg("sink: dropped events (" + dropHint(DropReason(r)) + ")")
			w.reported[r] = n
		}
	}
}

func (w *writerState) metrics(now time.Time) WriterMetrics {
	m := WriterMetrics{
		Name:          w.name,
		Healthy:       w.healthy.Load(),
		QueueDepth:    len(w.mem),
		QueueCapacity: cap(w.mem),
		Batches:       w.batches.Load(),
		Events:        w.events.Load(),
		Retries:       w.retries.Load(),
		SpilledBytes:  w.spilled.Load(),
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
	if w.sp != nil {
		m.BacklogBytes = w.sp.backlog.Load()
		m.CorruptBytes = w.sp.corrupt.Load()
	}
	return m
}

// durable tells whether this writer's batches go through its log first:
// durability is on and the writer has a log (a Volatile writer has none).
func (w *writerState) durable() bool { return w.p.opts.Durable && w.sp != nil }
