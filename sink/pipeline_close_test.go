package sink

import (
	"testing"
	"time"
)

// TestCloseCutsBackoffShort: a store that has been down for a while leaves
// its writer in a long backoff (up to BackoffMax) between replay attempts.
// Close must not wait that out: the writer tries once more, spills, stops.
func TestCloseCutsBackoffShort(t *testing.T) {
	o := withSpill(t, testOptions(t), 1<<20)
	o.Attempts = 1
	o.BackoffMin, o.BackoffMax = 20*time.Second, 20*time.Second
	down := downWriter("store")
	p := newTestPipeline(t, o, down)
	publishN(t, p, 0, 50)
	waitFor(t, "a failed replay attempt (the writer now backs off for 20 s)", func() bool {
		m := p.Metrics().Writers[0]
		return m.BacklogBytes > 0 && m.Retries >= 1
	})
	closeSpillsAtOnce(t, p, "the writer's backoff")
}
