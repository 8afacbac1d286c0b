package prom

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/cylestio/perimeter/internal/defaults"
	"github.com/cylestio/perimeter/sink"
)

// Other is the label value that gathers what is beyond a cap.
const Other = "other"

// Defaults of Options.
const (
	DefaultMaxAgents = 20
	DefaultMaxModels = 50
	// AdmitCalls is how many calls an agent makes before it may get its
	// own label value.
	AdmitCalls = 5
)

// Options cap the label values.
type Options struct {
	MaxAgents int // 0: no agent label (every call under "other")
	MaxModels int // default DefaultMaxModels
}

type callKey struct{ provider, model, agent string }
type durKey struct{ provider, model string }
type errKey struct{ provider, typ string }
type findKey struct{ category, severity string }

// The keys' orders: the exposition lists series sorted by their labels.
func (a callKey) compare(b callKey) int {
	return cmp.Or(cmp.Compare(a.provider, b.provider), cmp.Compare(a.model, b.model), cmp.Compare(a.agent, b.agent))
}
func (a durKey) compare(b durKey) int {
	return cmp.Or(cmp.Compare(a.provider, b.provider), cmp.Compare(a.model, b.model))
}
func (a errKey) compare(b errKey) int {
	return cmp.Or(cmp.Compare(a.provider, b.provider), cmp.Compare(a.typ, b.typ))
}
func (a findKey) compare(b findKey) int {
	return cmp.Or(cmp.Compare(a.category, b.category), cmp.Compare(a.severity, b.severity))
}

type callStats struct {
	ok, errors                                   uint64
	input, output, cached, cacheWrite, reasoning uint64
	costUSD                                      float64
	priced, unpriced, noUsage                    uint64
	toolCalls                                    uint64
}

// Traffic counts calls from events. It is a sink.Writer that never fails.
type Traffic struct {
	opts Options

	mu       sync.Mutex
	calls    map[callKey]*callStats
	dur      map[durKey]*Histogram
	errs     map[errKey]uint64
	findings map[findKey]uint64
	models   map[string]bool
	errTypes map[string]bool
	agents   map[string]bool      // admitted
	cand     map[string]candidate // space-saving candidates
}

// NewTraffic returns an empty Traffic.
func NewTraffic(o Options) *Traffic {
	defaults.Set(&o.MaxModels, DefaultMaxModels)
	if o.MaxAgents < 0 {
		o.MaxAgents = 0
	}
	return &Traffic{opts: o, calls: map[callKey]*callStats{}, dur: map[durKey]*Histogram{}, errs: map[errKey]uint64{},
		findings: map[findKey]uint64{}, models: map[string]bool{}, errTypes: map[string]bool{},
		agents: map[string]bool{}, cand: map[string]candidate{}}
}

// Name is "prometheus".
func (t *Traffic) Name() string { return "prometheus" }

// Volatile: its batches need no spill log (sink.Volatile).
func (t *Traffic) Volatile() bool { return true }

// Close does nothing.
func (t *Traffic) Close() error { return nil }

// WriteBatch counts the batch.
func (t *Traffic) WriteBatch(_ context.Context, batch []*sink.Event) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ev := range batch {
		switch ev.Name {
		case sink.LLMCallFinish, sink.LLMCallError:
			t.call(ev)
		case sink.ToolExecution:
			t.stats(ev).toolCalls++
		case sink.SecurityFinding:
			t.findings[findKey{orUnknown(ev.Category), orUnknown(ev.Severity)}]++
		}
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// capped returns v when it is one of the first max values seen in set,
// else Other.
func capped(set map[string]bool, v string, max int) string {
	if set[v] {
		return v
	}
	if len(set) < max {
		set[v] = true
		return v
	}
	return Other
}

// agent returns the label value of an agent, counting its call. Calls are
// counted in a space-saving table: a newcomer that finds it full replaces
// the least counted candidate and inherits its count as an error bound, so
// only calls seen while it was tracked (count - err) admit it.
func (t *Traffic) agent(id string) string {
	if t.opts.MaxAgents == 0 {
		return Other
	}
	if t.agents[id] {
		return id
	}
	c, ok := t.cand[id]
	if !ok && len(t.cand) >= 16*t.opts.MaxAgents {
		minID, min := "", candidate{count: ^uint64(0)}
		for k, v := range t.cand {
			if v.count < min.count {
				minID, min = k, v
			}
		}
		delete(t.cand, minID)
		c = candidate{count: min.count, err: min.count}
	}
	c.count++
	if c.count-c.err >= AdmitCalls && len(t.agents) < t.opts.MaxAgents {
		delete(t.cand, id)
		t.agents[id] = true
		return id
	}
	t.cand[id] = c
	return Other
}

// candidate is an agent's call count in the space-saving table and the
// count it inherited (an over-estimate of its calls before it was tracked).
type candidate struct{ count, err uint64 }

func (t *Traffic) model(m string) string {
	if m == "" {
		m = "unknown"
	}
	return capped(t.models, m, t.opts.MaxModels)
}

// stats is the counters of ev's provider, model and (already admitted or
// other) agent, without counting a call.
func (t *Traffic) stats(ev *sink.Event) *callStats {
	a := Other
	if t.agents[ev.AgentID] {
		a = ev.AgentID
	}
	return t.get(callKey{orUnknown(ev.Vendor), t.model(ev.Model), a})
}

func (t *Traffic) get(k callKey) *callStats {
	s := t.calls[k]
	if s == nil {
		s = &callStats{}
		t.calls[k] = s
	}
	return s
}

func (t *Traffic) call(ev *sink.Event) {
	provider, model := orUnknown(ev.Vendor), t.model(ev.Model)
	s := t.get(callKey{provider, model, t.agent(ev.AgentID)})
	dk := durKey{provider, model}
	h := t.dur[dk]
	if h == nil {
		h = &Histogram{}
		t.dur[dk] = h
	}
	h.observe(DurationBounds, ev.DurationMs/1000)
	if ev.Name == sink.LLMCallError {
		s.errors++
		typ := capped(t.errTypes, orUnknown(ev.ErrorType), t.opts.MaxModels)
		t.errs[errKey{provider, typ}]++
		return
	}
	s.ok++
	s.input += uint64(max(ev.InputTokens, 0))
	s.output += uint64(max(ev.OutputTokens, 0))
	s.cached += uint64(max(ev.CachedTokens, 0))
	s.cacheWrite += uint64(max(ev.CacheWrite, 0))
	s.reasoning += uint64(max(ev.ReasoningTokens, 0))
	switch {
	case ev.Priced():
		s.costUSD += ev.CostUSD
		s.priced++
	case ev.CostStatus == sink.CostUnpriced:
		s.unpriced++
	default:
		s.noUsage++
	}
}

// Append renders the traffic series.
func (t *Traffic) Append(e *Exposition) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := slices.SortedFunc(maps.Keys(t.calls), callKey.compare)
	lbl := func(k callKey, more ...string) []string {
		return append([]string{"provider", k.provider, "model", k.model, "agent", k.agent}, more...)
	}
	e.Family("perimeter_llm_calls_total", "counter", "Model calls captured, by outcome (ok: an answer; error: an error answer or a failed call).")
	for _, k := range keys {
		s := t.calls[k]
		e.Sample("perimeter_llm_calls_total", float64(s.ok), lbl(k, "outcome", "ok")...)
		e.Sample("perimeter_llm_calls_total", float64(s.errors), lbl(k, "outcome", "error")...)
	}
	e.Family("perimeter_llm_tokens_total", "counter", "Tokens reported by the providers, by kind (cached and cache_write are parts of input as each provider counts it; reasoning is part of output).")
	for _, k := range keys {
		s := t.calls[k]
		for _, kv := range [...]struct {
			kind string
			n    uint64
		}{{"input", s.input}, {"output", s.output}, {"cached", s.cached}, {"cache_write", s.cacheWrite}, {"reasoning", s.reasoning}} {
			e.Sample("perimeter_llm_tokens_total", float64(kv.n), lbl(k, "kind", kv.kind)...)
		}
	}
	e.Family("perimeter_llm_cost_usd_total", "counter", "Cost of the priced calls in US dollars (see perimeter_llm_cost_calls_total for calls that could not be priced).")
	for _, k := range keys {
		e.Sample("perimeter_llm_cost_usd_total", t.calls[k].costUSD, lbl(k)...)
	}
	e.Family("perimeter_llm_cost_calls_total", "counter", "Answered calls by pricing status: priced, unpriced (model without a price), no_usage (no usage reported).")
	for _, k := range keys {
		s := t.calls[k]
		e.Sample("perimeter_llm_cost_calls_total", float64(s.priced), lbl(k, "status", "priced")...)
		e.Sample("perimeter_llm_cost_calls_total", float64(s.unpriced), lbl(k, "status", "unpriced")...)
		e.Sample("perimeter_llm_cost_calls_total", float64(s.noUsage), lbl(k, "status", "no_usage")...)
	}
	e.Family("perimeter_llm_tool_calls_total", "counter", "Tool calls the models asked for.")
	for _, k := range keys {
		e.Sample("perimeter_llm_tool_calls_total", float64(t.calls[k].toolCalls), lbl(k)...)
	}

	dks := slices.SortedFunc(maps.Keys(t.dur), durKey.compare)
	e.Family("perimeter_llm_call_duration_seconds", "histogram", "Model call duration, from the request reaching the proxy to the answer's last byte.")
	for _, k := range dks {
		t.dur[k].write(e, "perimeter_llm_call_duration_seconds", DurationBounds, "provider", k.provider, "model", k.model)
	}

	eks := slices.SortedFunc(maps.Keys(t.errs), errKey.compare)
	e.Family("perimeter_llm_errors_total", "counter", "Failed model calls by error type (the provider's type, or the proxy's own class when it could not complete the call).")
	for _, k := range eks {
		e.Sample("perimeter_llm_errors_total", float64(t.errs[k]), "provider", k.provider, "type", k.typ)
	}

	fks := slices.SortedFunc(maps.Keys(t.findings), findKey.compare)
	e.Family("perimeter_findings_total", "counter", "Security findings by detector category and severity.")
	for _, k := range fks {
		e.Sample("perimeter_findings_total", float64(t.findings[k]), "category", k.category, "severity", k.severity)
	}
}

// ModelTotals are one model's counters in GET /metrics (JSON).
type ModelTotals struct {
	Provider      string   `json:"provider"`
	Model         string   `json:"model"`
	Calls         uint64   `json:"calls"`
	Errors        uint64   `json:"errors"`
	InputTokens   uint64   `json:"input_tokens"`
	OutputTokens  uint64   `json:"output_tokens"`
	CachedTokens  uint64   `json:"cached_tokens"`
	CostUSD       *float64 `json:"cost_usd"` // nil when no call of the model was priced: never a $0 for unpriced calls
	PricedCalls   uint64   `json:"priced_calls"`
	UnpricedCalls uint64   `json:"unpriced_calls"`
	NoUsageCalls  uint64   `json:"no_usage_calls"`
}

// Models sums the counters per provider and model (over agents), with
// the same bounded model labels as the exposition, sorted by calls.
func (t *Traffic) Models() []ModelTotals {
	t.mu.Lock()
	byModel := map[durKey]*ModelTotals{}
	costs := map[durKey]float64{}
	for k, s := range t.calls {
		mk := durKey{k.provider, k.model}
		m := byModel[mk]
		if m == nil {
			m = &ModelTotals{Provider: k.provider, Model: k.model}
			byModel[mk] = m
		}
		m.Calls += s.ok + s.errors
		m.Errors += s.errors
		m.InputTokens += s.input
		m.OutputTokens += s.output
		m.CachedTokens += s.cached
		m.PricedCalls += s.priced
		m.UnpricedCalls += s.unpriced
		m.NoUsageCalls += s.noUsage
		costs[mk] += s.costUSD
	}
	t.mu.Unlock()
	out := make([]ModelTotals, 0, len(byModel))
	for k, m := range byModel {
		if m.PricedCalls > 0 {
			c := costs[k]
			m.CostUSD = &c
		}
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b ModelTotals) int {
		if a.Calls != b.Calls {
			return cmp.Compare(b.Calls, a.Calls)
		}
		return cmp.Compare(a.Provider+"/"+a.Model, b.Provider+"/"+b.Model)
	})
	return out
}
