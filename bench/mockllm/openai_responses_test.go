package mockllm

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/bench/llmreq"
)

func TestResponse(t *testing.T) {
	_, base := startServer(t, Config{})
	body := request(t, &llmreq.ResponsesRequest{Model: "gpt-4.1", Input: []llmreq.ResponsesItem{{Role: "user", Content: "hello"}}})
	resp := post(t, base+"/v1/responses", body)
	m := decode(t, readBody(t, resp))
	if resp.StatusCode != 200 || !strings.HasPrefix(str(m, "id"), "resp_") || str(m, "object") != "response" ||
		str(m, "status") != "completed" || str(m, "model") != "gpt-4.1" {
		t.Fatalf("status %d response %v", resp.StatusCode, m)
	}
	out := get(m, "output", 0)
	if str(out, "type") != "message" || str(out, "role") != "assistant" ||
		str(out, "content", 0, "type") != "output_text" || str(out, "content", 0, "text") != Content(20) {
		t.Fatalf("output %v", out)
	}
	u := get(m, "usage")
	in, o := num(u, "input_tokens"), num(u, "output_tokens")
	if in != len(body)/4 || o != 20 || num(u, "total_tokens") != in+o || num(u, "input_tokens_details", "cached_tokens") != 0 {
		t.Fatalf("usage %v", u)
	}
}

// checkResponsesFraming checks what every Responses event shares: the event
// name repeats data.type and sequence_number counts from 0.
func checkResponsesFraming(t *testing.T, evs []sseEvent) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(evs))
	for i, ev := range evs {
		m := decode(t, []byte(ev.data))
		if ev.name == "" || str(m, "type") != ev.name || num(m, "sequence_number") != i {
			t.Fatalf("event %d %q: %s", i, ev.name, ev.data)
		}
		out[i] = m
	}
	return out
}

func eventNames(evs []sseEvent) string {
	names := make([]string, len(evs))
	for i, ev := range evs {
		names[i] = ev.name
	}
	return strings.Join(names, " ")
}

func TestResponsesStream(t *testing.T) {
	_, base := startServer(t, Config{})
	evs := mustStream(t, post(t, base+"/v1/responses", `{"model":"gpt-4.1","stream":true,"input":"hi"}`, HeaderChunks, "3"))
	want := "response.created response.in_progress response.output_item.added response.content_part.added " +
		"response.output_text.delta response.output_text.delta response.output_text.delta " +
		"response.output_text.done response.content_part.done response.output_item.done response.completed"
	if got := eventNames(evs); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	ms := checkResponsesFraming(t, evs)
	if str(ms[0], "response", "status") != "in_progress" || get(ms[0], "response", "usage") != nil {
		t.Errorf("created %v", ms[0])
	}
	var text string
	for _, m := range ms[4:7] {
		text += str(m, "delta")
	}
	itemID := str(ms[2], "item", "id")
	if text != Content(3) || str(ms[7], "text") != text || str(ms[4], "item_id") != itemID || !strings.HasPrefix(itemID, "msg_") {
		t.Errorf("text %q done %q item %q", text, str(ms[7], "text"), itemID)
	}
	done := ms[len(ms)-1]
	if str(done, "response", "status") != "completed" || str(done, "response", "output", 0, "content", 0, "text") != text ||
		num(done, "response", "usage", "output_tokens") != 3 || str(done, "response", "id") != str(ms[0], "response", "id") {
		t.Errorf("completed %v", done)
	}
}

func TestResponsesFunctionCall(t *testing.T) {
	_, base := startServer(t, Config{})
	tools := llmreq.ResponsesTools([]llmreq.Tool{{Name: "search_docs", Parameters: json.RawMessage(`{"type":"object"}`)}})
	m := decode(t, readBody(t, post(t, base+"/v1/responses", request(t, &llmreq.ResponsesRequest{Model: "gpt-4.1", Tools: tools,
		Input: []llmreq.ResponsesItem{{Role: "user", Content: "find it with the tool"}}}))))
	item := get(m, "output", 0)
	if str(item, "type") != "function_call" || str(item, "name") != "search_docs" || str(item, "arguments") != ToolArguments ||
		!strings.HasPrefix(str(item, "call_id"), "call_") {
		t.Fatalf("function call %v", item)
	}

	evs := mustStream(t, post(t, base+"/v1/responses", request(t, &llmreq.ResponsesRequest{Model: "gpt-4.1", Stream: true, Tools: tools,
		Input: []llmreq.ResponsesItem{{Role: "user", Content: "use the tool"}}}), HeaderChunks, "4"))
	want := "response.created response.in_progress response.output_item.added " +
		strings.Repeat("response.function_call_arguments.delta ", 4) +
		"response.function_call_arguments.done response.output_item.done response.completed"
	if got := eventNames(evs); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	ms := checkResponsesFraming(t, evs)
	var args string
	for _, m := range ms[3:7] {
		args += str(m, "delta")
	}
	if args != ToolArguments || str(ms[7], "arguments") != ToolArguments || str(ms[2], "item", "name") != "search_docs" {
		t.Errorf("arguments %q / %q", args, str(ms[7], "arguments"))
	}
	if str(ms[len(ms)-1], "response", "output", 0, "type") != "function_call" {
		t.Errorf("completed %v", ms[len(ms)-1])
	}
}
