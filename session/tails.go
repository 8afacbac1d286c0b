package session

import "sync/atomic"

// tails is the tail index of fuzzy rule F2: tail or last key → the
// session at that tail, when only one live session sits there. It is
// written by every request, so it is not in freecache (a Set costs a few
// cache misses) but an array of four-entry buckets (a cache line), eight entries per
// session slot (two keys per state). A new key takes an empty entry of its
// bucket, else one whose session has moved on from the key it holds, else
// one of the two, so that the keys of live states stay put while the
// index is far from full. An entry is two atomics guarded like a seqlock:
// the key is cleared before the handle changes and set after, and a reader
// that sees the key change under it reports a miss. A stale or overwritten
// entry only costs a candidate, which F2 verifies anyway; a lost ambiguity
// mark (two sessions reaching one tail at the same instant) costs no more
// than the mark's absence did before it.
type tails struct {
	e    []tailEntry
	mask uint64
}

type tailEntry struct {
	key atomic.Uint64
	h   atomic.Uint64
}

// tailsPerSlot sizes the tail index: two keys per session state.
const tailsPerSlot = 8

func (x *tails) init(slots int) {
	n := tailsLen(slots)
	x.e = make([]tailEntry, n)
	x.mask = n - 1
}

// tailsLen is the tail index's entries for slots sessions: a power of two.
func tailsLen(slots int) uint64 {
	n := uint64(tailWays)
	for n < uint64(slots*tailsPerSlot) {
		n <<= 1
	}
	return n
}

// tailWays is the number of entries of a bucket.
const tailWays = 4

// bucket is the first entry of key's bucket (the ambiguous mark of a key
// is in the same bucket).
func (x *tails) bucket(key uint64) uint64 { return key & x.mask &^ (tailWays - 1) }

// putTail records that the session h reached key. When another live
// session still sits at that key (identical starts, a shared template),
// the entry is marked ambiguous instead — its key stored with the low bit
// cleared, which no lookup matches — and stays so until a different key
// takes its place: F2 then has no single session to name.
//
// Two keys name a state: its tail key (the last two messages) and its last
// key (the last message alone).
func (t *Table) putTail(key uint64, h handle, now int64) {
	x := &t.tails
	b := x.bucket(key)
	for j := uint64(0); j < tailWays; j++ {
		e := &x.e[b+j]
		switch e.key.Load() {
		case key &^ 1:
			return // ambiguous already
		case key:
			if old := handle(e.h.Load()); old != h && t.holds(old, key, now) {
				e.key.Store(key &^ 1)
				return
			}
			e.key.Store(0)
			e.h.Store(uint64(h))
			e.key.Store(key)
			return
		}
	}
	victim := &x.e[b+(key>>2)&(tailWays-1)]
	for j := uint64(0); j < tailWays; j++ {
		if e := &x.e[b+j]; e.key.Load() == 0 {
			victim = e
			goto write
		}
	}
	for j := uint64(0); j < tailWays; j++ {
		if e := &x.e[b+j]; !t.holds(handle(e.h.Load()), e.key.Load()|1, now) {
			victim = e
			break
		}
	}
write:
	victim.key.Store(0)
	victim.h.Store(uint64(h))
	victim.key.Store(key)
}

// holds reports whether the session h is live and its latest state has
// key as its tail or last key.
func (t *Table) holds(h handle, key uint64, now int64) bool {
	s := t.usable(h, now)
	return s != nil && (s.tail.Load() == key || s.last.Load() == key)
}

func (x *tails) get(key uint64) (handle, bool) {
	b := x.bucket(key)
	for j := uint64(0); j < tailWays; j++ {
		e := &x.e[b+j]
		if e.key.Load() != key {
			continue
		}
		h := e.h.Load()
		if e.key.Load() != key {
			return 0, false
		}
		return handle(h), true
	}
	return 0, false
}
