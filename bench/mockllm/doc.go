// Package mockllm is an in-process mock LLM provider for tests and
// benchmarks. It is test and benchmark infrastructure: the proxy and its
// packages never import it; only tests, the benchmark suite and the
// demo program cmd/perimeter-demo (which needs a provider without a key) do.
// Package bench/llmreq builds the requests it reads, in all three formats.
//
// A Server speaks the real wire formats, byte for byte in shape:
//
//   - OpenAI Chat Completions, POST …/chat/completions: a chat.completion
//     object, or with "stream":true an SSE stream of chat.completion.chunk
//     events (role delta, content deltas, finish chunk, a usage chunk when
//     "stream_options":{"include_usage":true}, then "data: [DONE]").
//   - OpenAI Responses, POST …/responses: a response object, or the
//     response.created … response.completed event sequence.
//   - Anthropic Messages, POST …/messages: a message object, or the
//     message_start, content_block_start, ping, content_block_delta…,
//     content_block_stop, message_delta, message_stop sequence.
//     POST …/messages/count_tokens is answered too.
//   - GET …/models: a short list (Anthropic's shape when anthropic-version
//     is sent).
//
// Paths are matched by suffix, so base URLs with a prefix work; anything
// else is a 404 in OpenAI's error format. The model named in the request is
// echoed. When the request offers tools and its last message is a user turn
// mentioning "tool", the answer is a tool call (tool_calls, function_call
// or tool_use, with arguments streamed in pieces); x-mock-tool forces or
// suppresses that. Errors use each provider's error body.
//
// # Behaviour controls
//
// Per-request headers let one Server serve every test case (names are
// case-insensitive; see the Header* constants):
//
//	x-mock-chunks: N             content deltas (default Config.Chunks, 20)
//	x-mock-chunk-delay: 50ms     pause before each SSE event after the first (bare number = ms)
//	x-mock-status: 429           answer that status with a provider error body (429 and 503 add retry-after: 1)
//	x-mock-hang: 5s              answer nothing for that long; ends early if the peer closes
//	x-mock-disconnect-after: K   stream: K events, then the connection is dropped without ending the chunked body;
//	                             non-stream: headers with the full Content-Length and K body bytes, then dropped
//	x-mock-error-event-after: K  stream: K events, then the provider's mid-stream error event, then a clean end
//	x-mock-body-size: 4096       pad non-stream answers to about that many bytes
//	x-mock-echo: 1               answer JSON {method, uri, headers:[{name,value}], body, body_base64} as received
//	x-mock-tool: 1               force a tool call ("0" never calls one)
//	x-mock-step: 1               before each event after the first, wait for a send on Server.Step()
//	x-mock-cached-tokens: N      cached prompt tokens reported in usage
//
// Precedence: an unparsable control is a 400; then hang; then status; then
// echo; then the normal answer. On a stream, x-mock-error-event-after wins
// over x-mock-disconnect-after; K is capped at the length of the stream.
//
// # Observing a run
//
// Tests should assert on what the mock observed, not on wall-clock time.
// Requests and LastRequest return copies of received requests (headers in
// wire order and case; treat Headers and Body as read-only).
// Config.OnEvent is called right after each SSE event is flushed. With
// x-mock-step the mock sends event 0 and then waits: a test reads event k
// through the proxy, checks that the mock has not sent event k+1 (it cannot,
// the gate is shut), then sends on Step() to release it:
//
//	for k := 0; ; k++ {
//		ev := readEvent(client)     // event k arrived while the mock was held
//		if last(ev) { break }
//		srv.Step() <- struct{}{}    // now let the mock send event k+1
//	}
//
// ActiveStreams, StreamsAborted (the peer went away mid-stream: a write
// failed, or the connection closed while the stream waited on its delay or
// gate) and Config.OnStreamEnd tell whether a proxy released its upstream
// when its client left: a gated or delayed stream notices the close at once.
//
// Each SSE event is written as its own HTTP chunk and flushed on its own.
// Usage is deterministic: prompt tokens are len(body)/4 (at least 1), output
// tokens are the number of content pieces (argument pieces for tool calls).
//
// # Limits
//
// While a stream waits, the mock watches its connection for the peer
// closing. On TCP it only peeks; on in-memory connections it must read, so a
// request pipelined behind a waiting stream is lost and the connection is
// closed after that stream. HTTP/1.1 only; no TLS.
//
// # Cost
//
// The default non-streaming path renders into a pooled buffer with
// append-based templates and reads the request with the project's
// allocation-free JSON scanner (internal/jsonscan, one pass, no
// encoding/json), so the mock is a fair "direct upstream" floor
// for benchmarks. Benchmarks should set Config.MaxRecorded < 0.
package mockllm
