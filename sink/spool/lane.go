package spool

import (
	"errors"
	"sync/atomic"
)

// Batch is what a lane carries: the caller's type, which the lane only
// counts and, when it spills, encodes.
type Batch interface {
	// Len is the number of events in the batch, for drop counts.
	Len() int
	// Record is the batch's log payload. A batch handed to several lanes
	// should encode once.
	Record() []byte
}

// Reason says why a lane dropped a batch.
type Reason uint8

const (
	DropQueueFull Reason = iota // no log and the memory queue is full
	DropBudget                  // the disk budget is exhausted
	DropDiskFull                // the disk is full
	DropError                   // the log could not be written (err says why)
	DropShutdown                // shutdown, no log to keep the batch in
)

// Config configures a lane of batches B.
type Config[B Batch] struct {
	// Dir is the log's directory; "" makes a lane without a log, which
	// drops what its memory queue cannot take.
	Dir          string
	Budget       *Budget // shared by all lanes' logs; needed with Dir
	SegmentBytes int64   // a segment rolls past this size
	Queue        int     // batches the memory queue holds
	// Durable logs every batch before the writer can see it (Push takes
	// its record); the memory queue holds copies of logged batches.
	Durable bool
	// Paced wakes the writer (Wake) on every Push, not only on appends to
	// the log: a paced writer waits on Wake between writes.
	Paced bool
	// Drop counts events dropped for reason (err is the log's error for
	// DropError). It runs under the lane's lock: it must not block.
	Drop func(reason Reason, events int, err error)
	// Decode turns a record's payload (Batch.Record) back into a batch;
	// needed with Dir. The payload is valid only during the call.
	Decode func(payload []byte) (B, error)
}

// Lane is one writer's ordered queue of batches: a bounded memory queue
// and, optionally, a log on disk. See the package documentation for what
// it keeps invariant. Push is the producer's; everything else is the
// writer goroutine's, except the metrics.
type Lane[B Batch] struct {
	cfg  Config[B]
	mem  chan B
	wake chan struct{}
	log  *segLog // nil without a log

	spilled atomic.Uint64 // bytes appended to the log
}

// Open makes a lane. With a log, segments a previous run left in Dir are
// adopted: they are replayed before anything new.
func Open[B Batch](cfg Config[B]) (*Lane[B], error) {
	l := &Lane[B]{cfg: cfg, mem: make(chan B, max(1, cfg.Queue)), wake: make(chan struct{}, 1)}
	if cfg.Dir != "" {
		if cfg.Budget == nil || cfg.Decode == nil {
			return nil, errors.New("spool: a log needs a budget and a decoder")
		}
		lg, err := openLog(cfg.Dir, cfg.Budget, cfg.SegmentBytes)
		if err != nil {
			return nil, err
		}
		l.log = lg
	}
	return l, nil
}

// HasLog reports whether the lane has a log on disk.
func (l *Lane[B]) HasLog() bool { return l.log != nil }

// Durable reports whether every batch is logged before the writer sees it.
func (l *Lane[B]) Durable() bool { return l.cfg.Durable && l.log != nil }

// Push hands b to the lane without blocking; the producer calls it in
// batch order. rec is b's whole record (HeaderSize bytes, then b's
// payload, sealed with Seal) when the lane is Durable, shared by every
// lane; the lane copies nothing of it.
//
// Without a log b is queued in memory or dropped. With a log, while the
// log holds a backlog b is appended to it (so that it stays behind what
// is on disk); otherwise it is queued in memory, or appended when the
// queue is full. Durable, b is appended first in any case, and queued in
// memory too while the log holds nothing unqueued; a batch the log
// refuses (budget, disk) is still queued when there is room.
func (l *Lane[B]) Push(b B, rec []byte) {
	if l.log == nil {
		select {
		case l.mem <- b:
			l.notifyPaced()
		default:
			l.cfg.Drop(DropQueueFull, b.Len(), nil)
		}
		return
	}
	l.log.mu.Lock()
	if l.Durable() {
		l.pushLoggedLocked(b, rec)
		l.log.mu.Unlock()
		return
	}
	if !l.log.active {
		select {
		case l.mem <- b:
			l.log.mu.Unlock()
			l.notifyPaced()
			return
		default:
		}
	}
	l.spillLocked(b)
	l.log.mu.Unlock()
	l.notify()
}

func (l *Lane[B]) pushLoggedLocked(b B, rec []byte) {
	n, err := l.log.appendRecordLocked(rec)
	if err == nil && l.log.active {
		l.spilled.Add(uint64(n))
		l.notify()
		return
	}
	if l.log.active {
		l.dropped(b, err)
		return
	}
	if err == nil {
		l.spilled.Add(uint64(n))
		pos := l.log.tailLocked()
		select {
		case l.mem <- b:
			l.log.inMem = append(l.log.inMem, pos)
			l.notifyPaced()
		default:
			l.log.active = true
			l.notify()
		}
		return
	}
	select {
	case l.mem <- b:
		l.log.inMem = append(l.log.inMem, logPos{})
		l.notifyPaced()
	default:
		l.dropped(b, err)
	}
}

// spillLocked appends b to the log (its lock held), which makes the log
// active, or drops it.
func (l *Lane[B]) spillLocked(b B) {
	n, err := l.log.appendLocked(b.Record())
	if err == nil {
		l.spilled.Add(uint64(n))
		l.log.active = true
		return
	}
	l.dropped(b, err)
}

// dropped counts b dropped for the reason err gives.
func (l *Lane[B]) dropped(b B, err error) {
	reason := DropError
	switch {
	case errors.Is(err, errBudget):
		reason, err = DropBudget, nil
	case errors.Is(err, errDiskFull):
		reason, err = DropDiskFull, nil
	}
	l.cfg.Drop(reason, b.Len(), err)
}

// notify wakes the writer if it waits on Wake.
func (l *Lane[B]) notify() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// notifyPaced wakes a paced writer to look at its queue again (an unpaced
// writer is already waiting on the queue itself).
func (l *Lane[B]) notifyPaced() {
	if l.cfg.Paced {
		l.notify()
	}
}

// CloseQueue closes the memory queue: the producer is done. The writer
// drains it, then sees it closed.
func (l *Lane[B]) CloseQueue() { close(l.mem) }

// Queue is the memory queue, oldest first: everything in it is older
// than anything the log holds unqueued.
func (l *Lane[B]) Queue() <-chan B { return l.mem }

// Wake receives when Push appended to the log (or, Paced, queued).
func (l *Lane[B]) Wake() <-chan struct{} { return l.wake }

// Depth and Cap are the memory queue's length and capacity.
func (l *Lane[B]) Depth() int { return len(l.mem) }
func (l *Lane[B]) Cap() int   { return cap(l.mem) }

// Stored acknowledges the oldest k batches taken from the memory queue:
// they are in the store. Durable, their records are done with (see ack).
func (l *Lane[B]) Stored(k int) {
	if l.Durable() {
		l.log.ack(k)
	}
}

// Spill gives up on writing group (batches taken from the memory queue,
// oldest first) for now: group and the rest of the memory queue go to the
// log, to be read back (ReadBack) once the writer recovers. Without durability
// that happens only when the log holds no backlog, so that order holds
// (spilled false otherwise: keep retrying). It reports whether it found
// the memory queue closed.
func (l *Lane[B]) Spill(group []B) (spilled, queueClosed bool) {
	if l.log == nil {
		return false, false
	}
	if l.Durable() {
		return true, l.toLog(group)
	}
	l.log.mu.Lock()
	defer l.log.mu.Unlock()
	if l.log.active {
		return false, false
	}
	return true, l.evacuateLocked(group)
}

// Evacuate moves group and the memory queue to the log whatever it holds
// (shutdown: order across an interrupted drain is not kept, data is), or
// drops them (DropShutdown) without a log. It reports whether it found
// the memory queue closed.
func (l *Lane[B]) Evacuate(group []B) (queueClosed bool) {
	if l.Durable() {
		return l.toLog(group)
	}
	if l.log == nil {
		for _, b := range group {
			l.cfg.Drop(DropShutdown, b.Len(), nil)
		}
		for {
			select {
			case x, ok := <-l.mem:
				if !ok {
					return true
				}
				l.cfg.Drop(DropShutdown, x.Len(), nil)
			default:
				return false
			}
		}
	}
	l.log.mu.Lock()
	defer l.log.mu.Unlock()
	return l.evacuateLocked(group)
}

// toLog is Evacuate with durability: group and the memory queue are
// already in the log, so their memory copies are dropped and the log
// goes active (ReadBack reads them from the reader's position, the
// first unstored record). A batch the log had refused is appended now.
func (l *Lane[B]) toLog(group []B) (queueClosed bool) {
	l.log.mu.Lock()
	defer l.log.mu.Unlock()
	logged, i := l.log.inMem, 0
	drop := func(b B) {
		if i < len(logged) && !logged[i].ok {
			l.spillLocked(b)
		}
		i++
	}
	for _, b := range group {
		drop(b)
	}
drain:
	for {
		select {
		case x, ok := <-l.mem:
			if !ok {
				queueClosed = true
				break drain
			}
			drop(x)
		default:
			break drain
		}
	}
	l.log.dropMemLocked()
	if len(l.log.segs) > 0 {
		l.log.active = true
	}
	return queueClosed
}

func (l *Lane[B]) evacuateLocked(group []B) (queueClosed bool) {
	for _, b := range group {
		l.spillLocked(b)
	}
	for {
		select {
		case x, ok := <-l.mem:
			if !ok {
				return true
			}
			l.spillLocked(x)
		default:
			return false
		}
	}
}

// Backlog reports whether records wait in the log to be read back.
func (l *Lane[B]) Backlog() bool { return l.log != nil && l.log.hasBacklog() }

// ReadBackDue reports whether the writer's next write is to come from the
// log (ReadBack): records wait there and the memory queue is empty. Both
// are looked at under the lock Push holds, so a batch the writer found
// missing from the queue a moment ago cannot be queued, and a newer one
// logged, in between: whatever sits in the queue goes first.
func (l *Lane[B]) ReadBackDue() bool {
	if l.log == nil {
		return false
	}
	l.log.mu.Lock()
	defer l.log.mu.Unlock()
	return l.log.active && len(l.mem) == 0
}

// Gather takes the batches queued behind first, without waiting, until
// the group holds maxEvents events (or the queue is empty): one write for
// a writer that fell behind. It reports whether it found the queue
// closed.
func (l *Lane[B]) Gather(first B, maxEvents int) (group []B, queueClosed bool) {
	group = []B{first}
	n := first.Len()
	for n < maxEvents {
		select {
		case b, ok := <-l.mem:
			if !ok {
				return group, true
			}
			group = append(group, b)
			n += b.Len()
		default:
			return group, false
		}
	}
	return group, false
}

// ReadBack reads the oldest records not yet read back, decoded, until
// they hold maxEvents events or the reader has caught up (group empty:
// nothing to read; Backlog tells whether Commit is due). bytes is what
// they took in the log. A record that does not decode is skipped and
// counted (CorruptBytes); err joins the reasons. ReadBack and Commit need
// a log.
func (l *Lane[B]) ReadBack(maxEvents int) (group []B, bytes int, err error) {
	var errs []error
	for n := 0; n < maxEvents; {
		p, ok := l.log.readNext()
		if !ok {
			break
		}
		b, derr := l.cfg.Decode(p)
		if derr != nil {
			l.log.corrupt.Add(int64(len(p) + recordHeaderSize))
			errs = append(errs, derr)
			continue
		}
		group = append(group, b)
		n += b.Len()
		bytes += len(p) + recordHeaderSize
	}
	return group, bytes, errors.Join(errs...)
}

// Commit records that everything ReadBack returned is stored: its
// segments go, and once the reader has caught up the log goes inactive,
// so that new batches take the memory path again.
func (l *Lane[B]) Commit() { l.log.commit() }

// Close closes the log's files; they stay for the next run.
func (l *Lane[B]) Close() {
	if l.log != nil {
		l.log.close()
	}
}

// Dir is the log's directory ("" without a log).
func (l *Lane[B]) Dir() string { return l.cfg.Dir }

// SpilledBytes is how much was appended to the log.
func (l *Lane[B]) SpilledBytes() uint64 { return l.spilled.Load() }

// BacklogBytes is what the log holds on disk, not yet committed.
func (l *Lane[B]) BacklogBytes() int64 {
	if l.log == nil {
		return 0
	}
	return l.log.backlog.Load()
}

// CorruptBytes is what was skipped as damaged.
func (l *Lane[B]) CorruptBytes() int64 {
	if l.log == nil {
		return 0
	}
	return l.log.corrupt.Load()
}
