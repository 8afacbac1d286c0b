package mockllm

import (
	"bytes"
	"encoding/json"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/cylestio/perimeter/internal/jsonscan"
	"github.com/cylestio/perimeter/internal/jsonw"
	"github.com/valyala/fasthttp"
)

type route uint8

const (
	routeNotFound route = iota
	routeGenerate
	routeModels
	routeCountTokens
)

// reply carries everything renderers need for one answer.
type reply struct {
	s            *Server
	api          api
	idx          int
	info         reqInfo
	model        []byte // raw JSON string token
	chunks       int
	cachedTokens int
	tool         bool
	created      int64
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	idx := int(s.seq.Add(1) - 1)
	raw := ctx.Request.Header.RawHeaders()
	c := parseControls(raw)
	if s.cfg.MaxRecorded > 0 {
		s.record(newRecorded(idx, ctx, raw))
	}
	a, rt := classify(ctx)

	if c.badHeader != "" {
		s.writeError(ctx, a, fasthttp.StatusBadRequest, c.badMessage())
		return
	}
	if c.hang > 0 && !s.hang(ctx, c.hang) {
		return
	}
	if c.status >= 400 {
		s.writeError(ctx, a, c.status, "")
		return
	}
	if c.echo {
		s.echo(ctx, idx, raw)
		return
	}

	switch rt {
	case routeGenerate:
		s.generate(ctx, a, idx, &c)
	case routeModels:
		s.models(ctx)
	case routeCountTokens:
		s.countTokens(ctx)
	default:
		msg := "Invalid URL (" + string(ctx.Method()) + " " + string(ctx.Path()) + ")"
		s.writeError(ctx, a, fasthttp.StatusNotFound, msg)
	}
}

// classify picks the wire format and the route. Paths are matched by suffix
// so base URLs with a prefix ("/openai/v1/chat/completions") work too.
func classify(ctx *fasthttp.RequestCtx) (api, route) {
	path := ctx.Path()
	post := ctx.IsPost()
	switch {
	case bytes.HasSuffix(path, []byte("/chat/completions")):
		return apiChat, routeIf(post, routeGenerate)
	case bytes.HasSuffix(path, []byte("/responses")):
		return apiResponses, routeIf(post, routeGenerate)
	case bytes.HasSuffix(path, []byte("/messages/count_tokens")):
		return apiMessages, routeIf(post, routeCountTokens)
	case bytes.HasSuffix(path, []byte("/messages")):
		return apiMessages, routeIf(post, routeGenerate)
	case bytes.HasSuffix(path, []byte("/models")):
		return apiChat, routeIf(ctx.IsGet(), routeModels)
	}
	return apiChat, routeNotFound
}

func routeIf(ok bool, r route) route {
	if ok {
		return r
	}
	return routeNotFound
}

// generate answers a completion request, whole or streamed.
func (s *Server) generate(ctx *fasthttp.RequestCtx, a api, idx int, c *controls) {
	info, ok := parseRequest(a, ctx.PostBody())
	if !ok {
		s.writeError(ctx, a, fasthttp.StatusBadRequest, "")
		return
	}
	r := reply{s: s, api: a, idx: idx, info: info, chunks: s.cfg.Chunks, created: time.Now().Unix()}
	if c.chunks >= 0 {
		r.chunks = c.chunks
	}
	if c.cachedTokens >= 0 {
		r.cachedTokens = min(c.cachedTokens, info.inputTokens)
	}
	r.tool = info.wantsTool(c)
	r.model = info.model
	if r.model == nil {
		r.model = s.defaultModels[a]
	}
	s.setCommonHeaders(ctx, a, idx)
	if info.stream {
		s.stream(ctx, &r, c)
		return
	}

	bp := bodyPool.Get().(*[]byte)
	b := r.appendWhole((*bp)[:0], r.chunks)
	size := s.cfg.BodySize
	if c.bodySize >= 0 {
		size = c.bodySize
	}
	if !r.tool && size > len(b) {
		b = r.appendWhole(b[:0], piecesFor(r.chunks, size-len(b)))
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentTypeBytes(ctJSON)
	if c.disconnectAfter >= 0 {
		s.truncate(ctx, b, c.disconnectAfter)
	} else {
		ctx.Response.SetBody(b)
	}
	if cap(b) <= 1<<20 {
		*bp = b
		bodyPool.Put(bp)
	}
}

func (r *reply) appendWhole(dst []byte, pieces int) []byte {
	switch r.api {
	case apiResponses:
		return r.appendResponse(dst, pieces)
	case apiMessages:
		return r.appendMessage(dst, pieces)
	}
	return r.appendChatCompletion(dst, pieces)
}

func defaultModelToken(cfgModel string, a api) []byte {
	name := cfgModel
	if name == "" {
		name = defaultOpenAIModel
		if a == apiMessages {
			name = defaultClaudeModel
		}
	}
	return jsonw.AppendString(nil, name)
}

var (
	ctJSON        = []byte("application/json")
	ctSSE         = []byte("text/event-stream; charset=utf-8")
	hdrRequestID  = []byte("x-request-id")
	hdrAnthReqID  = []byte("request-id")
	hdrOpenAIVer  = []byte("openai-version")
	valOpenAIVer  = []byte("2020-10-01")
	hdrCache      = []byte("cache-control")
	valNoCache    = []byte("no-cache")
	hdrRetryAfter = []byte("retry-after")
	valRetryAfter = []byte("1")
)

func (s *Server) setCommonHeaders(ctx *fasthttp.RequestCtx, a api, idx int) {
	var buf [40]byte
	id := s.appendID(buf[:0], "req_", idx)
	if a == apiMessages {
		ctx.Response.Header.SetBytesKV(hdrAnthReqID, id)
		return
	}
	ctx.Response.Header.SetBytesKV(hdrRequestID, id)
	ctx.Response.Header.SetBytesKV(hdrOpenAIVer, valOpenAIVer)
}

const hexDigits = "0123456789abcdef"

// appendID appends prefix, the server tag and idx as 12 hex digits.
func (s *Server) appendID(dst []byte, prefix string, idx int) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, s.tag[:]...)
	for shift := 44; shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[(idx>>shift)&0xf])
	}
	return dst
}

// truncate answers with the full Content-Length but only the first n body
// bytes, then closes the connection.
func (s *Server) truncate(ctx *fasthttp.RequestCtx, body []byte, n int) {
	ctx.Response.Header.SetContentLength(len(body))
	out := ctx.Response.Header.AppendBytes(nil)
	out = append(out, body[:min(n, len(body))]...)
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		_, _ = c.Write(out) // the connection is closed when this returns
	})
}

// hang holds the request for d. It returns false (and the caller gives up on
// the request) when the peer closed the connection or the server is closing.
func (s *Server) hang(ctx *fasthttp.RequestCtx, d time.Duration) bool {
	w := watchConn(ctx.Conn())
	t := time.NewTimer(d)
	defer t.Stop()
	var ok bool
	select {
	case <-t.C:
		ok = true
	case <-w.gone:
		s.hangsAborted.Add(1)
	case <-s.closing:
	}
	if w.stop() || !ok {
		ctx.SetConnectionClose()
	}
	if !ok {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	}
	return ok
}

type echoReply struct {
	Method     string   `json:"method"`
	URI        string   `json:"uri"`
	Headers    []Header `json:"headers"`
	Body       string   `json:"body"`
	BodyBase64 []byte   `json:"body_base64"`
}

// echo answers with the request exactly as received.
func (s *Server) echo(ctx *fasthttp.RequestCtx, idx int, raw []byte) {
	r := newRecorded(idx, ctx, raw)
	out, err := json.Marshal(echoReply{
		Method: r.Method, URI: r.URI, Headers: r.Headers,
		Body: string(r.Body), BodyBase64: r.Body,
	})
	if err != nil { // cannot happen for these field types
		ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentTypeBytes(ctJSON)
	ctx.Response.SetBody(out)
}

var (
	openAIModels = []byte(`{"object":"list","data":[` +
		`{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"},` +
		`{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},` +
		`{"id":"gpt-4.1","object":"model","created":1744316542,"owned_by":"system"}]}`)
	anthropicModels = []byte(`{"data":[` +
		`{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"},` +
		`{"type":"model","id":"claude-haiku-4-5","display_name":"Claude Haiku 4.5","created_at":"2025-10-15T00:00:00Z"}],` +
		`"has_more":false,"first_id":"claude-sonnet-4-5","last_id":"claude-haiku-4-5"}`)
)

// models lists models, in Anthropic's shape when the client sends
// anthropic-version, OpenAI's otherwise.
func (s *Server) models(ctx *fasthttp.RequestCtx) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentTypeBytes(ctJSON)
	if hasRawHeader(ctx.Request.Header.RawHeaders(), "anthropic-version") {
		ctx.Response.SetBody(anthropicModels)
		return
	}
	ctx.Response.SetBody(openAIModels)
}

func hasRawHeader(raw []byte, name string) bool {
	for len(raw) > 0 {
		var n []byte
		n, _, raw = nextRawHeader(raw)
		if equalFoldASCII(n, name) {
			return true
		}
	}
	return false
}

func (s *Server) countTokens(ctx *fasthttp.RequestCtx) {
	body := ctx.PostBody()
	if !jsonscan.Valid(body) {
		s.writeError(ctx, apiMessages, fasthttp.StatusBadRequest, "")
		return
	}
	out := strconv.AppendInt([]byte(`{"input_tokens":`), int64(max(1, len(body)/4)), 10)
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentTypeBytes(ctJSON)
	ctx.Response.SetBody(append(out, '}'))
}
