package session

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// fuzzyState computes a request's fuzzy fingerprints lazily, once each.
type fuzzyState struct {
	c      *Conversation
	exact  uint64 // exact system fingerprint
	sysOK  bool
	sys    uint64
	k      int              // fingerprints computed for the last k messages
	suf    [ringSize]uint64 // suf[ringSize-k:] = fingerprints of Messages[n-k:]
	sysTab *Table
}

// nsys is the fuzzy fingerprint of the system prompt.
func (f *fuzzyState) nsys() uint64 {
	if !f.sysOK {
		f.sys = f.sysTab.normSystem(f.c, f.exact)
		f.sysOK = true
	}
	return f.sys
}

// suffix returns the fingerprints of the last min(k, ringSize, n) messages.
func (f *fuzzyState) suffix(k int) []uint64 {
	msgs := f.c.Messages
	k = min(k, ringSize, len(msgs))
	for f.k < k {
		f.k++
		f.suf[ringSize-f.k] = normHash(&msgs[len(msgs)-f.k])
	}
	return f.suf[ringSize-k:]
}

// at returns the fingerprint of message i.
func (f *fuzzyState) at(i int) uint64 {
	msgs := f.c.Messages
	if back := len(msgs) - i; back <= ringSize {
		return f.suffix(back)[0]
	}
	return normHash(&msgs[i])
}

// tailKey is the fuzzy key of a state: its system prompt and last two
// messages, in normal form.
func tailKey(nsys uint64, ring []uint64) uint64 {
	if len(ring) == 0 {
		return 0
	}
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], nsys)
	binary.LittleEndian.PutUint64(b[8:], ring[len(ring)-1])
	if len(ring) > 1 {
		binary.LittleEndian.PutUint64(b[16:], ring[len(ring)-2])
	}
	return xxhash.Sum64(b[:]) | 1
}

// anchorKey is the fuzzy key of a reply: the system prompt and the reply
// message, in normal form.
func anchorKey(nsys, fp uint64) uint64 {
	return chain(nsys^0xa5a5a5a5a5a5a5a5, fp) | 1
}

// continueFuzzy applies rules F1 and F2 (doc.go) once the exact algorithm
// found nothing.
func (t *Table) continueFuzzy(c *Conversation, full uint64, last int, now int64, fz *fuzzyState, r *Result) bool {
	var buf listBuf
	nsys := fz.nsys()

	// F1: the request's last model message is a reply recorded for a
	// session.
	a := anchorKey(nsys, fz.at(last))
	for attempt := 0; attempt < 4; attempt++ {
		list := t.idx.list(kindReply, a, &buf)
		h, atState := t.pickReply(list, a, now)
		if h == 0 {
			break
		}
		s := t.lock(h, now)
		if s == nil {
			continue
		}
		if atState && s.reply.Load() != a {
			s.mu.Unlock()
			continue
		}
		r.Match = MatchReply
		t.advance(s, h, c, full, last, false, fz, now, r)
		t.stats.hits.Add(1)
		t.stats.fuzzyReply.Add(1)
		return true
	}

	// F2: the history before the last model message ends as a session's
	// state did, in normal form, and mostly agrees with it.
	if last < 1 {
		return false
	}
	var prev [ringSize]uint64
	pk := min(last, ringSize)
	for i := 0; i < pk; i++ {
		prev[i] = fz.at(last - pk + i)
	}
	pfp := prev[:pk]
	tk := tailKey(nsys, pfp)
	for attempt := 0; attempt < 4; attempt++ {
		h, ok := t.one(kindTail, tk)
		if !ok {
			return false
		}
		s := t.lock(h, now)
		if s == nil {
			return false
		}
		if !overlaps(s.ring[:s.ringN], pfp) {
			s.mu.Unlock()
			return false
		}
		r.Match = MatchTail
		t.advance(s, h, c, full, last, false, fz, now, r)
		t.stats.hits.Add(1)
		t.stats.fuzzyTail.Add(1)
		return true
	}
	return false
}

// overlaps is F2's agreement test: more than half of the request's last
// fingerprints (up to ringSize) appear among the session's.
func overlaps(ring, pfp []uint64) bool {
	k := 0
	for _, p := range pfp {
		for _, q := range ring {
			if p == q {
				k++
				break
			}
		}
	}
	return 2*k > len(pfp)
}

// pickReply chooses among the sessions listed under a reply anchor by the
// original's rule: the oldest whose latest reply it is, else the most
// recent.
func (t *Table) pickReply(list []byte, key uint64, now int64) (h handle, atState bool) {
	var progressed handle
	for i := 0; i+8 <= len(list); i += 8 {
		e := handle(binary.LittleEndian.Uint64(list[i:]))
		s := t.usable(e, now)
		if s == nil {
			continue
		}
		if s.reply.Load() == key {
			return e, true
		}
		progressed = e
	}
	return progressed, false
}

// normSystemCacheSize is the number of system prompts whose fuzzy
// fingerprint is remembered (direct-mapped by exact fingerprint).
const normSystemCacheSize = 1024

type normSystemEntry struct{ exact, norm uint64 }

// normSystem returns the fuzzy system fingerprint, cached by the exact one
// (agents send the same prompt with every request).
func (t *Table) normSystem(c *Conversation, exact uint64) uint64 {
	e := &t.systems[exact%normSystemCacheSize]
	if p := e.Load(); p != nil && p.exact == exact {
		return p.norm
	}
	sys, escaped := c.systemText()
	n := normSystemHash(sys, escaped)
	e.Store(&normSystemEntry{exact, n})
	return n
}
