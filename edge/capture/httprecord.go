package capture

import (
	"bytes"
	"encoding/base64"
	"time"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/internal/ascii"
	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/internal/jsonw"
	"github.com/cylestio/perimeter/sink"
)

// httpRec is the http_recorder's switch on a Capture.
type httpRec struct {
	on      bool
	maxBody int
}

// RecordHTTP makes the capture publish, after the events of each model
// call, one httprec.EventName event with the raw exchange for the http_recorder
// writer: method, URL, the client's headers (credentials already
// "[REDACTED]"), bodies, status, the response headers the client got, and
// timings. Each body is copied only up to maxBody bytes
// (max_body_size_mb); for a streamed answer the proxy keeps that much of
// the stream's bytes as they pass. Off unless called; call it before the
// proxy serves.
//
// The copy is made once the upstream has answered (for a stream, once it
// has ended), and published without blocking; everything else — decoding,
// JSON, files — happens in the writer, off the request path.
func (c *Capture) RecordHTTP(maxBody int) {
	if maxBody <= 0 {
		maxBody = 100 << 20
	}
	c.rec = httpRec{on: true, maxBody: maxBody}
}

// publishExchange publishes the call's exchange event when RecordHTTP is on.
// It runs after record built the call's events, so the session and agent
// are known.
func (c *Capture) publishExchange(kind provider.Kind, ci *callInfo) {
	if !c.rec.on {
		return
	}
	h := ci.headers
	// Cut first, then mask (a same-length mask) only what is recorded.
	var reqBody, respBody []byte
	reqCut, respCut := len(ci.body) > c.rec.maxBody, len(ci.respBody) > c.rec.maxBody
	if !reqCut {
		reqBody = maskedCopy(ci.body, c.secret)
	}
	if !respCut && !ci.failed {
		respBody = maskedCopy(ci.respBody, c.secret)
	}
	size := 1024 + 2*len(h.RequestURI()) + base64.StdEncoding.EncodedLen(len(reqBody)) + base64.StdEncoding.EncodedLen(len(respBody))
	o := obj{b: make([]byte, 0, size)}
	o.open()
	o.bytesStr("method", ci.method)
	uri := h.RequestURI()
	path, query, _ := bytes.Cut(uri, []byte{'?'})
	query = redactQuery(nil, query)
	url := make([]byte, 0, 16+len(h.Host())+len(uri))
	if !bytes.HasPrefix(path, []byte("http://")) && !bytes.HasPrefix(path, []byte("https://")) {
		url = append(append(append(url, "http://"...), h.Host()...), path...)
	} else {
		url = append(url, path...) // absolute form: the client named the host
	}
	if len(query) > 0 {
		url = append(append(url, '?'), query...)
	}
	o.bytesStr("url", url)
	o.bytesStr("path", ci.path)
	o.bytesStr("query", query)
	o.key("request_headers")
	o.b = append(o.b, '[')
	n := 0
	for k, v := range h.All() {
		o.b = appendHeaderPair(o.b, n, k, v)
		n++
	}
	o.b = append(o.b, ']')
	o.key("request_body")
	o.b = appendBase64(o.b, reqBody)
	o.int("request_body_size", int64(len(ci.body)))
	if reqCut {
		o.bool("request_truncated", true)
	}
	o.bool("streaming", ci.stream || ci.streamed)
	o.int("status", int64(ci.status))
	if ci.failed {
		o.str("error_type", ci.errType)
		o.str("error_message", ci.errMessage)
	} else {
		o.key("response_headers")
		o.b = append(o.b, '[')
		n = 0
		for k, v := range ci.respHeader.All() {
			o.b = appendHeaderPair(o.b, n, k, v)
			n++
		}
		o.b = append(o.b, ']')
		o.key("response_body")
		o.b = appendBase64(o.b, respBody)
		if respCut {
			o.bool("response_truncated", true)
		}
	}
	o.int("start_us", ci.start.UnixMicro())
	o.int("end_us", ci.end.UnixMicro())
	o.close()
	maskSecret(o.b, c.secret)

	ev := &sink.Event{
		ID:         sink.NewID(),
		Time:       ci.start.UTC(),
		Name:       httprec.EventName,
		Level:      sink.LevelInfo,
		SessionID:  ci.session,
		AgentID:    ci.agent,
		Vendor:     kind.Vendor(),
		Model:      ci.model,
		Status:     ci.status,
		DurationMs: float64(ci.end.Sub(ci.start)) / float64(time.Millisecond),
		Attributes: o.b,
	}
	if c.pub.Publish(ev) {
		c.published.Add(1)
	} else {
		c.dropped.Add(1)
	}
}

// appendHeaderPair appends ["name","value"], the value "[REDACTED]" for
// credential headers.
func appendHeaderPair(dst []byte, i int, k, v []byte) []byte {
	if i > 0 {
		dst = append(dst, ',')
	}
	dst = append(dst, '[')
	dst = jsonw.AppendString(dst, k)
	dst = append(dst, ',')
	if sensitiveHeader(k) {
		dst = append(dst, `"`+httprec.Redacted+`"`...)
	} else {
		dst = jsonw.AppendString(dst, v)
	}
	return append(dst, ']')
}

// sensitiveHeader reports whether k is a credential header, "_" taken for
// "-" (X_Api_Key).
func sensitiveHeader(k []byte) bool {
	for _, s := range httprec.SensitiveHeaders {
		if ascii.EqualFoldDash(k, s) {
			return true
		}
	}
	return false
}

func appendBase64(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// redactQuery appends q with the values of key-like parameters (key,
// api_key, access_token, …) replaced by [REDACTED].
func redactQuery(dst, q []byte) []byte {
	for i := 0; len(q) > 0; i++ {
		var part []byte
		part, q, _ = bytes.Cut(q, []byte{'&'})
		if i > 0 {
			dst = append(dst, '&')
		}
		name, _, hasValue := bytes.Cut(part, []byte{'='})
		if hasValue && secretParam(name) {
			dst = append(append(append(dst, name...), '='), httprec.Redacted...)
			continue
		}
		dst = append(dst, part...)
	}
	return dst
}

func secretParam(name []byte) bool {
	for _, s := range [...]string{"key", "api_key", "api-key", "apikey", "access_token", "token", "auth", "password", "secret"} {
		if len(name) == len(s) && ascii.EqualFold(name, s) {
			return true
		}
	}
	return false
}
