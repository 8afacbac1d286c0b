package pricing

import (
	"strings"
	"testing"
)

func TestBuiltinTable(t *testing.T) {
	tb := Builtin()
	if tb.Len() < 100 || tb.LastUpdated == "" {
		t.Fatalf("%d models, last_updated %q", tb.Len(), tb.LastUpdated)
	}
	for _, m := range tb.Models() {
		p := m.Price
		if p.Input <= 0 && !strings.HasPrefix(m.Name, "text-embedding") || p.CachedInput > p.Input {
			t.Errorf("%s: input %v cached %v", m.Name, p.Input, p.CachedInput)
		}
		if m.Provider == "anthropic" {
			// Anthropic bills cache reads at a tenth of input or so, 5-minute
			// writes at 1.25x and 1-hour writes at 2x.
			if p.CachedInput >= p.Input || p.CacheWrite <= p.Input || p.CacheWrite1h != 2*p.Input {
				t.Errorf("%s: cache rates %+v", m.Name, p)
			}
		}
		if p.Reasoning != p.Output {
			t.Errorf("%s: reasoning %v billed apart from output %v", m.Name, p.Reasoning, p.Output)
		}
	}
}

func TestLookup(t *testing.T) {
	tb := Builtin()
	for _, tc := range []struct {
		name string
		want string // key found; "" for none
	}{
		{"gpt-4o", "gpt-4o"},
		{"  GPT-4o-Mini ", "gpt-4o-mini"},
		{"gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18"},
		{"gpt-4o-mini-2099-01-01", "gpt-4o-mini"}, // a dated variant the table lacks: the longest key in it
		{"gpt-4o-2024-05-13", "gpt-4o-2024-05-13"},
		{"gpt-4o-2099-01-01", "gpt-4o"},
		{"openai/gpt-4.1-mini", "gpt-4.1-mini"},
		{"ft:gpt-4o-mini-2024-07-18:acme::abc123", "gpt-4o-mini-2024-07-18"},
		{"gpt-4-0613", "gpt-4-0613"},
		{"gpt-4o-foo", "gpt-4o"},
		{"gpt-4x", ""},  // "gpt-4" is not a whole part of it
		{"gpt-5.9", ""}, // nor is "gpt-5" of a newer point release
		{"gpt-5.1-2099", "gpt-5.1"},
		{"o3-mini-high", "o3-mini"},
		{"o1", "o1"},
		{"claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"},
		{"claude-sonnet-4-5", "claude-sonnet-4-5"},
		{"claude-sonnet-4-5-20991231", "claude-sonnet-4-5"},
		{"claude-opus-4-5@20251101", "claude-opus-4-5"},
		{"anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku-20241022"},
		{"us.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet-20250219"},
		{"claude-3-haiku-20240307", "claude-3-haiku-20240307"},
		{"llama-3.1-70b", ""},
		{"", ""},
		{"4o", ""},
	} {
		m, ok := tb.Lookup(tc.name)
		if got := m.Name; ok != (tc.want != "") || got != tc.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

// The original's file (description, input, output per model) reads as is:
// cache reads and writes default to the input rate, reasoning to output.
func TestParseOriginalFormat(t *testing.T) {
	tb, err := Parse([]byte(`{"last_updated": "2025-11-20T10:08:19+00:00", "models": {
		"openai": {"gpt-4o": {"description": "GPT-4o", "input": 2.5, "output": 10}},
		"anthropic": {"claude-3-haiku-20240307": {"description": "Claude 3 Haiku", "input": 0.25, "output": 1.25}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := tb.Lookup("gpt-4o-2024-08-06")
	if !ok || m.Provider != "openai" || m.Description != "GPT-4o" {
		t.Fatalf("%+v %v", m, ok)
	}
	if want := (Price{Description: "GPT-4o", Input: 2.5, Output: 10, CachedInput: 2.5, CacheWrite: 2.5, CacheWrite1h: 2.5, Reasoning: 10}); m.Price != want {
		t.Fatalf("defaults: %+v, want %+v", m.Price, want)
	}
	if tb.LastUpdated != "2025-11-20T10:08:19+00:00" || tb.Len() != 2 {
		t.Fatalf("%q %d", tb.LastUpdated, tb.Len())
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`not json`, "not valid JSON"},
		{`{"models": {}}`, `has no "models"`},
		{`{"models": {"x": {"m": {"input": 1}}}}`, "models.x.m: input and output are required"},
		{`{"models": {"x": {"m": {"input": 1, "output": -2}}}}`, "models.x.m: rates must be finite and not negative"},
		{`{"models": {"x": {"m": {"input": 1, "output": 2, "long_context": {"input": 1, "output": 1}}}}}`, "above_input_tokens must be more than 0"},
		{`{"models": {"x": {" ": {"input": 1, "output": 2}}}}`, "empty name"},
		{`{"models": {"x": {"m": {"input": "1", "output": 2}}}}`, "not valid JSON"},
	} {
		_, err := Parse([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(builtinJSON)
	f.Add([]byte(`{"models":{"a":{"b":{"input":1,"output":2,"long_context":{"above_input_tokens":5,"input":3,"output":4}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := Parse(data)
		if err != nil {
			return
		}
		for _, m := range tb.Models() {
			p := m.Price
			for _, v := range []float64{p.Input, p.Output, p.CachedInput, p.CacheWrite, p.CacheWrite1h, p.Reasoning} {
				if v < 0 || v != v {
					t.Fatalf("%s: rate %v", m.Name, v)
				}
			}
			if got, ok := tb.Lookup(m.Name); !ok || got.Name != m.Name {
				t.Fatalf("%q does not find itself: %q", m.Name, got.Name)
			}
		}
	})
}
