package sink

import "sync"

// Recorder keeps every published event in memory, for tests and replay
// checks. It is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []*Event
}

// Publish records ev.
func (r *Recorder) Publish(ev *Event) bool {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	return true
}

// Events returns the recorded events in publish order.
func (r *Recorder) Events() []*Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Event(nil), r.events...)
}

// BySession returns the recorded events of one session in publish order.
func (r *Recorder) BySession(id string) []*Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Event
	for _, e := range r.events {
		if e.SessionID == id {
			out = append(out, e)
		}
	}
	return out
}

// Reset forgets every recorded event.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.events = nil
	r.mu.Unlock()
}
