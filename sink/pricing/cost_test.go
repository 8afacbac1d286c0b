package pricing

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// Each case's want is worked out by hand from the rates (USD per 1M
// tokens) in the comment.
func TestCostPerUsageShape(t *testing.T) {
	tb := Builtin()
	price := func(name string) Price {
		m, ok := tb.Lookup(name)
		if !ok {
			t.Fatalf("%s not in the built-in table", name)
		}
		return m.Price
	}
	custom := Price{Input: 1, Output: 10, CachedInput: 0.5, CacheWrite: 1, CacheWrite1h: 1, Reasoning: 20}
	for _, tc := range []struct {
		name  string
		price Price
		usage Usage
		want  Breakdown
	}{
		{
			// gpt-4o: input 2.50, cached 1.25, output 10. prompt_tokens 1000
			// include 400 cached: 600 x 2.50 + 400 x 1.25 + 500 x 10.
			"openai cached input", price("gpt-4o"),
			Usage{Input: 1000, Cached: 400, Output: 500, InputIncludesCache: true},
			Breakdown{Input: 0.0015, CachedInput: 0.0005, Output: 0.005},
		},
		{
			// claude-sonnet-4-5: input 3, read 0.30, write 3.75 (5m) / 6
			// (1h), output 15. input_tokens 100 exclude the cache: 100 x 3 +
			// 2000 x 0.30 + 2000 x 3.75 + 1000 x 6 + 200 x 15.
			"anthropic cache reads and 5m/1h writes", price("claude-sonnet-4-5-20250929"),
			Usage{Input: 100, Cached: 2000, CacheWrite: 3000, CacheWrite1h: 1000, Output: 200},
			Breakdown{Input: 0.0003, CachedInput: 0.0006, CacheWrite: 0.0075 + 0.006, Output: 0.003},
		},
		{
			// The same call read as if Anthropic's input included the cache
			// would price 0 uncached tokens: the shape matters.
			"anthropic shape read as openai", price("claude-sonnet-4-5-20250929"),
			Usage{Input: 100, Cached: 2000, CacheWrite: 3000, CacheWrite1h: 1000, Output: 200, InputIncludesCache: true},
			Breakdown{Input: 0, CachedInput: 0.0006, CacheWrite: 0.0075 + 0.006, Output: 0.003},
		},
		{
			// claude-haiku-4-5 writes without the 1-hour split: all at the
			// 5-minute rate 1.25.
			"anthropic 5m writes only", price("claude-haiku-4-5"),
			Usage{Input: 10, CacheWrite: 4000, Output: 20},
			Breakdown{Input: 0.00001, CacheWrite: 0.005, Output: 0.0001},
		},
		{
			// o3: reasoning is billed as output (8): 1000 x 8.
			"openai reasoning billed as output", price("o3-2025-04-16"),
			Usage{Input: 0, Output: 1000, Reasoning: 600, InputIncludesCache: true},
			Breakdown{Output: 0.0032, Reasoning: 0.0048},
		},
		{
			// Reasoning billed apart at 20, other output at 10: 400 x 10 + 600 x 20.
			"reasoning billed apart", custom,
			Usage{Output: 1000, Reasoning: 600, InputIncludesCache: true},
			Breakdown{Output: 0.004, Reasoning: 0.012},
		},
		{
			// claude-sonnet-4-5 past 200k input tokens (150k + 60k read):
			// input 6, read 0.60, output 22.50 for the whole call.
			"anthropic long context", price("claude-sonnet-4-5"),
			Usage{Input: 150000, Cached: 60000, Output: 1000},
			Breakdown{Input: 0.9, CachedInput: 0.036, Output: 0.0225, LongContext: true},
		},
		{
			// Exactly 200k is not past it: 200000 x 3 + 1000 x 15.
			"anthropic at the long-context threshold", price("claude-sonnet-4-5"),
			Usage{Input: 200000, Output: 1000},
			Breakdown{Input: 0.6, Output: 0.015},
		},
		{
			// Inconsistent counts are clamped, never priced negative.
			"clamped", custom,
			Usage{Input: 10, Cached: 50, Output: 5, Reasoning: 9, CacheWrite1h: 3, InputIncludesCache: true},
			Breakdown{CachedInput: 0.000025, Reasoning: 0.0001},
		},
		{
			"self-hosted at zero", Price{},
			Usage{Input: 1e6, Output: 1e6, InputIncludesCache: true},
			Breakdown{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.price.Cost(tc.usage)
			if !near(got.Input, tc.want.Input) || !near(got.CachedInput, tc.want.CachedInput) || !near(got.CacheWrite, tc.want.CacheWrite) ||
				!near(got.Output, tc.want.Output) || !near(got.Reasoning, tc.want.Reasoning) || got.LongContext != tc.want.LongContext {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
			if !near(got.Total(), got.InputTotal()+got.OutputTotal()) {
				t.Fatalf("total %v != input %v + output %v", got.Total(), got.InputTotal(), got.OutputTotal())
			}
		})
	}
}

func TestUsageShape(t *testing.T) {
	if UsageShape("anthropic") || !UsageShape("openai") || !UsageShape("") {
		t.Fatal("only Anthropic reports input without cached tokens")
	}
}
