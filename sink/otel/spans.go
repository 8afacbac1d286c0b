package otel

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cylestio/perimeter/sink"
)

// attrs are the members of an event's attributes the spans use.
type attrs struct {
	Request struct {
		Messages    json.RawMessage `json:"messages"`
		Input       json.RawMessage `json:"input"`
		MaxTokens   *int64          `json:"max_tokens"`
		Temperature *float64        `json:"temperature"`
		TopP        *float64        `json:"top_p"`
	} `json:"llm.request.data"`
	Stream        bool            `json:"llm.request.stream"`
	Parent        string          `json:"trace.parent"`
	ResponseModel string          `json:"llm.response.model"`
	ResponseID    string          `json:"llm.response.id"`
	Content       json.RawMessage `json:"llm.response.content"`
	Workflow      string          `json:"agent_workflow.id"`
	CallID        string          `json:"tool.call_id"`
	Params        json.RawMessage `json:"tool.params"`
	Result        json.RawMessage `json:"tool.result"`
	ToolStatus    string          `json:"tool.status"`

	FindingEvent string  `json:"finding.event_id"`
	OWASP        string  `json:"finding.owasp"`
	Confidence   float64 `json:"finding.confidence"`
	Source       string  `json:"finding.source"`
}

func parse(ev *sink.Event) *attrs {
	a := &attrs{}
	if len(ev.Attributes) > 0 {
		_ = json.Unmarshal(ev.Attributes, a) // a malformed object exports what the typed fields hold
	}
	return a
}

// state is what links events across batches: call starts waiting for their
// finish, each session's last call span (the parent of its tool spans), and
// the open tool spans by call id. Each map is bounded by max, oldest first.
type state struct {
	max    int
	starts bounded[startInfo]
	calls  bounded[trace.SpanContext]
	tools  bounded[*openTool]
	open   atomic.Int64
}

type startInfo struct {
	at time.Time
	a  *attrs
}

type openTool struct {
	span trace.Span
	at   time.Time
}

func (s *state) init(max int) {
	s.max = max
	s.starts.init(max)
	s.calls.init(max)
	s.tools.init(max)
}

// bounded is a map that forgets its oldest keys beyond max.
type bounded[V any] struct {
	m     map[string]V
	order []string
	max   int
}

func (b *bounded[V]) init(max int) { b.m, b.max = map[string]V{}, max }

// put stores v and returns the value it evicted to make room, if any.
func (b *bounded[V]) put(k string, v V) (old V, evicted bool) {
	if _, ok := b.m[k]; !ok {
		for len(b.m) >= b.max && len(b.order) > 0 {
			first := b.order[0]
			b.order = b.order[1:]
			if o, ok := b.m[first]; ok {
				delete(b.m, first)
				old, evicted = o, true
				break
			}
		}
		b.order = append(b.order, k)
	}
	b.m[k] = v
	if len(b.order) > 2*b.max { // keys taken out by take linger in order
		live := b.order[:0]
		for _, k := range b.order {
			if _, ok := b.m[k]; ok {
				live = append(live, k)
			}
		}
		b.order = live
	}
	return old, evicted
}

func (b *bounded[V]) take(k string) (V, bool) {
	v, ok := b.m[k]
	if ok {
		delete(b.m, k)
	}
	return v, ok
}

// convert makes the spans of one batch.
func (w *Writer) convert(batch []*sink.Event, now time.Time) {
	var findings map[string][]*sink.Event // by the id of the event they were found in
	for _, ev := range batch {
		if ev.Name == sink.SecurityFinding {
			if findings == nil {
				findings = map[string][]*sink.Event{}
			}
			a := parse(ev)
			findings[a.FindingEvent] = append(findings[a.FindingEvent], ev)
		}
	}
	take := func(ev *sink.Event) []*sink.Event {
		if findings == nil {
			return nil
		}
		id := ev.IDString()
		fs := findings[id]
		delete(findings, id)
		return fs
	}
	var early map[string][]*sink.Event // findings of events with no span of their own, by session
	for _, ev := range batch {
		switch ev.Name {
		case sink.SessionStart:
			if fs := take(ev); len(fs) > 0 {
				if early == nil {
					early = map[string][]*sink.Event{}
				}
				early[ev.SessionID] = append(early[ev.SessionID], fs...)
			}
		case sink.LLMCallStart:
			a := parse(ev)
			if !w.opts.CaptureContent {
				// Held until the call finishes: keep no copy of a prompt
				// that will not be exported.
				a.Request.Messages, a.Request.Input = nil, nil
			}
			w.state.starts.put(ev.SpanID, startInfo{at: ev.Time, a: a})
			if fs := take(ev); len(fs) > 0 {
				if early == nil {
					early = map[string][]*sink.Event{}
				}
				early[ev.SpanID] = append(early[ev.SpanID], fs...)
			}
		case sink.LLMCallFinish, sink.LLMCallError:
			fs := take(ev)
			if early != nil {
				fs = append(fs, early[ev.SpanID]...)
				fs = append(fs, early[ev.SessionID]...)
				delete(early, ev.SpanID)
				delete(early, ev.SessionID)
			}
			w.callSpan(ev, fs)
		case sink.ToolExecution:
			w.toolStart(ev, take(ev))
		case sink.ToolResult:
			w.toolEnd(ev, take(ev))
		}
	}
	// Findings whose event made no span here (a start whose finish is in
	// another batch, a tool result without its call) get a span of their
	// own, so that none is lost.
	for _, fs := range early {
		w.findingSpan(fs)
	}
	for _, fs := range findings {
		w.findingSpan(fs)
	}
	w.expireTools(now)
}

func traceID(hex string) trace.TraceID {
	t, _ := trace.TraceIDFromHex(hex)
	return t
}

func spanID(hex string) trace.SpanID {
	s, _ := trace.SpanIDFromHex(hex)
	return s
}

// parentOf returns the remote span context of a traceparent, if valid.
func parentOf(tp string) (trace.SpanContext, bool) {
	if len(tp) != 55 || tp[:3] != "00-" {
		return trace.SpanContext{}, false
	}
	t, err1 := trace.TraceIDFromHex(tp[3:35])
	s, err2 := trace.SpanIDFromHex(tp[36:52])
	if err1 != nil || err2 != nil {
		return trace.SpanContext{}, false
	}
	var flags trace.TraceFlags
	if tp[54] == '1' || tp[54] == '3' || tp[54] == '5' || tp[54] == '7' || tp[54] == '9' || tp[54] == 'b' || tp[54] == 'd' || tp[54] == 'f' {
		flags = trace.FlagsSampled
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: t, SpanID: s, TraceFlags: flags, Remote: true}), true
}

func (w *Writer) common(ev *sink.Event) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 24)
	if ev.SessionID != "" {
		kv = append(kv, semconv.GenAIConversationID(ev.SessionID), attribute.String("session.id", ev.SessionID))
	}
	if ev.AgentID != "" {
		kv = append(kv, semconv.GenAIAgentID(ev.AgentID))
	}
	if ev.Vendor != "" {
		kv = append(kv, attribute.String("gen_ai.provider.name", ev.Vendor), attribute.String("gen_ai.system", ev.Vendor))
	}
	return kv
}

// callSpan exports the span of one model call, at its finish or error.
func (w *Writer) callSpan(ev *sink.Event, findings []*sink.Event) {
	a := parse(ev)
	start := ev.Time.Add(-time.Duration(ev.DurationMs * float64(time.Millisecond)))
	st, haveStart := w.state.starts.take(ev.SpanID)
	if haveStart {
		start = st.at
	}
	ctx := context.Background()
	parentTP := a.Parent
	if parentTP == "" && haveStart {
		parentTP = st.a.Parent
	}
	tid := traceID(ev.TraceID)
	if p, ok := parentOf(parentTP); ok {
		ctx = trace.ContextWithRemoteSpanContext(ctx, p)
		tid = p.TraceID()
	}
	ctx = withIDs(ctx, tid, spanID(ev.SpanID))
	model := ev.Model
	kv := w.common(ev)
	kv = append(kv, semconv.GenAIOperationNameChat, semconv.GenAIRequestModel(model))
	if a.ResponseModel != "" {
		kv = append(kv, semconv.GenAIResponseModel(a.ResponseModel))
	}
	if a.ResponseID != "" {
		kv = append(kv, semconv.GenAIResponseID(a.ResponseID))
	}
	if ev.FinishReason != "" {
		kv = append(kv, semconv.GenAIResponseFinishReasons(ev.FinishReason))
	}
	if ev.Name == sink.LLMCallFinish {
		kv = append(kv, semconv.GenAIUsageInputTokens(int(ev.InputTokens)), semconv.GenAIUsageOutputTokens(int(ev.OutputTokens)))
		if ev.CachedTokens > 0 {
			kv = append(kv, semconv.GenAIUsageCacheReadInputTokens(int(ev.CachedTokens)))
		}
		if ev.CacheWrite > 0 {
			kv = append(kv, semconv.GenAIUsageCacheCreationInputTokens(int(ev.CacheWrite)))
		}
		if ev.Priced() {
			kv = append(kv, attribute.Float64("perimeter.cost.usd", ev.CostUSD))
		}
		if ev.CostStatus != "" {
			kv = append(kv, attribute.String("perimeter.cost.status", ev.CostStatus))
		}
	}
	if ev.Status != 0 {
		kv = append(kv, semconv.HTTPResponseStatusCode(ev.Status))
	}
	if ev.Cut {
		kv = append(kv, attribute.Bool("perimeter.response.incomplete", true))
	}
	if ev.RiskScore > 0 {
		kv = append(kv, attribute.Float64("perimeter.risk_score", float64(ev.RiskScore)))
	}
	if a.Workflow != "" {
		kv = append(kv, attribute.String("perimeter.agent_workflow.id", a.Workflow))
	}
	if haveStart {
		r := &st.a.Request
		kv = append(kv, attribute.Bool("perimeter.request.stream", st.a.Stream))
		if r.MaxTokens != nil {
			kv = append(kv, semconv.GenAIRequestMaxTokens(int(*r.MaxTokens)))
		}
		if r.Temperature != nil {
			kv = append(kv, semconv.GenAIRequestTemperature(*r.Temperature))
		}
		if r.TopP != nil {
			kv = append(kv, semconv.GenAIRequestTopP(*r.TopP))
		}
		if w.opts.CaptureContent {
			msgs := r.Messages
			if len(msgs) == 0 {
				msgs = r.Input
			}
			if len(msgs) > 0 {
				kv = append(kv, attribute.String(string(semconv.GenAIInputMessagesKey), string(msgs)))
			}
		}
	}
	if w.opts.CaptureContent && len(a.Content) > 0 {
		kv = append(kv, attribute.String(string(semconv.GenAIOutputMessagesKey), string(a.Content)))
	}
	if ev.Name == sink.LLMCallError {
		kv = append(kv, attribute.String("error.type", orDefault(ev.ErrorType, "_OTHER")))
	}
	_, span := w.tracer.Start(ctx, "chat "+model, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(start), trace.WithAttributes(kv...))
	if ev.Name == sink.LLMCallError {
		span.SetStatus(codes.Error, ev.ErrorMessage)
	}
	addFindings(span, findings)
	span.End(trace.WithTimestamp(ev.Time))
	if ev.SessionID != "" {
		w.state.calls.put(ev.SessionID, span.SpanContext())
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// toolStart opens the span of a tool call the model asked for.
func (w *Writer) toolStart(ev *sink.Event, findings []*sink.Event) {
	a := parse(ev)
	ctx := context.Background()
	tid := traceID(ev.TraceID)
	if p, ok := w.state.calls.m[ev.SessionID]; ok {
		ctx = trace.ContextWithSpanContext(ctx, p)
		tid = p.TraceID()
	}
	ctx = withIDs(ctx, tid, spanID(ev.SpanID))
	kv := w.common(ev)
	kv = append(kv, semconv.GenAIOperationNameExecuteTool, semconv.GenAIToolName(ev.ToolName), semconv.GenAIToolType("function"))
	if a.CallID != "" {
		kv = append(kv, semconv.GenAIToolCallID(a.CallID))
	}
	if w.opts.CaptureContent && len(a.Params) > 0 {
		kv = append(kv, attribute.String(string(semconv.GenAIToolCallArgumentsKey), string(a.Params)))
	}
	_, span := w.tracer.Start(ctx, "execute_tool "+ev.ToolName, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithTimestamp(ev.Time), trace.WithAttributes(kv...))
	addFindings(span, findings)
	key := a.CallID
	if key == "" {
		// Without a call id no result can be matched: the span ends now.
		span.SetAttributes(attribute.Bool("perimeter.tool.result_seen", false))
		span.End(trace.WithTimestamp(ev.Time))
		return
	}
	if old, evicted := w.state.tools.put(ev.SessionID+"\x00"+key, &openTool{span: span, at: ev.Time}); evicted {
		endUnseen(old, ev.Time)
		w.state.open.Add(-1)
	}
	w.state.open.Add(1)
}

// toolEnd ends the tool span whose result came back in a request.
func (w *Writer) toolEnd(ev *sink.Event, findings []*sink.Event) {
	a := parse(ev)
	t, ok := w.state.tools.take(ev.SessionID + "\x00" + a.CallID)
	if !ok {
		if len(findings) > 0 {
			w.findingSpan(findings)
		}
		return
	}
	w.state.open.Add(-1)
	kv := []attribute.KeyValue{attribute.Bool("perimeter.tool.result_seen", true)}
	if w.opts.CaptureContent && len(a.Result) > 0 {
		kv = append(kv, attribute.String(string(semconv.GenAIToolCallResultKey), string(a.Result)))
	}
	t.span.SetAttributes(kv...)
	if a.ToolStatus == "error" {
		t.span.SetStatus(codes.Error, "the tool reported an error")
		t.span.SetAttributes(attribute.String("error.type", "tool_error"))
	}
	addFindings(t.span, findings)
	end := ev.Time
	if end.Before(t.at) {
		end = t.at
	}
	t.span.End(trace.WithTimestamp(end))
}

func endUnseen(t *openTool, at time.Time) {
	t.span.SetAttributes(attribute.Bool("perimeter.tool.result_seen", false))
	t.span.End(trace.WithTimestamp(at))
}

// expireTools ends the tool spans older than ToolTimeout.
func (w *Writer) expireTools(now time.Time) {
	b := &w.state.tools
	for len(b.order) > 0 {
		k := b.order[0]
		t, ok := b.m[k]
		if ok && now.Sub(t.at) < w.opts.ToolTimeout {
			return
		}
		b.order = b.order[1:]
		if ok {
			delete(b.m, k)
			endUnseen(t, t.at.Add(w.opts.ToolTimeout))
			w.state.open.Add(-1)
		}
	}
}

func (w *Writer) endAllTools() {
	b := &w.state.tools
	for _, k := range b.order {
		if t, ok := b.m[k]; ok {
			delete(b.m, k)
			endUnseen(t, time.Now())
			w.state.open.Add(-1)
		}
	}
	b.order = b.order[:0]
}

// findingSpan exports findings that have no span to sit on.
func (w *Writer) findingSpan(fs []*sink.Event) {
	if len(fs) == 0 {
		return
	}
	ev := fs[0]
	ctx := withIDs(context.Background(), traceID(ev.TraceID), trace.SpanID{})
	_, span := w.tracer.Start(ctx, "security finding", trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithTimestamp(ev.Time), trace.WithAttributes(w.common(ev)...))
	addFindings(span, fs)
	span.End(trace.WithTimestamp(ev.Time))
}

func addFindings(span trace.Span, fs []*sink.Event) {
	for _, f := range fs {
		a := parse(f)
		kv := []attribute.KeyValue{
			attribute.String("perimeter.finding.category", f.Category),
			attribute.String("perimeter.finding.rule", f.Rule),
			attribute.String("perimeter.finding.severity", f.Severity),
			attribute.Float64("perimeter.finding.confidence", a.Confidence),
		}
		if a.OWASP != "" {
			kv = append(kv, attribute.String("perimeter.finding.owasp", a.OWASP))
		}
		if a.Source != "" {
			kv = append(kv, attribute.String("perimeter.finding.source", a.Source))
		}
		span.AddEvent("perimeter.finding", trace.WithTimestamp(f.Time), trace.WithAttributes(kv...))
	}
}
