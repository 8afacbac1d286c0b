package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/sink/pricing"
)

// startPricer builds the pricer of the pricing block and starts its
// refresh loop (a configured URL is fetched at once, in the background);
// stop ends the loop and waits for it.
func startPricer(c configs.PricingConfig, log zerolog.Logger) (p *pricing.Pricer, stop func(), err error) {
	o := pricing.Options{
		File: c.File, URL: c.URL, Refresh: c.RefreshInterval.D(),
		Logger: log.With().Str("component", "pricing").Logger(),
	}
	if len(c.Models) > 0 {
		o.Models = make(map[string]pricing.Rates, len(c.Models))
		for name, m := range c.Models {
			o.Models[name] = pricing.Rates{Input: m.Input, Output: m.Output, CachedInput: m.CachedInput,
				CacheWrite: m.CacheWrite, CacheWrite1h: m.CacheWrite1h, Reasoning: m.Reasoning}
		}
	}
	p, err = pricing.New(o)
	if err != nil {
		return nil, nil, err
	}
	st := p.Status()
	ev := log.Info().Str("table", st.InUse).Str("last_updated", st.LastUpdated).Int("models", st.Models).Int("configured", st.Overrides)
	if st.Source != "built-in" {
		ev = ev.Str("source", st.Location)
	}
	ev.Msg("pricing: calls are priced off the request path")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	return p, func() { cancel(); <-done }, nil
}
