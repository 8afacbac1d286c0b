package sink

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// lowerThread locks the calling goroutine to its OS thread and puts that
// thread in the batch scheduling class at nice PipelineNice, so that when
// the pipeline's batcher or a writer is busy (detection, rendering an
// insert) and a request arrives, the kernel switches to the thread that
// serves it at once instead of at the end of a time slice. The goroutine
// must stay locked until it returns: the runtime then ends the thread
// instead of reusing it at the low priority. Threads the runtime starts
// later come from its template thread, not from this one, so they keep the
// normal priority.
func lowerThread() *threadPrio {
	runtime.LockOSThread()
	t := &threadPrio{normal: true}
	t.set(false)
	return t
}

// threadPrio is the priority of a pipeline thread. It goes back to normal
// while the thread's queue fills, so that a saturated machine slows
// requests down a little rather than lose events to a full queue, and
// drops to low again once the backlog is gone.
type threadPrio struct{ normal bool }

func (t *threadPrio) adjust(depth, capacity int) {
	switch {
	case !t.normal && depth > capacity/4:
		t.set(true)
	case t.normal && depth < capacity/16:
		t.set(false)
	}
}

func (t *threadPrio) set(normal bool) {
	if t == nil || t.normal == normal {
		return
	}
	t.normal = normal
	nice := PipelineNice
	if normal {
		nice = 0
	}
	SetThreadPriority(0, nice)
}

// SetThreadPriority puts thread tid (0: the calling thread) in the batch
// scheduling class at nice, or back in the normal class when nice is 0.
// Where sched_setattr is refused only the nice value changes. Best effort:
// it reports whether the thread could be changed at all.
func SetThreadPriority(tid, nice int) bool {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_BATCH, Nice: int32(nice)}
	if nice == 0 {
		attr.Policy = unix.SCHED_NORMAL
	}
	if unix.SchedSetAttr(tid, &attr, 0) == nil {
		return true
	}
	return unix.Setpriority(unix.PRIO_PROCESS, tid, nice) == nil
}
