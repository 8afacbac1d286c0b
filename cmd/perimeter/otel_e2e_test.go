package main

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP traces endpoint in the test process: it
// decodes what the exporter posts (protobuf, gzip) and keeps the spans
// with their resource.
type otlpReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	spans    []*tracepb.Span
	resource []*commonpb.KeyValue
	posts    int
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" || req.Method != http.MethodPost {
			http.Error(w, "not the traces endpoint", http.StatusNotFound)
			return
		}
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var msg coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(raw, &msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.posts++
		for _, rs := range msg.ResourceSpans {
			r.resource = rs.GetResource().GetAttributes()
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *otlpReceiver) snapshot() ([]*tracepb.Span, []*commonpb.KeyValue) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...), r.resource
}

// attrMap flattens OTLP attributes for assertions (arrays as their JSON).
func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = x.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = x.IntValue
		case *commonpb.AnyValue_DoubleValue:
			m[kv.Key] = x.DoubleValue
		case *commonpb.AnyValue_BoolValue:
			m[kv.Key] = x.BoolValue
		case *commonpb.AnyValue_ArrayValue:
			var s []string
			for _, e := range x.ArrayValue.Values {
				s = append(s, e.GetStringValue())
			}
			m[kv.Key] = strings.Join(s, ",")
		}
	}
	return m
}

// toolCallUpstream is an OpenAI-compatible upstream: a streamed request
// gets an answer asking for get_weather (arguments in two pieces), any
// other gets a plain answer. It records each request's traceparent.
type toolCallUpstream struct {
	mu           sync.Mutex
	traceparents []string
}

func (u *toolCallUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.traceparents = append(u.traceparents, r.Header.Get("Traceparent"))
	u.mu.Unlock()
	if !bytes.Contains(body, []byte(`"stream":true`)) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-2","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"It is sunny in Paris."},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":7,"total_tokens":37}}`)
		return
	}
	writeSSE(w,
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"role":"assistant","content":"Let me check."}}]}`,
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_w1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}}]}`,
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}`,
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":21,"completion_tokens":9,"total_tokens":30}}`,
		`[DONE]`,
	)
}

// TestOTelExportOfAStreamedCallWithAToolCall: a streamed call that asks for
// a tool, then the call that brings its result back, through the real
// binary with telemetry.otel pointed at a receiver in this process. The
// receiver must get two chat spans and one execute_tool span with the GenAI
// attributes, the client's trace continued (and the upstream told the
// call's span id), the tool span a child of the call that asked for it,
// ending when its result came back, and the PII finding as a span event.
func TestOTelExportOfAStreamedCallWithAToolCall(t *testing.T) {
	rcv := newOTLPReceiver(t)
	up := &toolCallUpstream{}
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	p := startPerimeter(t, upSrv.URL, "storage: {engine: none}\n"+
		"telemetry:\n  otel:\n    enabled: true\n    endpoint: "+rcv.srv.URL+"\n    batch_timeout_ms: 50\n"+
		"    resource_attributes: {deployment.environment: test}\n")

	const clientTrace, clientSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	tp := "00-" + clientTrace + "-" + clientSpan + "-01"
	first := `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"max_tokens":64,` +
		`"messages":[{"role":"user","content":"Weather in Paris? Mail me at jane.doe@corp-mail.com"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}`
	code, body, _ := postChat(t, p.url, first, "traceparent", tp, "x-cylestio-session-id", "otel-s1")
	if code != 200 || !strings.Contains(body, "get_weather") {
		t.Fatalf("first call: %d %s", code, body)
	}
	time.Sleep(20 * time.Millisecond) // the tool "runs"
	second := `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris? Mail me at jane.doe@corp-mail.com"},` +
		`{"role":"assistant","content":"Let me check.","tool_calls":[{"id":"call_w1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_w1","content":"sunny, 21 C"}]}`
	if code, body, _ := postChat(t, p.url, second, "x-cylestio-session-id", "otel-s1"); code != 200 {
		t.Fatalf("second call: %d %s", code, body)
	}
	p.stop(t, time.Minute)

	spans, res := rcv.snapshot()
	byName := map[string][]*tracepb.Span{}
	for _, s := range spans {
		byName[s.Name] = append(byName[s.Name], s)
	}
	if len(byName["chat gpt-4o"]) != 2 || len(byName["execute_tool get_weather"]) != 1 {
		names := []string{}
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("spans %v, want two chat gpt-4o and one execute_tool get_weather", names)
	}
	ra := attrMap(res)
	if ra["service.name"] != "perimeter" || ra["deployment.environment"] != "test" {
		t.Errorf("resource %v", ra)
	}

	// The streamed call continues the client's trace, and the upstream was
	// told this span's id as its parent.
	var call1, call2 *tracepb.Span
	for _, s := range byName["chat gpt-4o"] {
		if attrMap(s.Attributes)["perimeter.request.stream"] == true {
			call1 = s
		} else {
			call2 = s
		}
	}
	if call1 == nil || call2 == nil {
		t.Fatal("want one streamed and one buffered chat span")
	}
	if hex.EncodeToString(call1.TraceId) != clientTrace || hex.EncodeToString(call1.ParentSpanId) != clientSpan {
		t.Errorf("call 1 trace %x parent %x, want the client's %s/%s", call1.TraceId, call1.ParentSpanId, clientTrace, clientSpan)
	}
	up.mu.Lock()
	sent := append([]string(nil), up.traceparents...)
	up.mu.Unlock()
	if len(sent) != 2 {
		t.Fatalf("upstream saw %d requests", len(sent))
	}
	if want := "00-" + clientTrace + "-" + hex.EncodeToString(call1.SpanId) + "-01"; sent[0] != want {
		t.Errorf("upstream traceparent %q, want %q (the client's trace, the call's span as parent)", sent[0], want)
	}
	if sent[1] != "" {
		t.Errorf("a call without a client traceparent got %q upstream; nothing should be added", sent[1])
	}
	if call1.Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("call span kind %v", call1.Kind)
	}
	a := attrMap(call1.Attributes)
	for k, want := range map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.system": "openai",
		"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06", "gen_ai.response.id": "chatcmpl-1",
		"gen_ai.response.finish_reasons": "tool_calls", "gen_ai.usage.input_tokens": int64(21), "gen_ai.usage.output_tokens": int64(9),
		"gen_ai.request.max_tokens": int64(64), "gen_ai.conversation.id": "otel-s1", "http.response.status_code": int64(200),
	} {
		if a[k] != want {
			t.Errorf("call 1 %s = %v (%T), want %v", k, a[k], a[k], want)
		}
	}
	if a["gen_ai.agent.id"] == nil || a["gen_ai.agent.id"] == "" {
		t.Error("call 1 has no gen_ai.agent.id")
	}
	for _, k := range []string{"gen_ai.input.messages", "gen_ai.output.messages"} {
		if _, ok := a[k]; ok {
			t.Errorf("%s exported although capture_content is off", k)
		}
	}
	// The e-mail in the prompt is a finding on the call's span, without
	// the address itself.
	var finding map[string]any
	for _, e := range call1.Events {
		if e.Name == "perimeter.finding" {
			if fa := attrMap(e.Attributes); fa["perimeter.finding.rule"] == "pii.email" {
				finding = fa
			}
		}
	}
	if finding == nil || finding["perimeter.finding.category"] != "pii" || finding["perimeter.finding.severity"] == "" {
		t.Errorf("no pii.email finding event on the call span: %v", call1.Events)
	}
	raw, _ := json.Marshal(spans)
	if bytes.Contains(raw, []byte("jane.doe")) {
		t.Error("the e-mail address reached the exported spans")
	}

	// The tool span is the streamed call's child and lasts until the next
	// call brought its result.
	tool := byName["execute_tool get_weather"][0]
	ta := attrMap(tool.Attributes)
	if !bytes.Equal(tool.ParentSpanId, call1.SpanId) || !bytes.Equal(tool.TraceId, call1.TraceId) {
		t.Errorf("tool span parent %x trace %x, want call 1 %x in %x", tool.ParentSpanId, tool.TraceId, call1.SpanId, call1.TraceId)
	}
	if ta["gen_ai.operation.name"] != "execute_tool" || ta["gen_ai.tool.name"] != "get_weather" || ta["gen_ai.tool.call.id"] != "call_w1" || ta["perimeter.tool.result_seen"] != true {
		t.Errorf("tool span attributes %v", ta)
	}
	if tool.StartTimeUnixNano < call1.EndTimeUnixNano || tool.EndTimeUnixNano != call2.StartTimeUnixNano {
		t.Errorf("tool span [%d, %d], want from call 1's end %d to call 2's start %d",
			tool.StartTimeUnixNano, tool.EndTimeUnixNano, call1.EndTimeUnixNano, call2.StartTimeUnixNano)
	}
	if hex.EncodeToString(call2.TraceId) == clientTrace {
		t.Error("call 2 sent no traceparent but joined the client's trace")
	}
	if _, ok := ta["gen_ai.tool.call.arguments"]; ok {
		t.Error("tool arguments exported although capture_content is off")
	}
}

// TestOTelCollectorDownLeavesTheProxyAlone: with the collector a black
// hole (it accepts connections and never answers), calls are answered as
// fast as without export, the exporter drops and counts what its queue
// cannot hold, and the pipeline loses nothing for the other writers.
func TestOTelCollectorDownLeavesTheProxyAlone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	up := &toolCallUpstream{}
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	p := startPerimeter(t, upSrv.URL, "storage: {engine: none}\n"+
		"interceptors:\n  - type: event_recorder\n    enabled: true\n    config: {output_dir: "+t.TempDir()+"}\n"+
		"telemetry:\n  otel:\n    enabled: true\n    endpoint: http://"+ln.Addr().String()+"\n"+
		"    queue_size: 4\n    batch_size: 2\n    batch_timeout_ms: 10\n    export_timeout_ms: 30000\n")

	const calls = 60
	var slowest time.Duration
	for i := range calls {
		code, _, took := postChat(t, p.url, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`,
			"x-cylestio-session-id", fmt.Sprintf("down-%d", i))
		if code != 200 {
			t.Fatalf("call %d: HTTP %d with the collector down", i, code)
		}
		slowest = max(slowest, took)
	}
	if slowest > 500*time.Millisecond {
		t.Errorf("slowest call took %v with the collector down", slowest)
	}
	var m struct {
		OTel struct {
			Enqueued, Exported, Dropped uint64
		} `json:"otel"`
		Sink struct {
			Received uint64 `json:"received"`
			Dropped  uint64 `json:"dropped"`
		} `json:"sink"`
	}
	testkit.Eventually(20*time.Second, 50*time.Millisecond, func() bool {
		getJSON(t, p.url+"/metrics", &m)
		return m.OTel.Dropped+m.OTel.Enqueued >= calls
	})
	if m.OTel.Exported != 0 || m.OTel.Dropped == 0 || m.OTel.Dropped+m.OTel.Enqueued != calls {
		t.Errorf("otel metrics %+v: want every one of %d spans either queued or dropped, some dropped, none exported", m.OTel, calls)
	}
	if m.Sink.Dropped != 0 || m.Sink.Received < 2*calls {
		t.Errorf("sink metrics %+v: the pipeline must lose nothing because of the exporter", m.Sink)
	}
}
