package session

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/coocood/freecache"
)

// Table detects sessions. It is safe for concurrent use; requests of
// different conversations share no lock but by chance (striped locks, one
// mutex per session), so Resolve scales with cores.
type Table struct {
	cfg     Config
	ttl     int64 // nanoseconds
	now     func() int64
	sec     atomic.Uint32 // coarse clock for freecache, seconds
	started int64
	slots   slots
	idx     index
	tails   tails
	stats   counters
	systems [normSystemCacheSize]atomic.Pointer[normSystemEntry]
	agents  agentCache
	served  counters // lookups answered for peers (peers.go)
}

// New returns a Table configured by cfg (zero sizes take the defaults).
func New(cfg Config) *Table { return newTable(cfg, nil) }

// minIndexBytes keeps a freecache segment large enough for a full list.
const minIndexBytes = 2 << 20

func newTable(cfg Config, clock func() int64) *Table {
	cfg = cfg.withDefaults()
	if clock == nil {
		clock = func() int64 { return time.Now().UnixNano() }
	}
	t := &Table{cfg: cfg, ttl: int64(cfg.TTL), now: clock}
	t.slots.s = make([]slot, cfg.MaxSessions)
	size := cfg.MemoryMB<<20 - cfg.MaxSessions*int(unsafe.Sizeof(slot{}))
	if cfg.Fuzzy {
		t.tails.init(cfg.MaxSessions)
		size -= len(t.tails.e) * int(unsafe.Sizeof(tailEntry{}))
	}
	if size < minIndexBytes {
		size = minIndexBytes
	}
	t.started = t.tick()
	t.idx.c = freecache.NewCacheCustomTimer(size, tableTimer{&t.sec})
	t.idx.ttl = int((cfg.TTL + time.Second - 1) / time.Second)
	return t
}

// Config returns the configuration in effect, defaults applied.
func (t *Table) Config() Config { return t.cfg }

func (t *Table) tick() int64 {
	now := t.now()
	if sec := uint32(now / int64(time.Second)); t.sec.Load() != sec {
		t.sec.Store(sec)
	}
	return now
}

// Resolve finds or creates the session of one request. c is only read, and
// not retained. The Result carries the session id and which messages are
// new; pass it to Reply once the upstream has answered. The order of
// evaluation is the original's: the external session header, then (our
// addition from the Responses API) previous_response_id, then detection.
func (t *Table) Resolve(c *Conversation) Result {
	var r Result
	if t == nil || !t.cfg.Enabled {
		return r
	}
	now := t.tick()
	switch {
	case len(c.ExternalSessionID) > 0:
		t.resolveExternal(c, now, &r)
	case len(c.PreviousResponseID) > 0 && t.resolveResponse(c, now, &r):
	default:
		t.detect(c, now, &r)
	}
	return r
}

// lastLLM is the index of the last model message, -1 if none.
func lastLLM(msgs []Message) int {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].isLLM() {
			return i
		}
	}
	return -1
}

// isFirst is the original's _is_first_message.
func isFirst(msgs []Message) bool {
	if len(msgs) <= 1 {
		return true
	}
	n := 0
	for i := range msgs {
		if msgs[i].isClient() && string(msgs[i].Role) != "system" {
			n++
		}
	}
	return n <= 1
}

// detect is the original's detect_session, plus the fuzzy rules.
func (t *Table) detect(c *Conversation, now int64, r *Result) {
	msgs := c.Messages
	last := lastLLM(msgs)
	// The original looks up "the previous state": everything before the
	// last model message, when that is not empty.
	hasPrev := len(msgs) > 1 && last > 0
	g := signature{calls: t.cfg.Fuzzy}
	g.reset()
	sys, escaped := c.systemText()
	g.system(sys, escaped)
	sysKey := g.sum()
	var prev uint64
	for i := range msgs {
		if i == last {
			prev = g.sum()
		}
		g.message(&msgs[i])
	}
	sig := g.sum()
	fz := fuzzyState{c: c, n: len(msgs), st: &t.stats, exact: sysKey, tab: t}
	fz.strict = t.cfg.Peers != nil
	if hasPrev && t.continueExact(prev, sig, last, now, &fz, r) {
		return
	}
	if t.cfg.Fuzzy && last >= 0 && t.continueFuzzy(sig, last, now, &fz, r) {
		return
	}
	if t.cfg.Peers != nil {
		// A request that carries history (or names a previous response)
		// may continue a session another instance knows: ask the peers
		// before settling for a weak local choice or a new session.
		if (last >= 0 || len(c.PreviousResponseID) > 0) && t.askPeers(c, hasPrev, prev, sig, last, &fz, r) {
			return
		}
		if fz.weak {
			// No peer knew better: take the choice one instance makes.
			fz.strict = false
			if hasPrev && t.continueExact(prev, sig, last, now, &fz, r) {
				return
			}
			if t.cfg.Fuzzy && last >= 0 && t.continueFuzzy(sig, last, now, &fz, r) {
				return
			}
		}
	}
	t.create(sig, !isFirst(msgs), now, &fz, r)
}

// continueExact is the original's _find_existing_session and
// _continue_existing_session. Among sessions known at the previous state it
// takes the oldest still at that state, else the one that moved on most
// recently. The claim is re-checked under the session's lock, so two
// concurrent continuations of identical conversations take one session
// each, as they would one after the other in the original.
func (t *Table) continueExact(prev, full uint64, last int, now int64, fz *fuzzyState, r *Result) bool {
	var buf listBuf
	// Each failed attempt means a concurrent request claimed a session
	// first; there are at most maxList of them to lose to.
	for attempt := 0; attempt <= maxList; attempt++ {
		list := t.idx.list(kindSig, prev, &buf)
		if list == nil {
			return false
		}
		h, atState, tie := t.pickExact(list, prev, last, now, fz)
		if h == 0 {
			return false
		}
		if fz.strict && t.weak(h, atState, prev, last, now, fz) {
			fz.weak = true // a peer may know better (peers.go)
			return false
		}
		s := t.lock(h, now)
		if s == nil {
			continue
		}
		if atState && s.sig.Load() != prev {
			s.mu.Unlock() // a concurrent request took it first
			continue
		}
		r.Match = MatchExact
		r.TieBreak = tie
		t.advance(s, h, full, last, atState, fz, now, r)
		fz.st.hit(&fz.st.exact, &fz.st.tieBreaks, tie)
		return true
	}
	return false
}

// pickExact chooses among the sessions listed under the previous state.
func (t *Table) pickExact(list []byte, prev uint64, last int, now int64, fz *fuzzyState) (h handle, atState, tie bool) {
	var first, progressed handle
	n := 0
	for i := 0; i+8 <= len(list); i += 8 {
		e := handle(binary.LittleEndian.Uint64(list[i:]))
		s := t.usable(e, now)
		if s == nil {
			continue
		}
		if s.sig.Load() == prev {
			if n == 0 {
				first = e
			}
			n++
		} else {
			progressed = e
		}
	}
	if n > 1 && t.cfg.Fuzzy {
		// F0: several sessions sit at this very state (identical starts).
		// The one whose recorded reply this request carries is its own;
		// failing that, one whose reply was not recorded, rather than one
		// known to have received another.
		a := anchorKey(fz.nsys(), fz.at(last))
		var unknown handle
		for i := 0; i+8 <= len(list); i += 8 {
			e := handle(binary.LittleEndian.Uint64(list[i:]))
			s := t.usable(e, now)
			if s == nil || s.sig.Load() != prev {
				continue
			}
			switch {
			case s.reply.Load() == a:
				return e, true, e != first
			case s.replied.Load() != prev && unknown == 0:
				unknown = e
			}
		}
		if unknown != 0 {
			return unknown, true, unknown != first
		}
	}
	if n > 0 {
		return first, true, false
	}
	return progressed, false, false
}

// weak reports whether pickExact's choice h is one that another instance
// may know better than this one: a session that moved on from the
// previous state (a retry here, or another conversation's twin whose own
// session lives elsewhere), or — with fuzzy matching, which records
// replies — one not known to have received the reply the request carries
// (identical starts spread over the instances look alike here but for
// their replies).
func (t *Table) weak(h handle, atState bool, prev uint64, last int, now int64, fz *fuzzyState) bool {
	if !atState {
		return true
	}
	if !t.cfg.Fuzzy {
		return false
	}
	s := t.usable(h, now)
	return s != nil && (s.replied.Load() != prev || s.reply.Load() != anchorKey(fz.nsys(), fz.at(last)))
}

// advance moves the locked session s to the request's state, fills r and
// unlocks s. seq says the session sat exactly at the request's previous
// state, so its fuzzy ring only needs the new messages.
func (t *Table) advance(s *slot, h handle, full uint64, last int, seq bool, fz *fuzzyState, now int64, r *Result) {
	n := fz.n
	s.sig.Store(full)
	s.access.Store(now)
	var tail, lk uint64
	if t.cfg.Fuzzy {
		if seq && s.count == last && s.ringN > 0 {
			s.pushRing(fz.suffix(n - last))
		} else {
			s.setRing(fz.suffix(ringSize))
		}
		s.nsys = fz.nsys()
		tail = tailKey(s.nsys, s.ring[:s.ringN])
		s.tail.Store(tail)
		lk = lastKey(s.nsys, s.ring[:s.ringN])
		s.last.Store(lk)
	}
	s.count = n
	p := s.processed.Load()
	r.h = h
	r.Processed = int(p)
	switch {
	case r.Match.Fuzzy():
		// The history may have been trimmed: what follows the previous
		// state is new, and the index restarts from this request.
		r.FirstNew = max(last, 0)
		s.processed.Store(int64(n))
	default:
		r.FirstNew = min(int(p), n)
		if int64(n) > p {
			s.processed.Store(int64(n))
		}
	}
	r.setID(s.id[:s.idLen], s.long)
	s.mu.Unlock()
	t.add(kindSig, full, h, now, seq)
	if tail != 0 {
		t.putTail(tail, h, now)
		t.putTail(lk, h, now)
	}
}

// create is the original's _create_new_session.
func (t *Table) create(full uint64, fragmented bool, now int64, fz *fuzzyState, r *Result) {
	s, h := t.install(nil, full, now, fz)
	r.h = h
	r.New = true
	r.Fragmented = fragmented
	r.Match = MatchCreated
	r.setID(s.id[:s.idLen], nil)
	t.indexNew(s, h, full, now)
	t.stats.created.Add(1)
	t.stats.misses.Add(1)
	t.stats.rate.add(now)
	if fragmented {
		t.stats.fragmented.Add(1)
	}
}

// install claims a slot for a session at the request's state, named id
// (a new UUID when nil), its processed index at the request's end, and
// returns it locked.
func (t *Table) install(id []byte, full uint64, now int64, fz *fuzzyState) (*slot, handle) {
	n := fz.n
	s, h := t.alloc(now)
	if id == nil {
		newUUID(&s.id)
		s.idLen = uuidLen
	} else {
		s.idLen = uint8(copy(s.id[:], id))
	}
	s.sig.Store(full)
	s.count = n
	s.processed.Store(int64(n))
	if t.cfg.Fuzzy {
		s.setRing(fz.suffix(ringSize))
		s.nsys = fz.nsys()
		s.tail.Store(tailKey(s.nsys, s.ring[:s.ringN]))
		s.last.Store(lastKey(s.nsys, s.ring[:s.ringN]))
	}
	return s, h
}

// indexNew unlocks the session s that install returned and lists it under
// its state.
func (t *Table) indexNew(s *slot, h handle, full uint64, now int64) {
	tail, lk := s.tail.Load(), s.last.Load()
	s.mu.Unlock()
	t.add(kindSig, full, h, now, false) // identical starts are common
	if tail != 0 {
		t.putTail(tail, h, now)
		t.putTail(lk, h, now)
	}
}

// resolveExternal is the original's create_or_get_session: the header value
// is the session id; the first request with it starts the session.
func (t *Table) resolveExternal(c *Conversation, now int64, r *Result) {
	id := c.ExternalSessionID
	n := len(c.Messages)
	fp := xxhash.Sum64(id)
	mu := &t.idx.stripes[fp&255]
	mu.Lock()
	defer mu.Unlock()
	r.Match = MatchExternal
	if h, ok := t.one(kindExternal, fp); ok {
		if s := t.lock(h, now); s != nil {
			if bytes.Equal(s.idBytes(), id) {
				p := s.processed.Load()
				if behind(t.cfg.Peers != nil && s.long == nil, n, p) {
					// More than one turn came since this instance last
					// saw the id: a peer may have served it meanwhile.
					// It is asked without the slot's lock (a peer asking
					// this instance about the id takes it).
					s.mu.Unlock()
					var peer PeerAnswer
					asked := t.askExternal(fp, n, &peer)
					if s = t.lock(h, now); s == nil || !bytes.Equal(s.idBytes(), id) {
						if s != nil {
							s.mu.Unlock()
						}
						goto create
					}
					if p = s.processed.Load(); asked && int64(peer.processed) > p {
						p = int64(peer.processed)
					}
				}
				s.access.Store(now)
				r.h = h
				r.Processed = int(p)
				r.FirstNew = min(int(p), n)
				if int64(n) > p {
					s.processed.Store(int64(n))
				}
				r.setID(s.id[:s.idLen], s.long)
				s.mu.Unlock()
				t.stats.hits.Add(1)
				t.stats.external.Add(1)
				return
			}
			s.mu.Unlock()
		}
	}
create:
	// A continuation this instance has not seen may have started on a
	// peer: its processed index is there.
	var peer PeerAnswer
	known := t.cfg.Peers != nil && len(id) <= inlineID && !isFirst(c.Messages) && t.askExternal(fp, n, &peer)
	s, h := t.alloc(now)
	s.external = true
	if len(id) <= inlineID {
		s.idLen = uint8(copy(s.id[:], id))
	} else {
		s.long = bytes.Clone(id)
	}
	s.processed.Store(int64(n))
	r.h = h
	r.setID(s.id[:s.idLen], s.long)
	s.mu.Unlock()
	t.put(kindExternal, fp, h)
	if known {
		r.Processed = peer.processed
		r.FirstNew = min(peer.processed, n)
		t.stats.hits.Add(1)
		t.stats.external.Add(1)
		return
	}
	r.New = true
	t.stats.created.Add(1)
	t.stats.rate.add(now)
}

// behind reports whether an external session this instance holds at
// processed index p may have been served by a peer since: peers are
// configured (ask) and the request brings more than one turn (two
// messages) past p. A conversation that stays on one instance brings one
// turn at a time and costs no lookup.
func behind(ask bool, n int, p int64) bool {
	return ask && int64(n) > p+2
}

// resolveResponse continues the session that produced previous_response_id,
// treating the whole input as new. It reports false when the id is unknown
// (never recorded, or its session is gone); detection then runs on the
// input, as in the original.
func (t *Table) resolveResponse(c *Conversation, now int64, r *Result) bool {
	if !t.continueResponse(xxhash.Sum64(c.PreviousResponseID), now, r) {
		return false
	}
	t.stats.hits.Add(1)
	t.stats.response.Add(1)
	return true
}

// continueResponse continues the session that recorded the response id
// whose hash is fp.
func (t *Table) continueResponse(fp uint64, now int64, r *Result) bool {
	h, ok := t.one(kindResponse, fp)
	if !ok {
		return false
	}
	s := t.lock(h, now)
	if s == nil {
		return false
	}
	s.access.Store(now)
	r.h = h
	r.Match = MatchResponse
	r.Processed = int(s.processed.Load())
	r.FirstNew = 0
	r.setID(s.id[:s.idLen], s.long)
	s.mu.Unlock()
	return true
}

// Reply records the upstream's answer to the request that produced r, once
// the response is complete. responseID is the Responses API response id
// (empty for other APIs): a later request naming it as
// previous_response_id continues r's session. reply is the model message
// that the next request of the conversation will carry as its last model
// message — Chat and Anthropic: the assistant message (its text, CallID =
// its first tool call id); Responses: the last output item (a message's
// text, or a function_call's call_id). It feeds fuzzy rules F0 and F1 and
// may be nil. Neither argument is retained.
func (t *Table) Reply(r *Result, reply *Message, responseID []byte) {
	if t == nil || r.h == 0 {
		return
	}
	now := t.tick()
	if len(responseID) > 0 {
		t.put(kindResponse, xxhash.Sum64(responseID), r.h)
	}
	if reply == nil || !t.cfg.Fuzzy {
		return
	}
	fp := normHash(reply)
	s := t.lock(r.h, now)
	if s == nil {
		return
	}
	a := anchorKey(s.nsys, fp)
	s.reply.Store(a)
	s.replied.Store(s.sig.Load())
	s.access.Store(now)
	s.mu.Unlock()
	// Not fresh: an agent often answers alike in many sessions (the same
	// tool call), and a wrong hint costs a heap copy of the list.
	t.add(kindReply, a, r.h, now, false)
}

// SetProcessed sets the session's last processed index (the original's
// update_processed_index); Resolve already advances it to the request's
// message count, so callers need this only to override that.
func (t *Table) SetProcessed(r *Result, n int) {
	if t == nil || r.h == 0 {
		return
	}
	now := t.tick()
	if s := t.lock(r.h, now); s != nil {
		s.processed.Store(int64(n))
		s.access.Store(now)
		s.mu.Unlock()
	}
}

// Processed returns the session's current last processed index.
func (t *Table) Processed(r *Result) (int, bool) {
	if t == nil || r.h == 0 {
		return 0, false
	}
	s := t.usable(r.h, t.tick())
	if s == nil {
		return 0, false
	}
	return int(s.processed.Load()), true
}

// Span returns the session's last span id (the original's last_span_id,
// which chains events); ok is false when none is
// stored or the session is gone.
func (t *Table) Span(r *Result) (span uint64, ok bool) {
	if t == nil || r.h == 0 {
		return 0, false
	}
	s := t.usable(r.h, t.tick())
	if s == nil {
		return 0, false
	}
	span = s.span.Load()
	return span, span != 0
}

// SetSpan stores the session's last span id (the original's update_span_id).
// 0 clears it.
func (t *Table) SetSpan(r *Result, span uint64) {
	if t == nil || r.h == 0 {
		return
	}
	now := t.tick()
	if s := t.lock(r.h, now); s != nil {
		s.span.Store(span)
		s.access.Store(now)
		s.mu.Unlock()
	}
}
