// Package mockllm is an in-process mock LLM provider for tests and
// benchmarks. It is test and benchmark infrastructure: the proxy and its
// packages never import it; only tests, the benchmark suite and the demo
// program cmd/perimeter-demo (which needs a provider without a key) do.
// Package bench/llmreq builds the requests it reads, in all three formats.
//
// A Server (New, Start, StartInmemory) speaks the real wire formats, in
// shape byte for byte, streamed (SSE) or not: OpenAI Chat Completions
// (…/chat/completions), OpenAI Responses (…/responses), Anthropic Messages
// (…/messages, …/messages/count_tokens) and …/models. Paths are matched by
// suffix, so base URLs with a prefix work; anything else is a 404 in
// OpenAI's error format. The model named in the request is echoed; a
// request that offers tools and whose last message is a user turn
// mentioning "tool" is answered with a tool call. Errors use each
// provider's error body.
//
// Per-request x-mock-* headers (the Header* constants, names
// case-insensitive) let one Server serve every test case: chunk count and
// delay, an error status, a hang, a dropped connection or a mid-stream
// error event after K events, padding, echoing the request, forcing or
// suppressing a tool call, stepping a stream event by event, cached tokens.
// An unparsable control is a 400.
//
// What tests may rely on:
//   - Each SSE event is written as its own HTTP chunk and flushed on its own.
//   - Usage is deterministic: prompt tokens are len(body)/4 (at least 1),
//     output tokens the number of content pieces (argument pieces for tool
//     calls).
//   - Requests and LastRequest return what was received (headers in wire
//     order and case; Headers and Body are read-only); Config.OnEvent runs
//     right after each event is flushed; with x-mock-step the next event
//     waits for a send on Server.Step(), so a test can assert order without
//     wall-clock time.
//   - ActiveStreams, StreamsAborted and Config.OnStreamEnd tell whether a
//     proxy released its upstream when its client left; a gated or delayed
//     stream notices the close at once.
//   - HTTP/1.1 only, no TLS. On in-memory connections a request pipelined
//     behind a waiting stream is lost.
//   - With Config.MaxRecorded < 0 (as benchmarks should set it), a
//     non-streaming answer allocates nothing once pools are warm
//     (allocation_test.go): the mock is a fair "direct upstream" floor.
//
// docs/bench.md has the wire sequences, every control with its precedence,
// the step-by-step test pattern and the limits in detail.
package mockllm
