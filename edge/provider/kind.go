package provider

import (
	"bytes"
	"strings"
	"unsafe"
)

// Kind is a provider wire format: what a request body and its answer look
// like.
type Kind uint8

// Wire formats. None means "not a model call": the request is proxied but
// no conversation is parsed from it.
const (
	None              Kind = iota
	OpenAIChat             // POST …/chat/completions
	OpenAIResponses        // POST …/responses
	AnthropicMessages      // POST …/messages
)

var kindNames = [...]string{"none", "openai.chat", "openai.responses", "anthropic.messages"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Vendor is the API family of the format ("openai" or "anthropic"; "" for
// None), which is not always the configured llm.type: Anthropic also serves
// OpenAI's Chat Completions format.
func (k Kind) Vendor() string {
	switch k {
	case OpenAIChat, OpenAIResponses:
		return "openai"
	case AnthropicMessages:
		return "anthropic"
	}
	return ""
}

// Detect tells which wire format a request speaks from its method and path
// (a query string, if present, is ignored; one trailing slash is allowed).
// Paths match by suffix, so base URLs with a prefix (/v1,
// /openai/deployments/x, /api/anthropic/v1) work.
//
//   - POST …/chat/completions → OpenAIChat
//   - POST …/responses → OpenAIResponses. GET and DELETE …/responses/{id},
//     …/responses/{id}/cancel and …/input_items are None: they read or
//     manage a stored response, they do not call the model.
//   - POST …/messages → AnthropicMessages; …/messages/count_tokens and
//     …/messages/batches are None.
//   - Everything else is None: model lists, files, batches, and also
//     …/embeddings, …/completions (legacy), audio and images. Embeddings
//     have no conversation, no tools and no answer text, so there is no
//     session to follow; they are forwarded and counted by the proxy like
//     any request, without events.
//
// The format is decided by the path, not by llmType, because providers
// serve each other's formats (Anthropic answers OpenAI's
// /v1/chat/completions; gateways such as LiteLLM serve /v1/messages), so
// llmType (the configured llm.type) does not change the result; callers
// pass it so that a future format that only the path cannot tell apart
// needs no new call site. OpenAI's Assistants API …/threads/{id}/messages
// is None whatever the type.
func Detect(llmType string, method, path []byte) Kind {
	_ = llmType
	if string(method) != "POST" {
		return None
	}
	if q := bytes.IndexByte(path, '?'); q >= 0 {
		path = path[:q]
	}
	if len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	p := bytesString(path)
	switch {
	case hasSegmentSuffix(p, "/chat/completions"):
		return OpenAIChat
	case hasSegmentSuffix(p, "/responses"):
		return OpenAIResponses
	case hasSegmentSuffix(p, "/messages"):
		if strings.Contains(p, "/threads/") {
			return None
		}
		return AnthropicMessages
	}
	return None
}

// hasSegmentSuffix reports whether p ends with suffix, or equals it without
// its leading slash — "/v1/chat/completions", "chat/completions" — but not
// "/v1/xchat/completions".
func hasSegmentSuffix(p, suffix string) bool {
	if len(p) >= len(suffix) && p[len(p)-len(suffix):] == suffix {
		return true
	}
	return p == suffix[1:]
}

// bytesString views b as a string without copying; the string must not
// outlive b's contents.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
