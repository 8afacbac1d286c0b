package edge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/internal/netlimit"
	"github.com/cylestio/perimeter/stream"
)

// Proxy forwards requests to one upstream. Its Handler is safe for
// concurrent use.
type Proxy struct {
	opts  Options
	up    *upstream
	cred  *credential
	stats counters
	start time.Time
	pool  sync.Pool // *exchange
	calls sync.Pool // *callHolder (capture_hook.go)

	listener atomic.Pointer[netlimit.Listener] // set by Server.Serve, for /metrics

	bodies, answers budget // request bodies held, buffered answers (budget.go)

	// Warnings about failed calls, cut streams and answers the guard
	// could not decode, at most one a second each (with the number held
	// back).
	failLog, cutLog, unreadLog throttle
}

// NewProxy checks the options and builds the upstream pools. It does not
// connect: an unreachable upstream shows up as 502 answers, not here.
func NewProxy(o Options) (*Proxy, error) {
	o.setDefaults()
	switch o.Provider {
	case OpenAI, Anthropic:
	default:
		return nil, fmt.Errorf("llm.type %q: must be openai or anthropic", o.Provider)
	}
	up, err := parseBaseURL(o.BaseURL)
	if err != nil {
		return nil, err
	}
	p := &Proxy{opts: o, up: up, cred: newCredential(o.Provider, o.APIKey), start: time.Now()}
	up.buffered = up.newClient(&p.opts, false, &p.stats.framing)
	up.streamed = up.newClient(&p.opts, true, &p.stats.framing)
	p.failLog.interval, p.cutLog.interval, p.unreadLog.interval = time.Second, time.Second, time.Second
	p.bodies.limit, p.answers.limit = p.opts.MaxInflightBodyBytes, p.opts.MaxBufferedResponseBytes
	p.pool.New = func() any { return &exchange{p: p} }
	p.calls.New = func() any {
		h := &callHolder{}
		h.call.Done, h.call.MaxDecoded = h.captured, p.opts.MaxResponseBufferSize
		return h
	}
	if o.Capture != nil {
		o.Capture.SetSecret(o.APIKey)
	}
	return p, nil
}

// exchange is the state of one proxied request, pooled. For a streamed
// answer it is also the response body stream, released when fasthttp closes
// it after the last byte.
type exchange struct {
	p       *Proxy
	req     fasthttp.Request
	resp    fasthttp.Response
	url     []byte
	body    []byte   // the client's request body (body.go)
	spare   *bodyBuf // carries body to bodyBufs when it is dropped early
	scratch [][]byte
	start   time.Time
	conn    net.Conn // the client's, for write deadlines while streaming
	dw      deadlineWriter
	sse     bool
	result  stream.Result

	// Capture state; kind is provider.None when capture is off or the
	// request is not a model call.
	kind     provider.Kind
	workflow []byte // /agent-workflow/{id}/ route id; aliases the request URI
	ctx      *fasthttp.RequestCtx
	sp       *provider.StreamParser // taps an SSE answer
	tee      []byte                 // first bytes of a streamed answer, for capture
	span     uint64                 // the call's span id when it continues the client's trace (traceparent.go)
	call     *callHolder            // what capture is handed, from keepCall to release (capture_hook.go)

	// What the exchange holds of the memory budgets (budget.go).
	bodyAcct, respAcct account

	pol guardState // policies and limits (guard.go)
}

// maxPooledTee is the largest stream copy an exchange keeps for reuse.
const maxPooledTee = 1 << 20

func (p *Proxy) acquire() *exchange {
	ex := p.pool.Get().(*exchange)
	ex.bodyAcct.b, ex.respAcct.b = &p.bodies, &p.answers
	return ex
}

// maxPooledBody is the largest body buffer an exchange keeps for reuse: a
// rare large body's memory goes back to the heap with the request.
const maxPooledBody = 1 << 20

func (p *Proxy) release(ex *exchange) {
	ex.bodyAcct.release()
	ex.respAcct.release()
	if cap(ex.body) > maxPooledBody {
		ex.body = nil
	} else {
		ex.body = ex.body[:0]
	}
	ex.req.Reset()
	ex.resp.Reset()
	ex.conn = nil
	ex.dw = deadlineWriter{}
	ex.sse = false
	ex.result = stream.Result{}
	ex.kind = provider.None
	ex.workflow = nil
	ex.ctx = nil
	if ex.sp != nil {
		provider.ReleaseStreamParser(ex.sp)
		ex.sp = nil
	}
	if cap(ex.tee) > maxPooledTee {
		ex.tee = nil
	} else {
		ex.tee = ex.tee[:0]
	}
	ex.span = 0
	if h := ex.call; h != nil { // it was handed to capture
		h.call.Reset()
		h.ex, ex.call = nil, nil
		p.calls.Put(h)
	}
	ex.pol.reset()
	p.pool.Put(ex)
}

// forward is the catch-all handler.
func (p *Proxy) forward(ctx *fasthttp.RequestCtx) {
	if c, msg := checkTarget(ctx); msg != "" {
		p.stats.requests.Add(1)
		p.stats.errors[c].Add(1)
		writeError(ctx, c, msg)
		ctx.SetConnectionClose() // the client's idea of this connection is not ours
		return
	}
	p.stats.requests.Add(1)
	p.stats.inFlight.Add(1)
	ex := p.acquire()
	ex.start = ctx.Time() // read by fasthttp as the request arrived

	body, ok := p.readBody(ctx, ex)
	if !ok {
		p.stats.inFlight.Add(-1)
		p.release(ex)
		return
	}
	ctx.Request.Header.CopyTo(&ex.req.Header)
	ex.scratch = prepareRequestHeader(&ex.req.Header, p.opts.Provider, p.cred, ex.scratch)
	ex.url, ex.workflow = p.upstreamURL(ex.url[:0], ctx)
	ex.req.SetRequestURIBytes(ex.url)
	ex.req.SetBodyRaw(body)
	ex.req.SetUserValue(responseAccountKey, &ex.respAcct)

	if p.opts.Capture != nil || p.opts.Guard != nil {
		ex.kind = provider.Detect(string(p.opts.Provider), ctx.Method(), detectPath(ctx, ex))
	}
	if p.opts.Guard != nil && ex.kind != provider.None && !p.opts.Guard.admit(ctx, ex, ex.kind, body) {
		p.refused(ctx, ex)
		return
	}
	if p.opts.Capture == nil {
		ex.kind = provider.None
	} else if ex.kind != provider.None && p.opts.Capture.ContinuesTraces() {
		p.continueTrace(ctx, ex)
	}

	streamed := wantsStream(ctx, body)
	client := p.up.buffered
	if streamed {
		client = p.up.streamed
		if p.opts.Guard != nil && p.opts.Guard.readsStream(&ex.pol) {
			// A compressed event stream cannot be read as it passes: the
			// upstream is asked for a plain one (a buffered answer is
			// decoded instead, afterResponse).
			ex.req.Header.Del(fasthttp.HeaderAcceptEncoding)
		}
	}
	if err := client.Do(&ex.req, &ex.resp); err != nil {
		p.fail(ctx, ex, err)
		return
	}
	p.stats.latency.record(time.Since(ex.start))
	p.stats.countStatus(ex.resp.StatusCode())

	buffered := !streamed || !ex.resp.IsBodyStream()
	if buffered && p.opts.Guard != nil && !p.opts.Guard.afterResponse(ctx, ex) {
		p.withheld(ctx, ex)
		return
	}
	ex.resp.Header.CopyTo(&ctx.Response.Header)
	ex.scratch = prepareResponseHeader(&ctx.Response.Header, ex.scratch)

	if buffered {
		if ex.kind != provider.None {
			// The client gets a copy; the upstream's buffer stays with the
			// exchange for capture, which releases it.
			ctx.Response.SetBody(ex.resp.Body())
			p.done(ctx, ex)
			p.captureBuffered(ctx, ex)
			return
		}
		// Hand the upstream's body buffer to the client's response and take
		// the client's old buffer in exchange: no copy, no allocation.
		b := ex.resp.SwapBody(nil)
		ex.resp.SwapBody(ctx.Response.SwapBody(b))
		p.finish(ctx, ex)
		return
	}

	if ex.kind == provider.None && p.opts.Guard == nil {
		p.dropBody(ex) // sent, and nothing reads it again while the answer streams
	}
	ex.sse = stream.IsEventStream(ex.resp.Header.ContentType())
	ex.conn = ctx.Conn()
	size := ex.resp.Header.ContentLength()
	if size < 0 {
		size = -1
	}
	if ex.sse {
		p.stats.streams.Add(1)
		p.stats.streamsActive.Add(1)
	}
	if ex.kind != provider.None {
		ex.ctx = ctx
		if ex.sse && !compressed(&ex.resp.Header) {
			ex.sp = provider.AcquireStreamParser(ex.kind)
		}
	} else if p.opts.Guard != nil && p.opts.Guard.readsStream(&ex.pol) && ex.sse && !compressed(&ex.resp.Header) {
		ex.sp = provider.AcquireStreamParser(ex.pol.kind) // usage for limits, text for the hold-back window
	}
	if ex.sp != nil && ex.pol.resp != 0 && p.opts.Guard.holdback > 0 {
		ex.pol.holdback = true
	}
	if ex.sse {
		// The header leaves at once, unless the body's first bytes have
		// arrived with it and nothing holds them back: then the two leave
		// together, in one write.
		sb, _ := ex.resp.BodyStream().(*streamBody)
		ctx.Response.ImmediateHeaderFlush = ex.pol.holdback || sb == nil || !sb.arrived()
	}
	if size < 0 && !ctx.Request.Header.IsHTTP11() {
		p.closeDelimited(ctx, ex)
		return
	}
	ctx.Response.SetBodyStream(ex, size)
}

// closeDelimited answers an HTTP/1.0 client, which cannot read chunked
// framing, with a body of unknown length that ends when the connection
// closes (RFC 9112 §6.3): the connection is taken over from fasthttp, which
// would frame it chunked.
func (p *Proxy) closeDelimited(ctx *fasthttp.RequestCtx, ex *exchange) {
	ctx.Response.Header.SetContentLength(-2) // neither Content-Length nor Transfer-Encoding
	ctx.Response.Header.SetConnectionClose()
	head := ctx.Response.Header.AppendBytes(nil)
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		ex.conn = c
		_, err := c.Write(head)
		if err == nil {
			_, err = ex.WriteTo(c)
		}
		_ = ex.CloseWithError(err)
	})
}

func (p *Proxy) finish(ctx *fasthttp.RequestCtx, ex *exchange) {
	p.done(ctx, ex)
	p.release(ex)
}

// done ends a buffered exchange's accounting.
func (p *Proxy) done(ctx *fasthttp.RequestCtx, ex *exchange) {
	p.stats.inFlight.Add(-1)
	if p.opts.AccessLog || p.opts.Logger.Debug().Enabled() {
		p.accessLog(ctx, ex, nil)
	}
}

func (p *Proxy) fail(ctx *fasthttp.RequestCtx, ex *exchange, err error) {
	c := classify(err)
	p.stats.errors[c].Add(1)
	writeError(ctx, c, p.explain(c, err))
	if ok, held := p.failLog.allow(time.Now()); ok {
		p.opts.Logger.Warn().Str("error_type", c.String()).Err(err).
			Bytes("method", ctx.Method()).Bytes("path", ctx.Path()).Uint64("similar_not_logged", held).
			Msg("upstream request failed (at most one such line a second; /metrics counts them all)")
	}
	p.stats.inFlight.Add(-1)
	if ex.kind != provider.None {
		p.captureFailed(ctx, ex, c, c.captureMessage()) // released by capture
		return
	}
	p.release(ex)
}

// refused ends a call the guard answered itself (blocked or limited). It
// is counted and, with capture on, recorded as a failed call, so that what
// it carried reaches detection, the store and alerts.
func (p *Proxy) refused(ctx *fasthttp.RequestCtx, ex *exchange) {
	c := errGuardBlocked
	if ctx.Response.StatusCode() == fasthttp.StatusTooManyRequests {
		c = errLimited
	}
	p.stats.errors[c].Add(1)
	p.stats.inFlight.Add(-1)
	if p.opts.Capture != nil {
		p.captureFailed(ctx, ex, c, c.captureMessage()) // released by capture
		return
	}
	p.release(ex)
}

// withheld ends a call whose answer a response policy replaced with a
// 403. The provider answered, and bills for it: with capture on, the call
// is recorded as a failed call like a refused one, its message naming the
// usage the answer reported (a failed call's event has no usage of its
// own).
func (p *Proxy) withheld(ctx *fasthttp.RequestCtx, ex *exchange) {
	p.stats.errors[errGuardBlocked].Add(1)
	p.done(ctx, ex)
	if ex.kind == provider.None {
		p.release(ex)
		return
	}
	p.captureFailed(ctx, ex, errGuardBlocked, withheldMessage(ex.pol.parsed)) // released by capture
}

// withheldMessage is the stored error of a withheld answer, with the usage
// it reported when it could be read.
func withheldMessage(resp *provider.Response) string {
	const msg = "the answer was withheld by a Perimeter response policy (guard_blocked)"
	if resp == nil || resp.Usage.Has == 0 {
		return msg + "; the provider's usage for it is unknown"
	}
	u := &resp.Usage
	b := make([]byte, 0, len(msg)+64)
	b = append(b, msg+"; the provider reported "...)
	b = strconv.AppendInt(b, u.InputTokens, 10)
	b = append(b, " input and "...)
	b = strconv.AppendInt(b, u.OutputTokens, 10)
	b = append(b, " output tokens"...)
	if c := u.CachedTokens + u.CacheCreationTokens; c > 0 && resp.Kind.Vendor() == "anthropic" { // not in its input count
		b = append(b, " (and "...)
		b = strconv.AppendInt(b, c, 10)
		b = append(b, " cache tokens)"...)
	}
	return string(append(b, " for it"...))
}

// errCompressedStream: an event stream a limit or the hold-back window
// had to read came compressed, though it was asked for without
// Accept-Encoding.
var errCompressedStream = errors.New("the event stream came compressed though asked for without Accept-Encoding; it passed unread")

// unreadable logs an answer the guard could not decode: it passed
// uncharged by token and cost limits and unchecked by response policies.
func (p *Proxy) unreadable(ex *exchange, err error) {
	if ok, held := p.unreadLog.allow(time.Now()); ok {
		p.opts.Logger.Warn().Err(err).Bytes("content_encoding", ex.resp.Header.ContentEncoding()).
			Bytes("upstream", ex.req.URI().Path()).Uint64("similar_not_logged", held).
			Msg("an answer could not be decoded: it was passed as sent, not charged to token or cost limits and not checked by response policies")
	}
}

func (p *Proxy) explain(c errClass, err error) string {
	base := p.up.scheme + "://" + p.up.host
	switch c {
	case errUnreachable:
		return fmt.Sprintf("cannot connect to the upstream %s: %v; check llm.base_url and that the provider is reachable from this host", base, err)
	case errTimeout:
		// Both settings default to llm.timeout; the message names the one
		// that fired.
		var as *answerStalled
		if errors.As(err, &as) {
			return fmt.Sprintf("the upstream %s stopped sending its answer for %s (llm.stream_idle_timeout, by default llm.timeout); retry, or raise it", base, p.opts.StreamIdleTimeout)
		}
		return fmt.Sprintf("the upstream %s sent nothing for %s (llm.response_header_timeout, by default llm.timeout); retry, or raise it for slow models", base, p.opts.ResponseHeaderTimeout)
	case errNoConns:
		return fmt.Sprintf("all %d upstream connections are busy (llm.max_conns); retry later or raise llm.max_conns", p.opts.MaxConns)
	case errBudget:
		return fmt.Sprintf("the proxy holds as many buffered answers as llm.max_buffered_response_bytes (%d bytes) allows; retry shortly, ask for a streamed answer, or raise the limit", p.opts.MaxBufferedResponseBytes)
	case errUpstreamTooLarge:
		return fmt.Sprintf("the upstream answer exceeds llm.max_response_buffer_size (%d bytes); raise it or ask for a streamed answer", p.opts.MaxResponseBufferSize)
	default:
		return fmt.Sprintf("the upstream %s closed the connection without a complete answer: %v; retry the request", base, err)
	}
}

// upstreamURL appends scheme://host + base path + the client's raw request
// URI (path and query exactly as sent) to dst. A request under
// /agent-workflow/{id}/ (the original's workflow route) is forwarded without
// that prefix; the id is returned for the events.
func (p *Proxy) upstreamURL(dst []byte, ctx *fasthttp.RequestCtx) ([]byte, []byte) {
	dst = append(dst, p.up.prefix...)
	uri := ctx.Request.Header.RequestURI()
	if len(uri) > 0 && uri[0] != '/' {
		// Absolute form ("http://proxy/v1/x"): keep only path and query.
		u := ctx.URI()
		dst = append(dst, u.PathOriginal()...)
		if q := u.QueryString(); len(q) > 0 {
			dst = append(dst, '?')
			dst = append(dst, q...)
		}
		return dst, nil
	}
	rest, workflow := stripWorkflow(uri)
	if len(rest) == 0 || rest[0] != '/' {
		dst = append(dst, '/')
	}
	return append(dst, rest...), workflow
}

var workflowPrefix = []byte("/agent-workflow/")

// detectPath is the path the provider format is told from: the upstream
// path, after the workflow prefix.
func detectPath(ctx *fasthttp.RequestCtx, ex *exchange) []byte {
	if ex.workflow == nil {
		return ctx.Path()
	}
	rest, _ := stripWorkflow(ctx.Path())
	return rest
}

// stripWorkflow splits "/agent-workflow/{id}/rest?q" into "/rest?q" and id.
func stripWorkflow(uri []byte) (rest, id []byte) {
	if !bytes.HasPrefix(uri, workflowPrefix) {
		return uri, nil
	}
	tail := uri[len(workflowPrefix):]
	end := bytes.IndexAny(tail, "/?")
	if end < 0 {
		end = len(tail)
	}
	if end == 0 {
		return uri, nil
	}
	return tail[end:], tail[:end]
}

var (
	streamKey   = []byte(`"stream"`)
	eventStream = []byte("text/event-stream")
)

// wantsStream reports whether the answer may be a stream and so must not be
// buffered: a top-level-looking "stream": true in the body, an Accept of
// text/event-stream, or a request without a body (downloads). A nested
// "stream": true only costs the streaming pool's few allocations.
func wantsStream(ctx *fasthttp.RequestCtx, body []byte) bool {
	if len(body) == 0 {
		return !ctx.IsPost()
	}
	if bytes.Contains(ctx.Request.Header.Peek("Accept"), eventStream) {
		return true
	}
	for rest := body; ; {
		i := bytes.Index(rest, streamKey)
		if i < 0 {
			return false
		}
		rest = skipSpace(rest[i+len(streamKey):])
		if len(rest) > 0 && rest[0] == ':' {
			if bytes.HasPrefix(skipSpace(rest[1:]), []byte("true")) {
				return true
			}
		}
	}
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// Read makes exchange an io.Reader for fasthttp's body stream contract; the
// server uses WriteTo instead (see SupportsBodyWriteTo).
func (ex *exchange) Read(b []byte) (int, error) {
	return ex.resp.BodyStream().Read(b)
}

// SupportsBodyWriteTo tells fasthttp to call WriteTo, which frames and taps
// events; Read would bypass that.
func (ex *exchange) SupportsBodyWriteTo() bool { return true }

// WriteTo copies the upstream body to the client. fasthttp's chunked writer
// flushes every Write, so each upstream read reaches the client at once.
func (ex *exchange) WriteTo(w io.Writer) (int64, error) {
	ex.dw = deadlineWriter{w: w, conn: ex.conn, timeout: ex.p.opts.WriteIdleTimeout}
	dw := &ex.dw
	if ex.sse {
		dw.first, dw.start = &ex.p.stats.firstEvent, ex.start
	}
	if ex.kind != provider.None {
		dw.tee, dw.limit = &ex.tee, ex.p.opts.Capture.TeeLimit(ex.sse)
	}
	var tap stream.Tap
	if ex.sp != nil {
		tap = ex
	}
	var dst io.Writer = dw
	if ex.pol.holdback {
		ex.pol.hold = &holdback{g: ex.p.opts.Guard, ex: ex, dst: dw, limit: ex.p.opts.Guard.holdback}
		dst = ex.pol.hold
	}
	count := ex.sse && (ex.p.opts.AccessLog || ex.p.opts.Logger.Debug().Enabled()) // for accessLog
	if sb, _ := ex.resp.BodyStream().(*streamBody); sb != nil {
		ex.result = relay(dst, sb, tap, count)
	} else {
		c := stream.AcquireCopier()
		c.CountEvents = count
		ex.result = c.Copy(dst, ex.resp.BodyStream(), tap)
		stream.ReleaseCopier(c)
	}
	if h := ex.pol.hold; h != nil {
		h.afterEvent(true, 0)
		if errors.Is(ex.result.DstErr, errWithheld) {
			ex.result.DstErr = nil
		}
		if ex.result.DstErr == nil && h.err != nil {
			ex.result.DstErr = h.err
		}
	}
	return ex.result.Bytes, ex.result.Err()
}

// CloseWithError is called by fasthttp, exactly once, when the body is
// written or the write failed. (exchange must not also implement io.Closer:
// fasthttp would call both.) A failed stream closes the upstream connection instead of draining
// it, so a gone client stops the provider's work at once.
func (ex *exchange) CloseWithError(err error) error {
	p := ex.p
	if err == nil {
		err = ex.result.Err()
	}
	// Closes the upstream body once and detaches it, so that release's
	// Reset does not close it again (the stream is pooled, transport.go).
	_ = ex.resp.CloseBodyStream()
	switch {
	case ex.result.DstErr != nil:
		p.stats.errors[errClientGone].Add(1)
	case ex.result.SrcErr != nil:
		p.stats.errors[errStreamBroken].Add(1)
		if ok, held := p.cutLog.allow(time.Now()); ok {
			p.opts.Logger.Warn().Err(ex.result.SrcErr).Bool("timeout", isTimeout(ex.result.SrcErr)).Uint64("similar_not_logged", held).
				Msg("upstream stream interrupted; the client's answer was cut")
		}
	}
	p.stats.bytesStreamed.Add(uint64(ex.result.Bytes))
	if ex.sse {
		p.stats.streamsActive.Add(-1)
	}
	if ex.pol.charge {
		p.opts.Guard.chargeStream(ex)
	}
	p.stats.inFlight.Add(-1)
	if p.opts.AccessLog || p.opts.Logger.Debug().Enabled() {
		p.accessLog(nil, ex, err)
	}
	if ex.kind != provider.None {
		p.captureStreamed(ex) // released by capture
		return nil
	}
	p.release(ex)
	return nil
}

// Event is the stream tap: each complete SSE event of the answer, in place.
func (ex *exchange) Event(ev []byte) {
	_ = ex.sp.Event(ev)
	if ex.pol.hold != nil {
		ex.pol.hold.afterEvent(false, len(ev))
	}
}

// deadlineWriter bounds each write to a slow client by an idle timeout
// (within [7/8, 1] of it), and keeps the first limit bytes in *tee when set.
type deadlineWriter struct {
	w       io.Writer
	conn    net.Conn
	timeout time.Duration
	armed   time.Time // the write deadline set on conn
	tee     *[]byte
	limit   int
	// first, when set, records the time from start to the first write:
	// for an event stream, the time to its first event.
	first *histogram
	start time.Time
}

func (d *deadlineWriter) Write(b []byte) (int, error) {
	if d.first != nil {
		d.first.record(time.Since(d.start))
		d.first = nil
	}
	if d.conn != nil {
		// Re-armed only when it has fallen an eighth of the timeout behind
		// (as idleConn does): a deadline is a timer-heap update.
		if want := time.Now().Add(d.timeout); want.Sub(d.armed) > d.timeout/8 {
			if err := d.conn.SetWriteDeadline(want); err != nil {
				return 0, err
			}
			d.armed = want
		}
	}
	if d.tee != nil && len(*d.tee) < d.limit {
		*d.tee = append(*d.tee, b[:min(len(b), d.limit-len(*d.tee))]...)
	}
	return d.w.Write(b)
}

func (p *Proxy) accessLog(ctx *fasthttp.RequestCtx, ex *exchange, err error) {
	ev := p.opts.Logger.Debug()
	if p.opts.AccessLog {
		ev = p.opts.Logger.Info()
	}
	ev = ev.Int("status", ex.resp.StatusCode()).Dur("duration", time.Since(ex.start)).
		Bytes("upstream", ex.req.URI().Path())
	if ex.sse {
		ev = ev.Bool("stream", true).Int64("bytes", ex.result.Bytes).Int("events", ex.result.Events)
	}
	if ctx != nil {
		ev = ev.Bytes("method", ctx.Method())
	}
	if err != nil {
		ev = ev.AnErr("stream_error", err)
	}
	ev.Msg("proxied")
}
