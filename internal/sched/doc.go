// Package sched keeps background work out of the proxy's way on a shared
// CPU: the OS-thread priorities and scheduling slices of the proxy's and
// the pipeline's threads, a Yielder for long loops, and a Sleep that ends
// with its context.
//
// It promises:
//   - LowerThread locks the calling goroutine to its thread and runs that
//     thread alone in the batch class at BackgroundNice (Linux); threads
//     the runtime starts later keep the normal priority. ThreadPrio.Adjust
//     raises it back to normal while its queue is over a quarter full.
//   - ShortenSlices asks for LatencySlice on every thread of the process
//     (Linux 6.12+; older kernels ignore it), so that a thread waking to
//     serve a request preempts a background one at once.
//   - SetThreadPriority and EachThread change any thread of the process,
//     best effort, and report what they could not do; they never fail the
//     caller.
//   - Yielder.Tick gives the CPU to other goroutines about every
//     YieldEvery of a loop's work, for a clock read per call.
//   - Sleep waits a duration unless its context ends first.
//
// Elsewhere than Linux the priority functions do nothing. The reasons for
// the numbers (nice 10, 100 µs) are in docs/pipeline.md.
package sched
