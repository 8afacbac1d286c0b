package capture

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

// oddCall is one call for the JSON validity checks: a request body, the
// x-cylestio-tags header, and either a buffered answer or SSE events.
type oddCall struct {
	name     string
	body     string
	tags     string
	workflow string   // the /agent-workflow/{id}/ route's id
	answer   string   // buffered answer, when events is nil
	events   []string // SSE events fed to the stream tap
}

var hugeText = strings.Repeat("x", 1<<20)

var oddCalls = []oddCall{
	{name: "tag key with a quote", tags: `a"b:c`},
	{name: "tag key and value with backslashes and controls", tags: "k\\\x01:v\\\x02\x7f,\x03flag"},
	{name: "tags with invalid UTF-8", tags: "\xff\xfe:\xc3\x28,ok:\xe2\x82"},
	{name: "answer without id, model or finish_reason",
		answer: `{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}]}`},
	{name: "empty answer object", answer: `{}`},
	{name: "odd workflow id, answer without id", workflow: "wf\"\x01\xff",
		answer: `{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}]}`},
	{name: "answer that is not JSON", answer: "not json \x00\xff"},
	{name: "error answer with odd message", answer: `{"error":{"message":"bad \u0000 \"key\" \ud800","type":"x\"y"}}`},
	{name: "tool call with odd name and arguments",
		answer: `{"choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"c\"1","type":"function","function":{"name":"a\"b\u0001","arguments":"{not json \u0000"}}]}}]}`},
	{name: "request with controls and invalid UTF-8",
		body: "{\"model\":\"m\\u0000\\\"\",\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0001b \xff\xfe\"}]}"},
	{name: "request without model", body: `{"messages":[{"role":"user","content":"hello"}]}`},
	{name: "stream with no id, model or finish_reason",
		events: []string{`data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}`, `data: [DONE]`}},
	{name: "stream of one event of 1 MB", events: []string{`data: {"choices":[{"index":0,"delta":{"content":"` + hugeText + `"}}]}`, `data: [DONE]`}},
	{name: "stream with nothing readable", events: []string{"data: \xff\x00", ": comment"}},
}

// TestEventsAreValidJSON: whatever the request, its headers or the
// answer, every event capture publishes carries one valid JSON object.
func TestEventsAreValidJSON(t *testing.T) {
	for _, tc := range oddCalls {
		t.Run(tc.name, func(t *testing.T) {
			checkEventsValid(t, tc)
		})
	}
}

// FuzzEventsAreValidJSON: odd tags, request bodies and answers never make
// an event's attributes invalid JSON.
func FuzzEventsAreValidJSON(f *testing.F) {
	for _, tc := range oddCalls {
		if tc.events == nil && len(tc.answer) < 4096 {
			f.Add(tc.tags, tc.body, tc.answer)
		}
	}
	f.Fuzz(func(t *testing.T, tags, body, answer string) {
		checkEventsValid(t, oddCall{tags: tags, body: body, answer: answer})
	})
}

func checkEventsValid(t *testing.T, tc oddCall) {
	t.Helper()
	rec := &sink.Recorder{}
	c := New(session.New(session.DefaultConfig()), rec, "openai")
	t.Cleanup(func() { c.Close(context.Background()) })
	body := tc.body
	if body == "" {
		body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`
	}
	call := &Call{Kind: provider.OpenAIChat, Start: time.Now(), End: time.Now(), Status: 200,
		Method: []byte("POST"), Path: []byte("/v1/chat/completions"), Workflow: []byte(tc.workflow),
		Body: []byte(body), Response: &fasthttp.Response{}, MaxDecoded: 1 << 20}
	call.Header.Set("X-Cylestio-Tags", tc.tags)
	if tc.events != nil {
		sp := provider.AcquireStreamParser(provider.OpenAIChat)
		defer provider.ReleaseStreamParser(sp)
		for _, ev := range tc.events {
			_ = sp.Event([]byte(ev))
		}
		call.Streamed, call.SSE, call.Stream = true, true, sp
		call.Response.Header.SetContentType("text/event-stream")
	} else {
		call.Response.SetBody([]byte(tc.answer))
	}
	c.record(call)
	evs := rec.Events()
	if len(evs) == 0 {
		return // a body that does not parse: nothing to check
	}
	for _, e := range evs {
		if !json.Valid(e.Attributes) {
			a := e.Attributes
			if len(a) > 2000 {
				a = append(a[:1000:1000], a[len(a)-1000:]...)
			}
			t.Errorf("%s: attributes are not valid JSON:\n%s", e.Name, a)
		}
	}
}
