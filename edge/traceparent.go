package edge

import (
	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/capture"
)

// W3C trace context (traceparent) for exported traces.
//
// With capture.Capture.ContinueTraces on (telemetry.otel enabled), a model call
// whose client sent a valid traceparent gets its call span id chosen before
// forwarding: the upstream receives the client's trace id with that span id
// as parent, and the call's events carry the same span id (Event.SpanID) and
// the client's header (attribute "trace.parent"), so the exported span sits
// between the client's span and whatever the provider records. Without a
// client traceparent nothing is added upstream. With export off the header
// passes through untouched, like any other end-to-end header.

// traceparentLen is the length of a version-00 traceparent:
// "00-" 32 hex "-" 16 hex "-" 2 hex.
const traceparentLen = 55

// validTraceparent reports whether v is a version-00 traceparent with a
// non-zero trace id and parent id (W3C Trace Context §3.2). Other versions
// are not continued: their layout may differ.
func validTraceparent(v []byte) bool {
	if len(v) != traceparentLen || v[0] != '0' || v[1] != '0' || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return false
	}
	zeroTrace, zeroParent := true, true
	for i := 3; i < traceparentLen; i++ {
		if i == 35 || i == 52 {
			continue
		}
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
		if c != '0' {
			if i < 35 {
				zeroTrace = false
			} else if i < 52 {
				zeroParent = false
			}
		}
	}
	return !zeroTrace && !zeroParent
}

// continueTrace chooses the call's span id when the client sent a valid
// traceparent and rewrites the upstream copy's header to name it as the
// parent. The client's header (in ctx) is left as sent: capture reads it
// back for the events.
func (p *Proxy) continueTrace(ctx *fasthttp.RequestCtx, ex *exchange) {
	v := ctx.Request.Header.Peek("Traceparent")
	if !validTraceparent(v) {
		return
	}
	ex.span = capture.NewSpan()
	var tp [traceparentLen]byte
	b := append(tp[:0], v[:36]...) // version, trace id and the dash after it
	b = capture.AppendSpanID(b, ex.span)
	b = append(b, v[52:]...) // "-" flags
	ex.req.Header.SetBytesV("Traceparent", b)
}
