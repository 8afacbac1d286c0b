package sched

import (
	"runtime"
	"time"
)

// YieldEvery is how much CPU a background loop may use before it lets
// request handlers run. Go does not preempt a running goroutine for one
// that became ready until ~10 ms have passed, so on a machine with one free
// CPU (or GOMAXPROCS=1) a batch of detection or insert rendering would
// otherwise sit in front of every request that arrives meanwhile — the
// proxy's tail latency.
const YieldEvery = 100 * time.Microsecond

// Yielder gives the CPU away from a long loop about every YieldEvery. The
// zero value is ready; call Tick once per item.
type Yielder struct {
	last time.Time
}

// Tick yields when the loop has run YieldEvery since the last yield. It
// costs a clock read (tens of nanoseconds): call it per item of a few
// microseconds or more.
func (y *Yielder) Tick() {
	now := time.Now()
	if y.last.IsZero() {
		y.last = now
		return
	}
	if now.Sub(y.last) >= YieldEvery {
		runtime.Gosched()
		y.last = time.Now()
	}
}
