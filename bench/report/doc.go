// Package report holds the results of a benchmark run and renders them: a
// JSON document, a Markdown report, SVG charts and a one-screen summary.
// Derive computes what the headline quotes (added latency against direct,
// throughput and CPU ratios against direct and nginx) from the measured
// figures. It is benchmark infrastructure: the product never imports it.
package report
