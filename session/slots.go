package session

import (
	"math"
	"sync"
	"sync/atomic"
)

// ringSize is how many fuzzy fingerprints of its latest state a session
// keeps (the tail that fuzzy rule F2 compares).
const ringSize = 16

// evictionSample is how many consecutive slots, from the clock hand on, are
// inspected when the table is full; the least recently used of them is
// evicted. The hand moves one slot per eviction, so it sweeps the table once
// per MaxSessions creations and a fresh session is not looked at again
// before that.
const evictionSample = 16

// handle names one incarnation of a slot: index in the low 32 bits,
// generation in the high 32 bits. A handle whose generation no longer
// matches its slot refers to an evicted or expired session.
type handle uint64

func makeHandle(idx, gen uint32) handle { return handle(uint64(gen)<<32 | uint64(idx)) }
func (h handle) idx() uint32            { return uint32(h) }
func (h handle) gen() uint32            { return uint32(h >> 32) }

// liveState is the state word of a live slot of generation gen.
func liveState(gen uint32) uint64 { return uint64(gen)<<1 | 1 }

// slot holds one session. Every write happens under mu; the atomics let
// candidate scans read without locking.
type slot struct {
	state     atomic.Uint64 // gen<<1 | live
	sig       atomic.Uint64 // exact signature of the latest state
	tail      atomic.Uint64 // fuzzy tail key of the latest state
	last      atomic.Uint64 // fuzzy last key of the latest state
	reply     atomic.Uint64 // anchor of the latest recorded reply
	replied   atomic.Uint64 // exact signature of the state that reply answered
	access    atomic.Int64  // last use, unix nanoseconds
	processed atomic.Int64  // the original's last_processed_index
	span      atomic.Uint64 // the original's last_span_id; 0 = none

	mu       sync.Mutex
	count    int    // messages in the latest state
	nsys     uint64 // fuzzy system fingerprint
	ringN    int
	ring     [ringSize]uint64 // fuzzy fingerprints of the latest state's last messages
	idLen    uint8
	id       [inlineID]byte
	long     []byte // immutable; ids longer than inlineID
	external bool
}

func (s *slot) idBytes() []byte {
	if s.long != nil {
		return s.long
	}
	return s.id[:s.idLen]
}

// setRing replaces the ring with the last ringSize of fps.
func (s *slot) setRing(fps []uint64) {
	if len(fps) > ringSize {
		fps = fps[len(fps)-ringSize:]
	}
	s.ringN = copy(s.ring[:], fps)
}

// pushRing appends fps to the ring, dropping the oldest entries.
func (s *slot) pushRing(fps []uint64) {
	for _, fp := range fps {
		if s.ringN == ringSize {
			copy(s.ring[:], s.ring[1:])
			s.ringN--
		}
		s.ring[s.ringN] = fp
		s.ringN++
	}
}

// slots is the fixed array of sessions, sized by MaxSessions.
type slots struct {
	s     []slot
	fresh atomic.Uint32 // slots never used so far start here
	hand  atomic.Uint32 // clock hand of the eviction sampler
}

// get returns the slot of h when h is still its live incarnation.
func (t *Table) get(h handle) *slot {
	i := h.idx()
	if int(i) >= len(t.slots.s) {
		return nil
	}
	s := &t.slots.s[i]
	if s.state.Load() != liveState(h.gen()) {
		return nil
	}
	return s
}

// expired reports whether a slot last used at access is past the TTL at now.
func (t *Table) expired(access, now int64) bool { return now-access > t.ttl }

// usable reports whether h names a live, unexpired session; lock-free.
func (t *Table) usable(h handle, now int64) *slot {
	s := t.get(h)
	if s == nil || t.expired(s.access.Load(), now) {
		return nil
	}
	return s
}

// lock locks the slot of h and returns it if h is still live and unexpired.
func (t *Table) lock(h handle, now int64) *slot {
	s := t.usable(h, now)
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if s.state.Load() != liveState(h.gen()) || t.expired(s.access.Load(), now) {
		s.mu.Unlock()
		return nil
	}
	return s
}

// alloc claims a slot for a new session and returns it locked, live, with a
// fresh generation and its fields reset. Slots never used are taken first;
// then the clock hand samples evictionSample slots and reclaims the least
// recently used, an expired one if any (expired sessions are older than
// every live one).
func (t *Table) alloc(now int64) (*slot, handle) {
	all := t.slots.s
	for {
		if n := t.slots.fresh.Load(); int(n) < len(all) {
			if !t.slots.fresh.CompareAndSwap(n, n+1) {
				continue
			}
			s := &all[n]
			s.mu.Lock()
			return s, t.renew(s, n, now)
		}
		start := t.slots.hand.Add(1) - 1
		victim := -1
		oldest := int64(math.MaxInt64)
		for k := uint32(0); k < evictionSample; k++ {
			j := int((start + k) % uint32(len(all)))
			if a := all[j].access.Load(); a < oldest || victim < 0 {
				victim, oldest = j, a
			}
		}
		s := &all[victim]
		s.mu.Lock()
		if s.access.Load() != oldest {
			s.mu.Unlock() // used meanwhile; sample again
			continue
		}
		if s.state.Load()&1 == 1 {
			if t.expired(oldest, now) {
				t.stats.expired.Add(1)
			} else {
				t.stats.evicted.Add(1)
			}
		}
		return s, t.renew(s, uint32(victim), now)
	}
}

// renew starts a new incarnation of the locked slot s at index i.
func (t *Table) renew(s *slot, i uint32, now int64) handle {
	gen := uint32(s.state.Load()>>1) + 1
	s.sig.Store(0)
	s.tail.Store(0)
	s.last.Store(0)
	s.reply.Store(0)
	s.replied.Store(0)
	s.processed.Store(0)
	s.span.Store(0)
	s.access.Store(now)
	s.count = 0
	s.nsys = 0
	s.ringN = 0
	s.idLen = 0
	s.long = nil
	s.external = false
	s.state.Store(liveState(gen))
	return makeHandle(i, gen)
}
