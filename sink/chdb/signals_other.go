//go:build !linux

package chdb

import "syscall"

// Outside Linux the worker does not inspect signal dispositions (libchdb
// is published for Linux only).

const (
	saOnStack  = 0
	numSignals = 1
)

func rtSigaction(int, *sigaction, *sigaction) syscall.Errno { return syscall.ENOSYS }
func snapshotSignals() *signalTable                         { return &signalTable{} }
func guardSignals(*signalTable) signalRepair                { return signalRepair{} }
