package pricing

// Usage is a call's token counts as its provider reported them.
type Usage struct {
	// Input is the input token count as reported: OpenAI prompt_tokens /
	// input_tokens include cached tokens; Anthropic input_tokens exclude
	// cache reads and writes (see InputIncludesCache).
	Input  int64
	Output int64 // reasoning included
	// Cached is input read from the prompt cache; CacheWrite input written
	// to it, of which CacheWrite1h to the 1-hour cache.
	Cached, CacheWrite, CacheWrite1h int64
	// Reasoning is the part of Output spent on reasoning.
	Reasoning int64
	// InputIncludesCache says Input counts cached (and cache-written)
	// tokens too: true for the OpenAI shape, false for Anthropic's.
	InputIncludesCache bool
}

// UsageShape reports whether a vendor's input count includes cached
// tokens: every API shape but Anthropic's does.
func UsageShape(vendor string) (inputIncludesCache bool) { return vendor != "anthropic" }

// Breakdown is a call's cost in USD, by token kind.
type Breakdown struct {
	Input       float64 // uncached input
	CachedInput float64
	CacheWrite  float64 // 5-minute and 1-hour writes
	Output      float64 // output other than reasoning
	Reasoning   float64
	// LongContext says the long-context rates applied.
	LongContext bool
}

// Total is the whole cost.
func (b Breakdown) Total() float64 {
	return b.Input + b.CachedInput + b.CacheWrite + b.Output + b.Reasoning
}

// InputTotal is what the input side cost (uncached, cached, writes): the
// replay panel's "input".
func (b Breakdown) InputTotal() float64 { return b.Input + b.CachedInput + b.CacheWrite }

// OutputTotal is what the output side cost, reasoning included.
func (b Breakdown) OutputTotal() float64 { return b.Output + b.Reasoning }

// Cost prices u at p. Counts the provider got inconsistent (more cached
// than input, more reasoning than output) are clamped rather than priced
// negative.
func (p *Price) Cost(u Usage) Breakdown {
	cached, write := max(u.Cached, 0), max(u.CacheWrite, 0)
	write1h := min(max(u.CacheWrite1h, 0), write)
	uncached := max(u.Input, 0)
	if u.InputIncludesCache {
		uncached = max(uncached-cached-write, 0)
	}
	output := max(u.Output, 0)
	reasoning := min(max(u.Reasoning, 0), output)

	in, out, cr, cw, cw1h, rs := p.Input, p.Output, p.CachedInput, p.CacheWrite, p.CacheWrite1h, p.Reasoning
	var b Breakdown
	if l := p.LongContext; l != nil && uncached+cached+write > l.AboveInputTokens {
		in, out, cr, cw, cw1h, rs = l.Input, l.Output, l.CachedInput, l.CacheWrite, l.CacheWrite1h, l.Reasoning
		b.LongContext = true
	}
	const perToken = 1e-6 // rates are per 1M tokens
	b.Input = float64(uncached) * in * perToken
	b.CachedInput = float64(cached) * cr * perToken
	b.CacheWrite = (float64(write-write1h)*cw + float64(write1h)*cw1h) * perToken
	b.Output = float64(output-reasoning) * out * perToken
	b.Reasoning = float64(reasoning) * rs * perToken
	return b
}
