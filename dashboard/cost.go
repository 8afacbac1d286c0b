package dashboard

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/cylestio/perimeter/dashboard/workflow"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/pricing"
)

// Cost on the dashboard. The pipeline prices every llm.call.finish
// (sink/pricing) and stores cost_usd (NULL unless priced) and cost_status;
// every surface sums those columns. A set of calls with no priced call has
// no cost (null), never $0: its status says why.

// Cost statuses of a set of calls (Cost.Status).
const (
	// costNone: the set has no finished call.
	costNone = "none"
	// costPriced: every call was priced; USD is what they cost.
	costPriced = sink.CostPriced
	// costPartial: some calls were priced, others were unpriced, reported
	// no usage or were cut: USD is a lower bound.
	costPartial = sink.CostPartial
	// costUnpriced: no call was priced and some used a model without a
	// price: USD is null.
	costUnpriced = sink.CostUnpriced
	// costNoUsage: no call was priced and none reported usage.
	costNoUsage = sink.CostNoUsage
)

// unpricedHint is what to do about a model without a price.
const unpricedHint = "add it to pricing.models in the config (USD per 1M tokens: input, output, cached_input, cache_write), " +
	"or point pricing.file or pricing.url at a newer price table; calls stored before keep their status"

// Cost is what a set of calls cost (API.md "Cost"): USD is null when no
// call of the set was priced.
type Cost struct {
	USD    *float64 `json:"cost_usd"`
	Status string   `json:"cost_status"`
}

// CostCalls counts a set's finished calls by how they were priced. Calls
// stored before pricing existed count as unpriced.
type CostCalls struct {
	Priced   int64 `json:"priced_calls"`
	Partial  int64 `json:"partial_calls"`
	Unpriced int64 `json:"unpriced_calls"`
	NoUsage  int64 `json:"no_usage_calls"`
}

// costSum is a set's cost before it is shown.
type costSum struct {
	usd   float64
	calls CostCalls
}

func (c *costSum) add(o costSum) {
	c.usd += o.usd
	c.calls.Priced += o.calls.Priced
	c.calls.Partial += o.calls.Partial
	c.calls.Unpriced += o.calls.Unpriced
	c.calls.NoUsage += o.calls.NoUsage
}

// cost is the set's cost as shown.
func (c costSum) cost() Cost {
	n := c.calls
	total := n.Priced + n.Partial + n.Unpriced + n.NoUsage
	var out Cost
	switch {
	case total == 0:
		out.Status = costNone
	case n.Priced == total:
		out.Status = costPriced
	case n.Priced+n.Partial > 0:
		out.Status = costPartial
	case n.Unpriced > 0:
		out.Status = costUnpriced
	default:
		out.Status = costNoUsage
	}
	if n.Priced+n.Partial > 0 {
		usd := roundUSD(c.usd)
		out.USD = &usd
	}
	return out
}

// roundUSD drops the float noise of summing (a token costs 1e-8 USD at
// the cheapest rates).
func roundUSD(f float64) float64 { return round(f, 10) }

// costAgg aggregates the cost of a group's finished calls as <p>cost,
// <p>priced, <p>partial, <p>unpriced and <p>no_usage. Only finished calls
// carry a cost_status; a finished call without one was stored before
// pricing existed and counts as unpriced.
func costAgg(p string) string {
	return "sumIf(assumeNotNull(cost_usd), cost_status IN ('priced', 'partial')) AS " + p + "cost, " +
		"countIf(cost_status = 'priced') AS " + p + "priced, countIf(cost_status = 'partial') AS " + p + "partial, " +
		"countIf(name = " + qFinish + " AND cost_status NOT IN ('priced', 'partial', 'no_usage')) AS " + p + "unpriced, " +
		"countIf(cost_status = 'no_usage') AS " + p + "no_usage"
}

// costSums sums the columns of costAgg(inner) as <p>….
func costSums(inner, p string) string {
	var b strings.Builder
	for i, c := range []string{"cost", "priced", "partial", "unpriced", "no_usage"} {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("sum(" + inner + c + ") AS " + p + c)
	}
	return b.String()
}

func readCost(r rec, p string) costSum {
	return costSum{usd: r.float(p + "cost"), calls: CostCalls{Priced: r.int(p + "priced"), Partial: r.int(p + "partial"),
		Unpriced: r.int(p + "unpriced"), NoUsage: r.int(p + "no_usage")}}
}

// callCost is one event's cost: a finished call's stored cost and status
// ("" for other events).
func callCost(name string, usd any, status string) (*float64, string) {
	if name != sink.LLMCallFinish {
		return nil, ""
	}
	switch status {
	case sink.CostPriced, sink.CostPartial:
		if usd == nil {
			return nil, costUnpriced
		}
		f := roundUSD(toFloat(usd))
		return &f, status
	case sink.CostNoUsage:
		return nil, status
	}
	return nil, costUnpriced
}

// ModelsResponse is GET /api/models: the original's shape (models by
// provider, each with its rates in USD per 1M tokens; last_updated is the
// table's date) with Perimeter's extra rates and where the table comes
// from.
type ModelsResponse struct {
	Models      map[string][]ModelPrice `json:"models"`
	LastUpdated string                  `json:"last_updated"`
	Source      string                  `json:"source"`
	InUse       string                  `json:"in_use"`
	Error       string                  `json:"error,omitempty"`
	Fix         string                  `json:"fix,omitempty"`
}

// ModelPrice is one model of /api/models.
type ModelPrice struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Rates
	LongContext *LongContextRate `json:"long_context,omitempty"`
}

// LongContextRate are a model's rates above a prompt size.
type LongContextRate struct {
	AboveInputTokens int64 `json:"above_input_tokens"`
	Rates
}

// Rates are the USD per 1M tokens of each kind (sink/pricing.Price).
type Rates struct {
	Input        float64 `json:"input"`
	Output       float64 `json:"output"`
	CachedInput  float64 `json:"cached_input"`
	CacheWrite   float64 `json:"cache_write"`
	CacheWrite1h float64 `json:"cache_write_1h"`
	Reasoning    float64 `json:"reasoning"`
}

func (s *Server) models() *ModelsResponse {
	st := s.prices.Status()
	out := &ModelsResponse{Models: map[string][]ModelPrice{}, LastUpdated: st.LastUpdated, Source: st.Source, InUse: st.InUse,
		Error: st.Error, Fix: st.Fix}
	for _, m := range s.prices.Models() {
		mp := ModelPrice{ID: m.Name, Name: m.Description, Rates: Rates{Input: m.Input, Output: m.Output, CachedInput: m.CachedInput,
			CacheWrite: m.CacheWrite, CacheWrite1h: m.CacheWrite1h, Reasoning: m.Reasoning}}
		if mp.Name == "" {
			mp.Name = m.Name
		}
		if l := m.LongContext; l != nil {
			mp.LongContext = &LongContextRate{AboveInputTokens: l.AboveInputTokens, Rates: Rates{Input: l.Input, Output: l.Output,
				CachedInput: l.CachedInput, CacheWrite: l.CacheWrite, CacheWrite1h: l.CacheWrite1h, Reasoning: l.Reasoning}}
		}
		out.Models[m.Provider] = append(out.Models[m.Provider], mp)
	}
	return out
}

// CostResponse is GET /api/cost (and MCP get_cost_summary): what the calls
// of a scope cost, in total, per model and per agent, and the models
// without a price.
type CostResponse struct {
	From    Time           `json:"from"`
	To      Time           `json:"to"`
	Filters map[string]any `json:"filters"`
	Cost
	CostCalls
	Calls          int64           `json:"calls"`
	InputTokens    int64           `json:"input_tokens"`
	OutputTokens   int64           `json:"output_tokens"`
	CachedTokens   int64           `json:"cached_tokens"`
	Models         []ModelCost     `json:"models"`
	Agents         []AgentCost     `json:"agents"`
	UnpricedModels []UnpricedModel `json:"unpriced_models"`
	// Hint says what to do about unpriced models, when there are any.
	Hint    string      `json:"hint,omitempty"`
	Pricing PricingInfo `json:"pricing"`
	Envelope
}

// PricingInfo says which price table prices new calls.
type PricingInfo struct {
	Source      string `json:"source"`
	InUse       string `json:"in_use"`
	LastUpdated string `json:"last_updated"`
	Models      int    `json:"models"`
	Overrides   int    `json:"overrides"`
	Error       string `json:"error,omitempty"`
	Fix         string `json:"fix,omitempty"`
}

// ModelCost is one model's calls and cost.
type ModelCost struct {
	Model        string `json:"model"`
	Vendor       string `json:"vendor"`
	Calls        int64  `json:"calls"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	CachedTokens int64  `json:"cached_tokens"`
	Cost
	CostCalls
	// PricedAs is the price table entry that prices this name now (null:
	// none does).
	PricedAs *string `json:"priced_as"`
	sum      costSum
}

// AgentCost is one agent's calls and cost.
type AgentCost struct {
	AgentID      string `json:"agent_id"`
	Calls        int64  `json:"calls"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	Cost
	CostCalls
	sum costSum
}

// UnpricedModel is a model whose calls have no price.
type UnpricedModel struct {
	Model    string `json:"model"`
	Vendor   string `json:"vendor"`
	Calls    int64  `json:"calls"`
	LastSeen Time   `json:"last_seen"`
	// PricedNow says the table in use prices it now (pricing changed
	// since): new calls get a cost, stored ones stay unpriced.
	PricedNow bool   `json:"priced_now"`
	Hint      string `json:"hint"`
}

func emptyCost() *CostResponse {
	return &CostResponse{Filters: map[string]any{}, Cost: Cost{Status: costNone}, Models: []ModelCost{}, Agents: []AgentCost{},
		UnpricedModels: []UnpricedModel{}}
}

// costArgs are /api/cost's filters (shared with MCP).
type costArgs struct {
	agent, workflow string
	from, to        time.Time
	echo            map[string]any
}

func (p params) costArgs() (costArgs, error) {
	var a costArgs
	var err error
	if a.agent, err = p.firstStr("agent_id", "agent"); err != nil {
		return a, err
	}
	if a.workflow, err = p.firstStr("agent_workflow_id", "workflow"); err != nil {
		return a, err
	}
	if a.from, a.to, _, err = p.window(0); err != nil {
		return a, err
	}
	a.echo = map[string]any{"agent_id": nilIfEmpty(a.agent), "agent_workflow_id": nilIfEmpty(a.workflow),
		"from": Time(a.from), "to": Time(a.to)}
	return a, nil
}

func (s *Server) apiCost(ctx context.Context, p params, q *querier) (enveloped, error) {
	a, err := p.costArgs()
	if err != nil {
		return nil, err
	}
	out, err := q.costSummary(ctx, a, s.prices)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// maxCostGroups bounds the (agent, model) pairs /api/cost reads.
const maxCostGroups = 20000

func (q *querier) costSummary(ctx context.Context, a costArgs, p *pricing.Pricer) (*CostResponse, error) {
	out := emptyCost()
	out.From, out.To, out.Filters = Time(a.from), Time(a.to), a.echo
	out.Pricing = pricingInfo(p)
	var c conds
	c.window(a.from, a.to)
	c.eq("agent_id", a.agent)
	c.workflow(q, a.workflow)
	where, args := c.where(), c.args
	res, err := q.run(ctx, `SELECT agent_id AS agent, model AS m, any(vendor) AS v, count() AS calls,
  sum(input_tokens) AS tokens_in, sum(output_tokens) AS tokens_out, sum(cached_tokens) AS tokens_cached,
  `+costAgg("")+`, maxIf(ts_us, cost_status NOT IN ('priced', 'partial', 'no_usage')) AS unpriced_last
FROM `+q.src+` PREWHERE name = `+qFinish+where+`
GROUP BY agent_id, model ORDER BY calls DESC, agent, m LIMIT ?`, append(args, maxCostGroups)...)
	if err != nil {
		return nil, err
	}
	models := map[string]*ModelCost{}
	agents := map[string]*AgentCost{}
	unpriced := map[string]*UnpricedModel{}
	var total costSum
	for i := range res.len() {
		r := res.row(i)
		c := readCost(r, "")
		total.add(c)
		calls, in, o, cached := r.int("calls"), r.int("tokens_in"), r.int("tokens_out"), r.int("tokens_cached")
		out.Calls += calls
		out.InputTokens += in
		out.OutputTokens += o
		out.CachedTokens += cached
		name := r.str("m")
		m := models[name]
		if m == nil {
			m = &ModelCost{Model: name, Vendor: r.str("v")}
			models[name] = m
		}
		m.Calls += calls
		m.InputTokens += in
		m.OutputTokens += o
		m.CachedTokens += cached
		m.sum.add(c)
		ag := agents[r.str("agent")]
		if ag == nil {
			ag = &AgentCost{AgentID: r.str("agent")}
			agents[ag.AgentID] = ag
		}
		ag.Calls += calls
		ag.InputTokens += in
		ag.OutputTokens += o
		ag.sum.add(c)
		if c.calls.Unpriced > 0 {
			u := unpriced[name]
			if u == nil {
				u = &UnpricedModel{Model: name, Vendor: r.str("v"), Hint: unpricedHint}
				unpriced[name] = u
			}
			u.Calls += c.calls.Unpriced
			if t := r.time("unpriced_last"); t.After(time.Time(u.LastSeen)) {
				u.LastSeen = Time(t)
			}
		}
	}
	out.Cost, out.CostCalls = total.cost(), total.calls
	for _, m := range models {
		m.Cost, m.CostCalls = m.sum.cost(), m.sum.calls
		if m.Model != "" {
			if pm, ok := p.Lookup(m.Model); ok {
				name := pm.Name
				m.PricedAs = &name
			}
		}
		out.Models = append(out.Models, *m)
	}
	sort.Slice(out.Models, func(i, j int) bool {
		return costFirst(out.Models[i].sum, out.Models[j].sum, out.Models[i].Model, out.Models[j].Model)
	})
	for _, ag := range agents {
		ag.Cost, ag.CostCalls = ag.sum.cost(), ag.sum.calls
		out.Agents = append(out.Agents, *ag)
	}
	sort.Slice(out.Agents, func(i, j int) bool {
		return costFirst(out.Agents[i].sum, out.Agents[j].sum, out.Agents[i].AgentID, out.Agents[j].AgentID)
	})
	for _, u := range unpriced {
		if u.Model == "" {
			u.Model = "unknown"
		} else if _, ok := p.Lookup(u.Model); ok {
			u.PricedNow = true
		}
		out.UnpricedModels = append(out.UnpricedModels, *u)
	}
	sort.Slice(out.UnpricedModels, func(i, j int) bool {
		a, b := out.UnpricedModels[i], out.UnpricedModels[j]
		if a.Calls != b.Calls {
			return a.Calls > b.Calls
		}
		return a.Model < b.Model
	})
	if len(out.UnpricedModels) > 0 {
		out.Hint = itoa(out.Unpriced) + " call(s) of " + itoa(int64(len(out.UnpricedModels))) +
			" model(s) have no price and are left out of cost_usd: " + unpricedHint
	}
	return out, nil
}

// costFirst orders by cost (priced first, most expensive first), then by
// name.
func costFirst(a, b costSum, an, bn string) bool {
	ap, bp := a.calls.Priced+a.calls.Partial > 0, b.calls.Priced+b.calls.Partial > 0
	if ap != bp {
		return ap
	}
	if a.usd != b.usd {
		return a.usd > b.usd
	}
	return an < bn
}

func pricingInfo(p *pricing.Pricer) PricingInfo {
	st := p.Status()
	return PricingInfo{Source: st.Source, InUse: st.InUse, LastUpdated: st.LastUpdated, Models: st.Models, Overrides: st.Overrides,
		Error: st.Error, Fix: st.Fix}
}

// WorkflowRow is one row of the workflows home (GET /api/agent-workflows):
// the workflow package's summary with what its calls cost.
type WorkflowRow struct {
	*workflow.WorkflowSummary
	Cost
}

// WorkflowRows is GET /api/agent-workflows.
type WorkflowRows struct {
	AgentWorkflows []WorkflowRow `json:"agent_workflows"`
}

// withCosts adds each workflow's cost to the workflows home, from one pass
// over the finished calls.
func (q *querier) withCosts(ctx context.Context, list *workflow.WorkflowList) (*WorkflowRows, error) {
	res, err := q.run(ctx, "SELECT wf, "+costAgg("")+"\nFROM (SELECT name, cost_usd, cost_status, "+workflow.WorkflowExpr+
		" AS wf FROM "+q.src+" PREWHERE name = "+qFinish+")\nGROUP BY wf")
	if err != nil {
		return nil, err
	}
	costs := make(map[string]costSum, res.len())
	for i := range res.len() {
		r := res.row(i)
		costs[r.str("wf")] = readCost(r, "")
	}
	out := &WorkflowRows{AgentWorkflows: make([]WorkflowRow, 0, len(list.AgentWorkflows))}
	for _, w := range list.AgentWorkflows {
		id := ""
		if w.ID != nil {
			id = *w.ID
		}
		out.AgentWorkflows = append(out.AgentWorkflows, WorkflowRow{WorkflowSummary: w, Cost: costs[id].cost()})
	}
	return out, nil
}
