package chdb

import "syscall"

// sigaction is the kernel's struct sigaction on linux/amd64 and arm64.
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const (
	sigDfl = 0
	sigIgn = 1
)

// signalTable is every signal's disposition at one moment.
type signalTable [numSignals]sigaction

// signalRepair says what guardSignals changed back.
type signalRepair struct {
	Restored []syscall.Signal // handlers the library replaced and that were put back
	OnStack  []syscall.Signal // new library handlers given SA_ONSTACK
}
