package edge

import (
	"fmt"
	"io"
	"sync"

	"github.com/valyala/fasthttp"
)

// readBody reads the client's request body into ex.body, taking its size
// from the in-flight body budget first: a body of known length is refused
// (503) before a byte of it is read or allocated, one of unknown length
// (chunked) as soon as it would pass the budget or the size limit. On
// refusal it answers the client, closes the connection after the answer
// (the rest of the body is not read) and returns false.
func (p *Proxy) readBody(ctx *fasthttp.RequestCtx, ex *exchange) ([]byte, bool) {
	if ex.body == nil {
		if bb, _ := bodyBufs.Get().(*bodyBuf); bb != nil {
			ex.body, bb.b = bb.b, nil
			ex.spare = bb
		}
	}
	r := ctx.RequestBodyStream()
	if r == nil {
		ex.body = append(ex.body[:0], ctx.PostBody()...)
		return ex.body, true
	}
	limit := p.opts.MaxRequestBodySize
	if n := ctx.Request.Header.ContentLength(); n >= 0 {
		if n > limit {
			return nil, p.refuseBody(ctx, errRequestTooLarge)
		}
		if !ex.bodyAcct.take(int64(n)) {
			return nil, p.refuseBody(ctx, errBudget)
		}
		ex.body = grow(ex.body[:0], n)
		if _, err := io.ReadFull(r, ex.body); err != nil {
			return nil, p.bodyReadFailed(ctx, err)
		}
		return ex.body, true
	}
	// Chunked: the budget is taken as the buffer grows.
	b := ex.body[:0]
	for {
		if len(b) == cap(b) {
			c := min(max(2*cap(b), 32<<10), limit+1)
			if c <= len(b) {
				return nil, p.refuseBody(ctx, errRequestTooLarge)
			}
			b = grow(b, c)[:len(b)]
		}
		if need := int64(cap(b)) - ex.bodyAcct.held; need > 0 && !ex.bodyAcct.take(need) {
			return nil, p.refuseBody(ctx, errBudget)
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		ex.body = b
		if len(b) > limit {
			return nil, p.refuseBody(ctx, errRequestTooLarge)
		}
		if err == io.EOF {
			return b, true
		}
		if err != nil {
			return nil, p.bodyReadFailed(ctx, err)
		}
	}
}

// bodyBuf carries a body buffer through bodyBufs.
type bodyBuf struct{ b []byte }

// bodyBufs holds the body buffers of streams that no longer need them.
var bodyBufs sync.Pool

// dropBody gives up the request body of an exchange whose answer streams
// and that nothing reads the body of again (capture and policies off): an
// open stream then holds neither the buffer (agents send conversations of
// a hundred kilobytes and more) nor its share of the in-flight body budget.
// The buffer goes to bodyBufs, whose holder the exchange keeps or brings:
// no allocation once warm.
func (p *Proxy) dropBody(ex *exchange) {
	ex.req.SetBodyRaw(nil)
	ex.bodyAcct.release()
	if ex.body == nil {
		return
	}
	if cap(ex.body) <= maxPooledBody {
		bb := ex.spare
		if bb == nil {
			bb = new(bodyBuf)
		}
		bb.b = ex.body[:0]
		bodyBufs.Put(bb)
	}
	ex.body, ex.spare = nil, nil
}

// grow returns b with length n, reallocated when its capacity is short.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	nb := make([]byte, n)
	copy(nb, b)
	return nb
}

func (p *Proxy) refuseBody(ctx *fasthttp.RequestCtx, c errClass) bool {
	p.stats.errors[c].Add(1)
	var msg string
	if c == errBudget {
		msg = fmt.Sprintf("the proxy holds as many request bodies as server.max_inflight_body_bytes (%d bytes) allows; retry shortly, or raise the limit", p.opts.MaxInflightBodyBytes)
	} else {
		msg = fmt.Sprintf("the request body exceeds server.max_request_body_size (%d bytes); send less or raise the limit", p.opts.MaxRequestBodySize)
	}
	writeError(ctx, c, msg)
	ctx.SetConnectionClose()
	return false
}

func (p *Proxy) bodyReadFailed(ctx *fasthttp.RequestCtx, err error) bool {
	p.stats.errors[errBadRequest].Add(1)
	msg := "the request body ended before its declared length; nothing was forwarded"
	if isTimeout(err) {
		msg = fmt.Sprintf("the request body was not received within server.read_timeout (%s); nothing was forwarded", p.opts.ReadTimeout)
	}
	writeError(ctx, errBadRequest, msg)
	ctx.SetConnectionClose()
	return false
}
