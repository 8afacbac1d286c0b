// Package edge is Perimeter's proxy: a fasthttp server that forwards every
// request to one upstream LLM provider and passes the answer back unchanged.
//
// What it owns: the listener and its admin routes (/health, /metrics,
// /metrics/prometheus, /config), the upstream connection pools, the header
// policy (hop-by-hop and x-cylestio-* headers dropped, the configured key
// injected in the provider's form), error answers in the provider's shape,
// policies and limits applied before a call is forwarded (edge/policy), and
// the per-request metrics. It never parses for capture and never blocks on
// analytics: once a call has ended it hands the bytes it already holds to
// edge/capture and does not wait for it (but for room in a full queue).
//
// What callers may rely on:
//
//   - A streamed answer ("stream": true, or Accept: text/event-stream)
//     reaches the client event by event, each write flushed at once; an
//     open stream holds no buffer of its own while it waits. Other answers
//     are buffered (up to MaxResponseBufferSize) and cost no heap
//     allocation once the pools are warm.
//   - No client ever receives bytes of another's answer: an upstream
//     connection whose framing does not add up exactly is closed, never
//     pooled.
//   - Memory is bounded: request bodies and buffered answers draw on two
//     global budgets (MaxInflightBodyBytes, MaxBufferedResponseBytes) and
//     a call past either is answered 503; connections are bounded by the
//     listener.
//   - Requests that could leave llm.base_url's path, CONNECT and odd
//     request targets are refused; credential headers spelled with "_" are
//     stripped like their dashed forms.
//   - Upstream timeouts are idle timeouts (ResponseHeaderTimeout,
//     StreamIdleTimeout): a stream may run for hours while bytes flow.
//     When a client goes away mid-stream, the next write fails and the
//     upstream connection is closed rather than drained.
//   - A call no policy or limit applies to pays nothing for them; a block
//     is a 403, a refusal a 429 with Retry-After, both in the provider's
//     error shape.
//
// docs/proxy.md describes how: the two pools, chunked decoding, framing,
// the budgets, the hand-off to capture and the policy checks.
package edge
