//go:build !linux

package sink

// Elsewhere the pipeline runs at the proxy's priority.
func lowerThread() *threadPrio { return nil }

type threadPrio struct{}

func (t *threadPrio) adjust(depth, capacity int) {}

// SetThreadPriority does nothing here.
func SetThreadPriority(tid, nice int) bool { return false }
