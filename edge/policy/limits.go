package policy

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Scope is what a limit's counters are kept per.
type Scope uint8

// Scopes.
const (
	ScopeAgent Scope = iota + 1
	ScopeWorkflow
	ScopeSession
	ScopeTag
)

var scopeNames = [...]string{ScopeAgent: "agent", ScopeWorkflow: "workflow", ScopeSession: "session", ScopeTag: "tag"}

func (s Scope) String() string { return nameOf(scopeNames[:], s, "unknown") }

// ParseScope reads a scope name.
func ParseScope(name string) (Scope, bool) { return parseName[Scope](scopeNames[:], name) }

// LimitSpec is a limit as configured; zero fields are no limit.
type LimitSpec struct {
	Name  string
	Scope Scope
	// Match is a glob over the scope's value; for ScopeTag "key" or
	// "key:value-glob".
	Match string

	RequestsPerSecond, RequestsPerMinute int64
	TokensPerHour, TokensPerDay          int64
	CostPerHour, CostPerDay              float64 // USD
	ToolCallsPerSession                  int64
	IdenticalToolCalls                   int64
	// Monitor records what would be limited and lets it pass.
	Monitor bool
}

// What a limit counts (the "kind" of a verdict or threshold).
const (
	KindRequestsPerSecond   = "requests_per_second"
	KindRequestsPerMinute   = "requests_per_minute"
	KindTokensPerHour       = "tokens_per_hour"
	KindTokensPerDay        = "tokens_per_day"
	KindCostPerHour         = "cost_per_hour_usd"
	KindCostPerDay          = "cost_per_day_usd"
	KindToolCallsPerSession = "tool_calls_per_session"
	KindIdenticalToolCalls  = "identical_tool_calls"
)

// LimitMask is a set of limits of a Limiter, bit i for the i-th.
type LimitMask uint64

// MaxLimits is the most limits a Limiter holds.
const MaxLimits = 64

// Limit is a compiled limit with its counters.
type Limit struct {
	Spec LimitSpec

	key, val string // ScopeTag: key and value globs
	usage    bool   // counts tokens or cost
	tools    bool   // counts tool calls
	idle     int64  // seconds after which an unused counter may be forgotten

	shards [numShards]shard

	limited, monitored, untracked atomic.Uint64
	last                          atomic.Pointer[LimitEvent]
}

const numShards = 16

type shard struct {
	mu sync.RWMutex
	m  map[string]*counter
}

// counter holds one key's counts. Windows are fixed and aligned to the
// clock (this second, this minute, this hour, this UTC day).
type counter struct {
	mu                   sync.Mutex
	sec, minute          window
	tokHour, tokDay      window
	costHour, costDay    fwindow
	tools, repeats       int64
	lastCall             uint64
	seen                 int64
	alertedHour, alerted uint64 // thresholds already reported, per window
}

type window struct{ idx, n int64 }

func (w *window) at(idx int64) int64 {
	if w.idx != idx {
		w.idx, w.n = idx, 0
	}
	return w.n
}

type fwindow struct {
	idx int64
	v   float64
}

func (w *fwindow) at(idx int64) float64 {
	if w.idx != idx {
		w.idx, w.v = idx, 0
	}
	return w.v
}

// LimitEvent is a limit's decision or a budget threshold crossed.
type LimitEvent struct {
	Time   time.Time `json:"time"`
	Limit  string    `json:"limit"`
	Scope  string    `json:"scope"`
	Key    string    `json:"key"`
	Kind   string    `json:"kind"`
	Action string    `json:"action"` // limited, monitored, threshold
	Used   float64   `json:"used"`
	Max    float64   `json:"max"`
	// Fraction is the threshold crossed (0.8, 1.0) for Action threshold.
	Fraction float64 `json:"fraction,omitempty"`
	// RetryAfter is the seconds until the window ends, for limited.
	RetryAfter int `json:"retry_after,omitempty"`
}

// Limiter keeps the counters of every limit, in memory, per process: two
// proxy instances count separately. Counts are exact under concurrency:
// a request's counters are locked, checked and incremented together, in
// a fixed order, so N concurrent requests against a limit of L admit
// exactly min(N, L). Token and cost counts are charged when the answer's
// usage is known, so calls admitted while a budget still had room finish
// even when together they pass it; the next call is refused.
type Limiter struct {
	limits      []*Limit
	needSession bool
	needAgent   bool
	tools       LimitMask
	usage       LimitMask
	thresholds  []float64
	maxKeys     int

	// Now is the clock (tests replace it).
	Now func() time.Time
	// OnEvent, when set, is called for refusals, monitored decisions and
	// thresholds crossed, outside any lock. It must not block.
	OnEvent func(*LimitEvent)
}

// DefaultMaxKeys bounds the keys each limit tracks (sessions, agents):
// past it, idle keys are forgotten first, then new keys go uncounted (and
// counted as untracked in the stats).
const DefaultMaxKeys = 100_000

// NewLimiter compiles specs. thresholds are the fractions of a token or
// cost budget reported through OnEvent when crossed (e.g. 0.8, 1).
func NewLimiter(specs []LimitSpec, thresholds []float64, maxKeys int) *Limiter {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	l := &Limiter{thresholds: thresholds, maxKeys: maxKeys, Now: time.Now}
	for i, s := range specs {
		if i == MaxLimits {
			break
		}
		lm := &Limit{Spec: s}
		if s.Scope == ScopeTag {
			lm.key, lm.val, _ = cut(s.Match)
		}
		lm.usage = s.TokensPerHour > 0 || s.TokensPerDay > 0 || s.CostPerHour > 0 || s.CostPerDay > 0
		lm.tools = s.ToolCallsPerSession > 0 || s.IdenticalToolCalls > 0
		lm.idle = 3600
		if s.TokensPerDay > 0 || s.CostPerDay > 0 {
			lm.idle = 86400
		}
		for j := range lm.shards {
			lm.shards[j].m = map[string]*counter{}
		}
		if lm.usage {
			l.usage |= 1 << i
		}
		if lm.tools {
			l.tools |= 1 << i
		}
		l.needSession = l.needSession || s.Scope == ScopeSession
		l.needAgent = l.needAgent || s.Scope == ScopeAgent
		l.limits = append(l.limits, lm)
	}
	return l
}

func cut(s string) (k, v string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// Len is the number of limits.
func (l *Limiter) Len() int { return len(l.limits) }

// NeedSession and NeedAgent say whether a limit is kept per session or
// per agent: the caller then fills Subject.Session or Subject.Agent.
func (l *Limiter) NeedSession() bool { return l.needSession }

// NeedAgent: see NeedSession.
func (l *Limiter) NeedAgent() bool { return l.needAgent }

// NeedTools says whether a limit of m counts tool calls: Admit then needs
// the request's ToolUse.
func (l *Limiter) NeedTools(m LimitMask) bool { return m&l.tools != 0 }

// NeedUsage says whether a limit of m counts tokens or cost: the caller
// then reports the answer's usage with Charge.
func (l *Limiter) NeedUsage(m LimitMask) bool { return m&l.usage != 0 }

// keyOf returns the counter key of lm for sub (in buf for tags), or false
// when lm does not apply.
func (lm *Limit) keyOf(sub *Subject, buf []byte) ([]byte, bool) {
	var v []byte
	switch lm.Spec.Scope {
	case ScopeAgent:
		v = sub.Agent
	case ScopeWorkflow:
		v = sub.Workflow
	case ScopeSession:
		v = sub.Session
	case ScopeTag:
		for _, t := range sub.Tags {
			if glob(lm.key, bstr(t.Key)) && (lm.val == "" || glob(lm.val, bstr(t.Value))) {
				buf = append(append(append(buf[:0], t.Key...), ':'), t.Value...)
				return buf, true
			}
		}
		return nil, false
	}
	if len(v) == 0 || !glob(lm.Spec.Match, bstr(v)) {
		return nil, false
	}
	return v, true
}

// Applicable returns the limits whose scope and match hold for sub. It
// allocates nothing.
func (l *Limiter) Applicable(sub *Subject) LimitMask {
	var m LimitMask
	var buf [256]byte
	for i, lm := range l.limits {
		if _, ok := lm.keyOf(sub, buf[:0]); ok {
			m |= 1 << i
		}
	}
	return m
}

// ToolUse is what a request says about tool calls: Results is the number
// of tool results it sends back (tool calls the client ran since the last
// answer), Call a hash of the name and arguments of the calls they answer
// (0 when Results is 0).
type ToolUse struct {
	Results int64
	Call    uint64
}

// Verdict is Admit's answer: Limit is nil when the request may pass.
type Verdict struct {
	Limit      *Limit
	Kind       string
	Used, Max  float64
	RetryAfter int // seconds
}

// Admit checks and counts a request against the limits of m. A refused
// request counts nothing. A monitored limit reports what it would refuse
// through OnEvent and lets the request pass.
func (l *Limiter) Admit(m LimitMask, sub *Subject, tu ToolUse) Verdict {
	now := l.Now()
	sec := now.Unix()
	var held [MaxLimits]*counter
	var heldBy [MaxLimits]*Limit
	var buf [256]byte
	n := 0
	var monitored [4]*LimitEvent
	nm := 0
	unlock := func() {
		for _, c := range held[:n] {
			c.mu.Unlock()
		}
	}
	for i, lm := range l.limits {
		key, c := l.counterOf(i, m, sub, sec, buf[:0])
		if c == nil {
			continue
		}
		c.mu.Lock()
		held[n], heldBy[n] = c, lm
		n++
		kind, used, max, retry := lm.check(c, sec, tu)
		if kind == "" {
			continue
		}
		ev := &LimitEvent{Time: now, Limit: lm.Spec.Name, Scope: lm.Spec.Scope.String(), Key: string(key), Kind: kind, Action: "limited", Used: used, Max: max, RetryAfter: retry}
		if lm.Spec.Monitor {
			lm.monitored.Add(1)
			ev.Action, ev.RetryAfter = "monitored", 0
			lm.last.Store(ev)
			if nm < len(monitored) {
				monitored[nm] = ev
				nm++
			}
			continue
		}
		lm.limited.Add(1)
		lm.last.Store(ev)
		unlock()
		l.emit(monitored[:nm])
		l.emit([]*LimitEvent{ev})
		return Verdict{Limit: lm, Kind: kind, Used: used, Max: max, RetryAfter: retry}
	}
	for k := range n {
		heldBy[k].commit(held[k], sec, tu)
	}
	unlock()
	l.emit(monitored[:nm])
	return Verdict{}
}

func (l *Limiter) emit(evs []*LimitEvent) {
	if l.OnEvent == nil {
		return
	}
	for _, ev := range evs {
		l.OnEvent(ev)
	}
}

// check returns what lm would refuse for one more request on c.
func (lm *Limit) check(c *counter, sec int64, tu ToolUse) (kind string, used, max float64, retry int) {
	s := &lm.Spec
	c.seen = sec
	if s.RequestsPerSecond > 0 && c.sec.at(sec) >= s.RequestsPerSecond {
		return KindRequestsPerSecond, float64(c.sec.n), float64(s.RequestsPerSecond), 1
	}
	if s.RequestsPerMinute > 0 && c.minute.at(sec/60) >= s.RequestsPerMinute {
		return KindRequestsPerMinute, float64(c.minute.n), float64(s.RequestsPerMinute), untilNext(sec, 60)
	}
	if s.TokensPerHour > 0 && c.tokHour.at(sec/3600) >= s.TokensPerHour {
		return KindTokensPerHour, float64(c.tokHour.n), float64(s.TokensPerHour), untilNext(sec, 3600)
	}
	if s.TokensPerDay > 0 && c.tokDay.at(sec/86400) >= s.TokensPerDay {
		return KindTokensPerDay, float64(c.tokDay.n), float64(s.TokensPerDay), untilNext(sec, 86400)
	}
	if s.CostPerHour > 0 && c.costHour.at(sec/3600) >= s.CostPerHour {
		return KindCostPerHour, c.costHour.v, s.CostPerHour, untilNext(sec, 3600)
	}
	if s.CostPerDay > 0 && c.costDay.at(sec/86400) >= s.CostPerDay {
		return KindCostPerDay, c.costDay.v, s.CostPerDay, untilNext(sec, 86400)
	}
	if s.ToolCallsPerSession > 0 && tu.Results > 0 && c.tools+tu.Results > s.ToolCallsPerSession {
		return KindToolCallsPerSession, float64(c.tools + tu.Results), float64(s.ToolCallsPerSession), int(lm.idle)
	}
	if s.IdenticalToolCalls > 0 && tu.Call != 0 && tu.Call == c.lastCall && c.repeats+1 > s.IdenticalToolCalls {
		return KindIdenticalToolCalls, float64(c.repeats + 1), float64(s.IdenticalToolCalls), int(lm.idle)
	}
	return "", 0, 0, 0
}

func (lm *Limit) commit(c *counter, sec int64, tu ToolUse) {
	c.sec.at(sec)
	c.sec.n++
	c.minute.at(sec / 60)
	c.minute.n++
	if lm.tools {
		c.tools += tu.Results
		switch {
		case tu.Call == 0:
			c.lastCall, c.repeats = 0, 0
		case tu.Call == c.lastCall:
			c.repeats++
		default:
			c.lastCall, c.repeats = tu.Call, 1
		}
	}
}

func untilNext(sec, unit int64) int {
	return int((sec/unit+1)*unit - sec)
}

// Charge adds a finished call's tokens and cost to the limits of m that
// count them, and reports budget thresholds crossed.
func (l *Limiter) Charge(m LimitMask, sub *Subject, tokens int64, cost float64) {
	m &= l.usage
	if m == 0 || (tokens <= 0 && cost <= 0) {
		return
	}
	now := l.Now()
	sec := now.Unix()
	var buf [256]byte
	for i, lm := range l.limits {
		key, c := l.counterOf(i, m, sub, sec, buf[:0])
		if c == nil {
			continue
		}
		c.mu.Lock()
		if c.tokHour.at(sec/3600) == 0 && c.costHour.at(sec/3600) == 0 {
			c.alertedHour = 0
		}
		if c.tokDay.at(sec/86400) == 0 && c.costDay.at(sec/86400) == 0 {
			c.alerted = 0
		}
		s := &lm.Spec
		// The usage windows before and after this call; threshold ti of
		// window w is bit 4*ti+w of its period's mask of those reported.
		windows := [...]struct {
			kind               string
			before, after, max float64
			reported           *uint64
		}{
			{KindTokensPerHour, float64(c.tokHour.n), float64(c.tokHour.n + tokens), float64(s.TokensPerHour), &c.alertedHour},
			{KindTokensPerDay, float64(c.tokDay.n), float64(c.tokDay.n + tokens), float64(s.TokensPerDay), &c.alerted},
			{KindCostPerHour, c.costHour.v, c.costHour.v + cost, s.CostPerHour, &c.alertedHour},
			{KindCostPerDay, c.costDay.v, c.costDay.v + cost, s.CostPerDay, &c.alerted},
		}
		c.tokHour.n += tokens
		c.tokDay.n += tokens
		c.costHour.v += cost
		c.costDay.v += cost
		var crossed [8]LimitEvent
		nc := 0
		for w, u := range windows {
			if u.max <= 0 {
				continue
			}
			for ti, t := range l.thresholds {
				b := uint64(1) << (uint(ti)*4 + uint(w))
				if u.before < t*u.max && u.after >= t*u.max && *u.reported&b == 0 && nc < len(crossed) {
					*u.reported |= b
					crossed[nc] = LimitEvent{Time: now, Limit: s.Name, Scope: s.Scope.String(), Key: string(key), Kind: u.kind, Action: "threshold", Used: u.after, Max: u.max, Fraction: t}
					nc++
				}
			}
		}
		c.mu.Unlock()
		for k := range nc {
			ev := crossed[k]
			lm.last.Store(&ev)
			if l.OnEvent != nil {
				l.OnEvent(&ev)
			}
		}
	}
}

// counterOf returns the counter of limit i for sub, and its key (in buf
// for tags); nil when m leaves limit i out, the limit does not apply to
// sub, or its table is full of keys in use.
func (l *Limiter) counterOf(i int, m LimitMask, sub *Subject, sec int64, buf []byte) ([]byte, *counter) {
	if m&(1<<i) == 0 {
		return nil, nil
	}
	lm := l.limits[i]
	key, ok := lm.keyOf(sub, buf)
	if !ok {
		return nil, nil
	}
	return key, lm.counter(key, sec, l.maxKeys)
}

// counter returns key's counter, creating it; nil when the table is full
// of keys in use.
func (lm *Limit) counter(key []byte, sec int64, maxKeys int) *counter {
	sh := &lm.shards[shardOf(key)]
	sh.mu.RLock()
	c := sh.m[bstr(key)]
	sh.mu.RUnlock()
	if c != nil {
		return c
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c = sh.m[bstr(key)]; c != nil {
		return c
	}
	if len(sh.m) >= maxKeys/numShards+1 {
		for k, old := range sh.m {
			if old.mu.TryLock() {
				idle := sec-old.seen > lm.idle
				old.mu.Unlock()
				if idle {
					delete(sh.m, k)
				}
			}
		}
		if len(sh.m) >= maxKeys/numShards+1 {
			lm.untracked.Add(1)
			return nil
		}
	}
	c = &counter{seen: sec}
	sh.m[string(key)] = c
	return c
}

func shardOf(key []byte) int {
	h := uint32(2166136261)
	for _, b := range key {
		h = (h ^ uint32(b)) * 16777619
	}
	return int(h % numShards)
}

// LimitView is a limit as /config and the dashboard show it.
type LimitView struct {
	Name      string         `json:"name"`
	Scope     string         `json:"scope"`
	Match     string         `json:"match"`
	Action    string         `json:"action"`
	Limits    map[string]any `json:"limits"`
	Keys      int            `json:"keys_tracked"`
	Limited   uint64         `json:"limited"`
	Monitored uint64         `json:"monitored"`
	Untracked uint64         `json:"untracked"`
	Last      *LimitEvent    `json:"last_event,omitempty"`
}

// View describes the limits with their counters.
func (l *Limiter) View() []LimitView {
	out := make([]LimitView, 0, len(l.limits))
	for _, lm := range l.limits {
		s := lm.Spec
		v := LimitView{Name: s.Name, Scope: s.Scope.String(), Match: s.Match, Action: "block", Limits: map[string]any{},
			Limited: lm.limited.Load(), Monitored: lm.monitored.Load(), Untracked: lm.untracked.Load(), Last: lm.last.Load()}
		if s.Monitor {
			v.Action = "monitor"
		}
		put := func(k string, n float64) {
			if n > 0 && !math.IsInf(n, 0) {
				v.Limits[k] = n
			}
		}
		put(KindRequestsPerSecond, float64(s.RequestsPerSecond))
		put(KindRequestsPerMinute, float64(s.RequestsPerMinute))
		put(KindTokensPerHour, float64(s.TokensPerHour))
		put(KindTokensPerDay, float64(s.TokensPerDay))
		put(KindCostPerHour, s.CostPerHour)
		put(KindCostPerDay, s.CostPerDay)
		put(KindToolCallsPerSession, float64(s.ToolCallsPerSession))
		put(KindIdenticalToolCalls, float64(s.IdenticalToolCalls))
		for i := range lm.shards {
			sh := &lm.shards[i]
			sh.mu.RLock()
			v.Keys += len(sh.m)
			sh.mu.RUnlock()
		}
		out = append(out, v)
	}
	return out
}

// Amount writes a limit's count or cost for people: whole numbers as they
// are, others to 6 significant digits without an exponent, so a summed
// cost of 0.00037799999999999997 USD reads 0.000378.
func Amount(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// Message words a refusal for the client.
func (v *Verdict) Message() string {
	s := &v.Limit.Spec
	used, max := Amount(v.Used), Amount(v.Max)
	msg := "request refused by the Perimeter limit " + strconv.Quote(s.Name) + " (" + s.Scope.String() + " " + v.Kind + ": " + used + " of " + max + ")"
	switch v.Kind {
	case KindToolCallsPerSession, KindIdenticalToolCalls:
		return msg + "; the agent looks stuck in a tool-call loop: start a new session, or raise limits[" + s.Name + "]." + v.Kind
	}
	return msg + "; retry after " + strconv.Itoa(v.RetryAfter) + "s, or raise the limit in the limits: block"
}
