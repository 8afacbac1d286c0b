package edge

import (
	"encoding/hex"
	"sort"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/edge/capture"
	"github.com/cylestio/perimeter/edge/policy"
	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/internal/jsonw"
	"github.com/cylestio/perimeter/session"
)

// GuardMode is the detect.guard shorthand: one policy for every finding.
type GuardMode uint8

// Guard modes.
const (
	GuardBlock  GuardMode = iota + 1 // answer 403 naming the rule; nothing is forwarded
	GuardRedact                      // mask PII and secrets in the new messages, then forward
)

// GuardConfig builds a Guard: policies (edge/policy), custom rules,
// limits, and the detect.guard shorthand appended as the last policy.
type GuardConfig struct {
	Policies []policy.Spec
	Rules    *policy.Rules
	Limits   []policy.LimitSpec
	// Thresholds are the fractions of token and cost budgets reported to
	// OnLimit when crossed.
	Thresholds []float64
	// Mode and MinSeverity are detect.guard; Mode 0 is off.
	Mode        GuardMode
	MinSeverity detect.Severity
	// Cost prices a call's usage in USD for cost limits; nil prices
	// nothing.
	Cost func(model []byte, u *provider.Usage, kind provider.Kind) float64
	// OnDecision and OnLimit see every policy decision and every limit
	// event (refusal, monitored, threshold); they must not block.
	OnDecision func(*policy.Event)
	OnLimit    func(*policy.LimitEvent)
	// HoldbackBytes, when more than 0, holds back the start of streamed
	// answers for response policies (holdback.go).
	HoldbackBytes int
}

// Guard applies policies and limits inline. Detection otherwise runs in
// the sink, off the request path; the guard scans only what a policy
// that can match the caller asks for, and only new client input: what
// follows the last assistant message (the user turn and the tool results
// the client sends back), so a long history is not scanned again on every
// turn. With direction response policies it scans buffered answers before
// they are written. A request no policy and no limit applies to costs a
// few header lookups and no allocation (BenchmarkGuardNoMatch).
type Guard struct {
	set  *policy.Set
	lim  *policy.Limiter
	sc   *detect.Scanner
	cost func([]byte, *provider.Usage, provider.Kind) float64
	on   func(*policy.Event)

	needAgent, needSession, needTags bool
	holdback                         int

	blocked, redacted, monitored, limited atomic.Uint64
	respBlocked, respRedacted             atomic.Uint64
	unreadable                            atomic.Uint64 // compressed answers that could not be decoded
	estimated                             atomic.Uint64 // answers without usage charged by estimate
}

// NewGuard returns the detect.guard shorthand: one policy acting on
// findings of at least min severity (redact masks PII and secrets).
func NewGuard(mode GuardMode, min detect.Severity) *Guard {
	g, err := NewPolicyGuard(GuardConfig{Mode: mode, MinSeverity: min})
	if err != nil {
		panic(err) // one policy always compiles
	}
	return g
}

// NewPolicyGuard compiles cfg. It returns nil, nil when cfg has no
// policy and no limit.
func NewPolicyGuard(cfg GuardConfig) (*Guard, error) {
	specs := cfg.Policies
	switch cfg.Mode {
	case GuardBlock:
		specs = append(specs[:len(specs):len(specs)], policy.Spec{Name: "detect.guard", Action: policy.Block,
			Match: policy.Match{MinSeverity: cfg.MinSeverity}})
	case GuardRedact:
		specs = append(specs[:len(specs):len(specs)], policy.Spec{Name: "detect.guard", Action: policy.Redact,
			Match: policy.Match{MinSeverity: cfg.MinSeverity, Categories: []string{"pii", "secret"}}})
	}
	if len(specs) == 0 && len(cfg.Limits) == 0 {
		return nil, nil
	}
	set, err := policy.NewSet(specs, cfg.Rules)
	if err != nil {
		return nil, err
	}
	g := &Guard{set: set, cost: cfg.Cost, on: cfg.OnDecision, holdback: cfg.HoldbackBytes,
		sc: detect.NewScanner(detect.Options{MinSeverity: set.MinSeverity()})}
	if len(cfg.Limits) > 0 {
		g.lim = policy.NewLimiter(cfg.Limits, cfg.Thresholds, 0)
		g.lim.OnEvent = cfg.OnLimit
		g.needSession = g.lim.NeedSession()
		g.needAgent = g.lim.NeedAgent()
		for _, l := range cfg.Limits {
			g.needTags = g.needTags || l.Scope == policy.ScopeTag
		}
	}
	g.needAgent = g.needAgent || set.NeedAgent()
	for _, s := range specs {
		g.needTags = g.needTags || len(s.Match.Tags) > 0
	}
	return g, nil
}

// Policies and Limiter expose the compiled policies and limits (for
// /config and the dashboard).
func (g *Guard) Policies() *policy.Set { return g.set }

// Limiter: see Policies; nil without limits.
func (g *Guard) Limiter() *policy.Limiter { return g.lim }

// Stats returns the guard's counters for /metrics.
func (g *Guard) Stats() map[string]any {
	return map[string]any{
		"policies": g.set.Len(), "limits": g.limitCount(),
		"blocked": g.blocked.Load(), "redacted": g.redacted.Load(), "monitored": g.monitored.Load(), "limited": g.limited.Load(),
		"response_blocked": g.respBlocked.Load(), "response_redacted": g.respRedacted.Load(),
		"unreadable_answers": g.unreadable.Load(), "usage_estimated": g.estimated.Load(),
	}
}

func (g *Guard) limitCount() int {
	if g.lim == nil {
		return 0
	}
	return g.lim.Len()
}

// View is the effective policy: policies in the order they are tried and
// limits, with their counters.
func (g *Guard) View() map[string]any {
	v := map[string]any{"policies": g.set.View(), "custom_rules": g.set.Rules().Len()}
	if g.lim != nil {
		v["limits"] = g.lim.View()
	} else {
		v["limits"] = []policy.LimitView{}
	}
	return v
}

// guardState is a request's guard state, kept in its exchange.
type guardState struct {
	sub      policy.Subject
	tags     []session.Tag
	agent    []byte // a computed agent id
	sess     []byte // a computed session key
	limits   policy.LimitMask
	resp     policy.Mask // response policies that apply
	kind     provider.Kind
	charge   bool // limits count this call's tokens or cost
	holdback bool // the answer passes the hold-back window (holdback.go)
	hold     *holdback

	// What the guard parsed, kept for capture so that it does not parse
	// the same bytes again: the request body (req), and a buffered answer
	// (parsed) unless the guard rewrote it. rewritten: the forwarded body
	// is not the one req was parsed from.
	req       *provider.Request
	parsed    *provider.Response
	rewritten bool
	// decoded is a compressed buffered answer decoded, which parsed
	// points into (nil when the answer was not compressed).
	decoded []byte
}

func (st *guardState) reset() {
	st.sub = policy.Subject{}
	st.tags = st.tags[:0]
	st.limits, st.resp, st.charge, st.kind, st.holdback, st.hold = 0, 0, false, provider.None, false, nil
	if st.req != nil {
		provider.ReleaseRequest(st.req)
		st.req = nil
	}
	if st.parsed != nil {
		provider.ReleaseResponse(st.parsed)
		st.parsed = nil
	}
	st.rewritten, st.decoded = false, nil
}

var (
	hdrAgent    = []byte("X-Cylestio-Agent-Id")
	hdrPrompt   = []byte("X-Cylestio-Prompt-Id")
	hdrSession  = []byte("X-Cylestio-Session-Id")
	hdrConvID   = []byte("X-Cylestio-Conversation-Id")
	hdrTags     = []byte("X-Cylestio-Tags")
	sessionPfx  = []byte("conv-")
	roleAsst    = "assistant"
	typeFnCall  = "function_call"
	typeFnOut   = "function_call_output"
	roleTool    = "tool"
	roleSystem  = "system"
	roleDevelop = "developer"
)

// admit applies request policies and limits to a model call. It returns
// false when the request was answered (blocked or limited); a redact
// decision may replace the body to forward.
func (g *Guard) admit(ctx *fasthttp.RequestCtx, ex *exchange, kind provider.Kind, body []byte) bool {
	st := &ex.pol
	st.kind = kind
	h := &ctx.Request.Header
	st.sub.Workflow = ex.workflow
	st.sub.Agent = session.AgentIDHeader(h.PeekBytes(hdrAgent), h.PeekBytes(hdrPrompt))
	st.sub.Session = session.SessionIDHeader(h.PeekBytes(hdrSession), h.PeekBytes(hdrConvID))
	if g.needTags {
		st.tags = session.ParseTags(st.tags[:0], h.PeekBytes(hdrTags))
		st.sub.Tags = st.tags
	}
	// The parsed request stays with the exchange (st.req) for capture;
	// a body that does not parse is the provider's business.
	var req *provider.Request
	failed := false
	parse := func() bool {
		if req == nil && !failed {
			req = provider.AcquireRequest()
			if req.Parse(kind, body) != nil {
				provider.ReleaseRequest(req)
				req, failed = nil, true
			}
			st.req = req
		}
		return req != nil
	}
	if (g.needAgent && len(st.sub.Agent) == 0) || (g.needSession && len(st.sub.Session) == 0) {
		if !parse() {
			return true // unknown JSON is the provider's business
		}
		if len(st.sub.Agent) == 0 {
			st.agent = session.PromptAgentID(st.agent[:0], req.System.Raw, req.System.Escaped)
			st.sub.Agent = st.agent
		}
		if len(st.sub.Session) == 0 {
			st.sess = conversationKey(st.sess[:0], req)
			st.sub.Session = st.sess
		}
	}
	var lm policy.LimitMask
	if g.lim != nil {
		lm = g.lim.Applicable(&st.sub)
	}
	pm := g.set.Candidates(&st.sub, detect.Request)
	st.resp = g.set.Candidates(&st.sub, detect.Response)
	if pm == 0 && lm == 0 {
		return true
	}
	if pm != 0 {
		if !parse() {
			return true
		}
		if !g.checkRequest(ctx, ex, req, body, pm) {
			return false
		}
	}
	if lm != 0 {
		var tu policy.ToolUse
		if g.lim.NeedTools(lm) && parse() {
			tu = toolUse(req)
		}
		if v := g.lim.Admit(lm, &st.sub, tu); v.Limit != nil {
			if !v.Limit.Spec.Monitor {
				g.limited.Add(1)
				writeLimitError(ctx, kind, &v)
				return false
			}
		}
		st.limits = lm
		st.charge = g.lim.NeedUsage(lm)
	}
	return true
}

// conversationKey names a conversation without an x-cylestio-session-id:
// a hash of its system prompt and first message, which every turn of it
// repeats.
func conversationKey(dst []byte, req *provider.Request) []byte {
	d := xxhash.New()
	_, _ = d.Write(req.System.Raw)
	for i := range req.Messages {
		m := &req.Messages[i]
		if m.Role.Equal(roleSystem) || m.Role.Equal(roleDevelop) {
			continue
		}
		_, _ = d.Write(m.Raw)
		break
	}
	var sum [8]byte
	s := d.Sum64()
	for i := range sum {
		sum[i] = byte(s >> (56 - 8*i))
	}
	dst = append(dst, sessionPfx...)
	return hex.AppendEncode(dst, sum[:])
}

// newInput returns the index of the first message after the last model
// message: what the client adds in this turn.
func newInput(req *provider.Request) int {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		m := &req.Messages[i]
		if m.Role.Equal(roleAsst) || m.Type.Equal(typeFnCall) {
			return i + 1
		}
	}
	return 0
}

// toolUse counts the tool results of the new input and hashes the calls
// they answer (name and arguments), for the tool-call limits.
func toolUse(req *provider.Request) policy.ToolUse {
	first := newInput(req)
	var tu policy.ToolUse
	d := xxhash.New()
	for i := range req.ToolResults {
		tr := &req.ToolResults[i]
		if tr.Message < first {
			continue
		}
		tu.Results++
		if tr.Call >= 0 && tr.Call < len(req.ToolCalls) {
			tc := &req.ToolCalls[tr.Call]
			_, _ = d.Write(tc.Name.Raw)
			_, _ = d.Write([]byte{0})
			_, _ = d.Write(tc.Arguments.Raw)
			_, _ = d.Write([]byte{0})
		}
	}
	if tu.Results > 0 {
		tu.Call = d.Sum64() | 1
	}
	return tu
}

// scanText scans one text with the built-in and the custom rules.
func (g *Guard) scanText(dst []detect.Finding, in *detect.Input, src detect.Source) []detect.Finding {
	dst = g.sc.AppendScan(dst, in)
	text := in.Text
	if src == detect.SourceToolArgs {
		text = in.ToolArgs
	}
	return g.set.Rules().AppendScan(dst, text, src)
}

// decider applies the policies of one direction to what a check finds in
// each text it scans, and collects the redactions they ask for.
type decider struct {
	g     *Guard
	pm    policy.Mask
	sub   *policy.Subject
	dir   detect.Direction
	fs    []detect.Finding
	edits []edit
	// what a stop names ("request", "answer") and what it adds when the
	// stop is a redaction that cannot be made in place
	what, unredactable string
}

// decide scans in, the text at where[i], and applies the policies of d.pm
// to each finding: every decision is recorded, a monitor counted, a
// redaction of str kept in d.edits (when editable). It returns the
// message of the block that stops the call, "" when none does.
func (d *decider) decide(in *detect.Input, field detect.Source, src policy.Source, str provider.Str, editable bool, where string, i int) string {
	d.fs = d.g.scanText(d.fs[:0], in, field)
	for k := range d.fs {
		f := &d.fs[k]
		p := d.g.set.Decide(d.pm, f, src)
		if p == nil {
			continue
		}
		d.g.record(p, f, d.sub, d.dir, src)
		switch p.Action {
		case policy.Block:
			return d.what + " " + blockMessage(p, f, where, i)
		case policy.Redact:
			if !editable {
				return d.what + " " + blockMessage(p, f, where, i) + d.unredactable
			}
			d.edits = append(d.edits, edit{str: str, start: f.Start, end: f.End})
		default:
			d.g.monitored.Add(1)
		}
	}
	return ""
}

// checkRequest scans the new input for the policies of pm.
func (g *Guard) checkRequest(ctx *fasthttp.RequestCtx, ex *exchange, req *provider.Request, body []byte, pm policy.Mask) bool {
	want := g.set.Sources(pm)
	first := newInput(req)
	var text []byte
	d := decider{g: g, pm: pm, sub: &ex.pol.sub, dir: detect.Request,
		what: "request", unredactable: " (it cannot be redacted in place, so the request was blocked)"}
	decide := func(i int, where string, str provider.Str, editable bool, src policy.Source, in *detect.Input) bool {
		if msg := d.decide(in, detect.SourceText, src, str, editable, where, i); msg != "" {
			g.blocked.Add(1)
			writeGuardError(ctx, msg)
			return false
		}
		return true
	}
	if want&policy.SourceUser != 0 {
		for i := first; i < len(req.Messages); i++ {
			m := &req.Messages[i]
			if m.Role.Equal(roleSystem) || m.Role.Equal(roleDevelop) || m.Role.Equal(roleTool) || m.Type.Equal(typeFnOut) {
				continue
			}
			text = m.Text.Append(text[:0])
			if len(text) == 0 {
				continue
			}
			in := detect.Input{Text: bstr(text), Role: detect.RoleUser, Direction: detect.Request}
			if !decide(i, "messages", m.Text, m.Content == provider.ContentString, policy.SourceUser, &in) {
				return false
			}
		}
	}
	if want&policy.SourceToolResult != 0 {
		for i := range req.ToolResults {
			tr := &req.ToolResults[i]
			if tr.Message < first {
				continue
			}
			text = tr.Text.Append(text[:0])
			if len(text) == 0 {
				continue
			}
			in := detect.Input{Text: bstr(text), Role: detect.RoleTool, Direction: detect.Request, ToolName: bstr(tr.Name.Raw)}
			if !decide(tr.Message, "messages", tr.Text, tr.Content == provider.ContentString, policy.SourceToolResult, &in) {
				return false
			}
		}
	}
	if want&policy.SourceToolDefinition != 0 {
		for i := range req.Tools {
			t := &req.Tools[i]
			in := detect.Input{Text: bstr(t.Raw), Role: detect.RoleToolDefinition, Direction: detect.Request, ToolName: bstr(t.Name.Raw)}
			if !decide(i, "tools", provider.Str{}, false, policy.SourceToolDefinition, &in) {
				return false
			}
		}
	}
	if len(d.edits) > 0 {
		nb, ok := redactBody(body, d.edits)
		if !ok {
			g.blocked.Add(1)
			writeGuardError(ctx, "request blocked by the Perimeter guard: a redact policy matched text that cannot be redacted in place")
			return false
		}
		g.redacted.Add(1)
		ex.req.SetBody(nb)
		ex.pol.rewritten = true
	}
	return true
}

// record counts a decision and hands it on.
func (g *Guard) record(p *policy.Policy, f *detect.Finding, sub *policy.Subject, dir detect.Direction, src policy.Source) {
	ev := &policy.Event{Time: time.Now(), Policy: p.Name, Action: p.Action.String(), Rule: f.Rule, Severity: f.Severity.String(),
		OWASP: f.OWASP, Evidence: f.Evidence, Agent: string(sub.Agent), Workflow: string(sub.Workflow), Session: string(sub.Session),
		Direction: "request", Source: src.String()}
	if dir == detect.Response {
		ev.Direction = "response"
	}
	p.Record(ev)
	if g.on != nil {
		g.on(ev)
	}
}

func blockMessage(p *policy.Policy, f *detect.Finding, where string, i int) string {
	return "blocked by the Perimeter policy " + strconv.Quote(p.Name) + ": " + f.Rule + " (" + f.Severity.String() + ", " + f.OWASP + ") in " +
		where + "[" + strconv.Itoa(i) + "]: " + f.Evidence + "; if this is expected, change that policy's action to monitor (or detect.guard to off)"
}

func writeGuardError(ctx *fasthttp.RequestCtx, msg string) {
	writeJSONError(ctx, fasthttp.StatusForbidden, "guard_blocked", newErrorBody("guard_blocked", msg))
}

// writeLimitError answers 429 in the provider's shape: Anthropic's
// rate_limit_error, OpenAI's rate_limit_exceeded, with Retry-After.
func writeLimitError(ctx *fasthttp.RequestCtx, kind provider.Kind, v *policy.Verdict) {
	typ := "rate_limit_exceeded"
	if kind.Vendor() == "anthropic" {
		typ = "rate_limit_error"
	}
	b := newErrorBody(typ, v.Message())
	b.Error.Code = "perimeter_limit"
	writeJSONError(ctx, fasthttp.StatusTooManyRequests, "limit_exceeded", b)
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(max(1, v.RetryAfter)))
}

// checkResponse applies the response policies to a buffered answer, body
// (decoded when it was compressed), before it is written. It returns false
// when the answer was replaced by an error.
func (g *Guard) checkResponse(ctx *fasthttp.RequestCtx, ex *exchange, resp *provider.Response, body []byte) bool {
	edits, msg := g.scanAnswer(ex, resp, body)
	if msg == "" && len(edits) > 0 {
		nb, ok := redactBody(body, edits)
		if !ok {
			msg = "answer withheld by the Perimeter guard: a redact policy matched but the answer could not be redacted in place"
		} else {
			g.respRedacted.Add(1)
			ex.resp.SetBody(nb) // over the bytes resp was parsed from
			// A compressed answer goes redacted as it was decoded: without
			// its Content-Encoding, Content-Length set from the new body
			// when it is written. Compressing it again would cost more than
			// the bytes it saves on this rare path.
			ex.resp.Header.Del(fasthttp.HeaderContentEncoding)
			ex.pol.parsed = nil
			provider.ReleaseResponse(resp)
			return true
		}
	}
	if msg != "" {
		g.respBlocked.Add(1)
		writeGuardError(ctx, msg)
		return false
	}
	return true
}

// scanAnswer applies the response policies that hold for the caller to an
// answer: the model's text and its tool calls. It returns the edits of
// redact decisions, or the message of a block (also of a redaction that
// cannot be made in place: body nil, a streamed answer, or text that is
// not one JSON string of body).
func (g *Guard) scanAnswer(ex *exchange, resp *provider.Response, body []byte) (edits []edit, blocked string) {
	pm := ex.pol.resp
	want := g.set.Sources(pm)
	var text []byte
	d := decider{g: g, pm: pm, sub: &ex.pol.sub, dir: detect.Response,
		what: "answer", unredactable: " (it cannot be redacted in place, so the answer was withheld)"}
	decide := func(where string, i int, str provider.Str, editable bool, src policy.Source, in *detect.Input, field detect.Source) bool {
		blocked = d.decide(in, field, src, str, editable, where, i)
		return blocked == ""
	}
	if want&policy.SourceModel != 0 && !resp.Text.IsEmpty() {
		text = resp.Text.Append(text[:0])
		in := detect.Input{Text: bstr(text), Role: detect.RoleAssistant, Direction: detect.Response}
		if !decide("answer text", 0, resp.Text, inString(body, resp.Text.Raw), policy.SourceModel, &in, detect.SourceText) {
			return nil, blocked
		}
	}
	if want&policy.SourceToolArgs != 0 {
		for i := range resp.ToolCalls {
			tc := &resp.ToolCalls[i]
			text = tc.Arguments.Append(text[:0])
			in := detect.Input{Text: "", ToolName: bstr(tc.Name.Raw), ToolArgs: bstr(text), Direction: detect.Response}
			// OpenAI's arguments are a JSON string; Anthropic's input is an
			// object, which cannot be masked as a string.
			if !decide("tool_calls", i, tc.Arguments, inString(body, tc.Arguments.Raw), policy.SourceToolArgs, &in, detect.SourceToolArgs) {
				return nil, blocked
			}
		}
	}
	return d.edits, ""
}

// inString reports whether s is the inside of one JSON string of body.
func inString(body, s []byte) bool {
	lo, hi := capture.SpanOf(body, s)
	return lo > 0 && hi < len(body) && body[lo-1] == '"' && body[hi] == '"'
}

// afterResponse runs on a buffered answer before it is written: the usage
// charged to token and cost limits, then response policies. It returns
// false when the answer was replaced. A compressed answer is read from a
// decoded copy (decode); the client still gets the bytes the upstream
// sent unless a policy acts.
func (g *Guard) afterResponse(ctx *fasthttp.RequestCtx, ex *exchange) bool {
	st := &ex.pol
	if st.resp == 0 && !st.charge {
		return true
	}
	body := ex.resp.Body()
	if compressed(&ex.resp.Header) {
		if body = g.decode(ex); body == nil {
			return true
		}
	}
	resp := provider.AcquireResponse()
	if resp.Parse(st.kind, ex.resp.StatusCode(), body) != nil {
		provider.ReleaseResponse(resp)
		return true
	}
	st.parsed = resp // for capture; released with the exchange
	if st.charge {
		g.charge(st, resp, len(ex.req.Body()))
	}
	if st.resp == 0 || resp.IsError {
		return true
	}
	return g.checkResponse(ctx, ex, resp, body)
}

// decode returns a compressed buffered answer decoded, bounded like
// capture's decoding by llm.max_response_buffer_size, or nil when it
// cannot be decoded. An answer the guard cannot read passes as one it
// cannot parse does: uncharged and unchecked, counted (unreadable_answers)
// and logged. The copy stays with the exchange (capture reads the parse
// that points into it) and is held against the buffered answers' budget.
func (g *Guard) decode(ex *exchange) []byte {
	b, err := ex.resp.BodyUncompressedWithLimit(ex.p.opts.MaxResponseBufferSize)
	if err != nil {
		g.unreadable.Add(1)
		ex.p.unreadable(ex, err)
		return nil
	}
	ex.respAcct.hold(int64(cap(b)))
	ex.pol.decoded = b
	return b
}

// readsStream reports whether a streamed answer must be read for st: for
// its usage (limits) or its text (the hold-back window).
func (g *Guard) readsStream(st *guardState) bool {
	return st.charge || (st.resp != 0 && g.holdback > 0)
}

// charge charges an answer's usage to the call's token and cost limits;
// reqBytes is the size of the request as forwarded, for an answer that
// reported no usage (estimateUsage).
func (g *Guard) charge(st *guardState, resp *provider.Response, reqBytes int) {
	u := resp.Usage // a copy: an estimate is the limits' alone, never stored
	if estimateUsage(&u, resp, reqBytes) {
		g.estimated.Add(1)
	}
	tokens := u.InputTokens + u.OutputTokens
	if st.kind.Vendor() == "anthropic" { // its input count leaves out cache reads and writes
		tokens += u.CachedTokens + u.CacheCreationTokens
	}
	var cost float64
	if g.cost != nil {
		cost = g.cost(resp.Model.Raw, &u, st.kind)
	}
	g.lim.Charge(st.limits, &st.sub, tokens, cost)
}

// estimateUsage fills u, the usage of a successful answer that reported
// none (an OpenAI stream without stream_options.include_usage, which the
// SDKs do not ask for by default), with an estimate: a token per 4 bytes
// of the request and of the answer's text and tool calls. Token and cost
// limits then count the call instead of letting it pass free. It reports
// whether it estimated.
func estimateUsage(u *provider.Usage, resp *provider.Response, reqBytes int) bool {
	if u.Has&(provider.HasInput|provider.HasOutput) != 0 || resp.IsError {
		return false
	}
	out := len(resp.Text.Raw)
	for i := range resp.ToolCalls {
		out += len(resp.ToolCalls[i].Name.Raw) + len(resp.ToolCalls[i].Arguments.Raw)
	}
	u.InputTokens, u.OutputTokens = int64(reqBytes+3)/4, int64(out+3)/4
	u.Has |= provider.HasInput | provider.HasOutput
	return true
}

// chargeStream charges a streamed answer's usage, read by its tap.
func (g *Guard) chargeStream(ex *exchange) {
	if ex.sp == nil {
		if ex.sse && compressed(&ex.resp.Header) { // sent compressed though not asked to (forward)
			g.unreadable.Add(1)
			ex.p.unreadable(ex, errCompressedStream)
		}
		return
	}
	g.charge(&ex.pol, ex.sp.Result(), len(ex.req.Body()))
}

// bstr views b as a string for reading; it must not outlive b.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// edit masks [start, end) of the decoded text of one JSON string of the body.
type edit struct {
	str        provider.Str
	start, end int
}

// redactBody returns body with each edited string re-encoded with its spans
// masked by '*'. Strings are located by their bytes inside body.
func redactBody(body []byte, edits []edit) ([]byte, bool) {
	type span struct {
		lo, hi int
		edits  []edit
	}
	byStr := map[int]*span{}
	for _, e := range edits {
		lo, hi := capture.SpanOf(body, e.str.Raw)
		if lo < 0 {
			return nil, false
		}
		s := byStr[lo]
		if s == nil {
			s = &span{lo: lo, hi: hi}
			byStr[lo] = s
		}
		s.edits = append(s.edits, e)
	}
	spans := make([]*span, 0, len(byStr))
	for _, s := range byStr {
		spans = append(spans, s)
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	out := make([]byte, 0, len(body)+64)
	prev := 0
	for _, s := range spans {
		text := s.edits[0].str.Append(nil)
		for _, e := range s.edits {
			for k := max(0, e.start); k < min(e.end, len(text)); k++ {
				text[k] = '*'
			}
		}
		out = append(out, body[prev:s.lo]...)
		quoted := jsonw.AppendString(nil, text)
		out = append(out, quoted[1:len(quoted)-1]...) // inside the original quotes
		prev = s.hi
	}
	return append(out, body[prev:]...), true
}
