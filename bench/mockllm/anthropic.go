package mockllm

import (
	"strconv"

	"github.com/cylestio/perimeter/internal/jsonw"
)

// Anthropic Messages: POST /v1/messages.

func (r *reply) appendAnthropicUsage(dst []byte, out int) []byte {
	dst = append(dst, `{"input_tokens":`...)
	dst = strconv.AppendInt(dst, int64(r.info.inputTokens-r.cachedTokens), 10)
	dst = append(dst, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":`...)
	dst = strconv.AppendInt(dst, int64(r.cachedTokens), 10)
	dst = append(dst, `,"output_tokens":`...)
	dst = strconv.AppendInt(dst, int64(out), 10)
	return append(dst, `,"service_tier":"standard"}`...)
}

// appendMessage renders a non-streaming message: one text block, or a short
// text block followed by a tool_use block.
func (r *reply) appendMessage(dst []byte, pieces int) []byte {
	dst = append(dst, `{"id":"`...)
	dst = r.s.appendID(dst, "msg_", r.idx)
	dst = append(dst, `","type":"message","role":"assistant","model":`...)
	dst = append(dst, r.model...)
	stop := "end_turn"
	if r.tool {
		stop = "tool_use"
		dst = append(dst, `,"content":[{"type":"text","text":"`+toolPreamble+`"},{"type":"tool_use","id":"`...)
		dst = r.s.appendID(dst, "toolu_", r.idx)
		dst = append(dst, `","name":`...)
		dst = append(dst, r.toolName()...)
		dst = append(dst, `,"input":`+ToolArguments+`}]`...)
	} else {
		dst = append(dst, `,"content":[{"type":"text","text":"`...)
		dst = appendContent(dst, pieces)
		dst = append(dst, `"}]`...)
	}
	dst = append(dst, `,"stop_reason":"`...)
	dst = append(dst, stop...)
	dst = append(dst, `","stop_sequence":null,"usage":`...)
	dst = r.appendAnthropicUsage(dst, r.outputTokens(pieces))
	return append(dst, "}"...)
}

func anthropicEvent(sb *streamBody, name, data string) {
	sb.buf = append(sb.buf, "event: "...)
	sb.buf = append(sb.buf, name...)
	sb.buf = append(sb.buf, "\ndata: "...)
	sb.buf = append(sb.buf, data...)
	sb.buf = append(sb.buf, "\n\n"...)
	sb.mark()
}

// renderMessagesStream renders Anthropic's event sequence: message_start,
// content_block_start, ping, content_block_delta…, content_block_stop (then a
// tool_use block with input_json_delta pieces when calling a tool),
// message_delta, message_stop.
func (r *reply) renderMessagesStream(sb *streamBody) {
	sb.buf = append(sb.buf, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\""...)
	sb.buf = r.s.appendID(sb.buf, "msg_", r.idx)
	sb.buf = append(sb.buf, `","type":"message","role":"assistant","model":`...)
	sb.buf = append(sb.buf, r.model...)
	sb.buf = append(sb.buf, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	sb.buf = r.appendAnthropicUsage(sb.buf, 1)
	sb.buf = append(sb.buf, "}}\n\n"...)
	sb.mark()

	anthropicEvent(sb, "content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	anthropicEvent(sb, "ping", `{"type": "ping"}`)
	stop := "end_turn"
	if r.tool {
		stop = "tool_use"
		anthropicEvent(sb, "content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"`+toolPreamble+`"}}`)
		anthropicEvent(sb, "content_block_stop", `{"type":"content_block_stop","index":0}`)
		sb.buf = append(sb.buf, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\""...)
		sb.buf = r.s.appendID(sb.buf, "toolu_", r.idx)
		sb.buf = append(sb.buf, `","name":`...)
		sb.buf = append(sb.buf, r.toolName()...)
		sb.buf = append(sb.buf, `,"input":{}}}`+"\n\n"...)
		sb.mark()
		anthropicEvent(sb, "content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}`)
		k := argPieces(r.chunks)
		for i := range k {
			sb.buf = append(sb.buf, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\""...)
			sb.buf = jsonw.AppendEscaped(sb.buf, argPiece(i, k))
			sb.buf = append(sb.buf, "\"}}\n\n"...)
			sb.mark()
		}
		anthropicEvent(sb, "content_block_stop", `{"type":"content_block_stop","index":1}`)
	} else {
		for i := range r.chunks {
			sb.buf = append(sb.buf, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\""...)
			sb.buf = append(sb.buf, token(i)...)
			sb.buf = append(sb.buf, "\"}}\n\n"...)
			sb.mark()
		}
		anthropicEvent(sb, "content_block_stop", `{"type":"content_block_stop","index":0}`)
	}
	sb.buf = append(sb.buf, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\""...)
	sb.buf = append(sb.buf, stop...)
	sb.buf = append(sb.buf, `","stop_sequence":null},"usage":{"output_tokens":`...)
	sb.buf = strconv.AppendInt(sb.buf, int64(r.outputTokens(r.chunks)), 10)
	sb.buf = append(sb.buf, "}}\n\n"...)
	sb.mark()
	anthropicEvent(sb, "message_stop", `{"type":"message_stop"}`)
}
