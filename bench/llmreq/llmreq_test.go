package llmreq

import (
	"encoding/json"
	"testing"

	"github.com/cylestio/perimeter/edge/provider"
)

// A conversation rendered in each format reads back, through the proxy's
// own parsers, as the turns it was given: system prompt, messages, the
// calls, the results linked to their calls, and the tools offered in order.
func TestConversationParsesAsSent(t *testing.T) {
	kinds := map[Format]provider.Kind{Chat: provider.OpenAIChat, Responses: provider.OpenAIResponses, Anthropic: provider.AnthropicMessages}
	tools := []Tool{{Name: "lookup", Description: "find a thing"}, {Name: "send", Parameters: json.RawMessage(`{"type":"object"}`)}}
	calls := []Call{{ID: "call_1", Name: "lookup", Arguments: `{"query":"a \"quoted\" thing"}`}, {ID: "call_2", Name: "send", Arguments: `{}`}}
	for _, f := range []Format{Chat, Responses, Anthropic} {
		t.Run(f.String(), func(t *testing.T) {
			c := Conversation{Format: f, Model: "m-1", System: "be brief"}
			c.User("use the tool")
			c.Assistant("", calls)
			c.ToolResults(calls, "done")
			c.Assistant("all done", nil)
			c.User("thanks")
			path, body, err := c.Request(tools, true)
			if err != nil {
				t.Fatal(err)
			}
			if path != f.Path() {
				t.Errorf("path %q, want %q", path, f.Path())
			}
			r := provider.AcquireRequest()
			defer provider.ReleaseRequest(r)
			if err := r.Parse(kinds[f], body); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if r.Model.String() != "m-1" || !r.Stream || r.System.String() != "be brief" {
				t.Errorf("model %q stream %v system %q in %s", r.Model.String(), r.Stream, r.System.String(), body)
			}
			if f == Chat && !r.IncludeUsage {
				t.Errorf("chat stream without include_usage: %s", body)
			}
			if len(r.ToolCalls) != 2 || len(r.ToolResults) != 2 {
				t.Fatalf("%d calls, %d results in %s", len(r.ToolCalls), len(r.ToolResults), body)
			}
			for i, tc := range r.ToolCalls {
				var got, want any
				_ = json.Unmarshal([]byte(tc.Arguments.String()), &got)
				_ = json.Unmarshal([]byte(calls[i].Arguments), &want)
				if tc.ID.String() != calls[i].ID || tc.Name.String() != calls[i].Name || !jsonEqual(got, want) {
					t.Errorf("call %d: %q %q %q", i, tc.ID.String(), tc.Name.String(), tc.Arguments.String())
				}
				if res := r.ToolResults[i]; res.Call != i || res.Text.String() != "done" || res.Name.String() != calls[i].Name {
					t.Errorf("result %d: call %d, text %q, name %q", i, res.Call, res.Text.String(), res.Name.String())
				}
			}
			last := r.Messages[len(r.Messages)-1]
			if last.Role.String() != "user" || last.Text.String() != "thanks" {
				t.Errorf("last message %q %q", last.Role.String(), last.Text.String())
			}
			if len(r.Tools) != 2 || r.Tools[0].Name.String() != "lookup" || r.Tools[1].Name.String() != "send" {
				t.Errorf("tools %+v", r.Tools)
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// Without a system prompt no system message is sent; Anthropic always
// carries max_tokens, and a tool_use whose arguments are not JSON sends
// an empty input.
func TestConversationDefaults(t *testing.T) {
	c := Conversation{Format: Chat, Model: "m"}
	c.User("hi")
	_, body, err := c.Request(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`; string(body) != want {
		t.Errorf("chat:\n%s\nwant\n%s", body, want)
	}
	a := Conversation{Format: Anthropic, Model: "claude"}
	a.User("hi")
	a.Assistant("", []Call{{ID: "t1", Name: "f", Arguments: "not json"}})
	_, body, err = a.Request(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"claude","max_tokens":1024,"messages":[{"role":"user","content":"hi"},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]}]}`
	if string(body) != want {
		t.Errorf("anthropic:\n%s\nwant\n%s", body, want)
	}
	if _, _, err := (&Conversation{Format: Responses}).Request([]Tool{{Name: "x", Parameters: json.RawMessage(`{`)}}, false); err == nil {
		t.Error("a tool schema that is not JSON was sent")
	}
}
