// Package suite is the benchmark itself: the scenarios, and the runner that
// drives every target through every scenario, interleaved, and collects
// the figures into a report.Report. cmd/perimeter-bench wires it to the
// command line. It is benchmark infrastructure: the product never imports
// it.
package suite
