package mockllm

import (
	"strconv"

	"github.com/cylestio/perimeter/internal/jsonw"
)

// OpenAI Chat Completions: POST /v1/chat/completions.

const fingerprint = "fp_mock0001"

func (r *reply) toolName() []byte {
	if r.info.toolName != nil {
		return r.info.toolName
	}
	return defaultToolToken
}

var defaultToolToken = []byte(`"` + defaultToolName + `"`)

// outputTokens is what usage reports as generated: one token per content
// piece, or per argument piece for a tool call.
func (r *reply) outputTokens(pieces int) int {
	if r.tool {
		return argPieces(r.chunks)
	}
	return pieces
}

// appendChatCompletion renders a chat.completion object, indented like the
// API does.
func (r *reply) appendChatCompletion(dst []byte, pieces int) []byte {
	dst = append(dst, "{\n  \"id\": \""...)
	dst = r.s.appendID(dst, "chatcmpl-", r.idx)
	dst = append(dst, "\",\n  \"object\": \"chat.completion\",\n  \"created\": "...)
	dst = strconv.AppendInt(dst, r.created, 10)
	dst = append(dst, ",\n  \"model\": "...)
	dst = append(dst, r.model...)
	dst = append(dst, ",\n  \"choices\": [\n    {\n      \"index\": 0,\n      \"message\": {\n        \"role\": \"assistant\",\n        \"content\": "...)
	finish := "stop"
	if r.tool {
		finish = "tool_calls"
		dst = append(dst, "null,\n        \"tool_calls\": [\n          {\n            \"id\": \""...)
		dst = r.s.appendID(dst, "call_", r.idx)
		dst = append(dst, "\",\n            \"type\": \"function\",\n            \"function\": {\n              \"name\": "...)
		dst = append(dst, r.toolName()...)
		dst = append(dst, ",\n              \"arguments\": \""...)
		dst = jsonw.AppendEscaped(dst, ToolArguments)
		dst = append(dst, "\"\n            }\n          }\n        ]"...)
	} else {
		dst = append(dst, '"')
		dst = appendContent(dst, pieces)
		dst = append(dst, '"')
	}
	dst = append(dst, ",\n        \"refusal\": null,\n        \"annotations\": []\n      },\n      \"logprobs\": null,\n      \"finish_reason\": \""...)
	dst = append(dst, finish...)
	in, out := r.info.inputTokens, r.outputTokens(pieces)
	dst = append(dst, "\"\n    }\n  ],\n  \"usage\": {\n    \"prompt_tokens\": "...)
	dst = strconv.AppendInt(dst, int64(in), 10)
	dst = append(dst, ",\n    \"completion_tokens\": "...)
	dst = strconv.AppendInt(dst, int64(out), 10)
	dst = append(dst, ",\n    \"total_tokens\": "...)
	dst = strconv.AppendInt(dst, int64(in+out), 10)
	dst = append(dst, ",\n    \"prompt_tokens_details\": {\n      \"cached_tokens\": "...)
	dst = strconv.AppendInt(dst, int64(r.cachedTokens), 10)
	dst = append(dst, ",\n      \"audio_tokens\": 0\n    },\n    \"completion_tokens_details\": {\n      \"reasoning_tokens\": 0,\n      \"audio_tokens\": 0,\n      \"accepted_prediction_tokens\": 0,\n      \"rejected_prediction_tokens\": 0\n    }\n  },\n  \"service_tier\": \"default\",\n  \"system_fingerprint\": \""+fingerprint+"\"\n}\n"...)
	return dst
}

// appendChatUsage renders the compact usage object of the final stream chunk.
func (r *reply) appendChatUsage(dst []byte, out int) []byte {
	in := r.info.inputTokens
	dst = append(dst, `{"prompt_tokens":`...)
	dst = strconv.AppendInt(dst, int64(in), 10)
	dst = append(dst, `,"completion_tokens":`...)
	dst = strconv.AppendInt(dst, int64(out), 10)
	dst = append(dst, `,"total_tokens":`...)
	dst = strconv.AppendInt(dst, int64(in+out), 10)
	dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":`...)
	dst = strconv.AppendInt(dst, int64(r.cachedTokens), 10)
	return append(dst, `,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`...)
}

// renderChatStream renders chat.completion.chunk events: a role delta,
// content (or tool-call argument) deltas, a finish chunk, the usage chunk when
// stream_options.include_usage is set, and data: [DONE].
func (r *reply) renderChatStream(sb *streamBody) {
	head := append(sb.head[:0], `data: {"id":"`...)
	head = r.s.appendID(head, "chatcmpl-", r.idx)
	head = append(head, `","object":"chat.completion.chunk","created":`...)
	head = strconv.AppendInt(head, r.created, 10)
	head = append(head, `,"model":`...)
	head = append(head, r.model...)
	head = append(head, `,"service_tier":"default","system_fingerprint":"`+fingerprint+`","choices":[`...)
	sb.head = head

	tail := `,"logprobs":null,"finish_reason":null}]}` + "\n\n"
	if r.info.includeUsage {
		tail = `,"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n"
	}
	chunk := func(parts ...string) {
		sb.buf = append(sb.buf, head...)
		sb.buf = append(sb.buf, `{"index":0,"delta":`...)
		for _, p := range parts {
			sb.buf = append(sb.buf, p...)
		}
		sb.buf = append(sb.buf, tail...)
		sb.mark()
	}

	finish := "stop"
	out := r.chunks
	if r.tool {
		finish = "tool_calls"
		sb.buf = append(sb.buf, head...)
		sb.buf = append(sb.buf, `{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"`...)
		sb.buf = r.s.appendID(sb.buf, "call_", r.idx)
		sb.buf = append(sb.buf, `","type":"function","function":{"name":`...)
		sb.buf = append(sb.buf, r.toolName()...)
		sb.buf = append(sb.buf, `,"arguments":""}}],"refusal":null}`...)
		sb.buf = append(sb.buf, tail...)
		sb.mark()
		out = argPieces(r.chunks)
		for i := range out {
			sb.buf = append(sb.buf, head...)
			sb.buf = append(sb.buf, `{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"`...)
			sb.buf = jsonw.AppendEscaped(sb.buf, argPiece(i, out))
			sb.buf = append(sb.buf, `"}}]}`...)
			sb.buf = append(sb.buf, tail...)
			sb.mark()
		}
	} else {
		chunk(`{"role":"assistant","content":"","refusal":null}`)
		for i := range r.chunks {
			chunk(`{"content":"`, token(i), `"}`)
		}
	}

	sb.buf = append(sb.buf, head...)
	sb.buf = append(sb.buf, `{"index":0,"delta":{},"logprobs":null,"finish_reason":"`...)
	sb.buf = append(sb.buf, finish...)
	if r.info.includeUsage {
		sb.buf = append(sb.buf, `"}],"usage":null}`+"\n\n"...)
		sb.mark()
		sb.buf = append(sb.buf, head...)
		sb.buf = append(sb.buf, `],"usage":`...)
		sb.buf = r.appendChatUsage(sb.buf, out)
		sb.buf = append(sb.buf, "}\n\n"...)
	} else {
		sb.buf = append(sb.buf, `"}]}`+"\n\n"...)
	}
	sb.mark()
	sb.buf = append(sb.buf, "data: [DONE]\n\n"...)
	sb.mark()
}
