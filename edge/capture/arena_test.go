package capture

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

// toolAnswer is a Chat answer calling two tools.
var toolAnswer = []byte(`{"id":"chatcmpl-9","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[` +
	`{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},` +
	`{"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]},"finish_reason":"tool_calls"}],` +
	`"usage":{"prompt_tokens":31,"completion_tokens":12,"total_tokens":43}}`)

// conversationBody is a request continuing a tool loop: the tool result of
// an earlier call comes back. Each i is a different conversation of the
// same agent.
func conversationBody(i int) []byte {
	return fmt.Appendf(nil, `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are the weather agent."},`+
		`{"role":"user","content":"Weather in Paris, please (%d)?"},`+
		`{"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},`+
		`{"role":"tool","tool_call_id":"call_0","content":"sunny, 21 C"}],"tools":[{"type":"function","function":{"name":"get_weather"}}]}`, i)
}

var (
	methodPOST = []byte("POST")
	chatPath   = []byte("/v1/chat/completions")
)

func recordOnce(c *Capture, conv *session.Conversation, ci *callInfo, body []byte, resp *provider.Response) {
	t0 := time.Unix(1_700_000_000, 0)
	*ci = callInfo{status: 200, resp: resp, body: body, start: t0, end: t0.Add(42 * time.Millisecond),
		method: methodPOST, path: chatPath}
	c.events(provider.OpenAIChat, conv, ci, nil)
}

// TestCaptureEventsAreIndependent checks that events sharing one call's
// memory each carry exactly their own strings and attributes, and that
// nothing changes when later calls reuse the scratch memory.
func TestCaptureEventsAreIndependent(t *testing.T) {
	resp := provider.AcquireResponse()
	defer provider.ReleaseResponse(resp)
	if err := resp.Parse(provider.OpenAIChat, 200, toolAnswer); err != nil {
		t.Fatal(err)
	}
	rec := &sink.Recorder{}
	c := New(session.New(session.DefaultConfig()), rec, "openai")
	t.Cleanup(func() { c.Close(context.Background()) })
	var conv session.Conversation
	var ci callInfo
	recordOnce(c, &conv, &ci, conversationBody(1), resp)
	first := rec.Events()
	snapshot := func(evs []*sink.Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%s", e.Name, e.SessionID, e.AgentID, e.TraceID, e.SpanID, e.Model, e.ToolName, e.FinishReason, e.Attributes))
		}
		return out
	}
	before := snapshot(first)
	if got := names(first); got != "session.start tool.result llm.call.start llm.call.finish tool.execution tool.execution" {
		t.Fatalf("events: %s", got)
	}
	for _, e := range first {
		var m map[string]any
		if err := json.Unmarshal(e.Attributes, &m); err != nil {
			t.Fatalf("%s attributes are not one JSON object: %v\n%s", e.Name, err, e.Attributes)
		}
		if e.SessionID == "" || m["session.id"] != e.SessionID {
			t.Errorf("%s: session.id attribute %v, field %q", e.Name, m["session.id"], e.SessionID)
		}
		if len(e.SpanID) != 16 || len(e.TraceID) != 32 || e.Model != "gpt-4o-mini" || e.AgentID != agentOf("You are the weather agent.") {
			t.Errorf("%s: span %q trace %q model %q agent %q", e.Name, e.SpanID, e.TraceID, e.Model, e.AgentID)
		}
		// Appending to one event's attributes must not write into the
		// next one's.
		_ = append(e.Attributes, "XXXXXXXX"...)
	}
	if a, b := first[4], first[5]; a.ToolName != "get_weather" || b.ToolName != "get_time" || a.SpanID == b.SpanID {
		t.Errorf("tool executions: %q/%q spans %s/%s", a.ToolName, b.ToolName, a.SpanID, b.SpanID)
	}
	if f := first[3]; f.FinishReason != "tool_calls" || f.InputTokens != 31 || f.TotalTokens != 43 {
		t.Errorf("finish: %q %d %d", f.FinishReason, f.InputTokens, f.TotalTokens)
	}
	for i := 2; i < 40; i++ {
		recordOnce(c, &conv, &ci, conversationBody(i), resp)
	}
	after := snapshot(first)
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("event %d changed after later calls:\nbefore %s\nafter  %s", i, before[i], after[i])
		}
	}
}

func names(evs []*sink.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Name)
	}
	return strings.Join(s, " ")
}

func agentOf(system string) string {
	sum := md5.Sum([]byte(system))
	return "prompt-" + hex.EncodeToString(sum[:])[:12]
}
