package edge

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/edge/capture"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/stream"
)

// capturing sets o up to capture its calls as provider typ into the
// returned recorder.
func capturing(o *Options, typ Provider) *sink.Recorder {
	rec := &sink.Recorder{}
	o.Provider = typ
	o.Capture = capture.New(session.New(session.DefaultConfig()), rec, string(typ))
	return rec
}

func startCapturing(t *testing.T, typ Provider, o Options) (*harness, *sink.Recorder) {
	t.Helper()
	rec := capturing(&o, typ)
	return startWithMock(t, mockllm.Config{Chunks: 4}, o), rec
}

func names(evs []*sink.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Name)
	}
	return strings.Join(s, " ")
}

func attrsOf(t *testing.T, e *sink.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Attributes, &m); err != nil {
		t.Fatalf("%s attributes are not JSON: %v\n%s", e.Name, err, e.Attributes)
	}
	return m
}

// waitEvents waits until n events are recorded (streams are captured when
// the server closes the body, just after the client saw its end).
func waitEvents(t *testing.T, rec *sink.Recorder, n int) []*sink.Event {
	t.Helper()
	waitFor(t, func() bool { return len(rec.Events()) >= n })
	time.Sleep(20 * time.Millisecond)
	evs := rec.Events()
	if len(evs) != n {
		t.Fatalf("want %d events, got %d: %s", n, len(evs), names(evs))
	}
	rec.Reset()
	return evs
}

func agentOf(system string) string {
	sum := md5.Sum([]byte(system))
	return "prompt-" + hex.EncodeToString(sum[:])[:12]
}

const weatherTool = `[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]`

func TestCaptureOpenAIToolConversation(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", streaming), func(t *testing.T) {
			h, rec := startCapturing(t, OpenAI, Options{})
			sys := `{"role":"system","content":"You are a weather bot."}`
			user := `{"role":"user","content":"Use a tool: weather in SF?"}`
			extra := ""
			if streaming {
				extra = `"stream":true,"stream_options":{"include_usage":true},`
			}
			body1 := `{"model":"gpt-4o-mini",` + extra + `"tools":` + weatherTool + `,"messages":[` + sys + `,` + user + `]}`
			resp := h.post("/v1/chat/completions", body1)
			raw := readAll(t, resp.Body)
			evs := waitEvents(t, rec, 4)
			if got := names(evs); got != "session.start llm.call.start llm.call.finish tool.execution" {
				t.Fatalf("turn 1 events: %s", got)
			}
			sid := evs[0].SessionID
			for _, e := range evs {
				if e.SessionID != sid || e.AgentID != agentOf("You are a weather bot.") || e.TraceID != traceOf(sid) || e.Model != "gpt-4o-mini" || e.Vendor != "openai" {
					t.Fatalf("%s: session %q agent %q trace %q model %q", e.Name, e.SessionID, e.AgentID, e.TraceID, e.Model)
				}
			}
			start := attrsOf(t, evs[0])
			if start["client.type"] != "gateway" || start["prompt"] != "You are a weather bot." || start["tools"] == nil || start["os.type"] == nil {
				t.Fatalf("session.start attrs %v", start)
			}
			call := attrsOf(t, evs[1])
			data := call["llm.request.data"].(map[string]any)
			if len(data["messages"].([]any)) != 2 || data["_cylestio_metadata"].(map[string]any)["total_messages"] != 2.0 || call["llm.request.stream"] != streaming {
				t.Fatalf("llm.call.start attrs %v", call)
			}
			fin := evs[2]
			if fin.Status != 200 || fin.InputTokens <= 0 || fin.OutputTokens <= 0 || fin.TotalTokens != fin.InputTokens+fin.OutputTokens || fin.FinishReason != "tool_calls" {
				t.Fatalf("finish: status %d tokens %d/%d/%d reason %q", fin.Status, fin.InputTokens, fin.OutputTokens, fin.TotalTokens, fin.FinishReason)
			}
			if fin.SpanID != evs[1].SpanID {
				t.Fatal("llm.call.finish must share llm.call.start's span")
			}
			exec := attrsOf(t, evs[3])
			params, _ := exec["tool.params"].(map[string]any)
			if evs[3].ToolName != "get_weather" || params["location"] != "San Francisco, CA" {
				t.Fatalf("tool.execution %s %v", evs[3].ToolName, exec)
			}
			callID, _ := exec["tool.call_id"].(string)
			if callID == "" {
				t.Fatalf("no call id in %s", raw)
			}

			// Turn 2: the tool result goes back.
			asst := `{"role":"assistant","content":null,"tool_calls":[{"id":"` + callID + `","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"SF\"}"}}]}`
			tool := `{"role":"tool","tool_call_id":"` + callID + `","content":"18 degrees"}`
			body2 := `{"model":"gpt-4o-mini",` + extra + `"tools":` + weatherTool + `,"messages":[` + sys + `,` + user + `,` + asst + `,` + tool + `]}`
			readAll(t, h.post("/v1/chat/completions", body2).Body)
			evs2 := waitEvents(t, rec, 3)
			if got := names(evs2); got != "tool.result llm.call.start llm.call.finish" {
				t.Fatalf("turn 2 events: %s", got)
			}
			for _, e := range evs2 {
				if e.SessionID != sid {
					t.Fatalf("turn 2 %s in session %s, want %s", e.Name, e.SessionID, sid)
				}
			}
			res := attrsOf(t, evs2[0])
			if evs2[0].ToolName != "get_weather" || res["tool.result"] != "18 degrees" || res["tool.status"] != "success" {
				t.Fatalf("tool.result %v", res)
			}
			if evs2[0].SpanID != evs[3].SpanID {
				t.Fatal("tool.result must carry the span of the tool.execution it answers")
			}
			data2 := attrsOf(t, evs2[1])["llm.request.data"].(map[string]any)
			msgs := data2["messages"].([]any)
			meta := data2["_cylestio_metadata"].(map[string]any)
			if len(msgs) != 2 || msgs[0].(map[string]any)["role"] != "assistant" || meta["from_index"] != 2.0 || meta["new_messages"] != 2.0 {
				t.Fatalf("turn 2 request data %v", data2)
			}
		})
	}
}

func TestCaptureAnthropicStream(t *testing.T) {
	h, rec := startCapturing(t, Anthropic, Options{APIKey: "k"})
	body := `{"model":"claude-sonnet-4-5","stream":true,"max_tokens":100,"system":[{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":"hi"}]}`
	readAll(t, h.post("/v1/messages", body).Body)
	evs := waitEvents(t, rec, 3)
	if got := names(evs); got != "session.start llm.call.start llm.call.finish" {
		t.Fatalf("events: %s", got)
	}
	fin := evs[2]
	if fin.InputTokens <= 0 || fin.OutputTokens != 4 || fin.FinishReason != "end_turn" || fin.Vendor != "anthropic" || fin.Cut {
		t.Fatalf("finish %+v", fin)
	}
	content := attrsOf(t, fin)["llm.response.content"].([]any)
	if text := content[0].(map[string]any)["text"].(string); text != mockllm.Content(4) {
		t.Fatalf("streamed text %q, want %q", text, mockllm.Content(4))
	}
	// The original's agent id for a block-list system prompt is the md5 of
	// Python's str() of the list.
	if want := agentOf("[{'type': 'text', 'text': 'Be brief.'}]"); fin.AgentID != want {
		t.Fatalf("agent %s, want %s", fin.AgentID, want)
	}
}

func TestCaptureErrorsAndExternalSession(t *testing.T) {
	h, rec := startCapturing(t, OpenAI, Options{ResponseHeaderTimeout: 300 * time.Millisecond})
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	resp := h.post("/v1/chat/completions", body, "x-mock-status", "429", "X-Cylestio-Session-Id", "ext-42", "x-cylestio-agent-id", "billing-bot", "x-cylestio-tags", "team:core,beta")
	readAll(t, resp.Body)
	evs := waitEvents(t, rec, 3)
	if got := names(evs); got != "session.start llm.call.start llm.call.error" {
		t.Fatalf("events: %s", got)
	}
	e := evs[2]
	if e.SessionID != "ext-42" || e.AgentID != "billing-bot" || e.Status != 429 || e.Level != sink.LevelError || e.ErrorType == "" || e.ErrorMessage == "" {
		t.Fatalf("error event %+v", e)
	}
	tags := attrsOf(t, evs[1])["tags"].(map[string]any)
	if tags["team"] != "core" || tags["beta"] != "true" {
		t.Fatalf("tags %v", tags)
	}

	resp = h.post("/v1/chat/completions", body, "x-mock-hang", "3s", "X-Cylestio-Session-Id", "ext-42")
	readAll(t, resp.Body)
	evs = waitEvents(t, rec, 2)
	if got := names(evs); got != "llm.call.start llm.call.error" || evs[1].ErrorType != "upstream_timeout" || evs[1].Status != 504 {
		t.Fatalf("timeout events: %s %+v", got, evs[len(evs)-1])
	}
}

func TestCaptureCutStreamStillFinishes(t *testing.T) {
	h, rec := startCapturing(t, OpenAI, Options{})
	body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	resp := h.post("/v1/chat/completions", body, "x-mock-disconnect-after", "3")
	_, _ = readAllErr(resp)
	evs := waitEvents(t, rec, 3)
	fin := evs[2]
	if fin.Name != sink.LLMCallFinish || attrsOf(t, fin)["llm.response.incomplete"] != true || !fin.Cut {
		t.Fatalf("cut stream: %s %s", names(evs), fin.Attributes)
	}
}

func readAllErr(resp *http.Response) ([]byte, error) {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return []byte(b.String()), err
		}
	}
}

func TestCaptureResponsesPreviousResponseID(t *testing.T) {
	h, rec := startCapturing(t, OpenAI, Options{})
	resp := h.post("/v1/responses", `{"model":"gpt-4.1","instructions":"Be kind.","input":"hello"}`)
	var r struct{ ID string }
	json.Unmarshal(readAll(t, resp.Body), &r)
	evs := waitEvents(t, rec, 3)
	sid := evs[0].SessionID
	readAll(t, h.post("/v1/responses", `{"model":"gpt-4.1","previous_response_id":"`+r.ID+`","input":"and again"}`).Body)
	evs = waitEvents(t, rec, 2)
	if got := names(evs); got != "llm.call.start llm.call.finish" || evs[0].SessionID != sid {
		t.Fatalf("continuation: %s in %s, want session %s", got, evs[0].SessionID, sid)
	}
}

func TestCaptureSkipsNonModelCalls(t *testing.T) {
	h, rec := startCapturing(t, OpenAI, Options{})
	resp, err := http.Get(h.url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp.Body)
	readAll(t, h.post("/v1/chat/completions", `not json at all`).Body)
	time.Sleep(50 * time.Millisecond)
	if n := len(rec.Events()); n != 0 {
		t.Fatalf("%d events for non-model calls: %s", n, names(rec.Events()))
	}
	if st := h.srv.proxy.opts.Capture.Stats(); st["requests_unparsable"] != uint64(1) {
		t.Fatalf("stats %v", st)
	}
}

func TestAgentWorkflowRoute(t *testing.T) {
	h, rec := startCapturing(t, OpenAI, Options{})
	_, hdr, _ := echoOf(t, h.post("/agent-workflow/wf-7/v1/chat/completions?x=1", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "x-mock-echo", "1"))
	_ = hdr
	waitEvents(t, rec, 3) // the first call's, captured just after its answer
	readAll(t, h.post("/agent-workflow/wf-7/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`).Body)
	evs := waitEvents(t, rec, 3)
	fin := attrsOf(t, evs[2])
	if evs[2].Name != sink.LLMCallFinish || fin["agent_workflow.id"] != "wf-7" {
		t.Fatalf("finish %s %v", evs[2].Name, fin)
	}
	if _, ok := attrsOf(t, evs[1])["agent_workflow.id"]; ok {
		t.Fatal("request-phase events carry no workflow id in the original")
	}
	if got := h.mock.Requests()[0].URI; got != "/v1/chat/completions?x=1" {
		t.Fatalf("upstream URI %q", got)
	}
}

func TestStripWorkflow(t *testing.T) {
	for _, tt := range []struct{ in, rest, id string }{
		{"/agent-workflow/a/v1/x?q=1", "/v1/x?q=1", "a"},
		{"/agent-workflow/a", "", "a"},
		{"/agent-workflow/a?q", "?q", "a"},
		{"/agent-workflow//v1", "/agent-workflow//v1", ""},
		{"/v1/chat", "/v1/chat", ""},
	} {
		rest, id := stripWorkflow([]byte(tt.in))
		if string(rest) != tt.rest || string(id) != tt.id {
			t.Errorf("%q -> %q %q", tt.in, rest, id)
		}
	}
}

// traceOf is the original's trace id: the md5 of the session id in hex.
func traceOf(sid string) string {
	sum := md5.Sum([]byte(sid))
	return hex.EncodeToString(sum[:])
}

// gatedPublisher holds every Publish until its gate opens.
type gatedPublisher struct {
	gate chan struct{}
	mu   sync.Mutex
	evs  []*sink.Event
}

func (g *gatedPublisher) Publish(ev *sink.Event) bool {
	<-g.gate
	g.mu.Lock()
	g.evs = append(g.evs, ev)
	g.mu.Unlock()
	return true
}

func (g *gatedPublisher) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.evs)
}

// TestBufferedCaptureIsAfterTheAnswer: a buffered call's answer reaches the
// client while its capture cannot proceed (the publisher is blocked), its
// events arrive once it can, with the call's request and answer, and
// closing the capture after Shutdown waits for them.
func TestBufferedCaptureIsAfterTheAnswer(t *testing.T) {
	pub := &gatedPublisher{gate: make(chan struct{})}
	c := capture.New(session.New(session.DefaultConfig()), pub, "openai")
	h := startWithMock(t, mockllm.Config{}, Options{Provider: OpenAI, Capture: c})
	answered := make(chan string, 1)
	go func() {
		resp := h.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"deferred?"}]}`,
			"X-Cylestio-Session-Id", "defer-1")
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- string(b)
	}()
	select {
	case b := <-answered:
		if len(b) == 0 {
			t.Fatal("empty answer")
		}
	case <-time.After(waitLimit):
		t.Fatal("the answer waited for its capture")
	}
	if n := pub.count(); n != 0 {
		t.Fatalf("%d events published through a closed gate", n)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := h.srv.Shutdown(ctx); err != nil {
			shut <- err
			return
		}
		shut <- c.Close(ctx)
	}()
	select {
	case err := <-shut:
		t.Fatalf("shutdown returned (%v) before the capture was published", err)
	case <-time.After(700 * time.Millisecond): // longer than shutdownQuiet
	}
	close(pub.gate)
	select {
	case err := <-shut:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitLimit):
		t.Fatal("shutdown did not return after the capture")
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if got := names(pub.evs); got != "session.start llm.call.start llm.call.finish" {
		t.Fatalf("events: %s", got)
	}
	start := attrsOf(t, pub.evs[1])
	data, _ := start["llm.request.data"].(map[string]any)
	if msgs, _ := data["messages"].([]any); len(msgs) != 1 || pub.evs[1].SessionID != "defer-1" || start["http.path"] != "/v1/chat/completions" {
		t.Fatalf("llm.call.start kept the wrong request: %v (session %q)", start, pub.evs[1].SessionID)
	}
	if f := pub.evs[2]; f.Status != 200 || f.TotalTokens == 0 {
		t.Fatalf("llm.call.finish: status %d, tokens %d", f.Status, f.TotalTokens)
	}
}

// TestStreamedTurnAfterBufferedKeepsOrder: an agent sends a streamed turn
// right after a buffered one, sooner than the capture loop polls. Both
// pass the one queue in the order they ended, so both land in one
// session, in order.
func TestStreamedTurnAfterBufferedKeepsOrder(t *testing.T) {
	h, rec := startCapturing(t, OpenAI, Options{})
	for i := range 5 {
		sys := `{"role":"system","content":"Agent ` + fmt.Sprint(i) + `."}`
		user := `{"role":"user","content":"first turn"}`
		readAll(t, h.post("/v1/chat/completions", `{"model":"m","messages":[`+sys+`,`+user+`]}`).Body)
		readAll(t, h.post("/v1/chat/completions", `{"model":"m","stream":true,"messages":[`+sys+`,`+user+
			`,{"role":"assistant","content":"ok"},{"role":"user","content":"second turn"}]}`).Body)
		evs := waitEvents(t, rec, 5)
		if got := names(evs); got != "session.start llm.call.start llm.call.finish llm.call.start llm.call.finish" {
			t.Fatalf("round %d: events %s: the streamed turn overtook the buffered one", i, got)
		}
		for _, e := range evs {
			if e.SessionID != evs[0].SessionID {
				t.Fatalf("round %d: %s in session %s, want %s", i, e.Name, e.SessionID, evs[0].SessionID)
			}
		}
	}
}

// A trimmed history (the oldest turns dropped, as agents do) stays in its
// session, and its request data says where the new messages start:
// from_index + new_messages = total_messages.
func TestCaptureTrimmedHistoryMetadata(t *testing.T) {
	h, rec := startCapturing(t, OpenAI, Options{APIKey: "k"})
	msg := func(role, text string) string { return `{"role":"` + role + `","content":"` + text + `"}` }
	sys := msg("system", "You are a travel agent who answers in one sentence.")
	turns := [][]string{
		{sys, msg("user", "Find me a flight to Lisbon next Friday morning please")},
		{sys, msg("user", "Find me a flight to Lisbon next Friday morning please"), msg("assistant", "TAP 1234 leaves at 08:05."),
			msg("user", "And a hotel near the old town for two nights")},
		{sys, msg("assistant", "TAP 1234 leaves at 08:05."), msg("user", "And a hotel near the old town for two nights"),
			msg("assistant", "Hotel Alfama has a room."), msg("user", "Book both and send the confirmation to my inbox")},
	}
	var sid string
	for i, turn := range turns {
		readAll(t, h.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[`+strings.Join(turn, ",")+`]}`).Body)
		evs := waitEvents(t, rec, 2+boolInt(i == 0))
		start := evs[len(evs)-2]
		if i == 0 {
			sid = start.SessionID
		} else if start.SessionID != sid {
			t.Fatalf("turn %d in session %s, want %s", i+1, start.SessionID, sid)
		}
		meta := attrsOf(t, start)["llm.request.data"].(map[string]any)["_cylestio_metadata"].(map[string]any)
		if meta["total_messages"] != float64(len(turn)) || meta["from_index"].(float64)+meta["new_messages"].(float64) != float64(len(turn)) {
			t.Fatalf("turn %d metadata %v", i+1, meta)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A stream that sends a whole tool call of megabytes in one event (as some
// OpenAI-compatible servers do) is read like a buffered answer: the tool
// call is captured, its arguments cut to the parser's bound. An event past
// the tap's bound is forwarded, and the answer says how many it could not
// read.
func TestCaptureHugeStreamEvent(t *testing.T) {
	for _, c := range []struct {
		name   string
		size   int
		unread bool
	}{{"1.5 MB tool call", 3 << 19, false}, {"past the tap's bound", stream.DefaultMaxEventSize + 1024, true}} {
		t.Run(c.name, func(t *testing.T) {
			args, _ := json.Marshal(map[string]string{"path": "/etc/passwd", "content": strings.Repeat("A", c.size)})
			call, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o-mini",
				"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "tool_calls": []any{
					map[string]any{"index": 0, "id": "call_1", "type": "function", "function": map[string]any{"name": "write_file", "arguments": string(args)}}}}}}})
			body := "data: " + string(call) + "\n\n" +
				`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}` + "\n\ndata: [DONE]\n\n"
			up := rawUpstream(t, func(conn net.Conn) {
				fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			})
			o := Options{BaseURL: "http://" + up}
			rec := capturing(&o, OpenAI)
			h := startProxy(t, o)
			got := readAll(t, h.post("/v1/chat/completions", string(benchStream)).Body)
			if len(got) != len(body) {
				t.Fatalf("client got %d bytes, want %d", len(got), len(body))
			}
			evs := waitEvents(t, rec, 3+boolInt(!c.unread))
			fin := evs[2]
			unread, _ := attrsOf(t, fin)["llm.response.events_unread"].(float64)
			if c.unread {
				if unread != 1 || names(evs) != "session.start llm.call.start llm.call.finish" {
					t.Fatalf("events %s, unread %v", names(evs), unread)
				}
				return
			}
			if unread != 0 || evs[3].Name != sink.ToolExecution || evs[3].ToolName != "write_file" {
				t.Fatalf("events %s, unread %v", names(evs), unread)
			}
		})
	}
}
