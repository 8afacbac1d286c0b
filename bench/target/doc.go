// Package target starts and stops the processes a benchmark measures: the
// mock upstream (bench/cmd/mockllm), Perimeter (cmd/perimeter) and nginx as
// a plain reverse proxy, each as its own process under the CPU pinning
// plan, with configs and logs in a work directory. It is benchmark
// infrastructure: the product never imports it.
//
// A Spec names one target. Targets other than the built-in three are added
// by configuration: a Perimeter Spec with a ConfigFile (for instance one that
// turns on capture into the embedded engine or a ClickHouse server) and the
// /metrics paths that count its captured and dropped events.
package target
