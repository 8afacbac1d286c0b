package sink

import (
	"runtime"
	"time"
)

// PipelineNice is the CPU priority of the threads the pipeline's batcher
// and writers run on (Linux, batch class): request handling comes first
// whenever both want the CPU; the pipeline gets about 1.5 % of a contended
// CPU (weight 15 against 1024), and all of an idle one. A thread whose
// queue backs up returns to normal priority (ThreadPrio.Adjust), so a busy
// proxy cannot starve it into dropping events. It was 10 until a wake-up
// latency test showed a bursty nice-10 thread still delaying a waking
// request thread's p99 by 0.3 ms, a nice-19 one by none.
const PipelineNice = 19

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
