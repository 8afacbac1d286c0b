package edge

import (
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/capture"
	"github.com/cylestio/perimeter/internal/ascii"
)

// The capture hook: once a model call has ended, the proxy fills the
// exchange's capture.Call with what it already holds and submits it; the
// capture loop builds the events off the request path and calls the
// Call's Done, which releases the exchange. The proxy never parses for
// capture, never waits for it, and knows nothing of events.

// keepCall fills the exchange's Call with copies of what the request
// context holds (fasthttp reuses it once the handler returns).
func (p *Proxy) keepCall(ctx *fasthttp.RequestCtx, ex *exchange) *capture.Call {
	h := p.calls.Get().(*callHolder)
	h.ex, ex.call = ex, h
	c := &h.call
	c.Kind = ex.kind
	c.Start, c.End = ex.start, time.Now()
	c.Span = ex.span
	ctx.Request.Header.CopyTo(&c.Header)
	c.Method = append(c.Method[:0], ctx.Method()...)
	c.Path = append(c.Path[:0], ctx.Path()...)
	c.Workflow = append(c.Workflow[:0], ex.workflow...)
	c.Body = ex.body
	if st := &ex.pol; st.rewritten {
		// Stored as forwarded (redacted), on every path; the client's
		// own text is for detection only.
		c.Body, c.Original = ex.req.Body(), ex.body
	} else if st.req != nil {
		c.Request = st.req // the guard parsed the body already
	}
	return c
}

// captureBuffered submits a buffered call once its answer is in the
// client's response. The upstream's buffer stays with the exchange (the
// client got a copy), so what the guard parsed of it is still valid.
func (p *Proxy) captureBuffered(ctx *fasthttp.RequestCtx, ex *exchange) {
	c := p.keepCall(ctx, ex)
	c.Body = ex.req.Body() // as forwarded
	c.Status = ex.resp.StatusCode()
	c.Response = &ex.resp
	c.Parsed = ex.pol.parsed
	if p.opts.Capture.KeepsResponseHeader() {
		ctx.Response.Header.CopyTo(&c.ResponseHeader) // as the client got it
	}
	p.opts.Capture.Submit(c)
}

// captureStreamed submits a streamed call after its last byte: an SSE
// answer with the tap's parser, anything else with the bytes kept on the
// way.
func (p *Proxy) captureStreamed(ex *exchange) {
	ctx := ex.ctx
	c := p.keepCall(ctx, ex)
	c.Status = ex.resp.StatusCode()
	c.Response = &ex.resp
	c.Streamed, c.SSE = true, ex.sse
	c.Stream, c.Tee, c.Oversized = ex.sp, ex.tee, ex.result.Oversized
	if p.opts.Capture.KeepsResponseHeader() {
		ctx.Response.Header.CopyTo(&c.ResponseHeader)
	}
	p.opts.Capture.Submit(c)
}

// captureFailed submits a call the proxy answered itself with e, its
// stored error message msg.
func (p *Proxy) captureFailed(ctx *fasthttp.RequestCtx, ex *exchange, e errClass, msg string) {
	c := p.keepCall(ctx, ex)
	c.Failed, c.ErrorType, c.ErrorMessage, c.Status = true, e.String(), msg, e.status()
	p.opts.Capture.Submit(c)
}

// callHolder carries a capture.Call to the exchange it was filled from.
// It is pooled apart from exchanges, so that an open stream holds none:
// a Call is filled only once the call has ended.
type callHolder struct {
	call capture.Call
	ex   *exchange
}

// captured is the Call's Done: capture is finished with the exchange.
func (h *callHolder) captured() { h.ex.p.release(h.ex) }

// compressed reports whether a response body has a content coding.
func compressed(h *fasthttp.ResponseHeader) bool {
	ce := h.ContentEncoding()
	return len(ce) > 0 && !ascii.EqualFold(ce, "identity")
}
