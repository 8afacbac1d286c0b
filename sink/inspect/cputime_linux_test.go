package inspect

import (
	"runtime"
	"syscall"
	"testing"
)

// threadCPU is the CPU time of the calling thread, in nanoseconds.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// loopCPU runs f b.N times on one locked thread and reports its CPU time
// per iteration as cpu-ns/op: on a shared machine wall time counts the
// time other processes held the CPU, CPU time does not.
func loopCPU(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	b.ReportMetric(float64(threadCPU()-start)/float64(n), "cpu-ns/op")
}
