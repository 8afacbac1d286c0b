//go:build !linux

package loadgen

import (
	"context"
	"time"

	"github.com/cylestio/perimeter/internal/sched"
)

// pacer falls back to runtime timers outside Linux (coarser: sleeps may
// end up to a scheduler tick late, which shows as latency).
type pacer struct{}

func newPacer() *pacer { return &pacer{} }

func (p *pacer) sleep(ctx context.Context, d time.Duration) bool { return sched.Sleep(ctx, d) }

func (p *pacer) close() {}
