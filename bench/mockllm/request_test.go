package mockllm

import (
	"encoding/json"
	"testing"

	"github.com/cylestio/perimeter/bench/llmreq"
)

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name, body          string
		ok                  bool
		model, tool         string
		stream, usage, want bool
	}{
		{"chat", `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, true, `"gpt-4o"`, "", true, true, false},
		{"whitespace", " {\n \"stream\" : false , \"model\" : \"a\\\"b\" } \n", true, `"a\"b"`, "", false, false, false},
		{"chat tool", `{"tools":[{"type":"function","function":{"name":"f1"}}],"messages":[{"role":"user","content":[{"type":"text","text":"TOOL"}]}]}`, true, "", `"f1"`, false, false, true},
		{"anthropic tool", `{"tools":[{"name":"a1","input_schema":{}}],"messages":[{"role":"user","content":"use tools"}]}`, true, "", `"a1"`, false, false, true},
		{"assistant last", `{"tools":[{"name":"a1"}],"messages":[{"role":"user","content":"tool"},{"role":"assistant","content":"tool"}]}`, true, "", `"a1"`, false, false, false},
		{"tool_result", `{"tools":[{"name":"a1"}],"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}`, true, "", `"a1"`, false, false, false},
		{"responses string input", `{"tools":[{"type":"function","name":"r1"}],"input":"a tool please"}`, true, "", `"r1"`, false, false, true},
		{"model not a string", `{"model":42}`, true, "", "", false, false, false},
		{"empty tools", `{"tools":[],"messages":[{"role":"user","content":"tool"}]}`, true, "", "", false, false, false},
		{"array", `[1,2]`, false, "", "", false, false, false},
		{"truncated", `{"model":"x"`, false, "", "", false, false, false},
		{"trailing garbage", `{"model":"x"} x`, false, "", "", false, false, false},
		{"bad literal", `{"stream":tru}`, false, "", "", false, false, false},
		{"control char in string", "{\"model\":\"a\x01\"}", false, "", "", false, false, false},
		{"empty", ``, false, "", "", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := parseRequest(apiChat, []byte(tc.body))
			if ok != tc.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			want := tc.want && r.toolsOffered
			if string(r.model) != tc.model || string(r.toolName) != tc.tool || r.stream != tc.stream ||
				r.includeUsage != tc.usage || (r.toolsOffered && r.askedForTool) != want {
				t.Fatalf("got %+v", r)
			}
		})
	}
}

// The requests the demo sends (package llmreq) are read as meant in each
// format: model, stream, the first tool offered, and a tool asked for only
// while the last turn is the user's asking for one.
func TestParseRequestConversation(t *testing.T) {
	apis := map[llmreq.Format]api{llmreq.Chat: apiChat, llmreq.Responses: apiResponses, llmreq.Anthropic: apiMessages}
	tools := []llmreq.Tool{{Name: "first_tool"}, {Name: "second_tool"}}
	calls := []llmreq.Call{{ID: "c1", Name: "first_tool", Arguments: `{"query":"x"}`}}
	for _, f := range []llmreq.Format{llmreq.Chat, llmreq.Responses, llmreq.Anthropic} {
		c := llmreq.Conversation{Format: f, Model: "model-" + f.String(), System: "you help"}
		c.User("please use a tool")
		step := func(stream, wantAsk bool) {
			t.Helper()
			_, body, err := c.Request(tools, stream)
			if err != nil {
				t.Fatal(err)
			}
			r, ok := parseRequest(apis[f], body)
			if !ok {
				t.Fatalf("%v: not read: %s", f, body)
			}
			if string(r.model) != `"model-`+f.String()+`"` || r.stream != stream || string(r.toolName) != `"first_tool"` ||
				r.includeUsage != (stream && f == llmreq.Chat) || r.askedForTool != wantAsk {
				t.Errorf("%v: got %+v from %s", f, r, body)
			}
		}
		step(true, true)
		c.Assistant("", calls)
		c.ToolResults(calls, "found")
		step(false, false)
		c.Assistant("here it is", nil)
		c.User("thanks")
		step(false, false)
	}
}

func TestNextRawHeader(t *testing.T) {
	raw := []byte("Host: a\r\nX-Mock-Chunks:  7 \r\nweird\r\nx-mock-step:1\r\n\r\n")
	c := parseControls(raw)
	if c.chunks != 7 || !c.step || c.badHeader != "" {
		t.Fatalf("controls %+v", c)
	}
	c = parseControls([]byte("x-mock-chunk-delay: 25\r\nx-mock-hang: 1.5s\r\nx-mock-tool: false\r\n"))
	if c.delay.Milliseconds() != 25 || c.hang.Milliseconds() != 1500 || c.tool != -1 {
		t.Fatalf("controls %+v", c)
	}
	if c = parseControls([]byte("x-mock-status: 42\r\n")); c.badHeader == "" {
		t.Fatal("status 42 accepted")
	}
}

// FuzzParseRequest: the request reader must never panic, and must accept
// no document encoding/json rejects.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{chatBody, streamChat, streamMessages, streamResponses, `{"a":[{"b":{}}],"c":-1.5e3}`, `{"x":"\u00e9\\"}`, `[`, `{"a":nul}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for a := apiChat; a <= apiMessages; a++ {
			parseRequest(a, b)
		}
		if _, ok := parseRequest(apiChat, b); ok && !json.Valid(b) {
			t.Fatalf("invalid JSON accepted: %q", b)
		}
		parseControls(b)
	})
}
