package capture

import "time"

// Flush makes the loop capture the calls queued now, at once rather than
// at its next poll, and waits until it has, at most wait, and not at all
// once blocked reports true. It reports whether they were captured.
//
// Session lookups from peer instances call it before they answer
// (session/peer): a conversation's next turn, sent to another instance as
// soon as this one answered, must find its session here even though the
// loop had not polled yet. blocked says the loop itself waits on a peer
// (perhaps the one asking, which would wait on it in turn).
func (c *Capture) Flush(wait time.Duration, blocked func() bool) bool {
	if c == nil || c.q.queue == nil {
		return true
	}
	target := c.q.queued.Load()
	if c.q.captured.Load() >= target {
		return true
	}
	c.signal()
	deadline := time.Now().Add(wait)
	for c.q.captured.Load() < target {
		if time.Now().After(deadline) || blocked() {
			return false
		}
		time.Sleep(100 * time.Microsecond)
	}
	return true
}
