package edge

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"github.com/valyala/fasthttp"
)

// errClass names why a request failed. The names are the "type" of the JSON
// error a client receives and the label of the error counters in /metrics.
type errClass uint8

const (
	errUnreachable      errClass = iota // could not connect: 502
	errTimeout                          // upstream silent past its timeout: 504
	errUpstreamClosed                   // upstream closed or broke the connection: 502
	errUpstreamTooLarge                 // answer above the buffer limit: 502
	errNoConns                          // upstream connection limit reached: 503
	errRequestTooLarge                  // client body above the limit: 413
	errBadRequest                       // unparseable HTTP from the client: 400
	errInternal                         // recovered panic: 500
	errClientGone                       // client went away mid-answer
	errStreamBroken                     // upstream failed after the answer started
	errBadTarget                        // request target the proxy will not forward: 400
	errMethod                           // CONNECT: 405
	errBudget                           // a global memory budget is spent: 503
	errGuardBlocked                     // a policy blocked the call: 403 (guard.go)
	errLimited                          // a limit refused the call: 429 (guard.go)
	errHeaderTooLarge                   // request line and headers above the limit: 431
	numErrClasses
)

var errClassNames = [numErrClasses]string{
	"upstream_unreachable",
	"upstream_timeout",
	"upstream_connection_closed",
	"upstream_response_too_large",
	"upstream_connection_limit",
	"request_too_large",
	"bad_request",
	"internal_error",
	"client_disconnected",
	"stream_interrupted",
	"invalid_request_target",
	"method_not_allowed",
	"memory_budget_exceeded",
	"guard_blocked",
	"limit_exceeded",
	"request_header_too_large",
}

func (c errClass) String() string { return errClassNames[c] }

// captureMessage is the error message recorded for a call that failed
// with c.
func (c errClass) captureMessage() string {
	switch c {
	case errGuardBlocked:
		return "the call was blocked by a Perimeter policy (guard_blocked)"
	case errLimited:
		return "the call was refused by a Perimeter limit (limit_exceeded)"
	}
	return "the proxy could not complete the call: " + c.String()
}

func (c errClass) status() int {
	switch c {
	case errTimeout:
		return fasthttp.StatusGatewayTimeout
	case errNoConns, errBudget:
		return fasthttp.StatusServiceUnavailable
	case errRequestTooLarge:
		return fasthttp.StatusRequestEntityTooLarge
	case errHeaderTooLarge:
		return fasthttp.StatusRequestHeaderFieldsTooLarge
	case errBadRequest, errBadTarget:
		return fasthttp.StatusBadRequest
	case errMethod:
		return fasthttp.StatusMethodNotAllowed
	case errGuardBlocked:
		return fasthttp.StatusForbidden
	case errLimited:
		return fasthttp.StatusTooManyRequests
	case errInternal:
		return fasthttp.StatusInternalServerError
	default:
		return fasthttp.StatusBadGateway
	}
}

// classify maps an upstream error to its class.
func classify(err error) errClass {
	var de *dialError
	switch {
	case errors.As(err, &de):
		return errUnreachable
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return errNoConns
	case errors.Is(err, errResponseBudget):
		return errBudget
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return errUpstreamTooLarge
	case isTimeout(err):
		return errTimeout
	default:
		return errUpstreamClosed
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, fasthttp.ErrTimeout) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// errorBody is every answer the proxy itself produces. Its shape is read
// by both providers' SDKs: OpenAI's {"error":{"message","type","code"}} and
// Anthropic's {"type":"error","error":{"type","message"}}.
type errorBody struct {
	Kind  string `json:"type"` // always "error"
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"error"`
}

func newErrorBody(typ, msg string) *errorBody {
	b := &errorBody{Kind: "error"}
	b.Error.Type, b.Error.Message, b.Error.Code = typ, msg, typ
	return b
}

// RejectAnswer is a complete HTTP/1.1 answer with the proxy's error shape,
// for a connection refused before any request was read (see
// internal/netlimit). It asks the client to close the connection.
func RejectAnswer(status int, typ, msg string) []byte {
	body, _ := json.Marshal(newErrorBody(typ, msg))
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nX-Perimeter-Error: %s\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, fasthttp.StatusMessage(status), typ, len(body), body)
}

// writeError answers with the class's status and a JSON body saying what
// happened and what to do. X-Perimeter-Error tells a client that the proxy,
// not the provider, produced the answer.
func writeError(ctx *fasthttp.RequestCtx, c errClass, msg string) {
	writeJSONError(ctx, c.status(), c.String(), newErrorBody(c.String(), msg))
}

func writeJSONError(ctx *fasthttp.RequestCtx, status int, typ string, b *errorBody) {
	out, _ := json.Marshal(b)
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("X-Perimeter-Error", typ)
	ctx.SetBody(out)
}
