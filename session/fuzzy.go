package session

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// fuzzyState computes a request's fuzzy fingerprints lazily, once each.
// It describes either a request of this instance (c) or a peer's request
// (p, see peers.go), whose fingerprints come precomputed; n is the
// request's message count either way.
type fuzzyState struct {
	c  *Conversation
	p  *Probe
	n  int
	st *counters // &tab.stats, or &tab.served when answering a peer
	// strict refuses weak exact matches (Table.weak): set when peers may
	// know better, and when answering one; weak records a refusal.
	strict, weak bool
	exact        uint64 // exact system fingerprint
	sysOK        bool
	sys          uint64
	k            int              // fingerprints computed for the last k messages
	suf          [ringSize]uint64 // suf[ringSize-k:] = fingerprints of Messages[n-k:]
	tab          *Table
}

// nsys is the fuzzy fingerprint of the system prompt.
func (f *fuzzyState) nsys() uint64 {
	if !f.sysOK {
		f.sys = f.tab.normSystem(f.c, f.exact)
		f.sysOK = true
	}
	return f.sys
}

// suffix returns the fingerprints of the last min(k, ringSize, n) messages.
func (f *fuzzyState) suffix(k int) []uint64 {
	if f.p != nil {
		k = min(k, int(f.p.sufN))
		return f.p.suf[int(f.p.sufN)-k : f.p.sufN]
	}
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
	if f.p != nil {
		return f.p.at(i)
	}
	msgs := f.c.Messages
	if back := len(msgs) - i; back <= ringSize {
		return f.suffix(back)[0]
	}
	return normHash(&msgs[i])
}

// evidence reports whether the pk messages before the last model message
// hold more than system messages.
func (f *fuzzyState) evidence(last, pk int) bool {
	if f.p != nil {
		return f.p.flags&probeEvidence != 0
	}
	for i := last - pk; i < last; i++ {
		if roleClass(&f.c.Messages[i]) != classSystem {
			return true
		}
	}
	return false
}

// distinctiveReply reports whether the last model message is distinctive.
func (f *fuzzyState) distinctiveReply(last int) bool {
	if f.p != nil {
		return f.p.flags&probeReplyDistinctive != 0
	}
	return distinctive(&f.c.Messages[last])
}

// distinctivePrev reports whether the message before the last model
// message is distinctive and not a system message.
func (f *fuzzyState) distinctivePrev(last int) bool {
	if f.p != nil {
		return f.p.flags&probePrevDistinctive != 0
	}
	pm := &f.c.Messages[last-1]
	return roleClass(pm) != classSystem && distinctive(pm)
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

// lastKey is the fuzzy key of a state's last message alone.
func lastKey(nsys uint64, ring []uint64) uint64 {
	if len(ring) == 0 {
		return 0
	}
	return chain(nsys^0x3c6ef372fe94f82b, ring[len(ring)-1]) | 1
}

// anchorKey is the fuzzy key of a reply: the system prompt and the reply
// message, in normal form.
func anchorKey(nsys, fp uint64) uint64 {
	return chain(nsys^0xa5a5a5a5a5a5a5a5, fp) | 1
}

// continueFuzzy applies rules F1 and F2 (docs/sessions.md) once the exact algorithm
// found nothing.
func (t *Table) continueFuzzy(full uint64, last int, now int64, fz *fuzzyState, r *Result) bool {
	nsys := fz.nsys()
	// The previous state's last fingerprints, and whether any of them is
	// more than the system prompt: the evidence both rules weigh.
	var prev [ringSize]uint64
	pk := min(last, ringSize)
	for i := 0; i < pk; i++ {
		prev[i] = fz.at(last - pk + i)
	}
	evidence := pk > 0 && fz.evidence(last, pk)
	pfp := prev[:pk]

	// F1: the request's last model message is the latest reply recorded
	// for a session.
	a := anchorKey(nsys, fz.at(last))
	for attempt := 0; attempt < 4; attempt++ {
		h, alone := t.pickReply(a, fz, last, pfp, evidence, now)
		if h == 0 {
			break
		}
		s := t.lock(h, now)
		if s == nil {
			continue
		}
		if s.reply.Load() != a {
			s.mu.Unlock() // it moved on meanwhile
			continue
		}
		r.Match = MatchReply
		t.advance(s, h, full, last, false, fz, now, r)
		fz.st.hit(&fz.st.fuzzyReply, &fz.st.fuzzyReplyAlone, alone)
		return true
	}

	// F2: the previous state ends, in canonical form, as the latest state
	// of the one session at that tail.
	if !evidence {
		return false
	}
	if h, ok := t.tails.get(tailKey(nsys, pfp)); ok {
		if s := t.lock(h, now); s != nil {
			if agrees(s.ring[:s.ringN], pfp) && !fz.partial(s.ring[:s.ringN], pfp, last) && !fz.refuse(s, a) {
				t.matchTail(s, h, full, last, fz, now, r, false)
				return true
			}
			s.mu.Unlock()
		}
	}
	// F2, last message alone: the history before it no longer agrees (a
	// summary took its place), but the previous state's last message is
	// distinctive and the one session at that message is there still.
	if !fz.distinctivePrev(last) {
		return false
	}
	h, ok := t.tails.get(lastKey(nsys, pfp))
	if !ok {
		return false
	}
	s := t.lock(h, now)
	if s == nil {
		return false
	}
	if s.ringN == 0 || s.ring[s.ringN-1] != pfp[pk-1] || fz.refuse(s, a) {
		s.mu.Unlock()
		return false
	}
	t.matchTail(s, h, full, last, fz, now, r, true)
	return true
}

// refuse reports whether a strict state (see fuzzyState.strict) refuses
// the locked session s as the request's by rule F2: the session is known
// to have received another reply to its latest state than the request's
// last model message, whose anchor is a. One instance sees every live
// session at a tail and marks the tail ambiguous when several sit there;
// with peers it may see only one of them (identical starts spread over
// the instances), so the recorded reply must not contradict the request.
func (f *fuzzyState) refuse(s *slot, a uint64) bool {
	if f.strict && s.replied.Load() == s.sig.Load() && s.reply.Load() != a {
		f.weak = true
		return true
	}
	return false
}

// partial reports whether a strict state refuses a candidate whose ring
// agrees with the previous state's fingerprints pfp on less than their
// whole common window, not counting the system messages at the start of
// pfp (a trimmed history keeps its system prompt before the messages it
// kept). One instance holds the session that agrees best; with peers, the
// best local one may be another conversation's that only shares a few
// stock messages.
func (f *fuzzyState) partial(ring, pfp []uint64, last int) bool {
	if !f.strict {
		return false
	}
	if same, window := agreement(ring, pfp); same+f.lead(last, len(pfp)) < window {
		f.weak = true
		return true
	}
	return false
}

// lead counts the system messages at the start of the pk messages before
// the last model message.
func (f *fuzzyState) lead(last, pk int) int {
	if f.p != nil {
		return int(f.p.lead)
	}
	n := 0
	for i := last - pk; i < last && roleClass(&f.c.Messages[i]) == classSystem; i++ {
		n++
	}
	return n
}

// partialBest is partial for the ring of session h (refused when gone).
func (f *fuzzyState) partialBest(t *Table, h handle, pfp []uint64, last int, now int64) bool {
	s := t.lock(h, now)
	if s == nil {
		f.weak = true
		return true
	}
	refuse := f.partial(s.ring[:s.ringN], pfp, last)
	s.mu.Unlock()
	return refuse
}

// matchTail continues the locked session s by rule F2.
func (t *Table) matchTail(s *slot, h handle, full uint64, last int, fz *fuzzyState, now int64, r *Result, alone bool) {
	r.Match = MatchTail
	t.advance(s, h, full, last, false, fz, now, r)
	fz.st.hit(&fz.st.fuzzyTail, &fz.st.fuzzyTailAlone, alone)
}

// agreement returns the length of the longest common suffix of a session's
// ring and the request's previous-state fingerprints, and the length of
// the window compared.
func agreement(ring, pfp []uint64) (same, window int) {
	window = min(len(ring), len(pfp))
	for same < window && ring[len(ring)-1-same] == pfp[len(pfp)-1-same] {
		same++
	}
	return same, window
}

// agrees is the fuzzy rules' test of a candidate: aligned at their ends,
// the request's previous state and the session's latest state agree on
// more than half of the compared window, counted from the end. Trimming
// the oldest messages, re-encoding texts and rewriting tool results keep
// the whole window in agreement; a conversation that only shares a few
// stock phrases does not.
func agrees(ring, pfp []uint64) bool {
	same, window := agreement(ring, pfp)
	return same > 0 && 2*same > window
}

// pickReply chooses the session a request continues by its last model
// message (message last of the request, whose anchor is a): among the sessions whose latest recorded reply that message is,
// the one whose latest state agrees best with the request's previous
// state (the oldest on a tie). When none agrees, or without evidence (a
// previous state of nothing but the system prompt), the reply must
// designate one session alone: without evidence, one session has it as its
// latest reply; against disagreeing evidence (a summary, a window that
// moved past everything the session saw), the reply is distinctive and no
// other live session ever received it — alone then says so.
func (t *Table) pickReply(a uint64, fz *fuzzyState, last int, pfp []uint64, evidence bool, now int64) (h handle, alone bool) {
	var buf listBuf
	list := t.idx.list(kindReply, a, &buf)
	var best, only handle
	bestSame, n, live := -1, 0, 0
	for i := 0; i+8 <= len(list); i += 8 {
		e := handle(binary.LittleEndian.Uint64(list[i:]))
		s := t.usable(e, now)
		if s == nil {
			continue
		}
		live++
		if s.reply.Load() != a {
			continue
		}
		n++
		only = e
		if !evidence {
			continue
		}
		if s = t.lock(e, now); s == nil {
			continue
		}
		same, window := agreement(s.ring[:s.ringN], pfp)
		s.mu.Unlock()
		if same > 0 && 2*same > window && same > bestSame {
			best, bestSame = e, same
		}
	}
	switch {
	case best != 0 && fz.strict && fz.partialBest(t, best, pfp, last, now):
		return 0, false
	case best != 0:
		return best, false
	case n != 1:
		return 0, false
	case !evidence:
		return only, false
	case live == 1 && fz.distinctiveReply(last):
		return only, true
	}
	return 0, false
}

// distinctiveRunes is how many letters and digits a model message's text
// needs for its reply anchor to count as distinctive.
const distinctiveRunes = 32

// distinctive reports whether a model message is one a model gives to one
// conversation only: a tool call (its id is random) or a text of some
// length. Stock answers ("Done.", "OK, continuing.") are not.
func distinctive(m *Message) bool {
	if len(m.CallID) > 0 {
		return true
	}
	var buf [canonRunes * 4]byte
	text := m.Content
	if len(text) > ContentReadLimit {
		text = text[:ContentReadLimit]
	}
	return utf8.RuneCount(skeleton(buf[:0], text, m.Escaped)) >= distinctiveRunes
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
