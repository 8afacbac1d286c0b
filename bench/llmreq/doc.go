// Package llmreq builds client requests of the three wire formats the proxy
// and the mock provider (bench/mockllm) speak: OpenAI Chat Completions,
// OpenAI Responses and Anthropic Messages. Typed structs render each
// format's JSON; a Conversation keeps the turns of one agent in its format
// and renders the request for the next call; ReadReply and ReadStream read
// the answer back with the proxy's own parsers (package edge/provider).
//
// It is test, demo and benchmark infrastructure, like everything under
// bench/: the demo (cmd/perimeter-demo) and the mock's tests use it, the
// proxy never imports it.
package llmreq
