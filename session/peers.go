package session

import (
	"encoding/binary"
	"errors"

	"github.com/cespare/xxhash/v2"
)

// Peers asks the other instances of a deployment for a session this
// instance does not know. Table calls Lookup from Resolve only for a
// request that carries history (a model message, or a
// previous_response_id) and that no local session continues, just before
// it would create a session. Lookup must bound its own time (a short
// timeout) and report false when no peer answered in time: the request
// then starts a new session, as it would without peers. session/peer
// implements it over HTTP.
type Peers interface {
	// Lookup fills a from the first peer that knows the session of the
	// request p describes, and reports whether one did. p and a are only
	// used during the call.
	Lookup(p *Probe, a *PeerAnswer) bool
}

// Probe describes a request to a peer: its fingerprints, never its texts.
// It holds what the detection rules of docs/sessions.md read — the exact signatures
// of the request and of its previous state, the fuzzy fingerprints of its
// last messages and of the messages before its last model message, and
// the hash of its previous_response_id — so that the peer's Table.Answer
// runs the same rules the local Table ran. Its binary form (AppendBinary)
// is at most MaxProbeSize bytes.
type Probe struct {
	flags    uint8
	n        int // messages in the request
	last     int // index of the last model message, -1 if none
	prev     uint64
	sig      uint64
	response uint64 // xxhash of previous_response_id, 0 if none
	external uint64 // xxhash of the external session id, 0 if none
	nsys     uint64
	sufN     uint8
	suf      [ringSize]uint64 // fingerprints of the last sufN messages
	winFrom  int
	winN     uint8
	win      [ringSize + 1]uint64 // fingerprints of messages winFrom .. last
	lead     uint8                // system messages at the start of winFrom .. last-1
}

const (
	probeFuzzy            = 1 << iota // the sender's Config.Fuzzy
	probeHasPrev                      // prev is the previous state's signature
	probeEvidence                     // the previous state holds more than system messages
	probeReplyDistinctive             // the last model message is distinctive
	probePrevDistinctive              // the message before it is distinctive, not system
	probeFlags                        // first unused bit
)

// at returns the fuzzy fingerprint of message i, 0 when the probe does not
// carry it (the rules never ask for one).
func (p *Probe) at(i int) uint64 {
	if from := p.n - int(p.sufN); i >= from && i < p.n {
		return p.suf[i-from]
	}
	if i >= p.winFrom && i < p.winFrom+int(p.winN) {
		return p.win[i-p.winFrom]
	}
	return 0
}

// PeerAnswer is a peer's answer to a Probe: the session and where the
// request starts in it.
type PeerAnswer struct {
	match     Match // how the peer found it
	processed int
	firstNew  int
	idLen     uint8
	id        [inlineID]byte
}

// ID is the session id the peer answered.
func (a *PeerAnswer) ID() []byte { return a.id[:a.idLen] }

// Match is how the peer found the session (MatchExact, MatchReply,
// MatchTail or MatchResponse).
func (a *PeerAnswer) Match() Match { return a.match }

// askPeers asks Config.Peers for the session of a request no local
// session continues. On an answer the session is installed here under the
// peer's id, at the request's state, and the request continues it.
func (t *Table) askPeers(c *Conversation, hasPrev bool, prev, sig uint64, last int, fz *fuzzyState, r *Result) bool {
	var p Probe
	t.fillProbe(&p, c, hasPrev, prev, sig, last, fz)
	var a PeerAnswer
	t.stats.peerLookups.Add(1)
	if !t.cfg.Peers.Lookup(&p, &a) || a.idLen == 0 {
		t.stats.peerMisses.Add(1)
		return false
	}
	now := t.tick() // after the lookup, which took time
	s, h := t.install(a.ID(), sig, now, fz)
	r.h = h
	r.Match = MatchPeer
	r.Processed = a.processed
	r.FirstNew = min(a.firstNew, fz.n)
	r.setID(s.id[:s.idLen], nil)
	t.indexNew(s, h, sig, now)
	t.stats.hits.Add(1)
	t.stats.peerHits.Add(1)
	return true
}

func (t *Table) fillProbe(p *Probe, c *Conversation, hasPrev bool, prev, sig uint64, last int, fz *fuzzyState) {
	p.n, p.last, p.sig = len(c.Messages), last, sig
	if hasPrev {
		p.flags |= probeHasPrev
		p.prev = prev
	}
	if len(c.PreviousResponseID) > 0 {
		p.response = xxhash.Sum64(c.PreviousResponseID)
	}
	if !t.cfg.Fuzzy {
		return
	}
	p.flags |= probeFuzzy
	p.nsys = fz.nsys()
	p.sufN = uint8(copy(p.suf[:], fz.suffix(ringSize)))
	if last < 0 {
		return
	}
	pk := min(last, ringSize)
	p.winFrom = last - pk
	for i := p.winFrom; i <= last; i++ {
		p.win[p.winN] = fz.at(i)
		p.winN++
	}
	if pk > 0 && fz.evidence(last, pk) {
		p.flags |= probeEvidence
	}
	p.lead = uint8(fz.lead(last, pk))
	if fz.distinctiveReply(last) {
		p.flags |= probeReplyDistinctive
	}
	if last > 0 && fz.distinctivePrev(last) {
		p.flags |= probePrevDistinctive
	}
}

// Answer serves a peer's Lookup: it runs the rules that continue a session
// — previous_response_id, the exact algorithm, the fuzzy rules — on the
// request p describes, never creating one. When a session continues, it
// advances here as it would for a local request (so that the
// conversation's next request finds it wherever it lands), a is filled and
// Answer reports true. A probe made with another Fuzzy setting never
// matches: its signatures differ.
func (t *Table) Answer(p *Probe, a *PeerAnswer) bool {
	*a = PeerAnswer{}
	if t == nil || !t.cfg.Enabled || (p.flags&probeFuzzy != 0) != t.cfg.Fuzzy {
		return false
	}
	now := t.tick()
	t.served.peerLookups.Add(1)
	var r Result
	fz := fuzzyState{p: p, n: p.n, st: &t.served, strict: true, sys: p.nsys, sysOK: true, tab: t}
	switch {
	case p.external != 0:
		if !t.answerExternal(p, now, &r) {
			t.served.peerMisses.Add(1)
			return false
		}
		t.served.external.Add(1)
	case p.response != 0 && t.continueResponse(p.response, now, &r):
		t.served.response.Add(1)
	case p.flags&probeHasPrev != 0 && t.continueExact(p.prev, p.sig, p.last, now, &fz, &r):
	case t.cfg.Fuzzy && p.last >= 0 && t.continueFuzzy(p.sig, p.last, now, &fz, &r):
	default:
		t.served.peerMisses.Add(1)
		return false
	}
	if r.long != nil || r.idLen == 0 {
		t.served.peerMisses.Add(1)
		return false
	}
	a.match = r.Match
	a.processed = r.Processed
	a.firstNew = r.FirstNew
	a.idLen = uint8(copy(a.id[:], r.ID()))
	t.served.peerHits.Add(1)
	return true
}

// askExternal asks the peers for the session named by an external id
// (hash fp) that this instance has not seen, for its processed index.
func (t *Table) askExternal(fp uint64, n int, a *PeerAnswer) bool {
	p := Probe{n: n, last: -1, external: fp}
	if t.cfg.Fuzzy {
		p.flags |= probeFuzzy // the peer checks that it matches its own
	}
	t.stats.peerLookups.Add(1)
	if !t.cfg.Peers.Lookup(&p, a) || a.match != MatchExternal {
		t.stats.peerMisses.Add(1)
		return false
	}
	t.stats.peerHits.Add(1)
	return true
}

// answerExternal serves a peer's question about an external session id:
// its processed index, advanced to the request as Resolve would.
func (t *Table) answerExternal(p *Probe, now int64, r *Result) bool {
	h, ok := t.one(kindExternal, p.external)
	if !ok {
		return false
	}
	s := t.lock(h, now)
	if s == nil {
		return false
	}
	defer s.mu.Unlock()
	if !s.external || s.long != nil {
		return false
	}
	s.access.Store(now)
	pr := s.processed.Load()
	r.Match = MatchExternal
	r.Processed = int(pr)
	r.FirstNew = min(int(pr), p.n)
	if int64(p.n) > pr {
		s.processed.Store(int64(p.n))
	}
	r.setID(s.id[:s.idLen], nil)
	return true
}

// Wire forms. Both start with a version byte; integers are unsigned
// varints, fingerprints 8 bytes little-endian.
const (
	probeVersion  = 1
	answerVersion = 1

	// MaxProbeSize bounds a Probe's binary form.
	MaxProbeSize = 2 + 3*binary.MaxVarintLen64 + 5*8 + 1 + ringSize*8 + 1 + (ringSize+1)*8 + 1
	// MaxAnswerSize bounds a PeerAnswer's binary form.
	MaxAnswerSize = 2 + 2*binary.MaxVarintLen64 + 1 + inlineID
)

// ErrMalformed is returned for a binary Probe or PeerAnswer this version
// cannot read.
var ErrMalformed = errors.New("session: malformed peer message (do all instances run the same Perimeter version?)")

// AppendBinary appends p's binary form to b.
func (p *Probe) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, probeVersion, p.flags)
	b = binary.AppendUvarint(b, uint64(p.n))
	b = binary.AppendUvarint(b, uint64(p.last+1))
	b = binary.LittleEndian.AppendUint64(b, p.prev)
	b = binary.LittleEndian.AppendUint64(b, p.sig)
	b = binary.LittleEndian.AppendUint64(b, p.response)
	b = binary.LittleEndian.AppendUint64(b, p.external)
	b = binary.LittleEndian.AppendUint64(b, p.nsys)
	b = append(b, p.sufN)
	for _, fp := range p.suf[:p.sufN] {
		b = binary.LittleEndian.AppendUint64(b, fp)
	}
	b = binary.AppendUvarint(b, uint64(p.winFrom))
	b = append(b, p.winN)
	for _, fp := range p.win[:p.winN] {
		b = binary.LittleEndian.AppendUint64(b, fp)
	}
	b = append(b, p.lead)
	return b, nil
}

// UnmarshalBinary reads a Probe written by AppendBinary, checking every
// length and index against the others.
func (p *Probe) UnmarshalBinary(b []byte) error {
	*p = Probe{}
	d := decoder{b: b}
	if d.byte() != probeVersion {
		return ErrMalformed
	}
	p.flags = d.byte()
	n, last := d.uvarint(), d.uvarint()
	p.prev, p.sig, p.response, p.external, p.nsys = d.u64(), d.u64(), d.u64(), d.u64(), d.u64()
	p.sufN = d.byte()
	if p.sufN > ringSize {
		return ErrMalformed
	}
	for i := range p.suf[:p.sufN] {
		p.suf[i] = d.u64()
	}
	winFrom := d.uvarint()
	p.winN = d.byte()
	if p.winN > ringSize+1 {
		return ErrMalformed
	}
	for i := range p.win[:p.winN] {
		p.win[i] = d.u64()
	}
	p.lead = d.byte()
	const maxMessages = 1 << 24
	if d.bad || len(d.b) != 0 || p.flags >= probeFlags || n > maxMessages || last > n ||
		uint64(p.sufN) > n || winFrom > n || int(p.winN) > int(n-winFrom) || int(p.lead) > int(p.winN) {
		return ErrMalformed
	}
	p.n, p.last, p.winFrom = int(n), int(last)-1, int(winFrom)
	if p.winN > 0 && p.winFrom+int(p.winN)-1 != p.last {
		return ErrMalformed
	}
	return nil
}

// AppendBinary appends a's binary form to b.
func (a *PeerAnswer) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, answerVersion, byte(a.match))
	b = binary.AppendUvarint(b, uint64(a.processed))
	b = binary.AppendUvarint(b, uint64(a.firstNew))
	b = append(b, a.idLen)
	return append(b, a.id[:a.idLen]...), nil
}

// UnmarshalBinary reads a PeerAnswer written by AppendBinary.
func (a *PeerAnswer) UnmarshalBinary(b []byte) error {
	*a = PeerAnswer{}
	d := decoder{b: b}
	if d.byte() != answerVersion {
		return ErrMalformed
	}
	m := Match(d.byte())
	processed, firstNew := d.uvarint(), d.uvarint()
	n := d.byte()
	if d.bad || n == 0 || n > inlineID || len(d.b) != int(n) || m <= MatchCreated || m >= MatchPeer ||
		processed > 1<<24 || firstNew > 1<<24 {
		return ErrMalformed
	}
	a.match, a.processed, a.firstNew = m, int(processed), int(firstNew)
	a.idLen = uint8(copy(a.id[:], d.b))
	return nil
}

// decoder reads a wire form; any short read sets bad.
type decoder struct {
	b       []byte
	bad     bool
	scratch [binary.MaxVarintLen64]byte
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) u64() uint64 {
	if len(d.b) < 8 {
		d.bad = true
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != len(binary.AppendUvarint(d.scratch[:0], v)) { // one encoding per value
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}
