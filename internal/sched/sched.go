package sched

import (
	"context"
	"time"
)

// BackgroundNice is the CPU priority of background threads (the sink
// pipeline's batcher and writers, edge's capture loop) on Linux, in the
// batch class: request handling comes first whenever both want the CPU;
// background work gets about a tenth of a contended CPU, and all of an
// idle one.
const BackgroundNice = 10

// LatencySlice is the scheduling slice the proxy's threads ask for
// (ShortenSlices). Linux (6.6 on) lets a thread that starts running keep
// the CPU for its whole slice, 1.4 ms by default on two CPUs, even when a
// thread of higher priority wakes meanwhile; since 6.12 a waking thread
// with a shorter slice than the running one preempts it. The proxy's
// threads ask for LatencySlice, background ones keep the default, so a
// request never waits behind a background thread's slice.
const LatencySlice = 100 * time.Microsecond

// Sleep waits d, or less when ctx ends first; it reports whether the whole
// d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
