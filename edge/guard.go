package edge

import (
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/edge/provider"
)

// GuardMode says what the inline guard does with a risky request.
type GuardMode uint8

// Guard modes.
const (
	GuardBlock  GuardMode = iota + 1 // answer 403 naming the rule; nothing is forwarded
	GuardRedact                      // mask PII and secrets in the new messages, then forward
)

// Guard scans the new client input of each model call before it is
// forwarded (detection otherwise runs in the sink, off the request path).
// New input is what follows the last assistant message: the user turn and
// the tool results the client sends back, so a long history is not scanned
// again on every turn. Its cost is one provider parse plus one scan of that
// text, measured by BenchmarkProxyJSONGuard.
type Guard struct {
	mode    GuardMode
	min     detect.Severity
	sc      *detect.Scanner
	blocked atomic.Uint64
	redact  atomic.Uint64
}

// NewGuard returns a guard acting on findings of at least min severity.
func NewGuard(mode GuardMode, min detect.Severity) *Guard {
	return &Guard{mode: mode, min: min, sc: detect.NewScanner(detect.Options{MinSeverity: min})}
}

// Stats returns the guard's counters for /metrics.
func (g *Guard) Stats() map[string]any {
	mode := "block"
	if g.mode == GuardRedact {
		mode = "redact"
	}
	return map[string]any{"mode": mode, "min_severity": g.min.String(), "blocked": g.blocked.Load(), "redacted": g.redact.Load()}
}

// check inspects a request. It returns false when the request was answered
// (blocked); in redact mode it may replace the body to forward.
func (g *Guard) check(ctx *fasthttp.RequestCtx, ex *exchange, kind provider.Kind, body []byte) bool {
	req := provider.AcquireRequest()
	defer provider.ReleaseRequest(req)
	if req.Parse(kind, body) != nil {
		return true // unknown JSON is the provider's business
	}
	first := 0
	for i := len(req.Messages) - 1; i >= 0; i-- {
		m := &req.Messages[i]
		if m.Role.Equal("assistant") || m.Type.Equal("function_call") {
			first = i + 1
			break
		}
	}
	var edits []edit
	var text []byte
	for i := first; i < len(req.Messages); i++ {
		m := &req.Messages[i]
		role := detect.RoleUser
		if m.Role.Equal("system") || m.Role.Equal("developer") {
			continue
		}
		if m.Role.Equal("tool") || m.Type.Equal("function_call_output") {
			role = detect.RoleTool
		}
		text = m.Text.Append(text[:0])
		if len(text) == 0 {
			continue
		}
		fs := g.sc.Scan(&detect.Input{Text: string(text), Role: role, Direction: detect.Request})
		for _, f := range fs {
			if f.Severity < g.min {
				continue
			}
			if g.mode == GuardBlock {
				g.blocked.Add(1)
				writeGuardError(ctx, fmt.Sprintf("request blocked by the Perimeter guard: %s (%s, %s) in messages[%d]: %s; set detect.guard to off or redact to let it through",
					f.Rule, f.Severity, f.OWASP, i, f.Evidence))
				return false
			}
			if (f.Category == detect.CategoryPII || f.Category == detect.CategorySecret) && m.Content == provider.ContentString {
				edits = append(edits, edit{str: m.Text, start: f.Start, end: f.End})
			}
		}
	}
	if len(edits) > 0 {
		if nb, ok := redactBody(body, edits); ok {
			g.redact.Add(1)
			ex.req.SetBody(nb)
		}
	}
	return true
}

func writeGuardError(ctx *fasthttp.RequestCtx, msg string) {
	writeJSONError(ctx, fasthttp.StatusForbidden, "guard_blocked", newErrorBody("guard_blocked", msg))
}

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
		lo, hi := spanOf(body, e.str.Raw)
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
		quoted := appendJSONString(nil, text)
		out = append(out, quoted[1:len(quoted)-1]...) // inside the original quotes
		prev = s.hi
	}
	return append(out, body[prev:]...), true
}
