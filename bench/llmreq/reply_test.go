package llmreq

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/bench/mockllm"
)

// A tool loop against the mock in each format, whole and streamed: the
// first call gets a tool call of the tool offered first, its result gets
// text; both read back as the mock sent them.
func TestReplyFromMock(t *testing.T) {
	s, base, err := mockllm.Start(mockllm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tools := []Tool{{Name: "find_order"}, {Name: "refund"}}
	for _, f := range []Format{Chat, Responses, Anthropic} {
		for _, stream := range []bool{false, true} {
			c := Conversation{Format: f, Model: "m", System: "help"}
			c.User("look it up with the tool")
			send := func(tool string) Reply {
				t.Helper()
				path, body, err := c.Request(tools, stream)
				if err != nil {
					t.Fatal(err)
				}
				req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
				req.Header.Set(mockllm.HeaderTool, tool)
				req.Header.Set(mockllm.HeaderChunks, "5")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				read := ReadReply
				if stream {
					read = ReadStream
				}
				rep, err := read(f, resp.Body)
				if err != nil {
					t.Fatalf("%v stream=%v: %v", f, stream, err)
				}
				return rep
			}
			rep := send("1")
			if len(rep.Calls) != 1 || rep.Calls[0].Name != "find_order" || rep.Calls[0].Arguments != mockllm.ToolArguments || rep.Calls[0].ID == "" {
				t.Fatalf("%v stream=%v: tool reply %+v", f, stream, rep)
			}
			c.Assistant(rep.Text, rep.Calls)
			c.ToolResults(rep.Calls, "order 42 shipped")
			if rep = send("0"); rep.Text != mockllm.Content(5) || len(rep.Calls) != 0 {
				t.Errorf("%v stream=%v: text reply %+v", f, stream, rep)
			}
		}
	}
}

func TestReplyErrors(t *testing.T) {
	if _, err := ReadStream(Chat, strings.NewReader("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n")); err == nil {
		t.Error("a stream without its final event was read whole")
	}
	if _, err := ReadReply(Anthropic, strings.NewReader(`{"type":"error","error":{"type":"overloaded_error","message":"busy"}}`)); err == nil || !strings.Contains(err.Error(), "busy") {
		t.Errorf("error answer: %v", err)
	}
	if _, err := ReadReply(Chat, strings.NewReader(`<html>`)); err == nil {
		t.Error("a body that is not JSON was read")
	}
}
