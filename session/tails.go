package session

import "sync/atomic"

// tails is the tail index of fuzzy rule F2: tail key → the session that
// reached that tail, when only one live session sits there. It is written by every request, so it is not in
// freecache (a Set costs a few cache misses) but a direct-mapped array of
// entries, four per session slot, where a newer tail overwrites an older
// one on collision. An entry is two atomics guarded like a seqlock: the
// key is cleared before the handle changes and set after, and a reader
// that sees the key change under it reports a miss. A stale or overwritten
// entry only costs a candidate, which F2 verifies anyway.
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
	n := uint64(1)
	for n < uint64(slots*tailsPerSlot) {
		n <<= 1
	}
	x.e = make([]tailEntry, n)
	x.mask = n - 1
}

// putTail records that the session h reached tail key. When another live
// session still sits at that tail (identical starts, a shared template),
// the entry is marked ambiguous instead — its key stored with the low bit
// cleared, which no lookup matches — and stays so until a different tail
// takes its place: F2 then has no single session to name.
//
// Two keys name a state: its tail key (the last two messages) and its last
// key (the last message alone); last says which one key is.
func (t *Table) putTail(key uint64, h handle, now int64, last bool) {
	x := &t.tails
	e := &x.e[key&x.mask]
	switch e.key.Load() {
	case key &^ 1:
		return // ambiguous already
	case key:
		if old := handle(e.h.Load()); old != h {
			s := t.usable(old, now)
			if s != nil && ((!last && s.tail.Load() == key) || (last && s.last.Load() == key)) {
				e.key.Store(key &^ 1)
				return
			}
		}
	}
	e.key.Store(0)
	e.h.Store(uint64(h))
	e.key.Store(key)
}

func (x *tails) get(key uint64) (handle, bool) {
	e := &x.e[key&x.mask]
	if e.key.Load() != key {
		return 0, false
	}
	h := e.h.Load()
	if e.key.Load() != key {
		return 0, false
	}
	return handle(h), true
}
