package session

import (
	"strconv"
	"testing"
	"time"
)

// The original's tests/providers/test_session_utils.py,
// as request sequences. Each step names the session it must land in by a
// label: steps with one label share an id, steps with different labels do
// not; an empty label checks nothing.

type flags uint8

const (
	noCheck flags = iota // do not check New / Fragmented
	isNew                // New, not Fragmented
	cont                 // not New, not Fragmented
)

type step struct {
	c     *Conversation
	label string
	want  flags
}

type sessionCase struct {
	name       string
	steps      []step
	created    int // -1: do not check; else Stats().Created must equal it
	minCreated int
	fragmented int // -1: do not check
}

// broadcast is the original's broadcast_conversation: one request per
// prefix of the conversation.
func broadcast(system string, label string, msgs ...Message) []step {
	var out []step
	for i := range msgs {
		var c *Conversation
		if system != "" {
			c = withSystem(system, msgs[:i+1]...)
		} else {
			c = conv(msgs[:i+1]...)
		}
		out = append(out, step{c: c, label: label})
	}
	return out
}

// onlyLabels keeps the labels of the steps at the given indexes.
func onlyLabels(steps []step, keep ...int) []step {
	label := ""
	for i := range steps {
		if steps[i].label != "" {
			label = steps[i].label
		}
		steps[i].label = ""
	}
	for _, k := range keep {
		steps[k].label = label
	}
	return steps
}

const mathSystem = "You are a helpful math assistant. Use the math_calculator tool to perform calculations when needed. Be conversational and helpful in your responses. Remember previous calculations and can reference them in future conversations."

func weatherChat() []Message {
	return []Message{
		u("What's the weather in Madrid?"),
		aCall("", "call_123"),
		tool("call_123", `{ "temperature": "29°C", "condition": "Sunny" }`),
		a("The weather in Madrid is currently sunny and 29°C."),
		u("And what about Barcelona?"),
	}
}

func weatherResponses() []Message {
	out := weatherChat()
	out[1] = fc("call_123")
	out[2] = fco("call_123")
	// an assistant message whose content is an output_text block: no
	// "text" block, so no content text for the original
	out[3] = Message{Role: []byte("assistant")}
	return out
}

func weatherAnthropic() []Message {
	out := weatherChat()
	out[1] = aCall("", "toolu_123")
	out[2] = toolResult("toolu_123")
	return out
}

func sessionCases() []sessionCase {
	nyc := []Message{
		u("What's the weather in NYC?"),
		aCall("I'll check the weather for you.", "call_123"),
		tool("call_123", "Sunny, 75°F"),
		a("It's sunny and 75°F in NYC today!"),
		u("Thanks! What about Boston?"),
		aCall("Let me check Boston weather.", "call_456"),
		tool("call_456", "Cloudy, 68°F"),
	}
	math := []Message{
		sys(mathSystem),
		u("What is 25 + 17?"),
		aCall("", "call_2ZBIB4gicvMpy4QEnSrjm180"),
		tool("call_2ZBIB4gicvMpy4QEnSrjm180", "42"),
		a("25 + 17 equals 42. If you have any more calculations or questions, feel free to ask!"),
		u("Now multiply that result by 2"),
	}
	hello := []Message{u("Hello"), a("Hi there!"), u("How are you?"), a("I'm good!"), u("Great!")}
	conv1 := []Message{u("Hi"), a("Hello!"), u("How are you?")}
	conv2 := []Message{u("What's math?"), a("Numbers!"), u("Cool!")}
	inter := []Message{u("Hello"), a("Hi!"), u("How are you?"), u("Are you there?")}
	steps8 := []Message{u("Calculate 2+2"), aCall("", "call_1"), tool("call_1", "4"), aCall("", "call_2"), tool("call_2", "4 again"), a("It is 4."), u("Thanks")}
	steps8r := []Message{u("Calculate 2+2"), fc("call_1"), fco("call_1"), fc("call_2"), fco("call_2"), {Role: []byte("assistant"), Content: []byte("It is 4.")}, u("Thanks")}
	const calcSystem = "You are a calculator agent."

	identical := broadcast("", "", hello[:3]...)
	identical = append(identical, broadcast("", "", hello[:3]...)...)
	identical[2].label, identical[5].label = "first", "second"

	return []sessionCase{
		{
			name: "single conversation keeps its session",
			steps: []step{
				{conv(hello[:1]...), "A", isNew},
				{conv(hello[:3]...), "A", cont},
				{conv(hello[:5]...), "A", cont},
			},
			created: 1, fragmented: 0,
		},
		{
			name:       "identical conversations run one after the other get different sessions",
			steps:      identical,
			created:    -1,
			minCreated: 2,
			fragmented: -1,
		},
		{
			name: "interleaved conversations stay apart",
			steps: []step{
				{conv(conv1[:1]...), "1", isNew},
				{conv(conv2[:1]...), "2", isNew},
				{conv(conv1[:2]...), "", noCheck},
				{conv(conv2[:2]...), "", noCheck},
				{conv(conv1[:3]...), "1", cont},
				{conv(conv2[:3]...), "2", cont},
			},
			created: 2, fragmented: 0,
		},
		{
			name: "tool calls across four requests",
			steps: []step{
				{conv(nyc[:1]...), "A", isNew},
				{conv(nyc[:3]...), "A", cont},
				{conv(nyc[:5]...), "A", cont},
				{conv(nyc[:7]...), "A", cont},
			},
			created: 1, fragmented: 0,
		},
		{
			name: "consecutive user messages continue",
			steps: []step{
				{conv(inter[:1]...), "A", isNew},
				{conv(inter[:3]...), "A", cont},
				{conv(inter[:4]...), "A", cont},
			},
			created: 1, fragmented: 0,
		},
		{
			name:       "OpenAI chat broadcast",
			steps:      onlyLabels(broadcast("", "A", weatherChat()...), 0, 4),
			created:    -1,
			fragmented: -1,
		},
		{
			name:       "OpenAI Responses broadcast",
			steps:      onlyLabels(broadcast("", "A", weatherResponses()...), 0, 4),
			created:    -1,
			fragmented: -1,
		},
		{
			name:       "Anthropic broadcast",
			steps:      onlyLabels(broadcast("", "A", weatherAnthropic()...), 0, 2, 4),
			created:    -1,
			fragmented: -1,
		},
		{
			name: "math assistant with system prompt and tool call",
			steps: []step{
				{withSystem(mathSystem, math[:2]...), "A", isNew},
				{withSystem(mathSystem, math[:4]...), "A", cont},
				{withSystem(mathSystem, math[:6]...), "A", cont},
			},
			created: 1, fragmented: 0,
		},
		{
			name:       "every intermediate state stays in one session",
			steps:      broadcast("", "A", steps8...),
			created:    1,
			fragmented: 0,
		},
		{
			name:       "every intermediate state stays in one session, Responses API",
			steps:      broadcast("", "A", steps8r...),
			created:    1,
			fragmented: 0,
		},
		{
			name: "concurrent identical starts with a system prompt",
			steps: []step{
				{withSystem(calcSystem, sys(calcSystem), u("What is 2+2?")), "A", isNew},
				{withSystem(calcSystem, sys(calcSystem), u("What is 2+2?")), "B", isNew},
				{withSystem(calcSystem, sys(calcSystem), u("What is 2+2?"), aCall("", "call_A"), tool("call_A", "4")), "A", cont},
				{withSystem(calcSystem, sys(calcSystem), u("What is 2+2?"), aCall("", "call_B"), tool("call_B", "4")), "B", cont},
				{withSystem(calcSystem, sys(calcSystem), u("What is 2+2?"), aCall("", "call_A"), tool("call_A", "4"), a("2+2 is 4."), u("And 3+3?")), "A", cont},
				{withSystem(calcSystem, sys(calcSystem), u("What is 2+2?"), aCall("", "call_B"), tool("call_B", "4"), a("2+2 is 4."), u("And 5+5?")), "B", cont},
			},
			created: 2, fragmented: 0,
		},
	}
}

func TestOriginalSessionCases(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		for _, tc := range sessionCases() {
			t.Run(tc.name, func(t *testing.T) {
				tab := newTestTable(t, fuzzy)
				runSteps(t, tab, tc.steps)
				st := tab.Stats()
				if tc.created >= 0 && int(st.Created) != tc.created {
					t.Errorf("sessions created = %d, want %d", st.Created, tc.created)
				}
				if int(st.Created) < tc.minCreated {
					t.Errorf("sessions created = %d, want at least %d", st.Created, tc.minCreated)
				}
				if tc.fragmented >= 0 && int(st.Fragmented) != tc.fragmented {
					t.Errorf("sessions fragmented = %d, want %d", st.Fragmented, tc.fragmented)
				}
				if st.FuzzyMatches != 0 {
					t.Errorf("fuzzy matches = %d in flows the exact algorithm resolves", st.FuzzyMatches)
				}
			})
		}
	})
}

func runSteps(t *testing.T, tab *Table, steps []step) {
	t.Helper()
	ids := map[string]string{}
	owner := map[string]string{}
	for i, s := range steps {
		r := tab.Resolve(s.c)
		id := string(r.ID())
		if len(id) != uuidLen {
			t.Fatalf("step %d: session id %q is not a UUID", i, id)
		}
		switch s.want {
		case isNew:
			if !r.New || r.Fragmented {
				t.Errorf("step %d: new=%v fragmented=%v, want a new unfragmented session", i, r.New, r.Fragmented)
			}
		case cont:
			if r.New || r.Fragmented {
				t.Errorf("step %d: new=%v fragmented=%v (%v), want a continuation", i, r.New, r.Fragmented, r.Match)
			}
		}
		if s.label == "" {
			continue
		}
		if prev, ok := ids[s.label]; ok && prev != id {
			t.Errorf("step %d: session %s, want %s (label %s)", i, id, prev, s.label)
		}
		if other, ok := owner[id]; ok && other != s.label {
			t.Errorf("step %d: session %s already belongs to label %s, not %s", i, id, other, s.label)
		}
		ids[s.label] = id
		owner[id] = s.label
	}
}

func TestPreviousStateExamples(t *testing.T) {
	// the docstring examples of _get_messages_without_last_exchange
	cases := []struct {
		msgs []Message
		prev int // length of the previous state; 0 = none
	}{
		{[]Message{sys("s"), u("q")}, 0},
		{[]Message{sys("s"), u("q"), a("r")}, 2},
		{[]Message{sys("s"), u("q"), a("r"), tool("1", "x")}, 2},
		{[]Message{sys("s"), u("q"), a("r"), tool("1", "x"), a("r2"), tool("2", "x"), tool("3", "x"), tool("4", "x"), tool("5", "x")}, 4},
		{[]Message{u("q"), fc("1"), fco("1")}, 1},
		{[]Message{a("r"), u("q")}, 0},
		{[]Message{u("q")}, 0},
	}
	for i, tc := range cases {
		last := lastLLM(tc.msgs)
		got := 0
		if len(tc.msgs) > 1 && last > 0 {
			got = last
		}
		if got != tc.prev {
			t.Errorf("case %d: previous state has %d messages, want %d", i, got, tc.prev)
		}
	}
}

func TestIsFirstMessage(t *testing.T) {
	cases := []struct {
		msgs  []Message
		first bool
	}{
		{nil, true},
		{[]Message{u("q")}, true},
		{[]Message{sys("s"), u("q")}, true},
		{[]Message{u("q"), a("r")}, true},
		{[]Message{u("q"), a("r"), u("q2")}, false},
		{[]Message{u("q"), fc("1"), fco("1")}, false},
		{[]Message{sys("s"), sys("s2"), u("q")}, true},
	}
	for i, tc := range cases {
		if got := isFirst(tc.msgs); got != tc.first {
			t.Errorf("case %d: isFirst = %v, want %v", i, got, tc.first)
		}
	}
}

func TestFragmentedWhenHistoryIsUnknown(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		tab := newTestTable(t, fuzzy)
		r := tab.Resolve(conv(u("Hello"), a("Hi"), u("How are you?")))
		if !r.New || !r.Fragmented || r.Match != MatchCreated {
			t.Fatalf("got new=%v fragmented=%v match=%v, want a fragmented new session", r.New, r.Fragmented, r.Match)
		}
		if r.FirstNew != 0 || r.Processed != 0 {
			t.Errorf("FirstNew=%d Processed=%d, want 0 0: a new session re-emits its whole history", r.FirstNew, r.Processed)
		}
		if got := tab.Stats().Fragmented; got != 1 {
			t.Errorf("fragmented = %d, want 1", got)
		}
	})
}

func TestProcessedIndex(t *testing.T) {
	tab := newTestTable(t, false)
	m := []Message{u("q"), aCall("", "c1"), tool("c1", "x"), a("done"), u("next")}
	r := tab.Resolve(conv(m[:1]...))
	if r.Processed != 0 || r.FirstNew != 0 {
		t.Fatalf("new session: Processed=%d FirstNew=%d", r.Processed, r.FirstNew)
	}
	r = tab.Resolve(conv(m[:3]...))
	if r.Processed != 1 || r.FirstNew != 1 {
		t.Fatalf("second request: Processed=%d FirstNew=%d, want 1 1", r.Processed, r.FirstNew)
	}
	r = tab.Resolve(conv(m[:5]...))
	if r.Processed != 3 || r.FirstNew != 3 {
		t.Fatalf("third request: Processed=%d FirstNew=%d, want 3 3", r.Processed, r.FirstNew)
	}
	// A repeated earlier state has nothing new (the original's empty slice).
	r = tab.Resolve(conv(m[:3]...))
	if r.Processed != 5 || r.FirstNew != 3 {
		t.Fatalf("repeated state: Processed=%d FirstNew=%d, want 5 3", r.Processed, r.FirstNew)
	}
	if p, _ := tab.Processed(&r); p != 5 {
		t.Fatalf("processed index went back to %d", p)
	}
	tab.SetProcessed(&r, 7)
	if p, _ := tab.Processed(&r); p != 7 {
		t.Fatalf("SetProcessed: %d, want 7", p)
	}
}

func TestTTLExpiry(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		clock := newFakeClock()
		cfg := DefaultConfig()
		cfg.Fuzzy = fuzzy
		cfg.TTL = 10 * time.Minute
		tab := newTable(cfg, clock.now)
		first := tab.Resolve(chat(u("Hello")))
		clock.advance(9 * time.Minute)
		if r := tab.Resolve(chat(u("Hello"), a("Hi"), u("Still there?"))); r.Match != MatchExact || string(r.ID()) != string(first.ID()) {
			t.Fatalf("within the TTL: %v", r.Match)
		}
		clock.advance(10*time.Minute + time.Second)
		if st := tab.Stats(); st.ActiveSessions != 0 || st.Expired != 1 {
			t.Fatalf("after the TTL: active %d expired %d", st.ActiveSessions, st.Expired)
		}
		r := tab.Resolve(chat(u("Hello"), a("Hi"), u("Still there?"), a("Yes"), u("Good")))
		if !r.New || !r.Fragmented || string(r.ID()) == string(first.ID()) {
			t.Fatalf("after the TTL: new=%v fragmented=%v", r.New, r.Fragmented)
		}
		if st := tab.Stats(); st.ActiveSessions != 1 || st.Expired != 1 {
			t.Fatalf("stats after expiry: %+v", st)
		}
	})
}

func TestMaxSessionsEvictsLeastRecentlyUsed(t *testing.T) {
	clock := newFakeClock()
	cfg := DefaultConfig()
	cfg.MaxSessions = 32
	tab := newTable(cfg, clock.now)
	ids := make([]string, 40)
	for i := 0; i < 32; i++ {
		clock.advance(time.Second)
		r := tab.Resolve(chat(u("q" + strconv.Itoa(i))))
		ids[i] = string(r.ID())
	}
	for i := 0; i < 8; i++ { // the oldest eight are used again
		clock.advance(time.Second)
		tab.Resolve(chat(u("q"+strconv.Itoa(i)), a("a"), u("more")))
	}
	for i := 32; i < 40; i++ {
		clock.advance(time.Second)
		r := tab.Resolve(chat(u("q" + strconv.Itoa(i))))
		ids[i] = string(r.ID())
	}
	st := tab.Stats()
	if st.ActiveSessions != 32 || st.Evicted != 8 || st.Created != 40 {
		t.Fatalf("stats %+v", st)
	}
	for i := 0; i < 8; i++ {
		clock.advance(time.Second)
		r := tab.Resolve(chat(u("q"+strconv.Itoa(i)), a("a"), u("more"), a("b"), u("again")))
		if string(r.ID()) != ids[i] {
			t.Errorf("session %d, used recently, was evicted", i)
		}
	}
	for i := 8; i < 16; i++ {
		if r := tab.Resolve(chat(u("q"+strconv.Itoa(i)), a("a"), u("more"))); r.Match != MatchCreated {
			t.Errorf("session %d, the least recently used, survived", i)
		}
	}
}

func TestIndexMemoryIsBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSessions = 1000
	cfg.MemoryMB = 1 // below the floor: the index gets minIndexBytes
	tab := New(cfg)
	for i := 0; i < 60000; i++ {
		q := u("question " + strconv.Itoa(i))
		tab.Resolve(chat(q))
		tab.Resolve(chat(q, a("answer"), u("follow-up")))
	}
	st := tab.Stats()
	if st.IndexEvictions == 0 || st.ActiveSessions != 1000 || st.Evicted != 59000 {
		t.Fatalf("stats %+v", st)
	}
	// recent conversations still resolve
	if r := tab.Resolve(chat(u("question 59999"), a("answer"), u("follow-up"), a("more"), u("ok"))); r.Match != MatchExact {
		t.Fatalf("latest conversation lost: %v", r.Match)
	}
}

func TestStatsCreationRate(t *testing.T) {
	clock := newFakeClock()
	tab := newTable(DefaultConfig(), clock.now)
	for i := 0; i < 120; i++ {
		tab.Resolve(chat(u("q" + strconv.Itoa(i))))
		clock.advance(500 * time.Millisecond)
	}
	st := tab.Stats()
	if st.CreationRate < 1.9 || st.CreationRate > 2.1 {
		t.Fatalf("creation rate %v/s, want 2", st.CreationRate)
	}
	if st.CacheMisses != 120 || st.CacheHits != 0 || st.HitRate != 0 {
		t.Fatalf("stats %+v", st)
	}
	clock.advance(2 * time.Minute)
	if r := tab.Stats().CreationRate; r != 0 {
		t.Fatalf("idle creation rate %v", r)
	}
}

func TestDisabled(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Enabled = false
	tab := New(cfg)
	r := tab.Resolve(chat(u("q")))
	if r.Match != MatchDisabled || len(r.ID()) != 0 || r.New {
		t.Fatalf("disabled table resolved %+v", r)
	}
	tab.Reply(&r, ptr(a("x")), []byte("resp"))
	if got := string(tab.AgentID(nil, chat(u("q")))); got != "prompt-"+md5Hex12(agentPrompt) {
		t.Fatalf("agent id %q", got)
	}
}

// A state shared by more sessions than a list holds keeps the newest:
// identical starts beyond maxList push out the oldest, which the original
// would have handed the next continuation first.
func TestFullListDropsOldest(t *testing.T) {
	clock := newFakeClock()
	cfg := DefaultConfig()
	cfg.Fuzzy = false
	tab := newTable(cfg, clock.now)
	start := chat(u("Run the nightly report"))
	ids := make([]string, maxList+6)
	for i := range ids {
		r := tab.Resolve(start)
		ids[i] = string(r.ID())
		clock.advance(time.Millisecond)
	}
	r := tab.Resolve(chat(u("Run the nightly report"), a("Running."), u("Status?")))
	if r.Match != MatchExact || string(r.ID()) != ids[6] {
		t.Fatalf("continuation went to %q (%v), want the oldest still listed, %q", r.ID(), r.Match, ids[6])
	}
	// Expired sessions are pruned before live ones are dropped.
	clock.advance(cfg.TTL + time.Second)
	fresh := tab.Resolve(start)
	r = tab.Resolve(chat(u("Run the nightly report"), a("Running."), u("Status?")))
	if string(r.ID()) != string(fresh.ID()) {
		t.Fatalf("continuation after expiry went to %q, want the only live session %q", r.ID(), fresh.ID())
	}
}
