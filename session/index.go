package session

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/coocood/freecache"
)

// Index kinds: the first byte of every freecache key.
const (
	kindSig      = 's' // exact signature → sessions (the original's signature_to_sessions)
	kindReply    = 'a' // reply anchor → sessions (rules F0, F1)
	kindExternal = 'x' // external session id → session
	kindResponse = 'r' // Responses API response id → session
)

// maxList bounds the sessions one fingerprint maps to. When a list is full
// its oldest entry goes: sessions that share a state with 64 younger ones
// are almost always finished single-shot conversations.
const maxList = 64

type listBuf [maxList * 8]byte

type key [9]byte

func makeKey(kind byte, fp uint64) key {
	var k key
	k[0] = kind
	binary.LittleEndian.PutUint64(k[1:], fp)
	return k
}

// index is the fingerprint multimap over freecache: bounded memory, LRU-ish
// eviction and TTL come from freecache. freecache serialises single
// operations only; appends are read-modify-write, so they take one of the
// stripe locks, picked by fingerprint (requests of unrelated conversations
// never share one but by chance).
type index struct {
	c       *freecache.Cache
	ttl     int // seconds
	stripes [256]paddedMutex
}

type paddedMutex struct {
	sync.Mutex
	_ [56]byte
}

// tableTimer feeds freecache the table's clock, in seconds.
type tableTimer struct{ sec *atomic.Uint32 }

func (t tableTimer) Now() uint32 { return t.sec.Load() }

// list reads the handles stored under (kind, fp) into buf; nil if none.
func (x *index) list(kind byte, fp uint64, buf *listBuf) []byte {
	k := makeKey(kind, fp)
	v, err := x.c.GetWithBuf(k[:], buf[:])
	if err != nil {
		return nil
	}
	return v
}

// add appends h to the list under (kind, fp) unless present. A full list
// first drops the entries whose sessions are gone, then its oldest.
//
// fresh hints that the list is probably absent (a session moving to a state
// no session was seen in): GetOrSet then writes it in a single lookup, and
// only when the hint is wrong does freecache copy the existing list to the
// heap. Without the hint, the list is read into a stack buffer first: two
// lookups, no allocation.
func (t *Table) add(kind byte, fp uint64, h handle, now int64, fresh bool) {
	x := &t.idx
	k := makeKey(kind, fp)
	mu := &x.stripes[fp&255]
	mu.Lock()
	defer mu.Unlock()
	var buf listBuf
	var v []byte
	if fresh {
		var one [8]byte
		binary.LittleEndian.PutUint64(one[:], uint64(h))
		old, err := x.c.GetOrSet(k[:], one[:], x.ttl)
		if old == nil || err != nil {
			return
		}
		v = buf[:copy(buf[:], old)]
	} else {
		var err error
		if v, err = x.c.GetWithBuf(k[:], buf[:]); err != nil {
			v = buf[:0]
		}
	}
	for r := 0; r+8 <= len(v); r += 8 {
		if handle(binary.LittleEndian.Uint64(v[r:])) == h {
			return
		}
	}
	if len(v) == len(buf) { // full: prune the gone, then the oldest
		w := 0
		for r := 0; r+8 <= len(v); r += 8 {
			if t.usable(handle(binary.LittleEndian.Uint64(v[r:])), now) != nil {
				copy(v[w:w+8], v[r:r+8])
				w += 8
			}
		}
		v = v[:w]
		if len(v) == len(buf) {
			copy(v, v[8:])
			v = v[:len(v)-8]
		}
	}
	v = binary.LittleEndian.AppendUint64(v, uint64(h))
	x.c.Set(k[:], v, x.ttl) // ErrLargeEntry cannot happen: Table sizes the cache for maxList
}

// put maps (kind, fp) to the single handle h.
func (t *Table) put(kind byte, fp uint64, h handle) {
	k := makeKey(kind, fp)
	var v [8]byte
	binary.LittleEndian.PutUint64(v[:], uint64(h))
	t.idx.c.Set(k[:], v[:], t.idx.ttl)
}

// one reads the single handle stored under (kind, fp).
func (t *Table) one(kind byte, fp uint64) (handle, bool) {
	k := makeKey(kind, fp)
	var v [8]byte
	got, err := t.idx.c.GetWithBuf(k[:], v[:])
	if err != nil || len(got) != 8 {
		return 0, false
	}
	return handle(binary.LittleEndian.Uint64(got)), true
}
