package session

import (
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	benchSystem = []byte(strings.Repeat("You are a meticulous research assistant. Cite sources. ", 40))
	benchLong   = strings.Repeat("The quick brown fox jumps over the lazy dog. ", 30)
	benchTexts  = func() (t struct{ search, result, summary, expand, toolLong, sure, thanks, costs []byte }) {
		t.search = []byte("Let me search for that.")
		t.result = []byte(`{"results": [{"title": "Result", "snippet": "` + benchLong + `"}]}`)
		t.summary = []byte("Here is a summary of what I found. " + benchLong)
		t.expand = []byte("Can you expand on the second point? " + benchLong)
		t.toolLong = []byte(benchLong + benchLong)
		t.sure = []byte("Certainly. " + benchLong)
		t.thanks = []byte("Thanks. What about costs?")
		t.costs = []byte("Costs are falling. " + benchLong)
		return t
	}()
)

// benchConversation builds an 18-message history (system message, user
// turns, tool loops, assistant answers; texts of a few hundred bytes to a
// few KB) whose first user message and call ids are made unique by seed,
// followed by an assistant answer and a user follow-up: 20 messages, the
// shape of a later request of a tool-using agent. Texts other than the
// first question are shared between conversations, as the bytes of one
// request body would sit in cache once the adapter has read them.
func benchConversation(seed int, followUp []byte) *Conversation {
	bt := &benchTexts
	c := &Conversation{System: benchSystem, HasSystem: true}
	add := func(role string, content []byte, callID string) {
		m := c.Add()
		m.Role, m.Content = []byte(role), content
		if callID != "" {
			m.CallID = []byte(callID)
		}
	}
	add("system", benchSystem, "")
	add("user", []byte("Research task #"+strconv.Itoa(seed)+": summarise the state of solid-state batteries. "+benchLong), "")
	for i := 0; i < 5; i++ {
		id := "call_" + strconv.Itoa(seed) + "_" + strconv.Itoa(i)
		add("assistant", bt.search, id)
		add("tool", bt.result, id)
	}
	id := "call_x_" + strconv.Itoa(seed)
	add("assistant", bt.summary, "")
	add("user", bt.expand, "")
	add("assistant", nil, id)
	add("tool", bt.toolLong, id)
	add("assistant", bt.sure, "")
	add("user", bt.thanks, "")
	add("assistant", bt.costs, "")
	add("user", followUp, "")
	return c
}

// BenchmarkResolve20 measures the common request: the next turn of a
// known conversation, 20 messages, the session sitting at the previous
// state. Setup (bringing sessions back to that state) runs with the timer
// stopped, once per batch of 1024.
func BenchmarkResolve20(b *testing.B) {
	for _, escaped := range []bool{false, true} {
		for _, fuzzy := range []bool{false, true} {
			name := "exact"
			if fuzzy {
				name = "fuzzy"
			}
			if escaped {
				name += "/escaped"
			}
			b.Run(name, func(b *testing.B) {
				benchResolve20(b, fuzzy, escaped)
			})
		}
	}
}

// escapeAll turns the conversation's texts into JSON string bodies with
// an escape early in each (a newline, a quote), as raw request bytes are.
func escapeAll(c *Conversation) {
	for i := range c.Messages {
		m := &c.Messages[i]
		if len(m.Content) == 0 {
			continue
		}
		s := string(m.Content)
		if len(s) > 30 {
			s = s[:20] + "\n\"" + s[20:]
		}
		m.Content, m.Escaped = []byte(jsonBody(s)), true
	}
}

func benchResolve20(b *testing.B, fuzzy, escaped bool) {
	const batch = 4096
	cfg := DefaultConfig()
	cfg.Fuzzy = fuzzy
	tab := New(cfg)
	// One Conversation, as an adapter reuses a pooled one; conversations
	// differ by their first question, so that each has its own session.
	hot := benchConversation(0, nil)
	if escaped {
		escapeAll(hot)
	}
	msgs := hot.Messages
	if len(msgs) != 20 {
		b.Fatalf("conversation has %d messages", len(msgs))
	}
	// The first question is written for each request into one buffer, as a
	// request body sits in cache once read; the writing is timed too.
	first := make([]byte, 0, 2048)
	question := func(i int) []byte {
		first = append(first[:0], "Research task #"...)
		first = strconv.AppendInt(first, int64(i), 10)
		first = append(first, ": summarise the state of solid-state batteries. "...)
		if escaped {
			first = append(first, `\n\"quoted\" `...)
		}
		return append(first, benchLong...)
	}
	resolve := func(i, n int) Result {
		hot.Messages = msgs[:n]
		msgs[1].Content = question(i)
		return tab.Resolve(hot)
	}
	setup := func(i, n int) {
		hot.Messages = msgs[:n]
		msgs[1].Content = question(i)
		tab.Resolve(hot)
	}
	fresh := func() { // each conversation gets one session, listed at messages[:16]
		tab = New(cfg)
		for i := 0; i < batch; i++ {
			setup(i, 16)
		}
	}
	fresh()
	follow := make([]byte, 0, 64)
	// The machine is shared: besides wall time, report the CPU time of
	// this thread in the timed sections, which other processes taking
	// turns on the cores do not inflate.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for done, round := 0, 0; done < b.N; round++ {
		b.StopTimer()
		// Every round lists each conversation's new 20-message state; the
		// stale ones fill the index after about a hundred rounds (4,096
		// sessions of more than 100 turns, beyond what a table of 10,000
		// sessions is sized for), and evicting them would start to evict
		// live states too. A long run starts a fresh table every 64 rounds.
		if round > 0 && round%64 == 0 {
			fresh()
		}
		for i := 0; i < batch; i++ { // back to the previous state: 18 messages
			setup(i, 18)
		}
		follow = append(follow[:0], "And the outlook for "...)
		follow = strconv.AppendInt(follow, int64(round), 10)
		msgs[19].Content, msgs[19].Escaped = follow, escaped
		began := threadCPU()
		b.StartTimer()
		for i := 0; i < batch && done < b.N; i++ {
			if r := resolve(i, 20); r.Match != MatchExact {
				b.Fatalf("round %d conversation %d: match %v, stats %+v", round, i, r.Match, tab.Stats())
			}
			done++
		}
		b.StopTimer()
		cpu += threadCPU() - began
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// threadCPU is the CPU time (user and system) of the calling thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkResolveNew measures starting a conversation: [system, user].
func BenchmarkResolveNew(b *testing.B) {
	tab := New(DefaultConfig())
	c := benchConversation(0, nil)
	c.Messages = c.Messages[:2]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := tab.Resolve(c); !r.New {
			b.Fatal("not new")
		}
	}
}

// BenchmarkResolve20Parallel runs continuations from all cores on a
// shared table (each goroutine its own conversations).
func BenchmarkResolve20Parallel(b *testing.B) {
	tab := New(DefaultConfig())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c := benchConversation(int(nextSeed.Add(1)), nil)
		p := *c
		p.Messages = p.Messages[:18]
		follow := make([]byte, 0, 64)
		for n := 0; pb.Next(); n++ {
			tab.Resolve(&p)
			follow = strconv.AppendInt(follow[:0], int64(n), 10)
			c.Messages[19].Content = follow
			tab.Resolve(c)
		}
	})
}

func BenchmarkAgentID(b *testing.B) {
	tab := New(DefaultConfig())
	c := benchConversation(0, nil)
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	b.SetBytes(int64(len(c.System)))
	for i := 0; i < b.N; i++ {
		buf = tab.AgentID(buf[:0], c)
	}
}

func BenchmarkParseTags(b *testing.B) {
	v := []byte("user:alice@example.com, env:production, team:platform, debug, workflowId:wf-123")
	dst := make([]Tag, 0, MaxTags)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst = ParseTags(dst[:0], v)
	}
}

// Components of Resolve, to read BenchmarkResolve20 by.

// BenchmarkSignature20 is the exact signature of the 20-message
// conversation: 21 parts of up to 100 bytes, hashed and chained.
func BenchmarkSignature20(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchSignature20(b, false) })
	b.Run("escaped", func(b *testing.B) { benchSignature20(b, true) })
}

func benchSignature20(b *testing.B, escaped bool) {
	c := benchConversation(1, []byte("And the outlook?"))
	if escaped {
		escapeAll(c)
	}
	b.ReportAllocs()
	var s uint64
	for i := 0; i < b.N; i++ {
		var g signature
		g.reset()
		g.system(c.System, false)
		for j := range c.Messages {
			g.message(&c.Messages[j])
		}
		s += g.sum()
	}
	_ = s
}

// BenchmarkIndexList is one lookup of a signature list in a 64 MB index
// holding 64k lists.
func BenchmarkIndexList(b *testing.B) {
	tab := New(DefaultConfig())
	r := tab.Resolve(conv(u("x")))
	now := tab.tick()
	for i := 0; i < 1<<16; i++ {
		tab.add(kindSig, uint64(i)*0x9e3779b97f4a7c15, r.h, now, true)
	}
	var buf listBuf
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tab.idx.list(kindSig, uint64(i&(1<<16-1))*0x9e3779b97f4a7c15, &buf)
	}
}

// BenchmarkIndexAdd is one append of a session to a new signature list.
func BenchmarkIndexAdd(b *testing.B) {
	tab := New(DefaultConfig())
	r := tab.Resolve(conv(u("x")))
	now := tab.tick()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tab.add(kindSig, uint64(i)*0x9e3779b97f4a7c15, r.h, now, true)
	}
}

// BenchmarkNormHash is the fuzzy fingerprint of one message (plain ASCII,
// already in normal form: the common case).
func BenchmarkNormHash(b *testing.B) {
	m := a("Costs are falling. " + benchLong)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		normHash(&m)
	}
}

// rerendered caches re-rendered texts, so that texts shared by the
// benchmark's conversations stay shared (and in cache, as the bytes of one
// request body are once the adapter has read them).
var rerendered = map[string][]byte{}

func rendered(text []byte) []byte {
	if r, ok := rerendered[string(text)]; ok {
		return r
	}
	r := []byte(strings.ReplaceAll(curly(string(text)), ". ", ".\r\n"))
	rerendered[string(text)] = r
	return r
}

// BenchmarkResolveFuzzy measures a fuzzy rescue: the next turn of a known
// 20-message conversation whose client re-rendered every earlier text
// (typographic quotes, CRLF), so that the exact signature misses and the
// recorded reply (F1) or the canonical tail (F2, no reply) finds the
// session. Each request continues a different session.
func BenchmarkResolveFuzzy(b *testing.B) {
	for _, withReply := range []bool{true, false} {
		name := "reply"
		if !withReply {
			name = "tail"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.MaxSessions = b.N + evictionSample
			tab := New(cfg)
			next := make([]*Conversation, b.N)
			for i := range next {
				c := benchConversation(i, []byte(`Thanks. What about "costs"?`))
				// The turns around the reply are this conversation's own:
				// replies and tails shared by thousands of sessions are
				// ambiguous by design.
				c.Messages[17].Content = []byte("Thanks. What about the costs of task " + strconv.Itoa(i) + "?")
				c.Messages[18].Content = []byte("Costs of task " + strconv.Itoa(i) + " are falling. " + benchLong)
				first := *c
				first.Messages = c.Messages[:18]
				r := tab.Resolve(&first)
				if withReply {
					tab.Reply(&r, &c.Messages[18], nil)
				}
				re := &Conversation{System: c.System, HasSystem: true, Messages: append([]Message{}, c.Messages...)}
				for j := 1; j < 18; j++ {
					m := &re.Messages[j]
					m.Content = rendered(m.Content)
				}
				next[i] = re
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			began := threadCPU()
			missed := 0
			for i := 0; i < b.N; i++ {
				if r := tab.Resolve(next[i]); !r.Match.Fuzzy() {
					missed++ // a tail key lost to a full bucket of the tail index
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((threadCPU()-began).Nanoseconds())/float64(b.N), "cpu-ns/op")
			if missed*50 > b.N {
				b.Fatalf("%d of %d requests not matched", missed, b.N)
			}
			b.ReportMetric(float64(missed)/float64(b.N), "missed/op")
		})
	}
}
