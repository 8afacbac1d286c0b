package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cylestio/perimeter/internal/defaults"
	"github.com/rs/zerolog"
)

// Kinds of alert.
const (
	KindFinding     = "finding"
	KindSessionRisk = "session_risk"
	KindDecision    = "policy_decision"
	KindLimit       = "limit"
	KindBudget      = "budget_threshold"
	KindErrorRate   = "error_rate"
	KindStoreDown   = "store_down"
	KindStoreUp     = "store_recovered"
)

// Alert is one notification. Its JSON is the webhook body.
type Alert struct {
	ID       string         `json:"id"`
	Kind     string         `json:"kind"`
	Time     time.Time      `json:"time"`
	Severity string         `json:"severity"` // info, low, medium, high, critical
	Title    string         `json:"title"`
	Rule     string         `json:"rule,omitempty"`
	Agent    string         `json:"agent,omitempty"`
	Session  string         `json:"session,omitempty"`
	Details  map[string]any `json:"details,omitempty"`
	// Suppressed is how many alerts of the same key were deduplicated
	// since the last one delivered.
	Suppressed uint64 `json:"suppressed,omitempty"`
}

// key is what deduplication compares.
func (a *Alert) key() string { return a.Kind + "\x00" + a.Rule + "\x00" + a.Agent }

// Destination delivers alerts.
type Destination interface {
	Name() string
	Send(ctx context.Context, a *Alert, body []byte) error
}

// Options configure a Notifier; zero values take the defaults noted.
type Options struct {
	Destinations []Destination
	DedupWindow  time.Duration // default 10m; negative: no deduplication
	MaxPerMinute int           // default 30
	Retries      int           // default 5; negative: none
	Backoff      time.Duration // first retry delay, default 500ms
	QueueSize    int           // default 1024
	Logger       zerolog.Logger
	Now          func() time.Time
}

// Notifier queues, deduplicates, rate-limits and delivers alerts.
type Notifier struct {
	o    Options
	in   chan *Alert
	outs []*worker
	done chan struct{}
	wg   sync.WaitGroup

	received, dropped, deduplicated, rateLimited atomic.Uint64
	closed                                       atomic.Bool
	mu                                           sync.RWMutex // guards sends on in against Close
}

type worker struct {
	d                 Destination
	q                 chan *Alert
	sent, failed      atomic.Uint64
	retries, overflow atomic.Uint64
	lastErr           atomic.Pointer[string]
}

// New starts a Notifier's goroutines; Close stops them.
func New(o Options) *Notifier {
	if o.DedupWindow == 0 {
		o.DedupWindow = 10 * time.Minute
	}
	defaults.Set(&o.MaxPerMinute, 30)
	if o.Retries == 0 {
		o.Retries = 5
	}
	defaults.Set(&o.Backoff, 500*time.Millisecond)
	defaults.Set(&o.QueueSize, 1024)
	if o.Now == nil {
		o.Now = time.Now
	}
	n := &Notifier{o: o, in: make(chan *Alert, o.QueueSize), done: make(chan struct{})}
	for _, d := range o.Destinations {
		w := &worker{d: d, q: make(chan *Alert, o.QueueSize)}
		n.outs = append(n.outs, w)
		n.wg.Add(1)
		go n.deliver(w)
	}
	n.wg.Add(1)
	go n.dispatch()
	return n
}

// Notify queues a; it never blocks. a must not be modified afterwards.
func (n *Notifier) Notify(a *Alert) {
	if n == nil {
		return
	}
	n.received.Add(1)
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed.Load() {
		n.dropped.Add(1)
		return
	}
	select {
	case n.in <- a:
	default:
		n.dropped.Add(1)
	}
}

type dedupEntry struct {
	at         time.Time
	suppressed uint64
}

func (n *Notifier) dispatch() {
	defer n.wg.Done()
	defer func() {
		for _, w := range n.outs {
			close(w.q)
		}
	}()
	seen := map[string]*dedupEntry{}
	var minute int64
	var inMinute int
	for a := range n.in {
		now := n.o.Now()
		if a.Time.IsZero() {
			a.Time = now
		}
		// An alert is recorded for deduplication only once it is accepted
		// for delivery: one dropped by the rate limit must not hold back the
		// next of its key for a whole window.
		k := a.key()
		e := seen[k]
		if n.o.DedupWindow > 0 && e != nil && now.Sub(e.at) < n.o.DedupWindow {
			e.suppressed++
			n.deduplicated.Add(1)
			continue
		}
		if m := now.Unix() / 60; m != minute {
			minute, inMinute = m, 0
		}
		if inMinute >= n.o.MaxPerMinute {
			n.rateLimited.Add(1)
			continue
		}
		inMinute++
		var suppressed uint64
		if n.o.DedupWindow > 0 {
			if e != nil {
				suppressed = e.suppressed
			}
			if len(seen) > 10000 {
				for k, e := range seen {
					if now.Sub(e.at) >= n.o.DedupWindow {
						delete(seen, k)
					}
				}
			}
			seen[k] = &dedupEntry{at: now}
		}
		a.Suppressed = suppressed
		if a.ID == "" {
			a.ID = newID()
		}
		for _, w := range n.outs {
			select {
			case w.q <- a:
			default:
				w.overflow.Add(1)
			}
		}
	}
}

func (n *Notifier) deliver(w *worker) {
	defer n.wg.Done()
	for a := range w.q {
		body, err := json.Marshal(a)
		if err != nil {
			w.fail(err)
			continue
		}
		delay := n.o.Backoff
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = w.d.Send(ctx, a, body)
			cancel()
			if err == nil {
				w.sent.Add(1)
				break
			}
			if attempt >= n.o.Retries || errors.Is(err, errPermanent) {
				w.fail(err)
				n.o.Logger.Warn().Str("destination", w.d.Name()).Str("kind", a.Kind).Err(err).
					Msg("alert not delivered after retries; /metrics counts failed deliveries")
				break
			}
			w.retries.Add(1)
			select {
			case <-time.After(delay):
			case <-n.done:
				// Closing: one last attempt only.
				delay = 0
			}
			delay = min(2*delay, time.Minute)
		}
	}
}

func (w *worker) fail(err error) {
	w.failed.Add(1)
	s := err.Error()
	w.lastErr.Store(&s)
}

// Close stops accepting alerts and waits until the queued ones are
// delivered or ctx ends; retries waiting on their backoff are tried once
// more at once.
func (n *Notifier) Close(ctx context.Context) error {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	if n.closed.Swap(true) {
		n.mu.Unlock()
		return nil
	}
	close(n.in)
	n.mu.Unlock()
	finished := make(chan struct{})
	go func() { n.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		close(n.done)
		return ctx.Err()
	}
}

// Stats returns the counters for /metrics.
func (n *Notifier) Stats() map[string]any {
	dests := make([]map[string]any, 0, len(n.outs))
	for _, w := range n.outs {
		d := map[string]any{"destination": w.d.Name(), "sent": w.sent.Load(), "failed": w.failed.Load(),
			"retries": w.retries.Load(), "queue_overflow": w.overflow.Load(), "queued": len(w.q)}
		if e := w.lastErr.Load(); e != nil {
			d["last_error"] = *e
		}
		dests = append(dests, d)
	}
	return map[string]any{"received": n.received.Load(), "dropped": n.dropped.Load(), "deduplicated": n.deduplicated.Load(),
		"rate_limited": n.rateLimited.Load(), "destinations": dests}
}

// Delivered and Failed sum the deliveries of every destination.
func (n *Notifier) Delivered() (sent, failed uint64) {
	for _, w := range n.outs {
		sent += w.sent.Load()
		failed += w.failed.Load()
	}
	return sent, failed
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
