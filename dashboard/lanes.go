package dashboard

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cylestio/perimeter/internal/defaults"
)

// A lane bounds one kind of request: at most concurrency run at once and
// at most queue wait for a turn, each for at most wait; beyond that the
// request is refused with a 503 at once instead of piling up. The
// dashboard's pages and its SQL explorer (POST /api/sql, MCP query_sql)
// have a lane each, so that explorer queries, however heavy or many, queue
// behind each other and never in front of a page.
type lane struct {
	name   string
	slots  chan struct{}
	queue  int64
	queued atomic.Int64
	wait   time.Duration
	retry  time.Duration // the Retry-After of a refusal
}

// LaneLimits bound one lane (Options.DashboardLane, Options.ExplorerLane).
type LaneLimits struct {
	// Concurrency is how many requests run at once.
	Concurrency int
	// Queue is how many more may wait for a turn; a request beyond it is
	// answered 503 at once.
	Queue int
	// Wait is how long a queued request waits before it is answered 503.
	Wait time.Duration
}

func (l *LaneLimits) defaults(concurrency, queue int, wait time.Duration) {
	defaults.Set(&l.Concurrency, concurrency)
	if l.Queue < 0 {
		l.Queue = 0
	} else if l.Queue == 0 {
		l.Queue = queue
	}
	defaults.Set(&l.Wait, wait)
}

func newLane(name string, lim LaneLimits, retry time.Duration) *lane {
	return &lane{name: name, slots: make(chan struct{}, lim.Concurrency), queue: int64(lim.Queue), wait: lim.Wait, retry: retry}
}

// acquire takes a turn on the lane, waiting in its queue while every slot
// is taken, and returns the function that gives it back (safe to call more
// than once). A full queue, a wait past the lane's limit or the end of ctx
// is a busy error.
func (l *lane) acquire(ctx context.Context) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
		return l.releaser(), nil
	default:
	}
	if l.queued.Add(1) > l.queue {
		l.queued.Add(-1)
		return nil, l.busy(strconv.Itoa(cap(l.slots)) + " running and " + strconv.FormatInt(l.queue, 10) + " waiting")
	}
	defer l.queued.Add(-1)
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return l.releaser(), nil
	case <-t.C:
		return nil, l.busy("waited " + l.wait.String() + " for a turn")
	case <-ctx.Done():
		return nil, l.busy("the request ended while waiting")
	}
}

func (l *lane) releaser() func() {
	var once sync.Once
	return func() { once.Do(func() { <-l.slots }) }
}

func (l *lane) busy(why string) error {
	return &apiError{status: http.StatusServiceUnavailable, retryAfter: l.retry,
		msg: "too many " + l.name + " requests at once (" + why + "): retry in a few seconds"}
}

// budget is a global allowance of bytes, shared by every request that
// holds some: the explorer's results between the engine and the client.
type budget struct {
	mu   sync.Mutex
	used int64
	max  int64
}

// take reserves n bytes, or reports false when that would pass the
// allowance.
func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
