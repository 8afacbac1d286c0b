// Package cputime measures the CPU time of a benchmark's own thread. On a
// shared machine wall-clock time also counts the turns other processes
// held the CPU; the calling thread's CPU time does not, so benchmarks that
// must compare two versions on such a machine report it beside ns/op.
// Only tests import it.
package cputime

import (
	"runtime"
	"testing"
)

// Loop runs f until b.Loop ends, on one locked OS thread, and reports the
// thread's CPU time per iteration as cpu-ns/op (where Thread is supported).
func Loop(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := Thread()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if cpu := Thread() - start; cpu > 0 && n > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}
