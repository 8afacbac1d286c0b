// Package prom renders Perimeter's Prometheus series (text exposition
// format 0.0.4) from what the pipeline sees: Traffic is a sink.Writer that
// counts calls, errors, durations, tokens, cost and findings from the
// events after pricing and detection; Exposition writes samples for the
// other sources (sessions, sink queues, stores, exporter, guard) that
// cmd/perimeter appends to edge's own counters at /metrics/prometheus.
//
// Nothing here runs on the request path: Traffic counts on a pipeline
// goroutine, a scrape renders under the same mutex.
//
// # Cardinality
//
// Every label set is bounded whatever the traffic. provider is the
// vendor (openai, anthropic). model is the request's model; the first
// MaxModels distinct models get their own value, later ones "other".
// agent is capped to MaxAgents values: an agent gets its own value once
// it has made AdmitCalls calls (counted in a space-saving table of
// 16×MaxAgents candidates, only while it is in the table) while a slot is
// free, so the busiest agents take the slots and thousands of one-off
// agent ids all count under agent="other"; the slots are kept until the
// process restarts. Counters never move between label values (a series only
// grows, as Prometheus requires): an agent's calls before its admission
// stay in "other". Finding series are by category and severity only,
// error series by provider and error type (the proxy's and the providers'
// own type names, capped like models).
package prom
