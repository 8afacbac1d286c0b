package cputime

import (
	"syscall"
	"time"
)

// Thread is the CPU time (user and system) of the calling OS thread; lock
// the goroutine to its thread (runtime.LockOSThread) between two readings.
func Thread() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
