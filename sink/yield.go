package sink

import (
	"runtime"
	"time"
)

// PipelineNice is the CPU priority of the threads the pipeline's batcher
// and writers (and edge's capture loop) run on (Linux, batch class):
// request handling comes first whenever both want the CPU; the pipeline
// gets about a tenth of a contended CPU, and all of an idle one. Nice 19
// (1.5 %) was tried: at 1,000 req/s it was no better, and at 5,000 req/s
// on one shared CPU the pipeline fell behind until its queue put it back
// at normal priority, in bursts: p99 12.7 ms against 3.9 ms at nice 10.
const PipelineNice = 10

// YieldEvery is how much CPU a loop of the pipeline may use before it lets
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
