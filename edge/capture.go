package edge

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

// Capture turns each model call that passes the proxy into events: it parses
// the request and the answer (the stream as its events pass, never by
// buffering it), resolves the session, and publishes session.start,
// tool.result, llm.call.start, llm.call.finish or llm.call.error and
// tool.execution with the original's names and attributes (seed-anatomy §4).
//
// It runs once the upstream has answered — for a stream, once the stream has
// ended — so what it costs is never between the client and the provider's
// first byte. Publish does not block.
type Capture struct {
	sessions *session.Table
	pub      sink.Publisher
	llmType  string
	host     []byte // precomputed host attribute members

	published   atomic.Uint64
	dropped     atomic.Uint64
	unparsable  atomic.Uint64
	noSession   atomic.Uint64
	streamsCut  atomic.Uint64
	undecodable atomic.Uint64

	rec httpRec // raw exchanges for the http_recorder (httprecord.go)
}

// NewCapture returns a Capture resolving sessions in sessions and publishing
// to pub. llmType is the configured llm.type.
func NewCapture(sessions *session.Table, pub sink.Publisher, llmType string) *Capture {
	c := &Capture{sessions: sessions, pub: pub, llmType: llmType}
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
		"sessions_enabled":      c.sessions != nil && c.sessions.Config().Enabled,
	}
}

// callInfo is what record needs to know about how a call ended.
type callInfo struct {
	status   int
	resp     *provider.Response // parsed answer, nil when there is none
	perr     errClass           // proxy-side failure when failed
	failed   bool
	cut      bool // the stream ended before its final event
	start    time.Time
	end      time.Time
	method   []byte
	path     []byte
	headers  *fasthttp.RequestHeader
	body     []byte
	streamed bool
	workflow []byte // agent_workflow.id from the /agent-workflow/{id}/ route

	// For the http_recorder (httprecord.go): the answer as the client got
	// it, and what record learnt about the call.
	respHeader            *fasthttp.ResponseHeader
	respBody              []byte
	stream                bool
	session, agent, model string
}

// record builds and publishes the events of one call.
func (c *Capture) record(kind provider.Kind, conv *session.Conversation, ci *callInfo) {
	defer c.publishExchange(kind, ci)
	req := provider.AcquireRequest()
	defer provider.ReleaseRequest(req)
	if err := req.Parse(kind, ci.body); err != nil {
		c.unparsable.Add(1)
		return
	}
	var sysBuf [256]byte
	conv.Reset()
	fillConversation(conv, req, ci.headers, sysBuf[:0])
	r := c.sessions.Resolve(conv)
	if r.Match == session.MatchDisabled {
		c.noSession.Add(1)
		return
	}
	var agentBuf [64]byte
	b := builder{
		c:      c,
		kind:   kind,
		req:    req,
		r:      &r,
		sid:    string(r.ID()),
		agent:  string(c.sessions.AgentID(agentBuf[:0], conv)),
		vendor: kind.Vendor(),
		model:  req.Model.String(),
		body:   ci.body,
	}
	b.trace = traceID(b.sid)
	ci.session, ci.agent, ci.model, ci.stream = b.sid, b.agent, b.model, req.Stream
	if b.model == "" {
		b.model = "unknown"
	}
	bp := attrPool.Get().(*[]byte)
	b.buf = (*bp)[:0]
	b.requestEvents(ci, conv)
	b.responseEvents(ci)
	*bp = b.buf[:0]
	attrPool.Put(bp)
	c.reply(&r, req, ci)
}

// attrPool holds scratch buffers for rendering attributes; each event gets
// an exact-size copy.
var attrPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// reply tells the session table what the model answered, for fuzzy rules
// and previous_response_id.
func (c *Capture) reply(r *session.Result, req *provider.Request, ci *callInfo) {
	if ci.resp == nil || ci.resp.IsError {
		return
	}
	resp := ci.resp
	msg := session.Message{Role: []byte("assistant"), Content: resp.Text.Raw, Escaped: resp.Text.Escaped}
	if len(resp.ToolCalls) > 0 {
		msg.CallID = resp.ToolCalls[0].ID.Raw
		if req.Kind == provider.OpenAIResponses {
			msg.Role = nil
			msg.Type = []byte("function_call")
			msg.Content = nil
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

func traceID(sessionID string) string {
	sum := md5.Sum([]byte(sessionID)) //nolint:gosec // the original's trace id, not security
	return hex.EncodeToString(sum[:])
}

func newSpan() uint64 {
	for {
		if s := rand.Uint64(); s != 0 {
			return s
		}
	}
}

func spanHex(s uint64) string {
	var b [16]byte
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = digits[s&0xf]
		s >>= 4
	}
	return string(b[:])
}

// builder builds the events of one call.
type builder struct {
	c      *Capture
	kind   provider.Kind
	req    *provider.Request
	r      *session.Result
	sid    string
	agent  string
	trace  string
	vendor string
	model  string
	body   []byte
	tags   []session.Tag
	buf    []byte // attribute scratch, reused for every event of the call
}

func (b *builder) event(name string, at time.Time, span uint64, attrs []byte) *sink.Event {
	ev := &sink.Event{
		ID:        sink.NewID(),
		Time:      at.UTC(),
		Name:      name,
		Level:     sink.LevelInfo,
		TraceID:   b.trace,
		SpanID:    spanHex(span),
		SessionID: b.sid,
		AgentID:   b.agent,
		Vendor:    b.vendor,
		Model:     b.model,
	}
	if len(attrs) > 0 {
		ev.Attributes = append([]byte(nil), attrs...)
	}
	return ev
}

func (b *builder) publish(ev *sink.Event) {
	if b.c.pub.Publish(ev) {
		b.c.published.Add(1)
	} else {
		b.c.dropped.Add(1)
	}
}

// storedSpan returns the session's stored span, or a new one (stored when
// store is set).
func (b *builder) storedSpan(store bool) uint64 {
	if s, ok := b.c.sessions.Span(b.r); ok {
		return s
	}
	s := newSpan()
	if store {
		b.c.sessions.SetSpan(b.r, s)
	}
	return s
}

func (b *builder) newStoredSpan() uint64 {
	s := newSpan()
	b.c.sessions.SetSpan(b.r, s)
	return s
}

// common appends the host members and session.id that every event carries.
func (b *builder) common(o *obj) {
	o.str("session.id", b.sid)
	o.b = append(o.b, ',')
	o.b = append(o.b, b.c.host...)
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
	o := obj{b: b.buf[:0]}
	defer func() { b.buf = o.b }()
	if b.r.New {
		o.open()
		o.str("session.id", b.sid)
		o.str("client.type", "gateway")
		o.str("llm.vendor", b.vendor)
		o.str("llm.model", b.model)
		if len(req.Tools) > 0 {
			o.raw("tools", req.ToolsRaw)
		}
		var sys [256]byte
		o.bytesStr("prompt", req.AppendSystemPrompt(sys[:0]))
		b.tagsAttr(&o)
		o.b = append(o.b, ',')
		o.b = append(o.b, b.c.host...)
		o.close()
		b.publish(b.event(sink.SessionStart, ci.start, b.newStoredSpan(), o.b))
	}
	for i := range req.ToolResults {
		tr := &req.ToolResults[i]
		if tr.Message < first {
			continue
		}
		o = obj{b: o.b[:0]}
		o.open()
		name := "unknown"
		if tr.Name.Present() {
			name = tr.Name.String()
		}
		o.str("tool.name", name)
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
		ev := b.event(sink.ToolResult, ci.start, b.storedSpan(true), o.b)
		ev.ToolName = name
		b.publish(ev)
	}
	if !req.Model.Present() {
		return
	}
	o = obj{b: o.b[:0]}
	o.open()
	o.str("llm.vendor", b.vendor)
	o.str("llm.model", b.model)
	o.key("llm.request.data")
	o.b = b.requestData(o.b, first, len(newMsgs), external)
	b.common(&o)
	o.b = append(o.b, ',')
	o = obj{b: o.b, first: true}
	o.bytesStr("http.method", ci.method)
	o.bytesStr("http.path", ci.path)
	o.bool("llm.request.stream", req.Stream)
	b.tagsAttr(&o)
	o.close()
	b.publish(b.event(sink.LLMCallStart, ci.start, b.newStoredSpan(), o.b))
}

func (b *builder) tagsAttr(o *obj) {
	if len(b.tags) == 0 {
		return
	}
	o.key("tags")
	t := obj{b: o.b}
	t.open()
	for _, tag := range b.tags {
		t.bytesStr(string(tag.Key), tag.Value)
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
		m.int("from_index", int64(b.r.Processed))
		m.bool("external_session", external)
		m.close()
		return m.b
	}
	end := lastBrace(body)
	if end < 0 {
		return append(dst, "null"...)
	}
	start, stop := -1, -1
	if nNew > 0 && nNew < len(req.Messages) {
		start, stop = spanOf(body, req.MessagesRaw)
	}
	if start < 0 {
		dst = append(dst, body[:end]...)
	} else {
		newStart, _ := spanOf(body, req.Messages[first].Raw)
		_, newStop := spanOf(body, req.Messages[len(req.Messages)-1].Raw)
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
	if hasMember(body[:end]) {
		dst = append(dst, ',')
	}
	dst = meta(dst)
	return append(dst, '}')
}

// spanOf returns where sub lies in body, or -1, -1 when it does not alias it.
func spanOf(body, sub []byte) (int, int) {
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

func lastBrace(body []byte) int {
	for i := len(body) - 1; i >= 0; i-- {
		switch body[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '}':
			return i
		default:
			return -1
		}
	}
	return -1
}

// hasMember reports whether an object's text up to its closing brace holds
// any member.
func hasMember(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return false
		default:
			return true
		}
	}
	return false
}

func (b *builder) responseEvents(ci *callInfo) {
	resp := ci.resp
	durMs := float64(ci.end.Sub(ci.start)) / float64(time.Millisecond)
	o := obj{b: b.buf[:0]}
	defer func() { b.buf = o.b }()
	if ci.failed || resp == nil || resp.IsError {
		o.open()
		o.str("llm.vendor", b.vendor)
		o.str("llm.model", b.model)
		ev := b.event(sink.LLMCallError, ci.end, b.storedSpan(false), nil)
		ev.Level = sink.LevelError
		ev.Status = ci.status
		ev.DurationMs = durMs
		switch {
		case ci.failed:
			ev.ErrorType = ci.perr.String()
			ev.ErrorMessage = "the proxy could not complete the call: " + ci.perr.String()
		case resp != nil:
			ev.ErrorType = resp.Error.TypeOrCode().String()
			if ev.ErrorType == "" {
				ev.ErrorType = provider.DefaultErrorType(b.kind, ci.status)
			}
			ev.ErrorMessage = resp.Error.Message.String()
			if ev.ErrorMessage == "" {
				ev.ErrorMessage = "HTTP " + strconv.Itoa(ci.status)
			}
		default:
			ev.ErrorType = provider.DefaultErrorType(b.kind, ci.status)
			ev.ErrorMessage = "HTTP " + strconv.Itoa(ci.status)
		}
		o.str("error.message", ev.ErrorMessage)
		o.str("error.type", ev.ErrorType)
		b.common(&o)
		o.b = append(o.b, ',')
		o = obj{b: o.b, first: true}
		o.int("http.status_code", int64(ci.status))
		o.float("llm.response.duration_ms", durMs)
		workflowAttr(&o, ci)
		o.close()
		ev.Attributes = append([]byte(nil), o.b...)
		b.publish(ev)
		return
	}

	u := &resp.Usage
	total, hasTotal := u.Total()
	o.open()
	o.str("llm.vendor", b.vendor)
	o.str("llm.model", b.model)
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
		if u.ReasoningTokens > 0 {
			o.int("llm.usage.reasoning_tokens", u.ReasoningTokens)
		}
	}
	o.key("llm.response.content")
	o.b = responseContent(o.b, resp)
	b.common(&o)
	o.b = append(o.b, ',')
	o = obj{b: o.b, first: true}
	if resp.ID.Present() {
		o.pstr("llm.response.id", resp.ID)
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
	workflowAttr(&o, ci)
	o.close()
	ev := b.event(sink.LLMCallFinish, ci.end, b.storedSpan(false), o.b)
	ev.Status = ci.status
	ev.DurationMs = durMs
	ev.InputTokens, ev.OutputTokens = u.InputTokens, u.OutputTokens
	if hasTotal {
		ev.TotalTokens = total
	}
	ev.CachedTokens, ev.CacheWrite = u.CachedTokens, u.CacheCreationTokens
	ev.FinishReason = resp.FinishReason.String()
	b.publish(ev)

	for i := range resp.ToolCalls {
		tc := &resp.ToolCalls[i]
		o = obj{b: o.b[:0]}
		o.open()
		name := tc.Name.String()
		o.str("tool.name", name)
		o.key("tool.params")
		o.b = toolParams(o.b, tc.Arguments)
		o.pstr("tool.call_id", tc.ID)
		b.common(&o)
		workflowAttr(&o, ci)
		o.close()
		ev := b.event(sink.ToolExecution, ci.end, b.newStoredSpan(), o.b)
		ev.ToolName = name
		b.publish(ev)
	}
}

// workflowAttr adds agent_workflow.id to response-phase events of calls
// made through /agent-workflow/{id}/, as the original does.
func workflowAttr(o *obj, ci *callInfo) {
	if len(ci.workflow) > 0 {
		o.bytesStr("agent_workflow.id", ci.workflow)
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
