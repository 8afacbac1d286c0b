package session

import (
	"sync/atomic"
	"time"
)

// counters are plain atomics, cheap enough for every request.
type counters struct {
	created         atomic.Uint64
	expired         atomic.Uint64 // reclaimed after their TTL
	evicted         atomic.Uint64 // reclaimed live, to respect MaxSessions
	fragmented      atomic.Uint64
	fuzzyReply      atomic.Uint64
	fuzzyTail       atomic.Uint64
	fuzzyReplyAlone atomic.Uint64 // of fuzzyReply: the reply alone designated the session
	fuzzyTailAlone  atomic.Uint64 // of fuzzyTail: the last message alone designated the session
	exact           atomic.Uint64
	tieBreaks       atomic.Uint64
	hits            atomic.Uint64
	misses          atomic.Uint64
	external        atomic.Uint64
	response        atomic.Uint64
	peerLookups     atomic.Uint64 // asked the peers (served: were asked)
	peerHits        atomic.Uint64 // a peer knew the session (served: this table did)
	peerMisses      atomic.Uint64
	rate            rateWindow
}

// hit counts a session continued by the rule that kind counts, and in
// qualified too when q holds (a tie broken, a session designated alone).
func (c *counters) hit(kind, qualified *atomic.Uint64, q bool) {
	c.hits.Add(1)
	kind.Add(1)
	if q {
		qualified.Add(1)
	}
}

// rateWindow counts creations per second over the last rateSeconds.
const rateSeconds = 60

type rateWindow struct {
	b [64]struct {
		sec atomic.Int64
		n   atomic.Uint64
	}
}

func (w *rateWindow) add(now int64) {
	sec := now / int64(time.Second)
	e := &w.b[sec&63]
	if old := e.sec.Load(); old != sec && e.sec.CompareAndSwap(old, sec) {
		e.n.Store(0)
	}
	e.n.Add(1)
}

func (w *rateWindow) perSecond(now int64) float64 {
	sec := now / int64(time.Second)
	var n uint64
	for i := range w.b {
		if s := w.b[i].sec.Load(); s > sec-rateSeconds && s <= sec {
			n += w.b[i].n.Load()
		}
	}
	return float64(n) / rateSeconds
}

// Stats is a snapshot of a Table's counters. Counters are cumulative since
// New. The JSON names are those /metrics publishes.
type Stats struct {
	// ActiveSessions are live sessions within their TTL.
	ActiveSessions int `json:"active_sessions"`
	// MaxSessions and TTLSeconds echo the configuration.
	MaxSessions int     `json:"max_sessions"`
	TTLSeconds  float64 `json:"session_ttl_seconds"`
	// Created counts sessions started, external ones included.
	Created uint64 `json:"sessions_created"`
	// Expired counts sessions idle past the TTL, reclaimed or not yet.
	Expired uint64 `json:"sessions_expired"`
	// Evicted counts live sessions dropped to stay within MaxSessions.
	Evicted uint64 `json:"sessions_evicted"`
	// Fragmented counts sessions created for requests that looked like
	// continuations.
	Fragmented uint64 `json:"sessions_fragmented"`
	// FuzzyMatches counts requests continued by fuzzy rules F1 and F2;
	// FuzzyReplyMatches and FuzzyTailMatches split it.
	FuzzyMatches      uint64 `json:"fuzzy_matches"`
	FuzzyReplyMatches uint64 `json:"fuzzy_reply_matches"`
	FuzzyTailMatches  uint64 `json:"fuzzy_tail_matches"`
	// TieBreaks counts exact matches where rule F0 chose a different
	// session than the original's first-in-first-out rule would have.
	TieBreaks uint64 `json:"fuzzy_tie_breaks"`
	// MatchedBy splits the requests by the rule that resolved them.
	MatchedBy MatchCounts `json:"matched_by"`
	// CacheHits counts requests that continued a session (any rule);
	// CacheMisses those for which detection created one (the original's
	// cache_hits and cache_misses).
	CacheHits   uint64 `json:"cache_hits"`
	CacheMisses uint64 `json:"cache_misses"`
	// ExternalHits and ResponseHits count continuations by header and by
	// previous_response_id; both are part of CacheHits.
	ExternalHits uint64 `json:"external_hits"`
	ResponseHits uint64 `json:"response_id_hits"`
	// PeerLookups counts requests this instance asked its peers about
	// (Config.Peers); PeerHits those a peer knew the session of (part of
	// CacheHits); the others started a session here.
	PeerLookups uint64 `json:"peer_lookups"`
	PeerHits    uint64 `json:"peer_hits"`
	// PeerServed counts the peers' lookups this instance answered;
	// PeerServedHits those it knew the session of.
	PeerServed     uint64 `json:"peer_lookups_served"`
	PeerServedHits uint64 `json:"peer_lookups_served_hits"`
	// CreationRate is sessions created per second over the last minute.
	CreationRate float64 `json:"session_creation_rate"`
	// HitRate is CacheHits / (CacheHits + CacheMisses), 0 when idle.
	HitRate float64 `json:"cache_hit_rate"`
	// IndexEntries, IndexEvictions and IndexExpired describe the fingerprint
	// index: its entries, and those freecache dropped to stay within
	// MemoryMB or because their TTL passed.
	IndexEntries   int64 `json:"index_entries"`
	IndexEvictions int64 `json:"index_evictions"`
	IndexExpired   int64 `json:"index_expired"`
}

// MatchCounts counts requests by the rule that resolved them (docs/sessions.md).
// Every request detection resolved is counted once among Exact, Reply,
// Tail, Peer and New; header and previous_response_id continuations apart.
type MatchCounts struct {
	// Exact: the original algorithm found the session; TieBreak of them
	// went to another session than the original's (fuzzy rule F0).
	Exact    uint64 `json:"exact"`
	TieBreak uint64 `json:"exact_tie_break"`
	// Reply: fuzzy rule F1, the recorded reply; ReplyAlone of them against
	// a history that no longer agrees (a summary, a moved window), the
	// reply being distinctive and received by that session alone.
	Reply      uint64 `json:"fuzzy_reply"`
	ReplyAlone uint64 `json:"fuzzy_reply_alone"`
	// Tail: fuzzy rule F2, the canonical tail of the history; TailAlone
	// of them by its last message alone (docs/sessions.md).
	Tail      uint64 `json:"fuzzy_tail"`
	TailAlone uint64 `json:"fuzzy_tail_alone"`
	// New: detection created a session; Fragmented of them carried
	// history.
	New        uint64 `json:"new"`
	Fragmented uint64 `json:"new_fragmented"`
	// ResponseID and External: continuations by previous_response_id and
	// by the session header.
	ResponseID uint64 `json:"response_id"`
	External   uint64 `json:"external"`
	// Peer: another instance knew the session.
	Peer uint64 `json:"peer"`
}

// Stats returns a snapshot. It walks the session slots (MaxSessions atomic
// loads), so it suits a metrics endpoint, not the request path.
func (t *Table) Stats() Stats {
	if t == nil {
		return Stats{}
	}
	now := t.tick()
	st := Stats{
		MaxSessions:       t.cfg.MaxSessions,
		TTLSeconds:        t.cfg.TTL.Seconds(),
		Created:           t.stats.created.Load(),
		Expired:           t.stats.expired.Load(),
		Evicted:           t.stats.evicted.Load(),
		Fragmented:        t.stats.fragmented.Load(),
		FuzzyReplyMatches: t.stats.fuzzyReply.Load(),
		FuzzyTailMatches:  t.stats.fuzzyTail.Load(),
		TieBreaks:         t.stats.tieBreaks.Load(),
		CacheHits:         t.stats.hits.Load(),
		CacheMisses:       t.stats.misses.Load(),
		ExternalHits:      t.stats.external.Load(),
		ResponseHits:      t.stats.response.Load(),
		PeerLookups:       t.stats.peerLookups.Load(),
		PeerHits:          t.stats.peerHits.Load(),
		PeerServed:        t.served.peerLookups.Load(),
		PeerServedHits:    t.served.peerHits.Load(),
		CreationRate:      t.stats.rate.perSecond(now),
		IndexEntries:      t.idx.c.EntryCount(),
		IndexEvictions:    t.idx.c.EvacuateCount(),
		IndexExpired:      t.idx.c.ExpiredCount(),
	}
	st.FuzzyMatches = st.FuzzyReplyMatches + st.FuzzyTailMatches
	st.MatchedBy = MatchCounts{
		Exact:      t.stats.exact.Load(),
		TieBreak:   st.TieBreaks,
		Reply:      st.FuzzyReplyMatches,
		ReplyAlone: t.stats.fuzzyReplyAlone.Load(),
		Tail:       st.FuzzyTailMatches,
		TailAlone:  t.stats.fuzzyTailAlone.Load(),
		New:        st.CacheMisses,
		Fragmented: st.Fragmented,
		ResponseID: st.ResponseHits,
		External:   st.ExternalHits,
		Peer:       st.PeerHits,
	}
	if total := st.CacheHits + st.CacheMisses; total > 0 {
		st.HitRate = float64(st.CacheHits) / float64(total)
	}
	for i := range t.slots.s {
		s := &t.slots.s[i]
		if s.state.Load()&1 == 0 {
			continue
		}
		if t.expired(s.access.Load(), now) {
			st.Expired++ // not reclaimed yet, but gone for every lookup
		} else {
			st.ActiveSessions++
		}
	}
	return st
}
