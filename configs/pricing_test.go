package configs

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const pricingBase = "llm: {base_url: https://api.openai.com, type: openai}\n"

func TestPricingConfig(t *testing.T) {
	c, ps, err := Parse([]byte(pricingBase+`pricing:
  url: https://prices.example.com/latest.json?token=hunter2
  refresh_interval: 6h
  models:
    llama-3.1-70b: {input: 0, output: 0}
    gpt-4o:
      input: 2
      output: "8"
      cached_input: 1
      cache_write_1h: 4
`), nil)
	if err != nil || len(ps) != 0 {
		t.Fatalf("%v %v", ps, err)
	}
	if vs := c.Validate(); len(vs) != 0 {
		t.Fatalf("problems: %v", vs)
	}
	p := c.Pricing
	if p.URL != "https://prices.example.com/latest.json?token=hunter2" || p.RefreshInterval.D() != 6*time.Hour || len(p.Models) != 2 {
		t.Fatalf("%+v", p)
	}
	g := p.Models["gpt-4o"]
	if *g.Input != 2 || *g.Output != 8 || *g.CachedInput != 1 || g.CacheWrite != nil || *g.CacheWrite1h != 4 || g.Reasoning != nil {
		t.Fatalf("gpt-4o %+v", g)
	}
	if l := p.Models["llama-3.1-70b"]; l.Input == nil || *l.Input != 0 || *l.Output != 0 {
		t.Fatalf("a zero price must be kept as a price: %+v", l)
	}
	red, _ := json.Marshal(c.Redacted()["pricing"])
	if strings.Contains(string(red), "hunter2") {
		t.Fatalf("/config shows the URL's token: %s", red)
	}

	d := Default()
	if d.Pricing.RefreshInterval.D() != DefaultPricingRefresh || d.Pricing.File != "" || d.Pricing.URL != "" {
		t.Fatalf("default %+v", d.Pricing)
	}
}

func TestPricingProblems(t *testing.T) {
	c, _, err := Parse([]byte(pricingBase+`pricing:
  file: ./prices.json
  url: ftp://prices.example.com/latest.json
  refresh_interval: 10s
  models:
    free-model: {output: 0}
    bad-model: {input: -1, output: 1, reasoning: -2}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.Validate() {
		kind := "error"
		if p.Warning {
			kind = "warning"
		}
		got = append(got, kind+" "+p.Path+": "+p.Message)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"error pricing.url: set pricing.file or pricing.url, not both",
		"error pricing.url: must be an http:// or https:// URL",
		"warning pricing.refresh_interval: is 10s",
		"error pricing.models.free-model.input: required",
		"error pricing.models.bad-model.input: must be a number of USD per 1M tokens, not negative; got -1",
		"error pricing.models.bad-model.reasoning: must be a number",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
	for _, p := range c.Validate() {
		if p.Path == "pricing.models.bad-model.reasoning" && p.Line != 8 {
			t.Errorf("%s: line %d, want 8 (the model's)", p.Path, p.Line)
		}
	}
	if strings.Contains(all, "free-model.output") {
		t.Errorf("output: 0 is a price, not a missing one:\n%s", all)
	}
}

// A misspelt or mistyped rate fails the load, naming the model and key,
// instead of silently pricing at a default.
func TestPricingModelsStrict(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"    m: {inptu: 1, output: 2}", `"m": unknown rate "inptu" (rates are input, output, cached_input, cache_write, cache_write_1h, reasoning)`},
		{"    m: {input: cheap, output: 2}", `"m": input: expected a number (USD per 1M tokens), got "cheap"`},
		{"    m: 3", `"m": expected its rates`},
		{"    m: {input: [1], output: 2}", `"m": input: expected a number (USD per 1M tokens), got a list`},
	} {
		_, _, err := Parse([]byte(pricingBase+"pricing:\n  models:\n"+tc.yaml+"\n"), nil)
		var le *LoadError
		if !errors.As(err, &le) || len(le.Problems) != 1 || le.Problems[0].Path != "pricing.models" || !strings.Contains(le.Problems[0].Message, tc.want) || le.Problems[0].Line != 4 {
			t.Errorf("%s: %v, want pricing.models (line 4, the model's): %s", tc.yaml, err, tc.want)
		}
	}
}
