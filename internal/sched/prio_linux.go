package sched

import (
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// LowerThread locks the calling goroutine to its OS thread and puts that
// thread in the batch scheduling class at nice BackgroundNice, with the
// kernel's default slice, so that the pipeline's batcher and writers (and
// edge's capture loop) get a small share of a contended CPU; together with
// ShortenSlices on the proxy's threads, a request that arrives while one
// of them runs is served at once instead of at the end of its slice. The
// goroutine must stay locked until it returns: the runtime then ends the
// thread instead of reusing it at the low priority. Threads the runtime
// starts later come from its template thread, not from this one, so they
// keep the normal priority.
func LowerThread() *ThreadPrio {
	runtime.LockOSThread()
	t := &ThreadPrio{normal: true}
	t.set(false)
	return t
}

// ThreadPrio is the priority of a low-priority worker thread. It goes back
// to normal while the thread's queue fills, so that a saturated machine
// slows requests down a little rather than lose events to a full queue,
// and drops to low again once the backlog is gone.
type ThreadPrio struct{ normal bool }

// Adjust raises the thread back to normal priority while its queue holds
// more than a quarter of capacity, and lowers it again below a sixteenth.
func (t *ThreadPrio) Adjust(depth, capacity int) {
	switch {
	case !t.normal && depth > capacity/4:
		t.set(true)
	case t.normal && depth < capacity/16:
		t.set(false)
	}
}

func (t *ThreadPrio) set(normal bool) {
	if t == nil || t.normal == normal {
		return
	}
	t.normal = normal
	nice := BackgroundNice
	if normal {
		nice = 0
	}
	SetThreadPriority(0, nice)
}

// SetThreadPriority puts thread tid (0: the calling thread) in the batch
// scheduling class at nice with the kernel's default slice, or back in the
// normal class, with the slice ShortenSlices chose, when nice is 0. Where
// sched_setattr is refused only the nice value changes. Best effort: it
// reports whether the thread could be changed at all.
func SetThreadPriority(tid, nice int) bool {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_BATCH, Nice: int32(nice)}
	if nice == 0 {
		attr.Policy = unix.SCHED_NORMAL
		attr.Runtime = uint64(latencySlice.Load())
	}
	if unix.SchedSetAttr(tid, &attr, 0) == nil {
		return true
	}
	return unix.Setpriority(unix.PRIO_PROCESS, tid, nice) == nil
}

var latencySlice atomic.Int64

// ShortenSlices asks for slice d on every thread of this process; threads
// started later inherit it from their creator. Threads SetThreadPriority
// returns to normal priority get it too. Best effort: it reports how many
// threads it could not change.
func ShortenSlices(d time.Duration) (failed int) {
	latencySlice.Store(int64(d))
	return EachThread(func(tid int) bool {
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			return false
		}
		if attr.Policy != unix.SCHED_NORMAL {
			return true // a background thread keeps its slice
		}
		attr.Size, attr.Runtime, attr.Flags = unix.SizeofSchedAttr, uint64(d), 0
		return unix.SchedSetAttr(tid, attr, 0) == nil
	})
}

// EachThread calls fn for every thread of this process and returns how
// many calls failed (-1 when the threads cannot be listed). Threads may
// start while the list is read, so it goes over the list until a pass
// finds nothing new; a thread started after that inherits its creator's
// scheduling attributes.
func EachThread(fn func(tid int) bool) (failed int) {
	seen := map[int]bool{}
	for pass := 0; pass < 5; pass++ {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return -1
		}
		fresh := false
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || seen[tid] {
				continue
			}
			seen[tid], fresh = true, true
			if !fn(tid) {
				failed++
			}
		}
		if !fresh {
			break
		}
	}
	return failed
}
