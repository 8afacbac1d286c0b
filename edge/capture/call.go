package capture

import (
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/internal/ascii"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/stream"
)

// Call is one model call as the proxy saw it: the bytes it already holds,
// never parsed or copied for capture's sake beyond what the proxy must
// keep once its handler returns. The proxy owns a Call (one per pooled
// exchange), fills it, and hands it to Submit; capture reads it on its own
// goroutine and then calls Done, after which the proxy may reuse the Call
// and everything it points to.
type Call struct {
	Kind       provider.Kind
	Start, End time.Time
	// Method, Path and Workflow (the /agent-workflow/{id}/ route's id) are
	// the call's own copies.
	Method, Path, Workflow []byte
	// Header is a copy of the client's request headers, credentials
	// included (the events and recordings never carry them).
	Header fasthttp.RequestHeader
	// Body is the request body as forwarded. Request, when not nil, is Body
	// already parsed (by the guard) and is used instead of parsing again.
	Body    []byte
	Request *provider.Request
	// Original is the body as the client sent it when the guard rewrote
	// Body (a redact policy), else nil. Nothing capture stores carries it:
	// it is what detection reads (the llm.call.start's ScanAttributes), so
	// that the findings of redacted text are still stored.
	Original []byte
	// Span is the call's span id when it continues the client's trace
	// (Header's Traceparent is valid then), else 0.
	Span uint64

	// Status is the status the client got.
	Status int
	// Response is the upstream's answer: status, headers (Content-Encoding)
	// and, for a buffered answer, its body; nil for a failed call.
	// Parsed, when not nil, is the buffered body already parsed (by the
	// guard).
	Response *fasthttp.Response
	Parsed   *provider.Response
	// ResponseHeader is a copy of the headers the client got, kept only
	// when KeepsResponseHeader (for the http_recorder).
	ResponseHeader fasthttp.ResponseHeader

	// A streamed answer: Stream is its tap (nil when it was not a readable
	// event stream) and Tee its first TeeLimit bytes.
	Streamed, SSE bool
	Stream        *provider.StreamParser
	Tee           []byte
	// Oversized counts the stream's events too large for the tap to read
	// (stream.DefaultMaxEventSize): forwarded, not read.
	Oversized int

	// A call the proxy answered itself (upstream failure, guard refusal):
	// ErrorType and ErrorMessage name why.
	Failed                  bool
	ErrorType, ErrorMessage string

	// MaxDecoded bounds a compressed buffered answer once decoded
	// (llm.max_response_buffer_size); set once by the proxy.
	MaxDecoded int
	// Done is called by capture when it is finished with the call; set
	// once by the proxy.
	Done func()

	conv session.Conversation // kept across calls: its slices are reused
	ci   callInfo
	sp   *provider.StreamParser // reads an event stream the tap did not read
}

// Reset clears the call for its next use, keeping its buffers, MaxDecoded
// and Done.
func (c *Call) Reset() {
	c.Kind = provider.None
	c.Start, c.End = time.Time{}, time.Time{}
	c.Method, c.Path, c.Workflow = c.Method[:0], c.Path[:0], c.Workflow[:0]
	c.Header.Reset()
	c.Body, c.Request, c.Original, c.Span = nil, nil, nil, 0
	c.Status, c.Response, c.Parsed = 0, nil, nil
	c.ResponseHeader.Reset()
	c.Streamed, c.SSE, c.Stream, c.Tee, c.Oversized = false, false, nil, nil, 0
	c.Failed, c.ErrorType, c.ErrorMessage = false, "", ""
	c.ci = callInfo{}
}

// capture records one call and hands it back.
func (c *Capture) capture(call *Call) {
	c.record(call)
	if call.Done != nil {
		call.Done()
	}
}

// maxTee bounds how much of a streamed non-SSE answer (an error body on a
// stream request) is kept for parsing.
const maxTee = 1 << 20

// TeeLimit is how many bytes of a streamed answer the proxy keeps in
// Call.Tee: the first maxTee of a non-SSE answer for parsing, and with
// RecordHTTP up to its limit+1 of any answer, to record it and know when it
// was cut.
func (c *Capture) TeeLimit(sse bool) int {
	limit := 0
	if !sse {
		limit = maxTee
	}
	if c.rec.on {
		limit = max(limit, c.rec.maxBody+1)
	}
	return limit
}

// KeepsResponseHeader reports whether Call.ResponseHeader is read (the
// http_recorder is on).
func (c *Capture) KeepsResponseHeader() bool { return c.rec.on }

// ContinuesTraces reports whether ContinueTraces was called: the proxy
// then picks a span for calls that carry a valid traceparent.
func (c *Capture) ContinuesTraces() bool { return c.traces }

// answer fills ci's answer from the call: the stream's tap, the kept
// bytes of a streamed answer, or the buffered body, parsed in place (an
// event stream event by event), decoded first with the bounded decoders
// when it is compressed. It returns the response to release, if it
// acquired one. An answer it cannot read leaves ci.resp nil and says why
// in ci.unread.
func (c *Capture) answer(call *Call, ci *callInfo) (acquired *provider.Response) {
	switch {
	case call.Failed:
		ci.failed, ci.errType, ci.errMessage = true, call.ErrorType, call.ErrorMessage
		return nil
	case call.Streamed:
		ci.streamed, ci.respBody, ci.oversized = true, call.Tee, call.Oversized
		if call.Oversized > 0 {
			c.oversized.Add(uint64(call.Oversized))
		}
		if call.Stream != nil {
			ci.resp = call.Stream.Result()
			if !call.Stream.Complete() {
				ci.cut = true
				c.streamsCut.Add(1)
			}
			return nil
		}
		// No tap: a compressed answer, or one that is not an event
		// stream. What was kept of it is read if it is whole.
		body := call.Tee
		if compressed(&call.Response.Header) {
			if len(body) == 0 || len(body) >= c.TeeLimit(call.SSE) {
				c.undecodable.Add(1)
				ci.unread = unreadCompressed
				return nil
			}
			if body = c.decode(call, ci, body); body == nil {
				return nil
			}
		}
		if call.SSE {
			c.readEvents(call, ci, body)
			return nil
		}
		return c.parse(call, ci, body)
	}
	body := call.Response.Body()
	ci.respBody = body
	if call.Parsed != nil {
		ci.resp = call.Parsed
		c.shared.Add(1)
		return nil
	}
	if compressed(&call.Response.Header) {
		if body = c.decode(call, ci, nil); body == nil {
			return nil
		}
	}
	if ci.status/100 == 2 && stream.IsEventStream(call.Response.Header.ContentType()) {
		// An event stream the proxy buffered: the request did not ask
		// for a stream.
		c.readEvents(call, ci, body)
		return nil
	}
	return c.parse(call, ci, body)
}

// Why an answer was not read (the llm.response.unread attribute).
const (
	unreadCompressed  = "compressed stream not kept whole"
	unreadUndecodable = "compressed answer could not be decoded within llm.max_response_buffer_size"
	unreadNotJSON     = "answer is not a JSON object of the provider's format"
	unreadNoEvents    = "event stream without a readable event"
	unreadNoBody      = "empty answer"
)

// decode returns the call's compressed answer decoded, bounded by
// MaxDecoded, or nil when it cannot be decoded: kept, the bytes kept of a
// stream, when not nil, else the buffered body.
func (c *Capture) decode(call *Call, ci *callInfo, kept []byte) []byte {
	r := call.Response
	if kept != nil {
		// Decoded through a response of their own, with the same coding.
		tmp := fasthttp.AcquireResponse()
		defer fasthttp.ReleaseResponse(tmp)
		tmp.Header.SetContentEncodingBytes(r.Header.ContentEncoding())
		tmp.SetBodyRaw(kept)
		r = tmp
	}
	b, err := r.BodyUncompressedWithLimit(call.MaxDecoded)
	if err != nil {
		c.undecodable.Add(1)
		ci.unread = unreadUndecodable
		return nil
	}
	return b
}

// releaseParser returns the parser readEvents took, if it took one.
func (c *Call) releaseParser() {
	if c.sp != nil {
		provider.ReleaseStreamParser(c.sp)
		c.sp = nil
	}
}

// readEvents reads an event stream held whole in data with a stream
// parser of the call's own, as the tap would have read it.
func (c *Capture) readEvents(call *Call, ci *callInfo, data []byte) {
	sp := provider.AcquireStreamParser(call.Kind)
	call.sp = sp
	for len(data) > 0 {
		n := stream.EventEnd(data)
		if n < 0 {
			n = len(data) // the last event, without its blank line
		}
		_ = sp.Event(data[:n])
		data = data[n:]
	}
	if total, bad := sp.Events(); total == bad {
		ci.unread = unreadNoEvents
		return
	}
	ci.resp = sp.Result()
	if !sp.Complete() {
		ci.cut = true
		c.streamsCut.Add(1)
	}
}

func (c *Capture) parse(call *Call, ci *callInfo, body []byte) *provider.Response {
	resp := provider.AcquireResponse()
	if err := resp.Parse(call.Kind, ci.status, body); err == nil || resp.IsError {
		ci.resp = resp
	} else if len(body) == 0 {
		ci.unread = unreadNoBody
	} else {
		ci.unread = unreadNotJSON
	}
	return resp
}

// compressed reports whether a response body has a content coding.
func compressed(h *fasthttp.ResponseHeader) bool {
	ce := h.ContentEncoding()
	return len(ce) > 0 && !ascii.EqualFold(ce, "identity")
}
