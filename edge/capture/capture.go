package capture

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/internal/jsonw"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

// Capture turns each model call that passes the proxy into events: it parses
// the request and the answer (the stream as its events pass, never by
// buffering it), resolves the session, and publishes session.start,
// tool.result, llm.call.start, llm.call.finish or llm.call.error and
// tool.execution with the original's names and attributes.
//
// It runs once the upstream has answered — for a stream, once the stream has
// ended — so what it costs is never between the client and the provider's
// first byte. Publish does not block.
type Capture struct {
	sessions *session.Table
	pub      sink.Publisher
	llmType  string
	host     []byte // precomputed host attribute members
	secret   []byte // the configured key, masked in what is published (mask.go)

	published   atomic.Uint64
	dropped     atomic.Uint64
	unparsable  atomic.Uint64
	noSession   atomic.Uint64
	streamsCut  atomic.Uint64
	undecodable atomic.Uint64
	oversized   atomic.Uint64 // stream events too large to read
	shared      atomic.Uint64 // requests and answers the guard had parsed already

	rec httpRec // raw exchanges for the http_recorder (httprecord.go)

	traces bool // continue clients' traceparent

	q loop // the FIFO of calls waiting for capture (loop.go)
}

// ContinueTraces makes calls that arrive with a W3C traceparent continue
// the client's trace: the proxy picks the call's span (Call.Span) and
// names it as the upstream's parent, and the events carry it (Event.SpanID
// and the attribute "trace.parent"). Call it before serving.
func (c *Capture) ContinueTraces() { c.traces = true }

// New returns a Capture resolving sessions in sessions and publishing
// to pub. llmType is the configured llm.type.
func New(sessions *session.Table, pub sink.Publisher, llmType string) *Capture {
	c := &Capture{sessions: sessions, pub: pub, llmType: llmType}
	c.startLoop()
	hostname, _ := os.Hostname()
	o := obj{first: true}
	o.str("os.type", goosName())
	o.str("os.version", osRelease())
	o.str("env.go.version", runtime.Version())
	o.str("env.machine.type", goarchName())
	o.str("host.name", hostname)
	c.host = o.b
	return c
}

// Stats returns capture counters for /metrics.
func (c *Capture) Stats() map[string]any {
	return map[string]any{
		"events_published":      c.published.Load(),
		"events_dropped":        c.dropped.Load(),
		"requests_unparsable":   c.unparsable.Load(),
		"requests_no_session":   c.noSession.Load(),
		"streams_cut":           c.streamsCut.Load(),
		"responses_undecodable": c.undecodable.Load(),
		"stream_events_unread":  c.oversized.Load(),
		"parses_shared":         c.shared.Load(),
		"sessions_enabled":      c.sessions != nil && c.sessions.Config().Enabled,
	}
}

// callInfo is what record reads of a call, in the form the event
// builders want.
type callInfo struct {
	status     int
	resp       *provider.Response // parsed answer, nil when there is none
	failed     bool
	errType    string // why the proxy failed the call, when failed
	errMessage string
	cut        bool   // the stream ended before its final event
	oversized  int    // stream events too large to read (Call.Oversized)
	unread     string // why the answer could not be read, when it could not
	start      time.Time
	end        time.Time
	method     []byte
	path       []byte
	headers    *fasthttp.RequestHeader
	body       []byte
	original   []byte // the client's body where a policy rewrote body (Call.Original)
	streamed   bool
	workflow   []byte // agent_workflow.id from the /agent-workflow/{id}/ route
	span       uint64 // the call's span id chosen before forwarding, 0 when none

	// For the http_recorder (httprecord.go): the answer as the client got
	// it, and what record learnt about the call.
	respHeader            *fasthttp.ResponseHeader
	respBody              []byte
	stream                bool
	session, agent, model string
}

// record builds and publishes the events of one call.
func (c *Capture) record(call *Call) {
	ci := &call.ci
	*ci = callInfo{
		status:     call.Status,
		start:      call.Start,
		end:        call.End,
		method:     call.Method,
		path:       call.Path,
		headers:    &call.Header,
		body:       call.Body,
		original:   call.Original,
		workflow:   call.Workflow,
		span:       call.Span,
		respHeader: &call.ResponseHeader,
	}
	if resp := c.answer(call, ci); resp != nil {
		defer provider.ReleaseResponse(resp)
	}
	defer call.releaseParser()
	if call.Request != nil {
		c.shared.Add(1)
	}
	c.events(call.Kind, &call.conv, ci, call.Request)
}

// events builds and publishes the events of one call; req, when not nil,
// is ci.body already parsed.
func (c *Capture) events(kind provider.Kind, conv *session.Conversation, ci *callInfo, req *provider.Request) {
	defer c.publishExchange(kind, ci)
	if req == nil {
		req = provider.AcquireRequest()
		defer provider.ReleaseRequest(req)
		if err := req.Parse(kind, ci.body); err != nil {
			c.unparsable.Add(1)
			return
		}
	}
	sc := getScratch()
	conv.Reset()
	fillConversation(conv, req, ci.headers, sc.sys)
	// The result lives in the scratch memory, not on this stack, which
	// the builder's pointers would make escape.
	sc.res = c.sessions.Resolve(conv)
	r := &sc.res
	if r.Match == session.MatchDisabled {
		c.noSession.Add(1)
		sc.release(sc.arena)
		return
	}
	b := builder{
		c:        c,
		kind:     kind,
		req:      req,
		r:        r,
		vendor:   kind.Vendor(),
		body:     ci.body,
		original: ci.original,
		sc:       sc,
		arena:    sc.arena[:0],
	}
	b.sid = r.ID()
	b.sidAt = keep(&b, b.sid)
	b.agentAt.off = len(b.arena)
	b.arena = c.sessions.AgentID(b.arena, conv)
	b.agentAt.end = len(b.arena)
	b.traceAt.off = len(b.arena)
	b.arena = appendTraceID(b.arena, b.sid)
	b.traceAt.end = len(b.arena)
	b.modelAt.off = len(b.arena)
	b.arena = req.Model.Append(b.arena)
	b.modelAt.end = len(b.arena)
	named := b.modelAt.end > b.modelAt.off
	if !named {
		b.modelAt = keep(&b, "unknown")
	}
	// Slices of the arena stay valid while it grows: appends never
	// rewrite what is already there.
	b.agent = b.arena[b.agentAt.off:b.agentAt.end]
	b.model = b.arena[b.modelAt.off:b.modelAt.end]

	// At most: session.start, the tool results, llm.call.start, the
	// finish or error, and the tool calls.
	n := 1 + len(req.ToolResults)
	if r.New {
		n++
	}
	if req.Model.Present() {
		n++
	}
	if ci.resp != nil {
		n += len(ci.resp.ToolCalls)
	}
	b.chunk = make([]sink.Event, 0, n)
	b.requestEvents(ci, conv)
	b.responseEvents(ci)
	mem := b.finish()

	at := func(s span) string { return unsafe.String(unsafe.SliceData(mem[s.off:]), s.end-s.off) }
	ci.session, ci.agent, ci.stream = at(b.sidAt), at(b.agentAt), req.Stream
	if named {
		ci.model = at(b.modelAt)
	}
	c.reply(r, req, ci)
	conv.Reset() // it may point into the scratch memory
	sc.release(b.arena)
}

// reply tells the session table what the model answered, for fuzzy rules
// and previous_response_id.
func (c *Capture) reply(r *session.Result, req *provider.Request, ci *callInfo) {
	if ci.resp == nil || ci.resp.IsError {
		return
	}
	resp := ci.resp
	msg := session.Message{Role: []byte("assistant"), Content: resp.Text.Raw, Escaped: resp.Text.Escaped}
	if n := len(resp.ToolCalls); n > 0 {
		// As the next request will carry it: one Chat or Anthropic message
		// names its first call; Responses output items come one per call,
		// the last of them ending the history.
		msg.CallID = resp.ToolCalls[0].ID.Raw
		if req.Kind == provider.OpenAIResponses {
			msg.Role = nil
			msg.Type = []byte("function_call")
			msg.Content = nil
			msg.CallID = resp.ToolCalls[n-1].ID.Raw
		}
	}
	var id []byte
	if req.Kind == provider.OpenAIResponses {
		id = resp.ID.Raw
	}
	c.sessions.Reply(r, &msg, id)
}

// fillConversation hands the parsed request to the session table without
// copying its texts.
func fillConversation(conv *session.Conversation, req *provider.Request, h *fasthttp.RequestHeader, sys []byte) {
	switch {
	case len(req.SystemRaw) > 0 && req.SystemRaw[0] == '"':
		conv.System, conv.SystemEscaped = req.System.Raw, req.System.Escaped
		conv.HasSystem = true
	case req.HasSystem():
		// A list of blocks (or another value): the original uses Python's
		// str() of it, for the signature and the agent id alike.
		conv.System = req.AppendSystemPrompt(sys)
		conv.HasSystem = true
	}
	for i := range req.Messages {
		m := &req.Messages[i]
		cm := conv.Add()
		cm.Role = m.Role.Raw
		cm.Type = m.Type.Raw
		cm.Content = m.Text.Raw
		cm.Escaped = m.Text.Escaped
		cm.CallID = m.CallID.Raw
	}
	if h != nil {
		conv.ExternalSessionID = session.SessionIDHeader(h.Peek("X-Cylestio-Session-Id"), h.Peek("X-Cylestio-Conversation-Id"))
		conv.AgentIDHeader = session.AgentIDHeader(h.Peek("X-Cylestio-Agent-Id"), h.Peek("X-Cylestio-Prompt-Id"))
	}
	conv.PreviousResponseID = req.PreviousResponseID.Raw
}

// NewSpan returns a random non-zero span id.
func NewSpan() uint64 {
	for {
		if s := rand.Uint64(); s != 0 {
			return s
		}
	}
}

// builder builds the events of one call (see arena.go for where
// they live).
type builder struct {
	c        *Capture
	kind     provider.Kind
	req      *provider.Request
	r        *session.Result
	vendor   string
	body     []byte
	original []byte // Call.Original
	tags     []session.Tag

	// The texts every event carries, for writing attributes, and where
	// they are in the arena, for the events' fields.
	sid, agent, model                []byte
	sidAt, agentAt, traceAt, modelAt span

	arena []byte       // every string and attribute object of the call's events
	chunk []sink.Event // the events
	sc    *scratch
}

// event adds an event to the call. Its attributes, if any, are written
// after this call (attrStart ... attrEnd), never around it.
func (b *builder) event(name string, at time.Time, span uint64) *sink.Event {
	ev := b.take()
	ev.ID = sink.NewID()
	ev.Time = at.UTC()
	ev.Name = name
	ev.Level = sink.LevelInfo
	var hx [16]byte
	keepStr(b, &ev.SpanID, AppendSpanID(hx[:0], span))
	return ev
}

// storedSpan returns the session's stored span, or a new one (stored when
// store is set).
func (b *builder) storedSpan(store bool) uint64 {
	if s, ok := b.c.sessions.Span(b.r); ok {
		return s
	}
	s := NewSpan()
	if store {
		b.c.sessions.SetSpan(b.r, s)
	}
	return s
}

// callSpan is the span of the call's finish or error event: the one chosen
// for a continued trace, else the session's stored span (its start's).
func (b *builder) callSpan(ci *callInfo) uint64 {
	if ci.span != 0 {
		return ci.span
	}
	return b.storedSpan(false)
}

func (b *builder) newStoredSpan() uint64 {
	s := NewSpan()
	b.c.sessions.SetSpan(b.r, s)
	return s
}

// common appends the host members and session.id that every event carries.
// More members may follow: o.key writes the comma between.
func (b *builder) common(o *obj) {
	o.bytesStr("session.id", b.sid)
	b.hostAttr(o)
}

// hostAttr appends the precomputed host members after at least one member.
func (b *builder) hostAttr(o *obj) {
	if len(b.c.host) > 0 {
		o.b = append(o.b, ',')
		o.b = append(o.b, b.c.host...)
	}
}

func (b *builder) requestEvents(ci *callInfo, conv *session.Conversation) {
	req := b.req
	first := min(b.r.FirstNew, len(req.Messages))
	newMsgs := req.Messages[first:]
	external := b.r.Match == session.MatchExternal
	if len(newMsgs) == 0 && !external && b.r.Match != session.MatchResponse {
		return
	}
	if ci.headers != nil {
		b.tags = session.ParseTags(b.tags[:0], ci.headers.Peek("X-Cylestio-Tags"))
	}
	if b.r.New {
		ev := b.event(sink.SessionStart, ci.start, b.newStoredSpan())
		o := b.attrStart()
		o.open()
		o.bytesStr("session.id", b.sid)
		o.str("client.type", "gateway")
		o.str("llm.vendor", b.vendor)
		o.bytesStr("llm.model", b.model)
		if len(req.Tools) > 0 {
			o.raw("tools", req.ToolsRaw)
		}
		var sys [256]byte
		o.bytesStr("prompt", req.AppendSystemPrompt(sys[:0]))
		b.tagsAttr(&o)
		b.hostAttr(&o)
		o.close()
		b.attrEnd(ev, o)
	}
	for i := range req.ToolResults {
		tr := &req.ToolResults[i]
		if tr.Message < first {
			continue
		}
		ev := b.event(sink.ToolResult, ci.start, b.storedSpan(true))
		var nb [64]byte
		name := append(nb[:0], "unknown"...)
		if tr.Name.Present() {
			name = tr.Name.Append(nb[:0])
		}
		o := b.attrStart()
		o.open()
		o.bytesStr("tool.name", name)
		status := "success"
		if tr.IsError {
			status = "error"
		}
		o.str("tool.status", status)
		o.float("tool.execution_time_ms", 0)
		if len(tr.ContentRaw) > 0 {
			o.raw("tool.result", tr.ContentRaw)
		}
		o.pstr("tool.call_id", tr.CallID)
		b.common(&o)
		o.close()
		b.attrEnd(ev, o)
		keepStr(b, &ev.ToolName, name)
	}
	if !req.Model.Present() {
		return
	}
	callSpan := ci.span
	if callSpan == 0 {
		callSpan = NewSpan()
	}
	b.c.sessions.SetSpan(b.r, callSpan)
	ev := b.event(sink.LLMCallStart, ci.start, callSpan)
	o := b.attrStart()
	o.open()
	o.str("llm.vendor", b.vendor)
	o.bytesStr("llm.model", b.model)
	o.key("llm.request.data")
	o.b = b.requestData(o.b, first, len(newMsgs), external)
	b.common(&o)
	o.bytesStr("http.method", ci.method)
	o.bytesStr("http.path", ci.path)
	o.bool("llm.request.stream", req.Stream)
	traceAttr(&o, ci)
	b.tagsAttr(&o)
	o.close()
	b.attrEnd(ev, o)
	if len(b.original) > 0 {
		// Detection reads the request as the client sent it (redacted
		// calls only: a copy of their own, outside the arena).
		scan := make([]byte, 0, len(`{"llm.request.data":}`)+len(b.original))
		scan = append(append(append(scan, `{"llm.request.data":`...), b.original...), '}')
		ev.ScanAttributes = scan
	}
}

func (b *builder) tagsAttr(o *obj) {
	if len(b.tags) == 0 {
		return
	}
	o.key("tags")
	t := obj{b: o.b}
	t.open()
	for _, tag := range b.tags {
		t.anyKey(tag.Key)
		t.b = jsonw.AppendString(t.b, tag.Value)
	}
	t.close()
	o.b = t.b
}

// requestData appends the original's llm.request.data: the request body
// with its message list replaced by the new messages (when any) and a
// _cylestio_metadata member. It splices the body's own bytes; nothing is
// re-encoded.
func (b *builder) requestData(dst []byte, first, nNew int, external bool) []byte {
	req := b.req
	body := b.body
	meta := func(dst []byte) []byte {
		o := obj{b: dst, first: true}
		o.key("_cylestio_metadata")
		m := obj{b: o.b}
		m.open()
		m.int("total_messages", int64(len(req.Messages)))
		m.int("new_messages", int64(nNew))
		m.int("from_index", int64(first)) // where the new messages start (the original: its processed index, the same for an exact match)
		m.bool("external_session", external)
		m.close()
		return m.b
	}
	end := lastNonSpace(body)
	if end < 0 || body[end] != '}' {
		return append(dst, "null"...)
	}
	start, stop := -1, -1
	if nNew > 0 && nNew < len(req.Messages) {
		start, stop = SpanOf(body, req.MessagesRaw)
	}
	if start < 0 {
		dst = append(dst, body[:end]...)
	} else {
		newStart, _ := SpanOf(body, req.Messages[first].Raw)
		_, newStop := SpanOf(body, req.Messages[len(req.Messages)-1].Raw)
		if newStart < 0 || newStop < 0 {
			dst = append(dst, body[:end]...)
		} else {
			dst = append(dst, body[:start]...)
			dst = append(dst, '[')
			dst = append(dst, body[newStart:newStop]...)
			dst = append(dst, ']')
			dst = append(dst, body[stop:end]...)
		}
	}
	// body[:end] ends inside the object; add our member unless it is empty.
	if i := lastNonSpace(body[:end]); i >= 0 && body[i] != '{' {
		dst = append(dst, ',')
	}
	dst = meta(dst)
	return append(dst, '}')
}

// SpanOf returns where sub lies in body, or -1, -1 when it does not alias it.
func SpanOf(body, sub []byte) (int, int) {
	if len(sub) == 0 || len(body) == 0 {
		return -1, -1
	}
	d := uintptr(unsafe.Pointer(unsafe.SliceData(sub))) - uintptr(unsafe.Pointer(unsafe.SliceData(body)))
	if d > uintptr(len(body)) {
		return -1, -1
	}
	off := int(d)
	if off+len(sub) > len(body) {
		return -1, -1
	}
	return off, off + len(sub)
}

// lastNonSpace returns the index of b's last byte that is not JSON white
// space, or -1.
func lastNonSpace(b []byte) int {
	i := len(b) - 1
	for i >= 0 && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i--
	}
	return i
}

// noAnswer stands for an answer that could not be read: a finish without
// usage or content.
var noAnswer provider.Response

func (b *builder) responseEvents(ci *callInfo) {
	resp := ci.resp
	durMs := float64(ci.end.Sub(ci.start)) / float64(time.Millisecond)
	if resp == nil && ci.status >= 200 && ci.status < 300 && !ci.failed {
		// The client got its answer; capture could not read it (see
		// ci.unread). It is a finish, not an error.
		resp = &noAnswer
	}
	if ci.failed || resp == nil || resp.IsError {
		ev := b.event(sink.LLMCallError, ci.end, b.callSpan(ci))
		ev.Level = sink.LevelError
		ev.Status = ci.status
		ev.DurationMs = durMs
		switch {
		case ci.failed:
			ev.ErrorType = ci.errType
			ev.ErrorMessage = ci.errMessage
		case resp != nil:
			ev.ErrorType = resp.Error.TypeOrCode().String()
			if ev.ErrorType == "" {
				ev.ErrorType = provider.DefaultErrorType(b.kind, ci.status)
			}
			// In the arena, where the configured key is masked: an
			// upstream's error message may quote the request's key.
			at := span{off: len(b.arena)}
			b.arena = resp.Error.Message.Append(b.arena)
			if at.end = len(b.arena); at.end > at.off {
				b.sc.fixes = append(b.sc.fixes, strFix{&ev.ErrorMessage, at})
			} else {
				ev.ErrorMessage = "HTTP " + strconv.Itoa(ci.status)
			}
		default:
			ev.ErrorType = provider.DefaultErrorType(b.kind, ci.status)
			ev.ErrorMessage = "HTTP " + strconv.Itoa(ci.status)
		}
		o := b.attrStart()
		o.open()
		o.str("llm.vendor", b.vendor)
		o.bytesStr("llm.model", b.model)
		o.str("error.message", ev.ErrorMessage)
		o.str("error.type", ev.ErrorType)
		b.common(&o)
		o.int("http.status_code", int64(ci.status))
		o.float("llm.response.duration_ms", durMs)
		workflowAttr(&o, ci)
		traceAttr(&o, ci)
		o.close()
		b.attrEnd(ev, o)
		return
	}

	u := &resp.Usage
	total, hasTotal := u.Total()
	ev := b.event(sink.LLMCallFinish, ci.end, b.callSpan(ci))
	o := b.attrStart()
	o.open()
	o.str("llm.vendor", b.vendor)
	o.bytesStr("llm.model", b.model)
	o.float("llm.response.duration_ms", durMs)
	if u.Has != 0 {
		o.int("llm.usage.input_tokens", u.InputTokens)
		o.int("llm.usage.output_tokens", u.OutputTokens)
		if hasTotal {
			o.int("llm.usage.total_tokens", total)
		}
		if u.CachedTokens > 0 {
			o.int("llm.usage.cached_tokens", u.CachedTokens)
		}
		if u.CacheCreationTokens > 0 {
			o.int("llm.usage.cache_creation_tokens", u.CacheCreationTokens)
		}
		if u.CacheCreation1hTokens > 0 {
			o.int("llm.usage.cache_creation_1h_tokens", u.CacheCreation1hTokens)
		}
		if u.ReasoningTokens > 0 {
			o.int("llm.usage.reasoning_tokens", u.ReasoningTokens)
		}
	}
	o.key("llm.response.content")
	o.b = responseContent(o.b, resp)
	b.common(&o)
	if resp.ID.Present() {
		o.pstr("llm.response.id", resp.ID)
	}
	if resp.Model.Present() {
		o.pstr("llm.response.model", resp.Model)
	}
	if b.vendor == "anthropic" {
		if resp.FinishReasonRaw != nil {
			o.raw("stop_reason", resp.FinishReasonRaw)
		}
		if resp.StopSequence.Present() {
			o.pstr("stop_sequence", resp.StopSequence)
		}
	} else {
		if resp.SystemFingerprint.Present() {
			o.pstr("system_fingerprint", resp.SystemFingerprint)
		}
		if resp.FinishReason.Present() {
			o.pstr("finish_reason", resp.FinishReason)
		}
		if resp.Refusal.Present() {
			o.pstr("refusal", resp.Refusal)
		}
	}
	if ci.cut {
		o.bool("llm.response.incomplete", true)
	}
	if ci.oversized > 0 {
		// What they carried (text, tool calls) is missing from the answer.
		o.int("llm.response.events_unread", int64(ci.oversized))
	}
	if resp == &noAnswer {
		o.str("llm.response.unread", ci.unread)
	}
	workflowAttr(&o, ci)
	traceAttr(&o, ci)
	o.close()
	b.attrEnd(ev, o)
	ev.Status = ci.status
	ev.DurationMs = durMs
	ev.InputTokens, ev.OutputTokens = u.InputTokens, u.OutputTokens
	if hasTotal {
		ev.TotalTokens = total
	}
	ev.CachedTokens, ev.CacheWrite = u.CachedTokens, u.CacheCreationTokens
	ev.CacheWrite1h, ev.ReasoningTokens, ev.Cut = u.CacheCreation1hTokens, u.ReasoningTokens, ci.cut
	var fr [32]byte
	keepStr(b, &ev.FinishReason, resp.FinishReason.Append(fr[:0]))

	for i := range resp.ToolCalls {
		tc := &resp.ToolCalls[i]
		ev := b.event(sink.ToolExecution, ci.end, b.newStoredSpan())
		var nb [64]byte
		name := tc.Name.Append(nb[:0])
		o := b.attrStart()
		o.open()
		o.bytesStr("tool.name", name)
		o.key("tool.params")
		o.b = toolParams(o.b, tc.Arguments)
		o.pstr("tool.call_id", tc.ID)
		b.common(&o)
		workflowAttr(&o, ci)
		traceAttr(&o, ci)
		o.close()
		b.attrEnd(ev, o)
		keepStr(b, &ev.ToolName, name)
	}
}

// workflowAttr adds agent_workflow.id to response-phase events of calls
// made through /agent-workflow/{id}/, as the original does.
func workflowAttr(o *obj, ci *callInfo) {
	if len(ci.workflow) > 0 {
		o.bytesStr("agent_workflow.id", ci.workflow)
	}
}

// traceAttr adds trace.parent, the client's traceparent, to the events of
// a call that continues the client's trace (the proxy chose its span
// only for a valid one).
func traceAttr(o *obj, ci *callInfo) {
	if ci.span == 0 || ci.headers == nil {
		return
	}
	if tp := ci.headers.Peek("Traceparent"); len(tp) > 0 {
		o.bytesStr("trace.parent", tp)
	}
}

// responseContent appends llm.response.content: the answer's own content
// items when the body was parsed whole, else a text item and the tool calls
// assembled from the stream.
func responseContent(dst []byte, resp *provider.Response) []byte {
	dst = append(dst, '[')
	if len(resp.Content) > 0 {
		for i, c := range resp.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, c...)
		}
		return append(dst, ']')
	}
	n := 0
	if resp.Text.Present() {
		o := obj{b: dst}
		o.open()
		o.str("type", "text")
		o.pstr("text", resp.Text)
		o.close()
		dst = o.b
		n++
	}
	for i := range resp.ToolCalls {
		tc := &resp.ToolCalls[i]
		if n > 0 {
			dst = append(dst, ',')
		}
		o := obj{b: dst}
		o.open()
		o.str("type", "tool_use")
		o.pstr("id", tc.ID)
		o.pstr("name", tc.Name)
		o.key("input")
		o.b = toolParams(o.b, tc.Arguments)
		o.close()
		dst = o.b
		n++
	}
	return append(dst, ']')
}

// toolParams appends the call's arguments as a JSON value: the parsed object
// when they are valid JSON, else {"raw_arguments": "..."} as the original.
func toolParams(dst []byte, args provider.Str) []byte {
	if !args.Escaped && json.Valid(args.Raw) && len(args.Raw) > 0 {
		return append(dst, args.Raw...)
	}
	var tmp [512]byte
	text := args.Append(tmp[:0])
	if len(text) > 0 && json.Valid(text) {
		return append(dst, text...)
	}
	o := obj{b: dst}
	o.open()
	o.bytesStr("raw_arguments", text)
	o.close()
	return o.b
}
