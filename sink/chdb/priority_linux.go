package chdb

import "github.com/cylestio/perimeter/internal/sched"

// WorkerNice is the CPU priority the worker runs at: the lowest, so that
// analytics yield to traffic whenever both want a CPU.
const WorkerNice = 19

// LowerPriority puts every thread of this process in the batch scheduling
// class at nice WorkerNice. Linux keeps priorities per thread and a new
// thread inherits its creator's, so once every existing thread is lowered,
// so are all that the Go runtime and the engine's pools start later — a
// single setpriority call would only reach the calling thread, and the
// engine's threads started from the others would run at the proxy's
// priority. SCHED_BATCH also means a waking engine thread never preempts a
// running proxy thread, which keeps merges out of the proxy's tail latency.
// Best effort: it reports how many threads it could not lower.
func LowerPriority() (failed int) {
	return sched.EachThread(func(tid int) bool { return sched.SetThreadPriority(tid, WorkerNice) })
}
