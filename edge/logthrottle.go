package edge

import (
	"sync/atomic"
	"time"
)

// throttle lets a warning through at most once per interval and counts the
// ones it held back, so that an upstream that is down (every request
// failing) gives one log line a second with a count, not one per request.
type throttle struct {
	interval   time.Duration
	next       atomic.Int64 // unix nanoseconds before which lines are held
	suppressed atomic.Uint64
}

// allow reports whether a line may be logged now and how many were held
// back since the last one that was.
func (t *throttle) allow(now time.Time) (ok bool, held uint64) {
	n := now.UnixNano()
	next := t.next.Load()
	if n < next || !t.next.CompareAndSwap(next, n+int64(t.interval)) {
		t.suppressed.Add(1)
		return false, 0
	}
	return true, t.suppressed.Swap(0)
}
