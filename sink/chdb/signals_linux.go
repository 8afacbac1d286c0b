package chdb

import (
	"syscall"
	"unsafe"
)

const (
	saOnStack  = 0x08000000
	numSignals = 65
)

func rtSigaction(sig int, act, old *sigaction) syscall.Errno {
	_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	return e
}

func snapshotSignals() *signalTable {
	var t signalTable
	for s := 1; s < numSignals; s++ {
		rtSigaction(s, nil, &t[s])
	}
	return &t
}

// guardSignals compares the dispositions now with before (taken before the
// library loaded) and repairs what the library did:
//   - a signal that had a handler (Go's: SIGINT, SIGTERM, SIGQUIT, SIGSEGV,
//     SIGPROF, SIGURG …) gets it back, so Go keeps graceful shutdown,
//     goroutine dumps, profiling, preemption and nil-pointer panics;
//   - a signal that had none and now has the library's handler keeps it but
//     with SA_ONSTACK, because it may land on a Go thread whose stack is
//     too small for C (the Go runtime requires it of foreign handlers).
func guardSignals(before *signalTable) signalRepair {
	var r signalRepair
	for s := 1; s < numSignals; s++ {
		if s == int(syscall.SIGKILL) || s == int(syscall.SIGSTOP) {
			continue
		}
		var now sigaction
		if rtSigaction(s, nil, &now) != 0 || now == before[s] {
			continue
		}
		was := before[s]
		switch {
		case was.handler != sigDfl && was.handler != sigIgn:
			if rtSigaction(s, &was, nil) == 0 {
				r.Restored = append(r.Restored, syscall.Signal(s))
			}
		case now.handler != sigDfl && now.handler != sigIgn && now.flags&saOnStack == 0:
			now.flags |= saOnStack
			if rtSigaction(s, &now, nil) == 0 {
				r.OnStack = append(r.OnStack, syscall.Signal(s))
			}
		}
	}
	return r
}
