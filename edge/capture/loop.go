package capture

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cylestio/perimeter/internal/sched"
)

// Every call reaches capture through one FIFO, whichever way it ended
// (buffered, streamed, failed or refused), so calls are captured in the
// order Submit saw them and the loop is the only goroutine that reads the
// queue. Order matters: an agent that sends its next turn before the
// previous one was captured must still have the two resolved in order
// (same session, http_recorder exchanges in order).

// queueSize bounds the calls waiting for capture. A full queue makes
// Submit wait for room: nothing is skipped, and the wait is what slows a
// saturated proxy down rather than losing events. 512 calls per poll is
// 51,000 calls/s, far above what one instance captures; a deeper queue
// only holds more exchanges (their buffers, parsers and budget shares),
// which come back cold: at saturation, 4,096 cost a fifth more CPU per
// captured stream and 7 allocations more per call than 512
// (BenchmarkProxySSECapture).
const queueSize = 512

// The loop polls its queue rather than wait on it, for the same reason the
// sink's batcher does: a goroutine waiting on the channel is woken by
// every call, a thread switch on the request's path that costs more CPU
// than the capture itself at moderate rates and lands in the middle of
// the next request. It polls every poll while calls arrive; after
// idlePolls empty polls it sleeps until the next call wakes it. Its thread
// runs at the pipeline's low priority (sched.LowerThread), back to normal
// while the queue is over a quarter full. Events are late by at most a
// poll interval, which the pipeline's batching (200 ms by default) hides.
// 10 ms rather than 2: at 3,000 calls/s on a shared CPU the proxy used
// about 12 % less CPU, capturing a few dozen calls per wake-up with warm
// caches instead of a handful with cold ones (25 ms saved no more).
const (
	poll      = 10 * time.Millisecond
	idlePolls = 20
)

// loop is the queue and the state of the goroutine that drains it.
type loop struct {
	queue      chan *Call
	wake       chan struct{} // one token: the loop sleeps on it when idle
	asleep     atomic.Bool   // the loop waits on wake, not on its timer
	closing    atomic.Bool
	submitting atomic.Int64 // Submit calls between their closing check and their send
	done       chan struct{}
	late       sync.Mutex // orders the calls submitted after Close
	// queued and captured count the calls sent to the queue and the calls
	// the loop captured (Flush).
	queued, captured atomic.Uint64
}

func (c *Capture) startLoop() {
	c.q.queue = make(chan *Call, queueSize)
	c.q.wake = make(chan struct{}, 1)
	c.q.done = make(chan struct{})
	go c.run()
}

// Submit hands a finished call to the capture loop and returns at once
// (unless the queue is full: then it waits for room). Capture reads the
// call on its own goroutine and calls call.Done once it no longer needs
// it; until then the caller must not touch the call or the memory it
// points to. After Close, Submit captures the call before it returns.
func (c *Capture) Submit(call *Call) {
	c.q.submitting.Add(1)
	if c.q.closing.Load() {
		c.q.submitting.Add(-1)
		c.q.late.Lock()
		c.capture(call)
		c.q.late.Unlock()
		return
	}
	c.q.queued.Add(1)
	c.q.queue <- call
	c.q.submitting.Add(-1)
	if c.q.asleep.Load() {
		c.signal()
	}
}

func (c *Capture) signal() {
	select {
	case c.q.wake <- struct{}{}:
	default:
	}
}

// run captures queued calls on a low-priority thread until Close, then
// drains the queue and returns. Its locked thread ends with it.
func (c *Capture) run() {
	defer close(c.q.done)
	prio := sched.LowerThread()
	tick := time.NewTimer(poll)
	defer tick.Stop()
	idle := 0
	for {
		if idle >= idlePolls {
			c.q.asleep.Store(true)
			if len(c.q.queue) == 0 && !c.q.closing.Load() {
				<-c.q.wake
			}
			c.q.asleep.Store(false)
			idle = 0
		} else {
			select {
			case <-tick.C:
			case <-c.q.wake: // Close
			}
		}
		prio.Adjust(len(c.q.queue), queueSize)
		n := c.drain()
		if c.q.closing.Load() && n == 0 && c.q.submitting.Load() == 0 && len(c.q.queue) == 0 {
			return
		}
		if n == 0 {
			idle++
		} else {
			idle = 0
		}
		tick.Reset(poll)
	}
}

// drain captures every call queued now and returns how many.
func (c *Capture) drain() int {
	var y sched.Yielder
	for n := 0; ; n++ {
		select {
		case call := <-c.q.queue:
			c.capture(call)
			c.q.captured.Add(1)
			y.Tick()
		default:
			return n
		}
	}
}

// Close captures every call submitted so far and stops the loop. It
// returns when the loop has ended, or with an error when ctx ends first
// (the loop still captures what is queued, then ends). Calls submitted
// after Close are captured by Submit itself. Close the proxy's server
// first and the pipeline after: the last calls' events are then published
// before the pipeline drains.
func (c *Capture) Close(ctx context.Context) error {
	c.q.closing.Store(true)
	c.signal()
	select {
	case <-c.q.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("capture: %d calls were still queued when the shutdown deadline passed (server.shutdown_timeout): %w", len(c.q.queue), ctx.Err())
	}
}
