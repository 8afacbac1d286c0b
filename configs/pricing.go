package configs

import (
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// PricingConfig says how captured calls are priced (sink/pricing). By
// default the price table built into the binary is used.
type PricingConfig struct {
	// File or URL is a price table that replaces the built-in one (the
	// format of the README's Pricing section, a superset of the original's
	// pricing JSON); at most one of them. When it cannot be read the
	// built-in table (or the last good read) stays in use and /config says
	// why.
	File string `yaml:"file"`
	URL  string `yaml:"url"`
	// RefreshInterval re-reads File or URL this often; 0 reads it once at
	// start. Default 24h.
	RefreshInterval Duration `yaml:"refresh_interval"`
	// Models add models to the table or override what it says of them
	// (and of their dated variants priced the same): a self-hosted model at
	// 0 on purpose, a negotiated rate.
	Models ModelPrices `yaml:"models"`
}

// ModelPrices maps model names to their rates.
type ModelPrices map[string]ModelPrice

// ModelPrice is one model's rates in USD per 1M tokens. Input and Output
// are required; the others default to the input rate (cached_input,
// cache_write), to cache_write (cache_write_1h) and to the output rate
// (reasoning).
type ModelPrice struct {
	Input        *float64 `yaml:"input"`
	Output       *float64 `yaml:"output"`
	CachedInput  *float64 `yaml:"cached_input"`
	CacheWrite   *float64 `yaml:"cache_write"`
	CacheWrite1h *float64 `yaml:"cache_write_1h"`
	Reasoning    *float64 `yaml:"reasoning"`
}

// rates lists the fields by YAML key, in the order they are documented.
func (p *ModelPrice) rates() []struct {
	key string
	v   **float64
} {
	return []struct {
		key string
		v   **float64
	}{
		{"input", &p.Input}, {"output", &p.Output}, {"cached_input", &p.CachedInput},
		{"cache_write", &p.CacheWrite}, {"cache_write_1h", &p.CacheWrite1h}, {"reasoning", &p.Reasoning},
	}
}

// UnmarshalYAML reads model: {rate: number} strictly: a misspelt rate
// would silently price the model at a default, so an unknown key is an
// error here, not the warning it is elsewhere.
func (m *ModelPrices) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("expected a mapping of model names to rates (gpt-4o: {input: 2.5, output: 10})")
	}
	out := ModelPrices{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := n.Content[i].Value, n.Content[i+1]
		if _, dup := out[name]; dup {
			return fmt.Errorf("%q is listed twice", name)
		}
		if v.Kind != yaml.MappingNode {
			return fmt.Errorf("%q: expected its rates ({input: 2.5, output: 10}, USD per 1M tokens)", name)
		}
		var p ModelPrice
		rates := p.rates()
	keys:
		for j := 0; j+1 < len(v.Content); j += 2 {
			key, val := v.Content[j].Value, v.Content[j+1]
			for _, r := range rates {
				if r.key != key {
					continue
				}
				if val.Kind != yaml.ScalarNode {
					return fmt.Errorf("%q: %s: expected a number (USD per 1M tokens), got %s", name, key, kindName(val))
				}
				f, err := strconv.ParseFloat(strings.TrimSpace(val.Value), 64)
				if err != nil {
					return fmt.Errorf("%q: %s: expected a number (USD per 1M tokens), got %q", name, key, val.Value)
				}
				*r.v = &f
				continue keys
			}
			known := make([]string, len(rates))
			for k, r := range rates {
				known[k] = r.key
			}
			return fmt.Errorf("%q: unknown rate %q (rates are %s)", name, key, strings.Join(known, ", "))
		}
		out[name] = p
	}
	*m = out
	return nil
}

// DefaultPricingRefresh is how often a configured price file or URL is
// read again.
const DefaultPricingRefresh = 24 * time.Hour

func (c *Config) validatePricing(ps *problems) {
	p := &c.Pricing
	p.File, p.URL = strings.TrimSpace(p.File), strings.TrimSpace(p.URL)
	if p.File != "" && p.URL != "" {
		ps.errorf("pricing.url", "set pricing.file or pricing.url, not both")
	}
	if p.URL != "" {
		if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ps.errorf("pricing.url", "must be an http:// or https:// URL, got %q", redactString(p.URL))
		}
	}
	nonNegative(ps, "pricing.refresh_interval", p.RefreshInterval)
	if p.RefreshInterval > 0 && p.RefreshInterval.D() < time.Minute && (p.File != "" || p.URL != "") {
		ps.warnf("pricing.refresh_interval", "is %s: the price table is read again that often (24h is usual)", p.RefreshInterval)
	}
	names := make([]string, 0, len(p.Models))
	for name := range p.Models {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := keyPath("pricing.models", name)
		if strings.TrimSpace(name) == "" {
			ps.errorf(path, "a model needs a name")
			continue
		}
		mp := p.Models[name]
		for _, r := range mp.rates() {
			switch v := *r.v; {
			case v == nil && (r.key == "input" || r.key == "output"):
				ps.errorf(path+"."+r.key, "required: USD per 1M tokens (0 prices the model at zero on purpose)")
			case v == nil:
			case *v < 0 || math.IsNaN(*v) || math.IsInf(*v, 0):
				ps.errorf(path+"."+r.key, "must be a number of USD per 1M tokens, not negative; got %v", *v)
			}
		}
	}
}
