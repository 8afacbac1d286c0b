package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// hub tells live clients (GET /api/events/stream) to refetch. Changes come
// from two places: Notify, which the wiring calls after every batch the
// store accepted, and a poll of the table's row count and newest event
// (cheap: no FINAL, no attributes) while anyone listens, for events another
// writer stored. Ticks are coalesced to at most one per minGap; a client
// that falls behind misses nothing it needs, since every tick means
// "refetch".
type hub struct {
	s    *Server
	kick chan struct{}

	mu    sync.Mutex
	subs  map[chan liveMsg]struct{}
	count int64
	last  int64 // newest ts_us seen
	avail bool
	known bool
}

type liveMsg struct {
	event string
	data  []byte
}

// minGap is the shortest time between two change ticks.
const minGap = 500 * time.Millisecond

func newHub(s *Server) *hub {
	return &hub{s: s, kick: make(chan struct{}, 1), subs: map[chan liveMsg]struct{}{}}
}

func (h *hub) notify() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

func (h *hub) listeners() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// run is the hub's one goroutine; it ends with ctx.
func (h *hub) run(ctx context.Context) {
	poll := time.NewTicker(h.s.opts.PollInterval)
	defer poll.Stop()
	var (
		lastSent time.Time
		pending  string
		timer    *time.Timer
		fire     <-chan time.Time
	)
	send := func(reason string) {
		if wait := minGap - time.Since(lastSent); wait > 0 {
			if pending == "" {
				timer = time.NewTimer(wait)
				fire = timer.C
			}
			pending = reason
			return
		}
		lastSent = time.Now()
		h.broadcast(ctx, reason)
	}
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-h.kick:
			if h.listeners() > 0 {
				send("write")
			}
		case <-fire:
			reason := pending
			fire, pending = nil, ""
			lastSent = time.Now()
			h.broadcast(ctx, reason)
		case <-poll.C:
			if h.listeners() == 0 {
				continue
			}
			if changed, storage := h.check(ctx); storage != nil {
				h.publish(liveMsg{event: "storage", data: storage})
			} else if changed {
				send("poll")
			}
		}
	}
}

// check polls the store: changed when rows were added, storage when its
// availability flipped (the new Status, JSON).
func (h *hub) check(ctx context.Context) (changed bool, storage []byte) {
	st := h.s.status()
	count, last := h.probe(ctx, st)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.known && st.Available != h.avail {
		storage, _ = json.Marshal(st)
	}
	changed = h.known && (count != h.count || last != h.last)
	h.known, h.avail, h.count, h.last = true, st.Available, count, last
	return changed, storage
}

// probe reads the row count and the newest event's time.
func (h *hub) probe(ctx context.Context, st sink.Status) (count, last int64) {
	if h.s.opts.Store == nil || !st.Available {
		return 0, 0
	}
	rows, err := h.s.opts.Store.Query(queryContext(ctx), "SELECT count() AS n, max(ts_us) AS m FROM "+h.s.opts.Schema.Table(sink.EventsTable))
	if err != nil || len(rows.Data) == 0 || len(rows.Data[0]) < 2 {
		return 0, 0
	}
	return toInt(rows.Data[0][0]), toInt(rows.Data[0][1])
}

func (h *hub) broadcast(ctx context.Context, reason string) {
	_, _ = h.check(ctx) // refresh the newest time; the caller already decided to tick
	h.mu.Lock()
	last := h.last
	h.mu.Unlock()
	data, _ := json.Marshal(map[string]any{"reason": reason, "last_event_at": Time(fromMicros(last)), "at": Time(h.s.opts.Now())})
	h.publish(liveMsg{event: "change", data: data})
}

func (h *hub) publish(m liveMsg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- m:
		default: // a slow client: it will refetch on the next tick anyway
		}
	}
}

// serve is GET /api/events/stream.
func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "streaming unsupported"})
		return
	}
	c := make(chan liveMsg, 8)
	h.mu.Lock()
	h.subs[c] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.subs, c)
		h.mu.Unlock()
	}()

	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	st := h.s.status()
	_, last := h.probe(r.Context(), st)
	hello, _ := json.Marshal(map[string]any{"storage": st, "last_event_at": Time(fromMicros(last)),
		"refresh_interval": h.s.opts.RefreshInterval.Seconds()})
	if !writeEvent(w, fl, liveMsg{event: "hello", data: hello}) {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case m := <-c:
			if !writeEvent(w, fl, m) {
				return
			}
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

func writeEvent(w http.ResponseWriter, fl http.Flusher, m liveMsg) bool {
	buf := make([]byte, 0, len(m.data)+32)
	buf = append(buf, "event: "...)
	buf = append(buf, m.event...)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, m.data...)
	buf = append(buf, "\n\n"...)
	if _, err := w.Write(buf); err != nil {
		return false
	}
	fl.Flush()
	return true
}
