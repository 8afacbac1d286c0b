package session

import (
	"bytes"
	"strconv"
	"testing"
)

// twoTables returns two tables that are each other's peers, in process.
func twoTables(fuzzy bool) (a, b *Table) {
	ts := peeredTables(2, fuzzy)
	return ts[0], ts[1]
}

// downPeers is a peer set that never answers (all down, or all too slow).
type downPeers struct{ asked int }

func (d *downPeers) Lookup(*Probe, *PeerAnswer) bool { d.asked++; return false }

func TestPeerContinuesSession(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		ta, tb := twoTables(fuzzy)
		turn1 := withSystem("You are a peer test agent.", u("Plan my trip to Berlin, please."))
		r1 := ta.Resolve(turn1)
		ta.Reply(&r1, &Message{Role: []byte("assistant"), Content: []byte("Which dates do you have in mind for Berlin?")}, nil)
		if !r1.New || tb.Stats().PeerLookups != 0 {
			t.Fatalf("turn 1: %+v; a first message must not ask the peers", r1)
		}
		turn2 := withSystem("You are a peer test agent.", u("Plan my trip to Berlin, please."),
			a("Which dates do you have in mind for Berlin?"), u("The first week of May."))
		r2 := tb.Resolve(turn2)
		if r2.New || r2.Match != MatchPeer || !bytes.Equal(r2.ID(), r1.ID()) {
			t.Fatalf("turn 2 on the other instance: match %v new %v id %q, want the session %q by peer", r2.Match, r2.New, r2.ID(), r1.ID())
		}
		if r2.FirstNew != 1 || r2.Processed != 1 {
			t.Errorf("turn 2: FirstNew %d Processed %d, want 1 1 (the peer had processed one message)", r2.FirstNew, r2.Processed)
		}
		tb.Reply(&r2, &Message{Role: []byte("assistant"), Content: []byte("Then I suggest the Hotel Adlon from May 1st to 7th.")}, nil)
		// The peer advanced its copy: the third turn continues on either
		// instance without asking.
		turn3 := withSystem("You are a peer test agent.", u("Plan my trip to Berlin, please."),
			a("Which dates do you have in mind for Berlin?"), u("The first week of May."),
			a("Then I suggest the Hotel Adlon from May 1st to 7th."), u("Book it."))
		for name, tab := range map[string]*Table{"asker": tb, "peer": ta} {
			before := tab.Stats().PeerLookups
			r3 := tab.Resolve(turn3)
			if r3.New || !bytes.Equal(r3.ID(), r1.ID()) || tab.Stats().PeerLookups != before {
				t.Errorf("turn 3 on the %s: match %v id %q lookups %d→%d; want the session without a lookup",
					name, r3.Match, r3.ID(), before, tab.Stats().PeerLookups)
			}
		}
		st := ta.Stats()
		if st.PeerServed != 1 || st.PeerServedHits != 1 || tb.Stats().MatchedBy.Peer != 1 {
			t.Errorf("stats: served %d hits %d, asker peer matches %d", st.PeerServed, st.PeerServedHits, tb.Stats().MatchedBy.Peer)
		}
	})
}

func TestPeerResponseID(t *testing.T) {
	a, b := twoTables(true)
	r1 := a.Resolve(withSystem("Responses agent", u("Start the audit.")))
	a.Reply(&r1, &Message{Type: []byte("function_call"), CallID: []byte("call_1")}, []byte("resp_1"))
	next := withSystem("Responses agent", Message{Type: []byte("function_call_output"), CallID: []byte("call_1"), Content: []byte("42 findings")})
	next.PreviousResponseID = []byte("resp_1")
	r2 := b.Resolve(next)
	if r2.New || r2.Match != MatchPeer || !bytes.Equal(r2.ID(), r1.ID()) || r2.FirstNew != 0 {
		t.Fatalf("previous_response_id known to a peer: match %v new %v id %q FirstNew %d", r2.Match, r2.New, r2.ID(), r2.FirstNew)
	}
}

// With every peer down (Lookup reports false after its timeout), a
// request starts a session as an isolated instance would.
func TestPeersDownStartsSession(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		cfg := DefaultConfig()
		cfg.Fuzzy = fuzzy
		down := &downPeers{}
		cfg.Peers = down
		tab := New(cfg)
		first := tab.Resolve(withSystem("agent", u("hello there")))
		if !first.New || down.asked != 0 {
			t.Fatalf("first message: new %v, asked %d", first.New, down.asked)
		}
		r := tab.Resolve(withSystem("agent", u("what did we say?"), a("We talked about the weather in Paris."), u("and then?")))
		if !r.New || !r.Fragmented || r.Match != MatchCreated || down.asked != 1 {
			t.Fatalf("unknown continuation with peers down: %+v asked %d", r, down.asked)
		}
		st := tab.Stats()
		if st.PeerLookups != 1 || st.PeerHits != 0 || st.Created != 2 {
			t.Errorf("stats %+v", st)
		}
	})
}

// Answer never creates a session, and refuses a probe made with the other
// Fuzzy setting.
func TestAnswerOnlyContinues(t *testing.T) {
	exact, fuzzy := New(DefaultConfig()), New(DefaultConfig())
	exact.cfg.Fuzzy = false
	var probe *Probe
	cfg := DefaultConfig()
	cfg.Peers = probeCatcher(func(p *Probe) { q := *p; probe = &q })
	asker := New(cfg)
	asker.Resolve(withSystem("agent", u("hi"), a("Hello! How can I help you today with your travel?"), u("Paris")))
	if probe == nil {
		t.Fatal("no probe was sent")
	}
	var ans PeerAnswer
	for _, tab := range []*Table{exact, fuzzy} {
		if tab.Answer(probe, &ans) {
			t.Errorf("answered %q for an unknown conversation", ans.ID())
		}
		if st := tab.Stats(); st.Created != 0 || st.ActiveSessions != 0 {
			t.Errorf("Answer created a session: %+v", st)
		}
	}
	if exact.Stats().PeerServed != 0 {
		t.Error("a table with another Fuzzy setting took the probe")
	}
}

type probeCatcher func(*Probe)

func (f probeCatcher) Lookup(p *Probe, _ *PeerAnswer) bool { f(p); return false }

func TestProbeWire(t *testing.T) {
	var probes []*Probe
	cfg := DefaultConfig()
	cfg.Peers = probeCatcher(func(p *Probe) { q := *p; probes = append(probes, &q) })
	tab := New(cfg)
	for _, req := range newCorpus(7).traffic(40) {
		tab.Resolve(req.c)
	}
	if len(probes) == 0 {
		t.Fatal("no probes")
	}
	for _, p := range probes {
		b, _ := p.AppendBinary(nil)
		if len(b) > MaxProbeSize {
			t.Fatalf("probe of %d bytes > MaxProbeSize %d", len(b), MaxProbeSize)
		}
		var q Probe
		if err := q.UnmarshalBinary(b); err != nil || q != *p {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, *p, q)
		}
		for cut := 0; cut < len(b); cut++ {
			if q.UnmarshalBinary(b[:cut]) == nil {
				t.Fatalf("a probe cut at %d of %d bytes was accepted", cut, len(b))
			}
		}
	}
	a := PeerAnswer{match: MatchTail, processed: 7, firstNew: 5}
	a.idLen = uint8(copy(a.id[:], "0b8a4a52-8c4c-4a8e-9a4e-3f2f0c1d2e3f"))
	b, _ := a.AppendBinary(nil)
	var back PeerAnswer
	if err := back.UnmarshalBinary(b); err != nil || back != a || len(b) > MaxAnswerSize {
		t.Fatalf("answer round trip: %v %+v", err, back)
	}
	for _, bad := range [][]byte{nil, {answerVersion}, {2, 2, 0, 0, 1, 'x'}, {answerVersion, byte(MatchCreated), 0, 0, 1, 'x'}, {answerVersion, byte(MatchExact), 0, 0, 0}} {
		if back.UnmarshalBinary(bad) == nil {
			t.Errorf("accepted answer %v", bad)
		}
	}
}

// FuzzProbe: whatever a peer sends, decoding never panics, and a decoded
// probe is safe to answer.
func FuzzProbe(f *testing.F) {
	cfg := DefaultConfig()
	var seeds [][]byte
	cfg.Peers = probeCatcher(func(p *Probe) { b, _ := p.AppendBinary(nil); seeds = append(seeds, b) })
	tab := New(cfg)
	for _, req := range newCorpus(11).traffic(10) {
		tab.Resolve(req.c)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte{probeVersion})
	answerer := New(DefaultConfig())
	for _, req := range newCorpus(11).traffic(10) {
		answerer.Resolve(req.c)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Probe
		if p.UnmarshalBinary(b) != nil {
			return
		}
		var a PeerAnswer
		answerer.Answer(&p, &a)
		out, _ := p.AppendBinary(nil)
		if !bytes.Equal(out, b) {
			t.Fatalf("decoded probe encodes differently:\n%x\n%x", b, out)
		}
	})
}

// An external session id continued on another instance resumes the
// processed index its first instance kept: not a new session, and only
// the new messages are new.
func TestPeerExternalID(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		ta, tb := twoTables(fuzzy)
		first := withSystem("agent", u("hello"))
		first.ExternalSessionID = []byte("conv-42")
		r1 := ta.Resolve(first)
		if !r1.New || ta.Stats().PeerLookups != 0 {
			t.Fatalf("first request: %+v, lookups %d", r1, ta.Stats().PeerLookups)
		}
		next := withSystem("agent", u("hello"), a("Hi! What can I do?"), u("book a flight"))
		next.ExternalSessionID = []byte("conv-42")
		r2 := tb.Resolve(next)
		if r2.New || r2.Match != MatchExternal || string(r2.ID()) != "conv-42" || r2.Processed != 1 || r2.FirstNew != 1 {
			t.Fatalf("continuation on the other instance: %+v", r2)
		}
		// The peer advanced its index: a third turn there starts after
		// the second one's messages.
		third := withSystem("agent", u("hello"), a("Hi! What can I do?"), u("book a flight"), a("Where to?"), u("Rome"))
		third.ExternalSessionID = []byte("conv-42")
		r3 := ta.Resolve(third)
		if r3.New || r3.FirstNew != 3 {
			t.Fatalf("third turn back on the first instance: %+v", r3)
		}
		if st := tb.Stats(); st.PeerHits != 1 || st.Created != 0 {
			t.Errorf("asker stats %+v", st)
		}
		// An id no peer knows starts a session.
		other := withSystem("agent", u("hello"), a("Hi!"), u("again"))
		other.ExternalSessionID = []byte("conv-43")
		if r := tb.Resolve(other); !r.New {
			t.Errorf("unknown external id: %+v", r)
		}
	})
}

// Answer runs while the same table resolves its own requests: concurrent
// conversations round-robin over two tables that ask each other (run
// with -race). Each conversation keeps one session.
func TestPeersConcurrent(t *testing.T) {
	ts := peeredTables(2, true)
	const workers, turns = 4, 12
	ids := make([][]string, workers)
	done := make(chan int)
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- w }()
			sysPrompt := "concurrent agent"
			msgs := []Message{u("worker " + string(rune('A'+w)) + " starts a long task about invoices")}
			for k := 0; k < turns; k++ {
				tab := ts[(w+k)%2]
				r := tab.Resolve(withSystem(sysPrompt, msgs...))
				ids[w] = append(ids[w], string(r.ID()))
				reply := a("worker " + string(rune('A'+w)) + " answer " + string(rune('a'+k)) + " with enough words to be distinctive")
				tab.Reply(&r, &reply, nil)
				msgs = append(msgs, reply, u("next step "+string(rune('a'+k))))
			}
		}()
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	for w, list := range ids {
		for k, id := range list {
			if id != list[0] {
				t.Fatalf("worker %d turn %d: session %s, want %s", w, k, id, list[0])
			}
		}
	}
}

// TestPeerExternalAlternates: a conversation with an external session id
// that alternates between two instances gets, on every turn, the messages
// no instance has processed yet as new: an instance that saw the id turns
// ago asks its peers again instead of trusting its own stale index.
func TestPeerExternalAlternates(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		ta, tb := twoTables(fuzzy)
		// turn is the request of turn k (from 0) of a conversation with
		// the external id sid: k answers and k+1 questions.
		turn := func(sid string, k int) *Conversation {
			var msgs []Message
			for i := range k + 1 {
				if i > 0 {
					msgs = append(msgs, a("answer "+strconv.Itoa(i)))
				}
				msgs = append(msgs, u("question "+strconv.Itoa(i+1)))
			}
			c := conv(msgs...)
			c.ExternalSessionID = []byte(sid)
			return c
		}
		prev := 0
		for k := range 6 {
			tab := ta
			if k%2 == 1 {
				tab = tb
			}
			c := turn("ext-alternating", k)
			r := tab.Resolve(c)
			if r.FirstNew != prev || string(r.ID()) != "ext-alternating" {
				t.Fatalf("turn %d: FirstNew %d, want %d (the previous turn's messages were processed)", k+1, r.FirstNew, prev)
			}
			prev = len(c.Messages)
		}
		// A conversation that stays on one instance asks no peer.
		before := ta.Stats().PeerLookups
		for k := range 4 {
			ta.Resolve(turn("ext-sticky", k))
		}
		if got := ta.Stats().PeerLookups - before; got > 1 {
			t.Errorf("a conversation on one instance made %d peer lookups, want at most the first continuation's", got)
		}
	})
}
