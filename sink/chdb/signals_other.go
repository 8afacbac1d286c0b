//go:build !linux

package chdb

import "syscall"

type signalTable struct{}

type signalRepair struct {
	Restored []syscall.Signal
	OnStack  []syscall.Signal
}

func snapshotSignals() *signalTable          { return &signalTable{} }
func guardSignals(*signalTable) signalRepair { return signalRepair{} }
