package pricing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/sink"
)

// Options configure a Pricer (the config's pricing block).
type Options struct {
	// File or URL, when set, is a price file in the format of doc.go that
	// replaces the built-in table; at most one of them.
	File, URL string
	// Refresh re-reads File or URL this often; 0 reads it once.
	Refresh time.Duration
	// Models are added to the table, replacing what it says of them and
	// of their variants (see Table.WithModels).
	Models map[string]Rates
	// Client fetches URL; default: 30 s timeout.
	Client *http.Client
	Logger zerolog.Logger
}

// Pricer prices captured calls. It holds the table in use (the built-in
// one, or File/URL once read) with the configured models over it, and
// refreshes it in Run. It is safe for concurrent use.
type Pricer struct {
	opts      Options
	overrides map[string]Price // pricing.models
	state     atomic.Pointer[state]

	mu       sync.Mutex
	status   Status
	unpriced map[string]*UnpricedModel
}

// state is one table in use with its lookup cache.
type state struct {
	base  *Table // as read
	table *Table // base with the configured models
	mu    sync.Mutex
	cache map[string]lookupResult
}

type lookupResult struct {
	m  Model
	ok bool
}

// maxCached bounds the lookup cache; names past it are looked up each time.
const maxCached = 4096

// maxUnpriced bounds the unpriced models remembered for Status.
const maxUnpriced = 256

// OverrideProvider is the provider under which configured models are
// listed.
const OverrideProvider = "config"

// Status is what /config shows of pricing.
type Status struct {
	// Source is "built-in", "file" or "url": what the configuration asks for.
	Source   string `json:"source"`
	Location string `json:"location,omitempty"` // file path, or URL without credentials or query
	// InUse is the table prices come from: the configured source once it
	// has been read, "built-in" until then or when it cannot be read.
	InUse       string    `json:"in_use"`
	LastUpdated string    `json:"last_updated"` // the table's own date
	Models      int       `json:"models"`
	Overrides   int       `json:"overrides"` // models from pricing.models
	LoadedAt    time.Time `json:"loaded_at,omitzero"`
	Refresh     string    `json:"refresh_interval,omitempty"`
	// Error says why the configured source is not (or no longer) what is
	// in use, Fix what to do about it.
	Error string `json:"error,omitempty"`
	Fix   string `json:"fix,omitempty"`
	// Unpriced lists the models calls used that have no price (since the
	// process started; the store keeps the full record: cost_status).
	Unpriced []UnpricedModel `json:"unpriced_models"`
}

// UnpricedModel is a model seen without a price.
type UnpricedModel struct {
	Model    string    `json:"model"`
	Calls    int64     `json:"calls"`
	LastSeen time.Time `json:"last_seen"`
}

// New returns a pricer over the built-in table, with File read now (URL is
// fetched by Run). Configured models with wrong rates are an error.
func New(o Options) (*Pricer, error) {
	if o.File != "" && o.URL != "" {
		return nil, errors.New("pricing: set file or url, not both")
	}
	p := &Pricer{opts: o, unpriced: map[string]*UnpricedModel{}}
	if len(o.Models) > 0 {
		prices := make(map[string]Price, len(o.Models))
		for name, r := range o.Models {
			pr, err := r.price("set in pricing.models")
			if err != nil {
				return nil, fmt.Errorf("pricing.models.%s: %w", name, err)
			}
			prices[name] = pr
		}
		p.overrides = prices
	}
	p.status = Status{Source: "built-in", InUse: "built-in", Overrides: len(o.Models)}
	switch {
	case o.File != "":
		p.status.Source, p.status.Location = "file", o.File
	case o.URL != "":
		p.status.Source, p.status.Location = "url", redactURL(o.URL)
	}
	if o.Refresh > 0 && (o.File != "" || o.URL != "") {
		p.status.Refresh = o.Refresh.String()
	}
	p.use(Builtin(), "built-in")
	if o.File != "" {
		p.load(context.Background())
	} else if o.URL != "" {
		p.status.Error = "not fetched yet: the built-in table is used until it is"
	}
	return p, nil
}

// Run fetches URL at once and refreshes File or URL every Refresh until
// ctx ends. It returns at once when there is nothing to refresh.
func (p *Pricer) Run(ctx context.Context) {
	if p.opts.File == "" && p.opts.URL == "" {
		return
	}
	if p.opts.URL != "" {
		p.load(ctx)
	}
	if p.opts.Refresh <= 0 {
		return
	}
	t := time.NewTicker(p.opts.Refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.load(ctx)
		}
	}
}

// load reads the configured source; on failure the table in use stays
// (the built-in one, or the last good read) and Status says why.
func (p *Pricer) load(ctx context.Context) {
	data, err := p.read(ctx)
	var t *Table
	if err == nil {
		t, err = Parse(data)
	}
	p.mu.Lock()
	if err != nil {
		p.status.Error = err.Error()
		if p.status.InUse == "built-in" {
			p.status.Error += "; the built-in table is used instead"
		} else {
			p.status.Error += "; the table read at " + p.status.LoadedAt.Format(time.RFC3339) + " stays in use"
		}
		p.status.Fix = fixFor(p.status.Source)
		p.mu.Unlock()
		p.opts.Logger.Warn().Str("source", p.status.Location).Err(err).Msg("pricing: cannot read the price table")
		return
	}
	p.status.Error, p.status.Fix = "", ""
	p.status.LoadedAt = time.Now().UTC()
	p.mu.Unlock()
	p.use(t, p.status.Source)
	p.opts.Logger.Info().Str("source", p.status.Location).Int("models", t.Len()).Str("last_updated", t.LastUpdated).Msg("pricing: price table loaded")
}

func fixFor(source string) string {
	if source == "file" {
		return "check that pricing.file exists, is readable and holds a price table in the format of the README's Pricing section"
	}
	return "check that pricing.url answers 200 with a price table in the format of the README's Pricing section (or use pricing.file)"
}

func (p *Pricer) read(ctx context.Context) ([]byte, error) {
	if p.opts.File != "" {
		f, err := os.Open(p.opts.File)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.opts.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("pricing.url: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	c := p.opts.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		// The error repeats the URL; show the redacted one.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("fetch %s: %w", redactURL(p.opts.URL), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: HTTP %d", redactURL(p.opts.URL), resp.StatusCode)
	}
	return readLimited(resp.Body)
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err == nil && len(data) > maxFileBytes {
		err = fmt.Errorf("price table larger than %d bytes", maxFileBytes)
	}
	return data, err
}

// redactURL drops credentials and the query, which may hold a token.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment = ""
	return u.String()
}

func (p *Pricer) use(t *Table, inUse string) {
	merged := t
	if len(p.overrides) > 0 {
		merged = t.WithModels(OverrideProvider, p.overrides)
	}
	p.state.Store(&state{base: t, table: merged, cache: map[string]lookupResult{}})
	p.mu.Lock()
	p.status.InUse = inUse
	p.status.LastUpdated = t.LastUpdated
	p.status.Models = t.Len()
	p.mu.Unlock()
}

func (s *state) lookupLocked(model string) (Model, bool) {
	if r, ok := s.cache[model]; ok {
		return r.m, r.ok
	}
	var r lookupResult
	r.m, r.ok = s.table.Lookup(model)
	if len(s.cache) < maxCached {
		s.cache[model] = r
	}
	return r.m, r.ok
}

// Lookup finds a model's price in the table in use with the configured
// models (see Table.Lookup and Table.WithModels).
func (p *Pricer) Lookup(model string) (Model, bool) {
	s := p.state.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookupLocked(model)
}

// Table is the table in use, without the configured models.
func (p *Pricer) Table() *Table { return p.state.Load().base }

// Models lists every priced model, the configured ones (and the variants
// they replaced) under provider OverrideProvider, sorted by provider then
// name.
func (p *Pricer) Models() []Model { return p.state.Load().table.Models() }

// Status is the pricing part of /config.
func (p *Pricer) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.status
	st.Unpriced = make([]UnpricedModel, 0, len(p.unpriced))
	for _, u := range p.unpriced {
		st.Unpriced = append(st.Unpriced, *u)
	}
	sort.Slice(st.Unpriced, func(i, j int) bool {
		a, b := st.Unpriced[i], st.Unpriced[j]
		if a.Calls != b.Calls {
			return a.Calls > b.Calls
		}
		return a.Model < b.Model
	})
	return st
}

// CostOf prices one call: its model's price and the cost of the usage.
func (p *Pricer) CostOf(model string, u Usage) (Breakdown, Model, bool) {
	m, ok := p.Lookup(model)
	if !ok {
		return Breakdown{}, Model{}, false
	}
	return m.Cost(u), m, true
}

// Apply sets CostUSD and CostStatus on every llm.call.finish event of the
// batch (see sink.CostPriced and its siblings) and returns the batch. It
// is the pipeline's Process step (sink.Options.Process): it never blocks
// on I/O.
func (p *Pricer) Apply(batch []*sink.Event) []*sink.Event {
	s := p.state.Load()
	var unpriced []*sink.Event
	s.mu.Lock()
	for _, ev := range batch {
		if ev.Name != sink.LLMCallFinish {
			continue
		}
		m, ok := s.lookupLocked(ev.Model)
		if !ok {
			ev.CostUSD, ev.CostStatus = 0, sink.CostUnpriced
			unpriced = append(unpriced, ev)
			continue
		}
		PriceEvent(ev, &m.Price)
	}
	s.mu.Unlock()
	if len(unpriced) > 0 {
		p.noteUnpriced(unpriced)
	}
	return batch
}

// PriceEvent sets ev's cost from its usage at price pr.
func PriceEvent(ev *sink.Event, pr *Price) {
	if ev.InputTokens == 0 && ev.OutputTokens == 0 && ev.CachedTokens == 0 && ev.CacheWrite == 0 {
		ev.CostUSD, ev.CostStatus = 0, sink.CostNoUsage
		return
	}
	b := pr.Cost(EventUsage(ev))
	ev.CostUSD, ev.CostStatus = b.Total(), sink.CostPriced
	if ev.Cut {
		ev.CostStatus = sink.CostPartial
	}
}

// EventUsage is the usage an event reports, in the shape of its vendor.
func EventUsage(ev *sink.Event) Usage {
	return Usage{
		Input: ev.InputTokens, Output: ev.OutputTokens,
		Cached: ev.CachedTokens, CacheWrite: ev.CacheWrite, CacheWrite1h: ev.CacheWrite1h,
		Reasoning:          ev.ReasoningTokens,
		InputIncludesCache: UsageShape(ev.Vendor),
	}
}

func (p *Pricer) noteUnpriced(evs []*sink.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range evs {
		u := p.unpriced[ev.Model]
		if u == nil {
			if len(p.unpriced) >= maxUnpriced {
				continue
			}
			u = &UnpricedModel{Model: ev.Model}
			p.unpriced[ev.Model] = u
		}
		u.Calls++
		if ev.Time.After(u.LastSeen) {
			u.LastSeen = ev.Time.UTC()
		}
	}
}
