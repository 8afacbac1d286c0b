// Package pricing prices LLM calls: a price table compiled into the binary
// (prices.json), the configured replacement for it (pricing.file or
// pricing.url, re-read every pricing.refresh_interval) and the configured
// models over it (pricing.models), the cost arithmetic of each provider's
// usage, and Pricer.Apply, the sink pipeline step that sets CostUSD and
// CostStatus on every llm.call.finish event, off the request path.
//
// pricing never touches the proxy, the dashboard or the store; it reads a
// file or one URL, nothing else.
//
// # Price file
//
// The format is the original cylestio-perimeter's pricing JSON, extended
// with optional rates, so each side reads the other's files:
//
//	{
//	  "last_updated": "2025-11-25T00:00:00+00:00",
//	  "models": {
//	    "<provider>": {
//	      "<model>": {
//	        "description": "…",
//	        "input": 3,           // uncached input token   (required)
//	        "output": 15,         // output token           (required)
//	        "cached_input": 0.3,  // cache read             (default: input)
//	        "cache_write": 3.75,  // 5-minute cache write   (default: input)
//	        "cache_write_1h": 6,  // 1-hour cache write     (default: cache_write)
//	        "reasoning": 15,      // reasoning token        (default: output)
//	        "long_context": {"above_input_tokens": 200000, "input": 6, "output": 22.5, …}
//	      }
//	    }
//	  }
//	}
//
// Rates are USD per 1M tokens. long_context, when present, prices the
// whole call at its rates once the call's input (uncached, cached and
// written) passes above_input_tokens. A price of 0 is a price: the model
// costs nothing (self-hosted). Provider names only group models.
//
// # Lookup
//
// A call's model (case and surrounding space ignored) is looked up in
// pricing.models first, then in the table: the exact name, else the
// longest name in it that appears in the call's model as a whole part
// (bounded by non-alphanumerics, and not followed by ".digit"), so
// "gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini" and
// "anthropic.claude-3-5-haiku-20241022-v1:0" find their model while
// "gpt-4" never prices "gpt-4o" nor "gpt-5" "gpt-5.1".
//
// # Cost
//
// OpenAI-shaped usage (every API but Anthropic's) counts cached tokens in
// the input; Anthropic's input_tokens excludes cache reads and writes:
//
//	openai:    (input - cached - written) x input + cached x cached_input + …
//	anthropic:  input x input + cached x cached_input + …
//	both:      + written_5m x cache_write + written_1h x cache_write_1h
//	           + (output - reasoning) x output + reasoning x reasoning
//
// A call is "unpriced" when its model has no price, "no_usage" when it
// reported no usage, "partial" when its stream was cut (the usage it
// reported so far, priced). Only "priced" and "partial" calls have a cost;
// the store keeps NULL for the others, never 0.
package pricing
