package mockllm

import (
	"strconv"

	"github.com/cylestio/perimeter/internal/jsonw"
)

// OpenAI Responses: POST /v1/responses.

// appendResponseObject renders a response object. A complete response has
// its output item and usage; an in-progress one has neither.
func (r *reply) appendResponseObject(dst []byte, complete bool, pieces int) []byte {
	dst = append(dst, `{"id":"`...)
	dst = r.s.appendID(dst, "resp_", r.idx)
	dst = append(dst, `","object":"response","created_at":`...)
	dst = strconv.AppendInt(dst, r.created, 10)
	if complete {
		dst = append(dst, `,"status":"completed"`...)
	} else {
		dst = append(dst, `,"status":"in_progress"`...)
	}
	dst = append(dst, `,"background":false,"error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":`...)
	dst = append(dst, r.model...)
	dst = append(dst, `,"output":[`...)
	if complete {
		dst = r.appendOutputItem(dst, true, pieces)
	}
	dst = append(dst, `],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":`...)
	if complete {
		in, out := r.info.inputTokens, r.outputTokens(pieces)
		dst = append(dst, `{"input_tokens":`...)
		dst = strconv.AppendInt(dst, int64(in), 10)
		dst = append(dst, `,"input_tokens_details":{"cached_tokens":`...)
		dst = strconv.AppendInt(dst, int64(r.cachedTokens), 10)
		dst = append(dst, `},"output_tokens":`...)
		dst = strconv.AppendInt(dst, int64(out), 10)
		dst = append(dst, `,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":`...)
		dst = strconv.AppendInt(dst, int64(in+out), 10)
		dst = append(dst, '}')
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, `,"user":null,"metadata":{}}`...)
}

// appendOutputItem renders the message (or function_call) output item.
func (r *reply) appendOutputItem(dst []byte, complete bool, pieces int) []byte {
	if r.tool {
		dst = append(dst, `{"id":"`...)
		dst = r.s.appendID(dst, "fc_", r.idx)
		if complete {
			dst = append(dst, `","type":"function_call","status":"completed","arguments":"`...)
			dst = jsonw.AppendEscaped(dst, ToolArguments)
		} else {
			dst = append(dst, `","type":"function_call","status":"in_progress","arguments":"`...)
		}
		dst = append(dst, `","call_id":"`...)
		dst = r.s.appendID(dst, "call_", r.idx)
		dst = append(dst, `","name":`...)
		dst = append(dst, r.toolName()...)
		return append(dst, '}')
	}
	dst = append(dst, `{"id":"`...)
	dst = r.s.appendID(dst, "msg_", r.idx)
	if !complete {
		return append(dst, `","type":"message","status":"in_progress","content":[],"role":"assistant"}`...)
	}
	dst = append(dst, `","type":"message","status":"completed","content":[`...)
	dst = appendTextPart(dst, pieces)
	return append(dst, `],"role":"assistant"}`...)
}

func appendTextPart(dst []byte, pieces int) []byte {
	dst = append(dst, `{"type":"output_text","annotations":[],"logprobs":[],"text":"`...)
	dst = appendContent(dst, pieces)
	return append(dst, `"}`...)
}

func (r *reply) appendResponse(dst []byte, pieces int) []byte {
	dst = r.appendResponseObject(dst, true, pieces)
	return append(dst, '\n')
}

// responsesEvent starts "event: name" with the common type and
// sequence_number fields; the caller appends the rest of the object.
func responsesEvent(sb *streamBody, name string) {
	sb.buf = append(sb.buf, "event: "...)
	sb.buf = append(sb.buf, name...)
	sb.buf = append(sb.buf, "\ndata: {\"type\":\""...)
	sb.buf = append(sb.buf, name...)
	sb.buf = append(sb.buf, `","sequence_number":`...)
	sb.buf = strconv.AppendInt(sb.buf, int64(len(sb.ends)), 10)
}

func endEvent(sb *streamBody) {
	sb.buf = append(sb.buf, "}\n\n"...)
	sb.mark()
}

// renderResponsesStream renders the Responses API event sequence:
// response.created, response.in_progress, response.output_item.added, then
// either content_part.added / output_text.delta… / output_text.done /
// content_part.done or function_call_arguments.delta… / .done, then
// response.output_item.done and response.completed.
func (r *reply) renderResponsesStream(sb *streamBody) {
	// item is the "item_id":…,"output_index":0 fragment shared by deltas.
	item := append(sb.head[:0], `,"item_id":"`...)
	if r.tool {
		item = r.s.appendID(item, "fc_", r.idx)
	} else {
		item = r.s.appendID(item, "msg_", r.idx)
	}
	item = append(item, `","output_index":0`...)
	sb.head = item

	responsesEvent(sb, "response.created")
	sb.buf = append(sb.buf, `,"response":`...)
	sb.buf = r.appendResponseObject(sb.buf, false, 0)
	endEvent(sb)
	responsesEvent(sb, "response.in_progress")
	sb.buf = append(sb.buf, `,"response":`...)
	sb.buf = r.appendResponseObject(sb.buf, false, 0)
	endEvent(sb)
	responsesEvent(sb, "response.output_item.added")
	sb.buf = append(sb.buf, `,"output_index":0,"item":`...)
	sb.buf = r.appendOutputItem(sb.buf, false, 0)
	endEvent(sb)

	if r.tool {
		k := argPieces(r.chunks)
		for i := range k {
			responsesEvent(sb, "response.function_call_arguments.delta")
			sb.buf = append(sb.buf, item...)
			sb.buf = append(sb.buf, `,"delta":"`...)
			sb.buf = jsonw.AppendEscaped(sb.buf, argPiece(i, k))
			sb.buf = append(sb.buf, '"')
			endEvent(sb)
		}
		responsesEvent(sb, "response.function_call_arguments.done")
		sb.buf = append(sb.buf, item...)
		sb.buf = append(sb.buf, `,"arguments":"`...)
		sb.buf = jsonw.AppendEscaped(sb.buf, ToolArguments)
		sb.buf = append(sb.buf, '"')
		endEvent(sb)
	} else {
		responsesEvent(sb, "response.content_part.added")
		sb.buf = append(sb.buf, item...)
		sb.buf = append(sb.buf, `,"content_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}`...)
		endEvent(sb)
		for i := range r.chunks {
			responsesEvent(sb, "response.output_text.delta")
			sb.buf = append(sb.buf, item...)
			sb.buf = append(sb.buf, `,"content_index":0,"delta":"`...)
			sb.buf = append(sb.buf, token(i)...)
			sb.buf = append(sb.buf, `","logprobs":[]`...)
			endEvent(sb)
		}
		responsesEvent(sb, "response.output_text.done")
		sb.buf = append(sb.buf, item...)
		sb.buf = append(sb.buf, `,"content_index":0,"text":"`...)
		sb.buf = appendContent(sb.buf, r.chunks)
		sb.buf = append(sb.buf, `","logprobs":[]`...)
		endEvent(sb)
		responsesEvent(sb, "response.content_part.done")
		sb.buf = append(sb.buf, item...)
		sb.buf = append(sb.buf, `,"content_index":0,"part":`...)
		sb.buf = appendTextPart(sb.buf, r.chunks)
		endEvent(sb)
	}
	responsesEvent(sb, "response.output_item.done")
	sb.buf = append(sb.buf, `,"output_index":0,"item":`...)
	sb.buf = r.appendOutputItem(sb.buf, true, r.chunks)
	endEvent(sb)
	responsesEvent(sb, "response.completed")
	sb.buf = append(sb.buf, `,"response":`...)
	sb.buf = r.appendResponseObject(sb.buf, true, r.chunks)
	endEvent(sb)
}

// appendErrorEvent ends a stream with the provider's mid-stream error.
func (r *reply) appendErrorEvent(sb *streamBody) {
	switch r.api {
	case apiMessages:
		sb.buf = append(sb.buf, "event: error\ndata: "+anthropicErrorData+"\n\n"...)
	case apiResponses:
		responsesEvent(sb, "error")
		sb.buf = append(sb.buf, `,"code":"server_error","message":"`+streamErrorMessage+`","param":null}`+"\n\n"...)
	default:
		sb.buf = append(sb.buf, chatErrorEvent...)
	}
	sb.mark()
}
