package edge

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/provider"
)

// Capturing a buffered answer — parsing the request and the answer,
// resolving the session, building the events — used to run before the
// handler returned, so the client waited for it: a few microseconds for a
// small call, a fraction of a millisecond for a long conversation's
// 200 KB body. Now the handler copies what capture needs out of the
// request context (the request body and headers, the answer's body, method
// and path: memory copies, no parsing), hands the exchange to a capture
// goroutine and returns, so the answer is written at once. When the queue
// is full the capture runs in the handler as before: nothing is skipped.

// deferQueue bounds the buffered calls waiting for capture.
const deferQueue = 4096

// deferred holds the capture goroutine's queue and its count of exchanges
// not yet captured (for Shutdown).
type deferred struct {
	queue   chan *exchange
	pending atomic.Int64
}

func (p *Proxy) startDeferred() {
	p.def.queue = make(chan *exchange, deferQueue)
	go func() {
		for ex := range p.def.queue {
			p.captureKept(ex)
			p.release(ex)
			p.def.pending.Add(-1)
		}
	}()
}

// keepForCapture copies what capture needs out of the request context,
// which fasthttp reuses once the handler returns.
func (p *Proxy) keepForCapture(ctx *fasthttp.RequestCtx, ex *exchange) {
	ex.end = time.Now()
	ctx.Request.Header.CopyTo(&ex.keptHeader)
	ex.keptMethod = append(ex.keptMethod[:0], ctx.Method()...)
	ex.keptPath = append(ex.keptPath[:0], ctx.Path()...)
	ex.keptWorkflow = append(ex.keptWorkflow[:0], ex.workflow...)
	ex.req.SetBody(ctx.PostBody())       // was an alias of the client's body
	ex.resp.SetBody(ctx.Response.Body()) // the answer went to the client's buffer
	if p.opts.Capture.rec.on {
		ctx.Response.Header.CopyTo(&ex.keptRespHeader) // as the client got it, for the http_recorder
	}
}

// deferCapture queues a kept exchange for the capture goroutine, which
// releases it; with the queue full it captures and releases it here.
func (p *Proxy) deferCapture(ex *exchange) {
	p.def.pending.Add(1)
	select {
	case p.def.queue <- ex:
	default:
		p.captureKept(ex)
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
