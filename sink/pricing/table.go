package pricing

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Price is what one model costs, in USD per 1M tokens of each kind.
type Price struct {
	Description string
	// Input is an uncached input (prompt) token.
	Input float64
	// Output is an output (completion) token, reasoning included unless
	// Reasoning says otherwise.
	Output float64
	// CachedInput is an input token read from the provider's prompt cache
	// (OpenAI cached_tokens, Anthropic cache_read_input_tokens).
	CachedInput float64
	// CacheWrite is an input token written to the cache (Anthropic
	// cache_creation_input_tokens, 5-minute cache); CacheWrite1h the same
	// for the 1-hour cache.
	CacheWrite, CacheWrite1h float64
	// Reasoning is a reasoning token when a provider bills them apart from
	// other output tokens; equal to Output otherwise.
	Reasoning float64
	// LongContext, when set, replaces the prices above for a call whose
	// input (uncached, cached and cache writes together) exceeds
	// LongContext.AboveInputTokens (Anthropic's 1M-context rates).
	LongContext *LongContext
}

// LongContext is a second set of rates for long prompts.
type LongContext struct {
	AboveInputTokens                                                int64
	Input, Output, CachedInput, CacheWrite, CacheWrite1h, Reasoning float64
}

// entry is one model in the file format (see doc.go). Rates a file leaves
// out take the defaults documented there, hence the pointers.
type entry struct {
	Description string     `json:"description,omitempty"`
	LongContext *longEntry `json:"long_context,omitempty"`
	fileRates
}

type longEntry struct {
	AboveInputTokens int64 `json:"above_input_tokens"`
	fileRates
}

// fileRates are Rates as a file spells them.
type fileRates struct {
	Input        *float64 `json:"input"`
	Output       *float64 `json:"output"`
	CachedInput  *float64 `json:"cached_input,omitempty"`
	CacheWrite   *float64 `json:"cache_write,omitempty"`
	CacheWrite1h *float64 `json:"cache_write_1h,omitempty"`
	Reasoning    *float64 `json:"reasoning,omitempty"`
}

type file struct {
	LastUpdated string                      `json:"last_updated"`
	Models      map[string]map[string]entry `json:"models"`
}

// Rates is a model's rates as a configuration states them; nil means "not
// given" and takes the default documented in doc.go.
type Rates struct {
	Input, Output, CachedInput, CacheWrite, CacheWrite1h, Reasoning *float64
}

// price resolves the defaults: cached reads and cache writes cost what
// an input token costs, a 1-hour write what a 5-minute one does, a
// reasoning token what an output token does.
func (r Rates) price(desc string) (Price, error) {
	if r.Input == nil || r.Output == nil {
		return Price{}, errors.New("input and output are required (USD per 1M tokens; 0 prices the model at zero on purpose)")
	}
	p := Price{Description: desc, Input: *r.Input, Output: *r.Output}
	p.CachedInput = orDefault(r.CachedInput, p.Input)
	p.CacheWrite = orDefault(r.CacheWrite, p.Input)
	p.CacheWrite1h = orDefault(r.CacheWrite1h, p.CacheWrite)
	p.Reasoning = orDefault(r.Reasoning, p.Output)
	for _, v := range [...]float64{p.Input, p.Output, p.CachedInput, p.CacheWrite, p.CacheWrite1h, p.Reasoning} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return Price{}, fmt.Errorf("rates must be finite and not negative, got %v", v)
		}
	}
	return p, nil
}

func orDefault(v *float64, def float64) float64 {
	if v == nil {
		return def
	}
	return *v
}

func (e entry) price() (Price, error) {
	p, err := Rates(e.fileRates).price(e.Description)
	if err != nil || e.LongContext == nil {
		return p, err
	}
	l := e.LongContext
	if l.AboveInputTokens <= 0 {
		return Price{}, errors.New("long_context.above_input_tokens must be more than 0")
	}
	lp, err := Rates(l.fileRates).price("")
	if err != nil {
		return Price{}, fmt.Errorf("long_context: %w", err)
	}
	p.LongContext = &LongContext{AboveInputTokens: l.AboveInputTokens, Input: lp.Input, Output: lp.Output,
		CachedInput: lp.CachedInput, CacheWrite: lp.CacheWrite, CacheWrite1h: lp.CacheWrite1h, Reasoning: lp.Reasoning}
	return p, nil
}

// Model is one priced model of a table.
type Model struct {
	Provider string
	Name     string // lower-case, as looked up
	Price
}

// Table is an immutable price table.
type Table struct {
	LastUpdated string
	models      map[string]Model
	// keys sorted longest first, so the first key found in a name is the
	// longest match.
	keys []string
}

//go:embed prices.json
var builtinJSON []byte

// Builtin returns the table compiled into the binary (prices.json).
func Builtin() *Table {
	t, err := Parse(builtinJSON)
	if err != nil {
		panic("pricing: built-in prices.json: " + err.Error())
	}
	return t
}

// maxFileBytes bounds a price file (the built-in one is about 30 KB).
const maxFileBytes = 4 << 20

// Parse reads a price file (format in doc.go). A model whose rates are
// wrong makes the whole file an error naming it, rather than a table
// with that model silently missing.
func Parse(data []byte) (*Table, error) {
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("price file is %d bytes, more than the %d allowed", len(data), maxFileBytes)
	}
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("price file is not valid JSON of the pricing format: %w", err)
	}
	if len(f.Models) == 0 {
		return nil, errors.New(`price file has no "models": want {"models": {provider: {model: {"input": n, "output": n}}}}`)
	}
	t := &Table{LastUpdated: f.LastUpdated, models: map[string]Model{}}
	providers := make([]string, 0, len(f.Models))
	for p := range f.Models {
		providers = append(providers, p)
	}
	sort.Strings(providers) // a name two providers list goes to the first, always the same one
	for _, prov := range providers {
		for name, e := range f.Models[prov] {
			key := normalize(name)
			if key == "" {
				return nil, fmt.Errorf("models.%s: a model with an empty name", prov)
			}
			p, err := e.price()
			if err != nil {
				return nil, fmt.Errorf("models.%s.%s: %w", prov, name, err)
			}
			if _, dup := t.models[key]; !dup {
				t.models[key] = Model{Provider: prov, Name: key, Price: p}
			}
		}
	}
	t.index()
	return t, nil
}

func (t *Table) index() {
	t.keys = t.keys[:0]
	for k := range t.models {
		t.keys = append(t.keys, k)
	}
	sort.Slice(t.keys, func(i, j int) bool {
		a, b := t.keys[i], t.keys[j]
		if len(a) != len(b) {
			return len(a) > len(b)
		}
		return a < b
	})
}

// WithModels returns a copy of t with models (listed under provider)
// added. A model t already has is replaced, and so is every model of t
// that is a variant of it: one whose name contains it as a whole part (see
// Lookup) at the same price, as dated snapshots and aliases are
// ("gpt-4o-2024-08-06", "gpt-4o-2024-11-20" for "gpt-4o"; not
// "gpt-4o-mini", priced apart). So a negotiated rate for a model covers
// the names calls use for it.
func (t *Table) WithModels(provider string, models map[string]Price) *Table {
	out := &Table{LastUpdated: t.LastUpdated, models: make(map[string]Model, len(t.models)+len(models))}
	for k, m := range t.models {
		out.models[k] = m
	}
	for name, p := range models {
		k := normalize(name)
		if k == "" {
			continue
		}
		if old, ok := t.models[k]; ok {
			for vk, v := range t.models {
				if vk != k && v.Price.same(&old.Price) && containsPart(vk, k) {
					if _, own := models[vk]; !own {
						out.models[vk] = Model{Provider: provider, Name: vk, Price: p}
					}
				}
			}
		}
		out.models[k] = Model{Provider: provider, Name: k, Price: p}
	}
	out.index()
	return out
}

// same reports whether p and o charge the same rates.
func (p *Price) same(o *Price) bool {
	a, b := *p, *o
	a.Description, b.Description = "", ""
	if (a.LongContext == nil) != (b.LongContext == nil) || a.LongContext != nil && *a.LongContext != *b.LongContext {
		return false
	}
	a.LongContext, b.LongContext = nil, nil
	return a == b
}

// Len is the number of models.
func (t *Table) Len() int { return len(t.models) }

// Models returns every model, sorted by provider then name.
func (t *Table) Models() []Model {
	out := make([]Model, 0, len(t.models))
	for _, m := range t.models {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Lookup finds the price of a model as a call names it: the exact name
// (case and surrounding space ignored), else the longest table key that
// appears in the name as a whole part of it, so that dated and routed
// variants ("gpt-4o-mini-2024-07-18", "openai/gpt-4o",
// "anthropic.claude-3-5-haiku-20241022-v1:0", "claude-opus-4-5@20251101")
// find their model. A key is a whole part when the characters around it
// are not letters or digits and it is not followed by ".digit": "gpt-4"
// does not price "gpt-4o", nor "gpt-5" price "gpt-5.1".
func (t *Table) Lookup(model string) (Model, bool) {
	name := normalize(model)
	if name == "" {
		return Model{}, false
	}
	if m, ok := t.models[name]; ok {
		return m, true
	}
	for _, k := range t.keys {
		if len(k) >= len(name) {
			continue // equal length would have been the exact match
		}
		if containsPart(name, k) {
			return t.models[k], true
		}
	}
	return Model{}, false
}

func containsPart(name, key string) bool {
	for from := 0; from+len(key) <= len(name); {
		i := strings.Index(name[from:], key)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(key)
		if (i == 0 || !alnum(name[i-1])) && (end == len(name) || boundaryAfter(name, end)) {
			return true
		}
		from = i + 1
	}
	return false
}

func boundaryAfter(name string, end int) bool {
	c := name[end]
	if alnum(c) {
		return false
	}
	return !(c == '.' && end+1 < len(name) && name[end+1] >= '0' && name[end+1] <= '9')
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'
}

func normalize(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
