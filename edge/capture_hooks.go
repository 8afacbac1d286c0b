package edge

import (
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/provider"
)

// callInfo fills the exchange's reusable callInfo from the client request.
func (p *Proxy) callInfo(ctx *fasthttp.RequestCtx, ex *exchange, ended bool) *callInfo {
	ci := &ex.respCI
	*ci = callInfo{
		start:    ex.start,
		method:   ctx.Method(),
		path:     ctx.Path(),
		headers:  &ctx.Request.Header,
		body:     ex.body,
		workflow: ex.workflow,
		span:     ex.span,

		respHeader: &ctx.Response.Header,
	}
	if ended {
		ci.end = time.Now()
	}
	ci.status = ex.resp.StatusCode()
	return ci
}

// captureStreamed records a call whose answer was streamed: an SSE answer
// from the tap's parser, anything else from the bytes kept on the way.
func (p *Proxy) captureStreamed(ex *exchange) {
	p.inOrder(func() { p.recordStreamed(ex) })
}

func (p *Proxy) recordStreamed(ex *exchange) {
	ci := p.callInfo(ex.ctx, ex, true)
	ci.streamed = true
	ci.respBody = ex.tee
	defer p.trimTee(ex)
	if ex.sp != nil {
		ci.resp = ex.sp.Result()
		if !ex.sp.Complete() {
			ci.cut = true
			p.opts.Capture.streamsCut.Add(1)
		}
		p.opts.Capture.record(ex.kind, &ex.conv, ci)
		return
	}
	if ex.sse {
		// A compressed event stream cannot be read in place.
		p.opts.Capture.undecodable.Add(1)
		p.opts.Capture.record(ex.kind, &ex.conv, ci)
		return
	}
	resp := provider.AcquireResponse()
	defer provider.ReleaseResponse(resp)
	if !compressed(&ex.resp.Header) {
		if err := resp.Parse(ex.kind, ci.status, ex.tee); err == nil || resp.IsError {
			ci.resp = resp
		}
	} else {
		p.opts.Capture.undecodable.Add(1)
	}
	p.opts.Capture.record(ex.kind, &ex.conv, ci)
}

// compressed reports whether a response body has a content coding.
func compressed(h *fasthttp.ResponseHeader) bool {
	ce := h.ContentEncoding()
	return len(ce) > 0 && !equalFold(ce, "identity")
}
