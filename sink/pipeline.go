package sink

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/internal/defaults"
	"github.com/cylestio/perimeter/internal/sched"
	"github.com/cylestio/perimeter/sink/spool"
	"github.com/rs/zerolog"
)

// Options configure a Pipeline. Zero values take the defaults noted on each
// field; OptionsFromConfig maps the storage block onto them.
type Options struct {
	MaxRows   int           // events per batch, default 1000 (storage.batch.max_rows)
	MaxDelay  time.Duration // oldest event's wait before a batch is flushed, default 200ms (storage.batch.max_delay_ms)
	QueueSize int           // events Publish can queue, default 100000 (storage.batch.queue_size)
	// WriterQueue is how many batches each writer holds in memory before
	// spilling (or, with spilling off, dropping); default
	// max(2, QueueSize/MaxRows), and at most durableWriterQueue when
	// Durable (the batches are on disk anyway).
	WriterQueue int

	SpillDir      string // storage.spill.dir; each writer spills under SpillDir/<writer name>
	SpillMaxBytes int64  // disk budget shared by all writers; 0 turns spilling off (storage.spill.max_bytes)
	SegmentBytes  int64  // spill segment size, default 16 MiB

	// Durable (storage.durability: spill) appends every batch to each
	// writer's spill log before the writer sees it; the writer stores it
	// and acknowledges it (sink/spool), so a crash of the process
	// loses only what was not yet appended. Needs SpillMaxBytes.
	Durable bool
	// CommitInterval bounds, when Durable, how long an event waits in
	// memory before its batch is appended (storage.commit_interval_ms):
	// MaxDelay is lowered so that the batch age plus the batcher's poll
	// stays within it. Default 100ms.
	CommitInterval time.Duration

	Attempts     int           // tries of a live batch before it is spilled, default 3
	BackoffMin   time.Duration // first retry delay, default 100ms; doubles per failure
	BackoffMax   time.Duration // retry delay cap, default 5s
	WriteTimeout time.Duration // one WriteBatch call, default 30s
	// MaxWriteRows caps one write when queued batches are coalesced (a
	// writer that fell behind) or spill records replayed; default
	// 10*MaxRows, at most 20000 (but never below MaxRows).
	MaxWriteRows int

	// Process, when set, runs on each batch before the writers see it
	// (detection). It runs on the batching goroutine, so it must not block;
	// it may return a different slice.
	Process func([]*Event) []*Event

	// Instance is this proxy's server.instance_id: the batcher stamps it
	// on every event that has none, off the request path, including those
	// Process adds.
	Instance string

	Logger zerolog.Logger
}

// OptionsFromConfig maps the storage block (batch and spill) onto Options.
func OptionsFromConfig(c configs.StorageConfig) Options {
	return Options{
		MaxRows:        c.Batch.MaxRows,
		MaxDelay:       c.Batch.MaxDelay(),
		QueueSize:      c.Batch.QueueSize,
		SpillDir:       c.Spill.Dir,
		SpillMaxBytes:  int64(c.Spill.MaxBytes),
		Durable:        c.Durability == configs.DurabilitySpill && c.Spill.MaxBytes > 0,
		CommitInterval: c.CommitInterval(),
	}
}

func (o *Options) setDefaults() {
	defaults.Set(&o.MaxRows, 1000)
	defaults.Set(&o.MaxDelay, 200*time.Millisecond)
	if o.Durable {
		defaults.Set(&o.CommitInterval, 100*time.Millisecond)
		// An event is appended at most MaxDelay plus one poll after it
		// was queued; keep that within the commit interval.
		o.MaxDelay = min(o.MaxDelay, max(o.CommitInterval-pollInterval(o.CommitInterval), time.Millisecond))
	}
	defaults.Set(&o.QueueSize, 100000)
	if o.WriterQueue <= 0 {
		o.WriterQueue = max(2, o.QueueSize/o.MaxRows)
		if o.Durable && o.SpillMaxBytes > 0 {
			// Every batch is in the spill log already: a writer that falls
			// behind reads the rest back from disk instead of holding it
			// in memory, so memory stays bounded under overload.
			o.WriterQueue = min(o.WriterQueue, durableWriterQueue)
		}
	}
	defaults.Set(&o.SegmentBytes, 16<<20)
	defaults.Set(&o.Attempts, 3)
	defaults.Set(&o.BackoffMin, 100*time.Millisecond)
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = max(5*time.Second, o.BackoffMin)
	}
	defaults.Set(&o.WriteTimeout, 30*time.Second)
	if o.MaxWriteRows < o.MaxRows {
		o.MaxWriteRows = max(o.MaxRows, min(10*o.MaxRows, 20000))
	}
}

// durableWriterQueue bounds a writer's memory queue, in batches, when
// every batch is also in the spill log (Durable): about 35 MiB of
// full-capture events, and still more than a paced write gathers
// (MaxWriteRows/MaxRows), so pacing is unchanged.
const durableWriterQueue = 32

// Pipeline is the Publisher the proxy uses: a bounded queue, one batching
// goroutine, and one goroutine per writer with retries and backoff over its
// lane (sink/spool). Close drains it. A Pipeline owns its writers: Close
// closes them.
type Pipeline struct {
	opts Options
	log  zerolog.Logger

	events   chan *Event
	closed   atomic.Bool
	inflight atomic.Int64 // Publish calls between their closed check and their send

	drops    dropCounters // Publish drops
	reported [numDropReasons]uint64
	received atomic.Uint64
	batches  atomic.Uint64

	writers []*writerState
	budget  *spool.Budget
	logBuf  []byte // the batcher's: the record being appended with durability

	stop        chan struct{} // closed by Close: the batcher drains and exits
	batcherDone chan struct{}
	ctx         context.Context // cancelled when Close's deadline passes
	cancel      context.CancelFunc
	wg          sync.WaitGroup // writer goroutines

	closeOnce sync.Once
	closeErr  error
}

var _ Publisher = (*Pipeline)(nil)

// NewPipeline starts a pipeline feeding writers. Spill segments left by a
// previous run are adopted and replayed, in order, before anything new.
// Writer names must be distinct (they name the spill directories).
func NewPipeline(opts Options, writers ...Writer) (*Pipeline, error) {
	opts.setDefaults()
	p := &Pipeline{
		opts:        opts,
		log:         opts.Logger,
		events:      make(chan *Event, opts.QueueSize),
		stop:        make(chan struct{}),
		batcherDone: make(chan struct{}),
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if opts.SpillMaxBytes > 0 {
		if opts.SpillDir == "" {
			return nil, errors.New("sink: spill budget set without a spill directory (set storage.spill.dir)")
		}
		p.budget = spool.NewBudget(opts.SpillMaxBytes)
	} else if opts.Durable {
		return nil, errors.New("sink: durability spill needs a spill log: set storage.spill.max_bytes (or storage.durability: none)")
	}
	seen := map[string]bool{}
	for _, w := range writers {
		name := w.Name()
		dir := dirName(name)
		if seen[dir] {
			p.closeLanes()
			return nil, fmt.Errorf("sink: two writers named %q", name)
		}
		seen[dir] = true
		ws := &writerState{p: p, w: w, name: name, interval: writeInterval(w)}
		ws.healthy.Store(true)
		cfg := spool.Config[*batch]{Queue: opts.WriterQueue, Durable: opts.Durable, Paced: ws.interval > 0, Drop: ws.drop, Decode: readBatch}
		if v, ok := w.(Volatile); p.budget != nil && !(ok && v.Volatile()) {
			cfg.Dir, cfg.Budget, cfg.SegmentBytes = filepath.Join(opts.SpillDir, dir), p.budget, opts.SegmentBytes
		}
		lane, err := spool.Open[*batch](cfg)
		if err != nil {
			p.closeLanes()
			return nil, err
		}
		ws.lane = lane
		if n := lane.BacklogBytes(); n > 0 {
			p.log.Info().Str("writer", name).Int64("bytes", n).Str("dir", lane.Dir()).
				Msg("sink: replaying events spilled by a previous run")
		}
		p.writers = append(p.writers, ws)
	}
	for _, ws := range p.writers {
		p.wg.Add(1)
		go ws.run()
	}
	go p.runBatcher()
	return p, nil
}

func (p *Pipeline) closeLanes() {
	for _, w := range p.writers {
		w.lane.Close()
	}
}

// dirName makes a writer name safe as one path element.
func dirName(name string) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// Publish queues ev without blocking or allocating. It returns false, and
// counts the drop, when the queue is full or the pipeline is closed. The
// pipeline owns ev from here on; nothing may modify it afterwards.
func (p *Pipeline) Publish(ev *Event) bool {
	p.inflight.Add(1)
	if p.closed.Load() {
		p.inflight.Add(-1)
		p.drops[DropClosed].Add(1)
		return false
	}
	select {
	case p.events <- ev:
		p.inflight.Add(-1)
		return true
	default:
		p.inflight.Add(-1)
		p.drops[DropQueueFull].Add(1)
		return false
	}
}

// batch is what the batcher hands every writer; writers only read it.
type batch struct {
	events  []*Event
	created time.Time // when its first event was batched

	encOnce sync.Once
	enc     []byte
}

// Len is the number of events (spool.Batch).
func (b *batch) Len() int { return len(b.events) }

// Record is the spill payload, built once however many writers spill it
// (spool.Batch).
func (b *batch) Record() []byte {
	b.encOnce.Do(func() { b.enc = encodeBatch(nil, b.created, b.events) })
	return b.enc
}

// readBatch is a spilled batch read back from a writer's log.
func readBatch(payload []byte) (*batch, error) {
	created, events, err := decodeBatch(payload)
	if err != nil {
		return nil, err
	}
	return &batch{events: events, created: created}, nil
}

// runBatcher owns the event queue: it cuts batches by size or age and
// dispatches them. It exits when Close stops it, after draining the queue,
// and closes every writer's memory queue on the way out.
func (p *Pipeline) runBatcher() {
	prio := sched.LowerThread()
	defer close(p.batcherDone)
	// The batcher polls the queue rather than wait on it: a receiver
	// waiting on the channel would be woken by every Publish, a thread
	// switch per event on the request's path. Events wait at most a poll
	// interval longer; batches are still cut by size and age.
	poll := time.NewTicker(pollInterval(p.opts.MaxDelay))
	defer poll.Stop()
	report := time.NewTicker(time.Second)
	defer report.Stop()

	cur := make([]*Event, 0, p.opts.MaxRows)
	var created time.Time
	flush := func() {
		if len(cur) == 0 {
			return
		}
		prio.Adjust(len(p.events), cap(p.events))
		p.dispatch(cur, created)
		cur = make([]*Event, 0, p.opts.MaxRows)
	}
	drain := func() {
		for {
			select {
			case ev := <-p.events:
				p.received.Add(1)
				if ev.InstanceID == "" {
					ev.InstanceID = p.opts.Instance
				}
				if len(cur) == 0 {
					created = time.Now()
				}
				cur = append(cur, ev)
				if len(cur) >= p.opts.MaxRows {
					flush()
				}
			default:
				return
			}
		}
	}
	for {
		select {
		case <-poll.C:
			drain()
			if len(cur) > 0 && time.Since(created) >= p.opts.MaxDelay {
				flush()
			}
		case <-report.C:
			p.reportDrops()
		case <-p.stop:
			drain()
			flush()
			for _, w := range p.writers {
				w.lane.CloseQueue()
			}
			return
		}
	}
}

// pollInterval is how often the batcher looks at the queue: a quarter of
// the batch age limit, between 1 ms and 20 ms.
func pollInterval(maxDelay time.Duration) time.Duration {
	return min(max(maxDelay/4, time.Millisecond), 20*time.Millisecond)
}

func (p *Pipeline) dispatch(events []*Event, created time.Time) {
	if p.opts.Process != nil {
		events = p.opts.Process(events)
		if len(events) == 0 {
			return
		}
		for _, ev := range events {
			if ev.InstanceID == "" {
				ev.InstanceID = p.opts.Instance
			}
			ev.ScanAttributes = nil // read by Process only
		}
	}
	p.batches.Add(1)
	b := &batch{events: events, created: created}
	var rec []byte
	if p.opts.Durable {
		// One encoding for every writer's log, in a buffer the batcher
		// reuses: the lanes copy nothing and keep nothing of it.
		p.logBuf = append(p.logBuf[:0], make([]byte, spool.HeaderSize)...)
		p.logBuf = encodeBatch(p.logBuf, created, events)
		spool.Seal(p.logBuf)
		rec = p.logBuf
	}
	for _, w := range p.writers {
		w.lane.Push(b, rec)
	}
}

// reportDrops logs drops counted since the last report, one line per
// reason and writer: never from Publish, at most once a second.
func (p *Pipeline) reportDrops() {
	for r := range p.drops {
		if n := p.drops[r].Load(); n > p.reported[r] {
			p.log.Warn().Str("reason", DropReason(r).String()).Uint64("events", n-p.reported[r]).Uint64("total", n).
				Msg("sink: dropped events (" + dropHint(DropReason(r)) + ")")
			p.reported[r] = n
		}
	}
	for _, w := range p.writers {
		w.reportDrops()
	}
}

func dropHint(r DropReason) string {
	switch r {
	case DropQueueFull:
		return "publish queue full: raise storage.batch.queue_size or check the writers"
	case DropClosed:
		return "published after shutdown began"
	case DropWriterQueueFull:
		return "writer queue full and spilling is off: set storage.spill.max_bytes"
	case DropSpillBudget:
		return "spill budget exhausted: the store has been down too long; raise storage.spill.max_bytes"
	case DropDiskFull:
		return "spill disk full: free space under storage.spill.dir"
	case DropSpillError:
		return "spill write failed"
	case DropShutdown:
		return "shutdown deadline passed and the batch could not be spilled"
	case DropRejected:
		return "the writer can never store them; see the error for what to do"
	}
	return ""
}

// closeGrace is how long Close waits past its deadline for writers to
// spill what they hold.
const closeGrace = 5 * time.Second

// closing reports whether Close has begun.
func (p *Pipeline) closing() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// Close stops accepting events, drains the queue into batches and every
// writer's backlog (memory and spill) into its store, then closes the
// writers. A writer that fails while closing does not retry: what it holds
// is spilled at once for the next run. If ctx ends first, writers stop
// retrying and what they still hold in memory is spilled for the next run
// (or, with spilling off, dropped and counted); Close then returns an error
// saying so. Close is idempotent.
func (p *Pipeline) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		for p.inflight.Load() != 0 {
			runtime.Gosched()
		}
		stopAbort := context.AfterFunc(ctx, p.cancel)
		close(p.stop)
		writersDone := make(chan struct{})
		go func() { // exits when the writers do
			<-p.batcherDone
			p.wg.Wait()
			close(writersDone)
		}()
		select {
		case <-writersDone:
		case <-p.ctx.Done():
			// Past the deadline writers stop retrying and spill what they
			// hold at once; only a writer stuck in a call that ignores its
			// context (or a Process hook that never returns) keeps us here.
			select {
			case <-writersDone:
			case <-time.After(closeGrace):
				p.closeErr = fmt.Errorf("sink: shutdown deadline passed and a writer (or the detection hook) is stuck; giving up on it: %w", ctx.Err())
				return
			}
		}
		aborted := !stopAbort() && p.ctx.Err() != nil
		p.cancel()

		var errs []error
		var left int64
		for _, w := range p.writers {
			if err := closeWriter(ctx, w.w); err != nil {
				errs = append(errs, fmt.Errorf("sink: close %s: %w", w.name, err))
			}
			left += w.lane.BacklogBytes()
			w.lane.Close()
		}
		p.reportDrops()
		if !aborted && left > 0 {
			errs = append(errs, fmt.Errorf("sink: a writer was down at shutdown; %d bytes stay in %s for the next start", left, p.opts.SpillDir))
		}
		if aborted {
			errs = append(errs, fmt.Errorf("sink: shutdown deadline passed before the writers caught up; %d bytes stay in %s for the next start: %w",
				left, p.opts.SpillDir, ctx.Err()))
		}
		p.closeErr = errors.Join(errs...)
	})
	return p.closeErr
}
