//go:build !linux

package chdb

// WorkerNice is the CPU priority the worker runs at.
const WorkerNice = 19

// LowerPriority does nothing here: the worker runs at the proxy's priority.
func LowerPriority() int { return 0 }
