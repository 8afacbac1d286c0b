package capture

import (
	"context"
	"testing"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

// The reply the capture records is the model message the next request
// ends its history with: for a Responses answer with parallel calls, the
// last function_call item. A client that then replaces everything before
// it by a summary still continues its session (fuzzy rule F1).
func TestCaptureReplyAnchorsParallelResponsesCalls(t *testing.T) {
	for _, kind := range []provider.Kind{provider.OpenAIResponses, provider.OpenAIChat} {
		t.Run(kind.String(), func(t *testing.T) {
			tab := session.New(session.DefaultConfig())
			c := New(tab, &sink.Recorder{}, "openai")
			t.Cleanup(func() { c.Close(context.Background()) })
			sys := []byte("You are a research agent with search tools.")
			first := &session.Conversation{System: sys, HasSystem: true, Messages: []session.Message{
				{Role: []byte("user"), Content: []byte("Compare the flight prices to Paris and to Berlin for March")},
			}}
			r := tab.Resolve(first)
			resp := &provider.Response{ToolCalls: []provider.ToolCall{
				{ID: provider.Str{Raw: []byte("call_paris_1")}},
				{ID: provider.Str{Raw: []byte("call_berlin_2")}},
			}}
			c.reply(&r, &provider.Request{Kind: kind}, &callInfo{resp: resp})

			summary := session.Message{Role: []byte("user"), Content: []byte("Summary so far: the user wants March prices for two cities.")}
			var msgs []session.Message
			if kind == provider.OpenAIResponses {
				msgs = []session.Message{summary,
					{Type: []byte("function_call"), CallID: []byte("call_paris_1")},
					{Type: []byte("function_call"), CallID: []byte("call_berlin_2")},
					{Type: []byte("function_call_output"), CallID: []byte("call_paris_1")},
					{Type: []byte("function_call_output"), CallID: []byte("call_berlin_2")},
				}
			} else {
				msgs = []session.Message{summary,
					{Role: []byte("assistant"), CallID: []byte("call_paris_1")},
					{Role: []byte("tool"), CallID: []byte("call_paris_1"), Content: []byte(`{"price": 120}`)},
					{Role: []byte("tool"), CallID: []byte("call_berlin_2"), Content: []byte(`{"price": 90}`)},
				}
			}
			next := tab.Resolve(&session.Conversation{System: sys, HasSystem: true, Messages: msgs})
			if next.Match != session.MatchReply || string(next.ID()) != string(r.ID()) {
				t.Fatalf("match %v, same session %v", next.Match, string(next.ID()) == string(r.ID()))
			}
		})
	}
}
