package capture

import (
	"bytes"
	"compress/gzip"
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

const chatEvents = "data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n" +
	"data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n" +
	"data: [DONE]\n\n"

func gzipped(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestAnswerCaptureCannotReadIsAFinish: a 2xx answer is a finish whether
// or not capture can read it. An event stream the proxy buffered (the
// request did not ask for a stream), compressed or not, and a compressed
// stream kept whole are read event by event; a compressed stream that
// was not kept is a finish without usage that says why. A failed status
// stays an error.
func TestAnswerCaptureCannotReadIsAFinish(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		streamed bool
		gzip     bool
		record   bool // the http_recorder is on: the stream is kept (Tee)
		body     string
		want     string // event name
		tokens   int64  // total tokens
		unread   string
	}{
		{name: "buffered event stream", status: 200, body: chatEvents, want: sink.LLMCallFinish, tokens: 4},
		{name: "buffered gzipped event stream", status: 200, gzip: true, body: chatEvents, want: sink.LLMCallFinish, tokens: 4},
		{name: "gzipped stream not kept", status: 200, streamed: true, gzip: true, body: chatEvents, want: sink.LLMCallFinish, unread: unreadCompressed},
		{name: "gzipped stream kept whole", status: 200, streamed: true, gzip: true, record: true, body: chatEvents, want: sink.LLMCallFinish, tokens: 4},
		{name: "buffered answer not JSON", status: 200, body: "<html>ok</html>", want: sink.LLMCallFinish, unread: unreadNotJSON},
		{name: "buffered gzip that is not gzip", status: 200, gzip: true, body: "plain", want: sink.LLMCallFinish, unread: unreadUndecodable},
		{name: "failed status not JSON", status: 502, body: "<html>bad gateway</html>", want: sink.LLMCallError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &sink.Recorder{}
			c := New(session.New(session.DefaultConfig()), rec, "openai")
			t.Cleanup(func() { c.Close(context.Background()) })
			if tc.record {
				c.RecordHTTP(1 << 20)
			}
			call := &Call{Kind: provider.OpenAIChat, Start: time.Now(), End: time.Now(), Status: tc.status,
				Method: []byte("POST"), Path: []byte("/v1/chat/completions"),
				Body:     []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`),
				Response: &fasthttp.Response{}, MaxDecoded: 1 << 20}
			call.Response.SetStatusCode(tc.status)
			if strings.HasPrefix(tc.body, "data:") {
				call.Response.Header.SetContentType("text/event-stream")
			}
			body := []byte(tc.body)
			if tc.gzip {
				call.Response.Header.SetContentEncoding("gzip")
				if tc.body != "plain" {
					body = gzipped(t, tc.body)
				}
			}
			if tc.streamed {
				call.Streamed, call.SSE = true, true
				if tc.record {
					call.Tee = body
				}
			} else {
				call.Response.SetBody(body)
			}
			c.record(call)
			var last *sink.Event
			for _, ev := range rec.Events() {
				if ev.Name == sink.LLMCallFinish || ev.Name == sink.LLMCallError {
					last = ev
				}
			}
			if last.Name != tc.want || last.TotalTokens != tc.tokens || last.Status != tc.status {
				t.Fatalf("got %s with %d tokens, status %d (%s %s); want %s with %d tokens\n%s",
					last.Name, last.TotalTokens, last.Status, last.ErrorType, last.ErrorMessage, tc.want, tc.tokens, last.Attributes)
			}
			var attrs map[string]any
			if err := json.Unmarshal(last.Attributes, &attrs); err != nil {
				t.Fatalf("%v\n%s", err, last.Attributes)
			}
			if got, _ := attrs["llm.response.unread"].(string); got != tc.unread {
				t.Errorf("llm.response.unread %q, want %q", got, tc.unread)
			}
		})
	}
}
