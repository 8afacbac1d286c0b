//go:build !linux

package chdb

import "syscall"

// Outside Linux the worker does not inspect signal dispositions (libchdb
// is published for Linux only).

type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const (
	sigDfl     = 0
	sigIgn     = 1
	saOnStack  = 0
	numSignals = 1
)

type signalTable [numSignals]sigaction

type signalRepair struct {
	Restored []syscall.Signal
	OnStack  []syscall.Signal
}

func rtSigaction(int, *sigaction, *sigaction) syscall.Errno { return syscall.ENOSYS }
func snapshotSignals() *signalTable                         { return &signalTable{} }
func guardSignals(*signalTable) signalRepair                { return signalRepair{} }
