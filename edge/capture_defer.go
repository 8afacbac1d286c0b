package edge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/sink"
)

// Capturing a buffered answer — parsing the request and the answer,
// resolving the session, building the events — used to run before the
// handler returned, so the client waited for it: a few microseconds for a
// small call, a fraction of a millisecond for a long conversation's
// 200 KB body. Now the handler copies what capture needs out of the
// request context (the request body and headers, the answer's body, method
// and path: memory copies, no parsing), hands the exchange to the capture
// loop and returns, so the answer is written at once. When the queue
// is full the capture runs in the handler as before: nothing is skipped.

// deferQueue bounds the buffered calls waiting for capture.
const deferQueue = 4096

// The capture loop polls its queue rather than wait on it, for the same
// reason the sink's batcher does: a goroutine waiting on the channel is
// woken by every call, a thread switch on the request's path that costs
// more CPU than the capture itself at moderate rates and lands in the
// middle of the next request. It polls every capturePoll while calls
// arrive; after captureIdlePolls empty polls it sleeps until the next call
// wakes it. Its thread runs at the pipeline's low priority (sink.
// LowerThread), back to normal while the queue is over a quarter full; a
// full queue makes the handler capture inline. Events are late by at most
// a poll interval, which the pipeline's batching (200 ms by default) hides.
// 10 ms rather than 2: at 3,000 calls/s on a shared CPU the proxy used
// about 12 % less CPU, capturing a few dozen calls per wake-up with warm
// caches instead of a handful with cold ones (25 ms saved no more).
const (
	capturePoll      = 10 * time.Millisecond
	captureIdlePolls = 20
)

// deferred holds the capture loop's queue, its wake-up signal, and its
// count of exchanges not yet captured (for Shutdown).
//
// Calls are captured in the order they ended, whichever way: a streamed
// call (captured in its handler after its last byte), a failed one, or a
// buffered one captured inline because the queue was full first captures
// everything queued before it (inOrder), under mu, which the loop also
// holds for each capture. Otherwise an agent that sends its next turn
// within the poll interval could have a streamed turn resolved before the
// buffered turn that preceded it: a new session instead of the same one,
// and its http_recorder exchanges out of order.
type deferred struct {
	queue   chan *exchange
	wake    chan struct{}
	pending atomic.Int64
	asleep  atomic.Bool // the loop waits on wake, not on its timer
	mu      sync.Mutex  // one capture at a time, in order
}

func (p *Proxy) startDeferred() {
	p.def.queue = make(chan *exchange, deferQueue)
	p.def.wake = make(chan struct{}, 1)
	go p.captureLoop()
}

// captureLoop captures queued exchanges on a low-priority thread.
func (p *Proxy) captureLoop() {
	prio := sink.LowerThread()
	tick := time.NewTimer(capturePoll)
	idle := 0
	for {
		if idle >= captureIdlePolls {
			p.def.asleep.Store(true)
			if len(p.def.queue) == 0 {
				<-p.def.wake
			}
			p.def.asleep.Store(false)
			idle = 0
		} else {
			<-tick.C
		}
		prio.Adjust(len(p.def.queue), deferQueue)
		n := p.drainCaptures()
		if n == 0 {
			idle++
		} else {
			idle = 0
		}
		tick.Reset(capturePoll)
	}
}

// drainCaptures captures every exchange queued now and returns how many.
func (p *Proxy) drainCaptures() int {
	var y sink.Yielder
	for n := 0; ; n++ {
		p.def.mu.Lock()
		ok := p.captureNext()
		p.def.mu.Unlock()
		if !ok {
			return n
		}
		y.Tick()
	}
}

// captureNext captures and releases the oldest queued exchange, if any
// (p.def.mu held).
func (p *Proxy) captureNext() bool {
	select {
	case ex := <-p.def.queue:
		p.captureKept(ex)
		p.release(ex)
		p.def.pending.Add(-1)
		return true
	default:
		return false
	}
}

// inOrder runs an inline capture after every exchange queued before it
// (see deferred).
func (p *Proxy) inOrder(record func()) {
	if p.def.queue == nil {
		record()
		return
	}
	p.def.mu.Lock()
	defer p.def.mu.Unlock()
	for p.captureNext() {
	}
	record()
}

// keepForCapture copies what capture needs out of the request context,
// which fasthttp reuses once the handler returns.
func (p *Proxy) keepForCapture(ctx *fasthttp.RequestCtx, ex *exchange) {
	ex.end = time.Now()
	ctx.Request.Header.CopyTo(&ex.keptHeader)
	ex.keptMethod = append(ex.keptMethod[:0], ctx.Method()...)
	ex.keptPath = append(ex.keptPath[:0], ctx.Path()...)
	ex.keptWorkflow = append(ex.keptWorkflow[:0], ex.workflow...)
	ex.resp.SetBody(ctx.Response.Body()) // the answer went to the client's buffer
	if p.opts.Capture.rec.on {
		ctx.Response.Header.CopyTo(&ex.keptRespHeader) // as the client got it, for the http_recorder
	}
}

// deferCapture queues a kept exchange for the capture loop, which releases
// it; with the queue full it captures and releases it here.
func (p *Proxy) deferCapture(ex *exchange) {
	p.def.pending.Add(1)
	select {
	case p.def.queue <- ex:
		if p.def.asleep.Load() {
			select {
			case p.def.wake <- struct{}{}:
			default:
			}
		}
	default:
		p.inOrder(func() { p.captureKept(ex) })
		p.release(ex)
		p.def.pending.Add(-1)
	}
}

// captureKept records a buffered call from the copies deferCapture kept.
func (p *Proxy) captureKept(ex *exchange) {
	ci := &ex.respCI
	*ci = callInfo{
		start:      ex.start,
		end:        ex.end,
		method:     ex.keptMethod,
		path:       ex.keptPath,
		headers:    &ex.keptHeader,
		body:       ex.req.Body(),
		workflow:   ex.keptWorkflow,
		span:       ex.span,
		respHeader: &ex.keptRespHeader,
		status:     ex.resp.StatusCode(),
	}
	body := ex.resp.Body()
	ci.respBody = body
	if compressed(&ex.resp.Header) {
		b, err := ex.resp.BodyUncompressedWithLimit(p.opts.MaxResponseBufferSize)
		if err != nil {
			p.opts.Capture.undecodable.Add(1)
			body = nil
		} else {
			body = b
		}
	}
	resp := provider.AcquireResponse()
	defer provider.ReleaseResponse(resp)
	if err := resp.Parse(ex.kind, ci.status, body); err == nil || resp.IsError {
		ci.resp = resp
	}
	p.opts.Capture.record(ex.kind, &ex.conv, ci)
}

// waitCaptures waits until every deferred capture is done or ctx ends.
func (p *Proxy) waitCaptures(ctx context.Context) {
	for p.def.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}
