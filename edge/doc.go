// Package edge is Perimeter's proxy: a fasthttp server that forwards every
// request to one upstream LLM provider and passes the answer back unchanged.
//
// What it owns: the listener and its admin routes (/health, /metrics,
// /metrics/prometheus, /config), the upstream connection pools, the header
// policy (hop-by-hop and x-cylestio-* headers dropped, the configured key
// injected in the provider's form), error answers, and the per-request
// metrics. It never blocks on analytics: whatever observes traffic is handed
// bytes in place and must queue its work elsewhere.
//
// Two upstream pools serve the two kinds of answer. Requests that ask for a
// stream ("stream": true in the body, or Accept: text/event-stream) and
// requests without a body (GET downloads) use a pool that streams response
// bodies: the answer is written to the client straight from the upstream
// connection's read buffer (relay.go), each write flushed at once, with the
// stream tap seeing each event in place. The proxy decodes a chunked answer
// itself (chunked.go), squeezing the framing of the chunks that arrived
// together out of the buffer, so that events that arrive together leave in
// one write and none waits for another. While an open stream waits for its
// next bytes on a plain TCP upstream, it gives its read buffer back and
// waits on the socket: it holds no buffer of its own, only the client
// connection's (whose read buffer, server.max_request_header_size, is the
// largest request header accepted; larger get 431). All other requests use a pool that
// buffers the response (bounded by MaxResponseBufferSize) and hands its body
// to the client by swapping buffers, so a non-streaming exchange makes no
// heap allocation once the pools are warm. A streamed answer that reaches the
// buffering pool is still correct, only not incremental.
//
// Both pools run framedTransport (transport.go): an upstream connection
// whose bytes do not add up to exactly the answers asked for (bytes after
// an answer's end, input while idle, a body not read to its end) is closed,
// never pooled, so no client can receive the tail of another's answer; after
// such an anomaly the upstream's connections are not reused for a minute.
//
// Memory is bounded by two global budgets (budget.go): request bodies are
// read by the handler (body.go) only after their length was taken from
// MaxInflightBodyBytes, and a buffered answer takes its Content-Length
// from MaxBufferedResponseBytes once, before its body is read (a chunked
// one each read as it is read); past either, the call is answered 503. A
// streamed call with capture and policies off gives its body back once it is
// sent, so an open stream holds only connection buffers. The
// listener (internal/netlimit) bounds connections and waits out accept
// errors such as running out of file descriptors.
//
// Requests that could reach outside llm.base_url's path (dot-segments, also
// percent-encoded), CONNECT and odd request targets are refused (target.go);
// credential headers spelled with "_" are stripped like their dashed forms.
// An HTTP/1.0 client gets a streamed answer of unknown length close-delimited
// rather than chunked. Every answer the proxy produces has the shape both
// providers' SDKs read (errors.go).
//
// Upstream timeouts are idle timeouts, as in the original's httpx client:
// every read from an upstream connection must make progress within
// ResponseHeaderTimeout (before the first response byte) or StreamIdleTimeout
// (after it), so a stream may run for hours while bytes flow. A client that
// goes away mid-stream makes the next write fail; the upstream connection is
// then closed at once instead of being drained.
//
// Capture is not the proxy's business: once a model call has ended
// (buffered answer written to the client's response, stream's last byte
// sent, call failed or refused) the proxy fills a pooled capture.Call with the bytes it already holds — a copy of the request
// headers, method and path, the request body, the upstream's answer and
// the stream tap's parser — and submits it to edge/capture
// (capture_hook.go). It never parses for capture, never waits for it (but
// for room in a full queue), and knows nothing of events; capture hands
// the exchange back through the Call's Done, and the exchange keeps its
// share of the memory budgets until then. A buffered answer's client gets
// a copy of the upstream's body, so what the guard parsed of it is still
// valid for capture. The proxy's threads ask the kernel for short
// scheduling slices (sched.LatencySlice), so that background work yields
// the CPU to a request at once.
//
// Policies and limits (guard.go, edge/policy) run before a model call is
// forwarded: the caller's agent id, workflow, session and tags are read
// from the headers (the body is parsed only when a policy or limit needs
// it, and capture then reuses that parse), and a call no policy or limit
// applies to pays nothing else. A
// block is answered 403, a refusal 429 with Retry-After, both in the
// provider's error shape; a redaction rewrites the JSON strings it masks.
// Response policies check a buffered answer before it is written, and a
// streamed one only through the opt-in hold-back window (holdback.go).
package edge
