//go:build !linux

package sched

import "time"

// LowerThread does nothing here: elsewhere the pipeline runs at the
// proxy's priority.
func LowerThread() *ThreadPrio { return nil }

// ThreadPrio is the priority of a low-priority worker thread.
type ThreadPrio struct{}

// Adjust does nothing here.
func (t *ThreadPrio) Adjust(depth, capacity int) {}

// SetThreadPriority does nothing here.
func SetThreadPriority(tid, nice int) bool { return false }

// ShortenSlices does nothing here.
func ShortenSlices(d time.Duration) (failed int) { return 0 }
