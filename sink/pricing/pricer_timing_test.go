package pricing

import (
	"testing"

	"github.com/cylestio/perimeter/sink"
)

// BenchmarkApply prices a batch of 1,000 finished calls across a few
// models (exact names, dated and routed variants, one unpriced), as the
// pipeline does per batch.
func BenchmarkApply(b *testing.B) {
	p, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	models := []string{"gpt-4o-mini", "gpt-4o-2024-08-06", "openai/gpt-4.1", "claude-sonnet-4-5-20250929", "anthropic.claude-3-5-haiku-20241022-v1:0", "my-model"}
	batch := make([]*sink.Event, 1000)
	for i := range batch {
		batch[i] = &sink.Event{Name: sink.LLMCallFinish, Model: models[i%len(models)], Vendor: "openai", InputTokens: 1200, OutputTokens: 300, CachedTokens: 200}
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Apply(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
}

// BenchmarkLookupUncached is a lookup that misses the exact names: the
// longest-match scan the cache saves.
func BenchmarkLookupUncached(b *testing.B) {
	t := Builtin()
	for b.Loop() {
		if _, ok := t.Lookup("us.anthropic.claude-3-7-sonnet-20250219-v1:0"); !ok {
			b.Fatal("not found")
		}
	}
}
