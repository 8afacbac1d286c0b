package session

import (
	"strings"
	"testing"
)

// Each case is a conversation whose later request differs from what the
// session saw in a way the original does not forgive. Without fuzzy
// matching the request is fragmented (or, for F1, looks new); with it, it
// continues the session by the named rule.

const agentPrompt = "You are a travel agent. Use the tools to search flights and hotels, then answer briefly."

// chat is an OpenAI Chat request: the system prompt is also the first
// message.
func chat(msgs ...Message) *Conversation {
	all := append([]Message{sys(agentPrompt)}, msgs...)
	return withSystem(agentPrompt, all...)
}

type fuzzyCase struct {
	name  string
	first []*Conversation // requests the session sees as the original would
	reply *Message        // recorded after the last of first, if any
	next  *Conversation   // the request that differs
	exact Match           // its match without fuzzy matching
	fuzzy Match           // and with
	// firstNew is the expected FirstNew of next with fuzzy matching
	firstNew int
}

func fuzzyCases() []fuzzyCase {
	longTool := `{"flights": [` + strings.Repeat(`{"id": "AF123", "price": 420, "depart": "2026-03-02T08:15"}, `, 20) + `]}`
	history := []Message{
		u("Find flights from Berlin to Paris on March 2"),
		aCall("", "call_f1"),
		tool("call_f1", longTool),
		a("I found 20 flights; the cheapest is AF123 at 420 EUR."),
		u("Book AF123 and find a hotel near the Louvre"),
		aCall("", "call_b1"),
		tool("call_b1", `{"booking": "OK", "ref": "X7Q2"}`),
		aCall("", "call_h1"),
		tool("call_h1", `{"hotels": ["Hotel du Louvre", "Le Meurice"]}`),
		a("Booked (ref X7Q2). Hotels nearby: Hotel du Louvre, Le Meurice."),
		u("Take Hotel du Louvre for two nights"),
	}
	next := append(append([]Message{}, history...), aCall("", "call_h2"), tool("call_h2", `{"booking": "OK"}`))

	trimmed := append([]Message{}, next[5:]...) // the oldest exchange dropped to fit a context window
	rewritten := append([]Message{}, next...)
	rewritten[2] = tool("call_f1", "[20 flights, output elided]")

	spaced := append([]Message{}, next...)
	spaced[0] = u("Find  flights from Berlin to Paris\ton March 2 ")
	spaced[3] = a("I found 20 flights;\nthe cheapest is AF123 at 420\u00a0EUR.")

	unicode := append([]Message{}, next...)
	unicode[0] = u("Find ﬂights from Ｂｅｒｌｉｎ to Paris on March ２\u200b")

	// A client that re-renders: typographic quotes, Markdown re-flowed.
	rich := []Message{
		u(`Find flights to "Paris" for March, it's for my team's offsite`),
		a("## Options\n\n* **AF123**: 420 EUR, it's direct\n* **LH99**: 380 EUR via \"Frankfurt\""),
		u("Book AF123 and find a hotel near the Louvre for two nights, please"),
	}
	quoted := append([]Message{}, rich...)
	quoted[0] = u("Find flights to “Paris” for March, it’s for my team’s offsite")
	quoted[1] = a("## Options\n\n* **AF123**: 420 EUR, it’s direct\n* **LH99**: 380 EUR via “Frankfurt”")
	reflowed := append([]Message{}, rich...)
	reflowed[1] = a("Options\n-------\n\n- __AF123__: 420 EUR,\n  it's direct\n- __LH99__: 380 EUR\r\n  via \"Frankfurt\"")
	booking := []Message{aCall("", "call_b9"), tool("call_b9", `{"booking": "OK"}`)}
	summary := u("Summary of the earlier conversation: flights to Paris compared, AF123 chosen.")

	// Functions before tools: no call ids; the client re-serialises the
	// results it stores.
	legacy := []Message{u("What's the weather in Paris?"), a(""), msg("function", `{"city": "Paris", "temp": 18, "sky": "cloudy"}`)}
	legacyNext := append([]Message{}, legacy...)
	legacyNext[2] = msg("function", `{"city":"Paris","sky":"cloudy","temp":18}`)
	legacyNext = append(legacyNext, a(""), msg("function", `{"city": "Lyon", "temp": 21}`))

	return []fuzzyCase{
		{
			name:     "quotes re-rendered curly",
			first:    []*Conversation{chat(rich...)},
			next:     chat(append(quoted, booking...)...),
			exact:    MatchCreated,
			fuzzy:    MatchTail,
			firstNew: 1 + len(rich),
		},
		{
			name:     "Markdown re-flowed",
			first:    []*Conversation{chat(rich...)},
			next:     chat(append(reflowed, booking...)...),
			exact:    MatchCreated,
			fuzzy:    MatchTail,
			firstNew: 1 + len(rich),
		},
		{
			name:  "history replaced by a summary: found by the recorded reply alone",
			first: []*Conversation{chat(rich...)},
			reply: ptr(aCall("I'll book it now.", "call_b9")), // the client keeps the call, not its text
			next:  chat(append([]Message{summary}, booking...)...),
			exact: MatchCreated,
			fuzzy: MatchReply,
			// [system, summary, call, result]
			firstNew: 2,
		},
		{
			name:     "history replaced by a summary, a stock reply: not enough to merge",
			first:    []*Conversation{chat(rich...)},
			reply:    ptr(a("Done.")),
			next:     chat(summary, a("Done."), u("continue")),
			exact:    MatchCreated,
			fuzzy:    MatchCreated,
			firstNew: 0,
		},
		{
			name:     "summary before the last message, no reply recorded: the last message alone",
			first:    []*Conversation{chat(rich...)},
			next:     chat(append([]Message{summary, rich[2]}, booking...)...),
			exact:    MatchCreated,
			fuzzy:    MatchTail,
			firstNew: 3,
		},
		{
			name:     "function results re-serialised, no call ids",
			first:    []*Conversation{chat(legacy...)},
			next:     chat(legacyNext...),
			exact:    MatchCreated,
			fuzzy:    MatchTail,
			firstNew: 1 + len(legacy),
		},
		{
			name:     "white space re-encoded",
			first:    []*Conversation{chat(history...)},
			next:     chat(spaced...),
			exact:    MatchCreated,
			fuzzy:    MatchTail,
			firstNew: 1 + len(history),
		},
		{
			name:     "Unicode compatibility forms and zero-width characters",
			first:    []*Conversation{chat(history...)},
			next:     chat(unicode...),
			exact:    MatchCreated,
			fuzzy:    MatchTail,
			firstNew: 1 + len(history),
		},
		{
			name:     "oldest messages trimmed",
			first:    []*Conversation{chat(history...)},
			next:     chat(trimmed...),
			exact:    MatchCreated,
			fuzzy:    MatchTail,
			firstNew: 1 + len(trimmed) - 2,
		},
		{
			name:     "old tool result rewritten",
			first:    []*Conversation{chat(history...)},
			next:     chat(rewritten...),
			exact:    MatchCreated,
			fuzzy:    MatchTail,
			firstNew: 1 + len(history),
		},
		{
			name:  "everything trimmed but the reply: found by the recorded reply",
			first: []*Conversation{chat(history...)},
			reply: ptr(aCall("", "call_h2")),
			next:  chat(aCall("", "call_h2"), tool("call_h2", `{"booking": "OK"}`)),
			// the original sees one client message besides the system
			// prompt: a new conversation, not even a fragment
			exact:    MatchCreated,
			fuzzy:    MatchReply,
			firstNew: 1,
		},
		{
			name:     "reply re-sent with other white space",
			first:    []*Conversation{chat(u("Summarise the plan"))},
			reply:    ptr(a("Day 1: Louvre.  Day 2: Orsay.")),
			next:     chat(a("Day 1: Louvre. Day 2: Orsay.\n"), u("Add a restaurant")),
			exact:    MatchCreated,
			fuzzy:    MatchReply,
			firstNew: 1,
		},
	}
}

func ptr(m Message) *Message { return &m }

func TestFuzzyRules(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		for _, tc := range fuzzyCases() {
			t.Run(tc.name, func(t *testing.T) {
				tab := newTestTable(t, fuzzy)
				var first Result
				for i, c := range tc.first {
					r := tab.Resolve(c)
					if i == 0 {
						first = r
					}
					if string(r.ID()) != string(first.ID()) {
						t.Fatalf("setup request %d left the session", i)
					}
				}
				if tc.reply != nil {
					tab.Reply(&first, tc.reply, nil)
				}
				before := tab.Stats()
				r := tab.Resolve(tc.next)
				want := tc.exact
				if fuzzy {
					want = tc.fuzzy
				}
				if r.Match != want {
					t.Fatalf("match %v, want %v (new=%v fragmented=%v)", r.Match, want, r.New, r.Fragmented)
				}
				same := string(r.ID()) == string(first.ID())
				if want.Fuzzy() {
					if !same || r.New || r.Fragmented {
						t.Fatalf("fuzzy match left the session: same=%v new=%v fragmented=%v", same, r.New, r.Fragmented)
					}
					if r.FirstNew != tc.firstNew {
						t.Errorf("FirstNew %d, want %d", r.FirstNew, tc.firstNew)
					}
					if st := tab.Stats(); st.FuzzyMatches != 1 || st.Fragmented != before.Fragmented {
						t.Errorf("stats: fuzzy %d fragmented %d (%d before)", st.FuzzyMatches, st.Fragmented, before.Fragmented)
					}
				} else if same || !r.New {
					t.Fatalf("without fuzzy matching the request should start a session: same=%v new=%v", same, r.New)
				}

				// The session then goes on exactly, from the new state.
				r2 := tab.Resolve(appendMsgs(tc.next, a("Done."), u("Thanks")))
				if r2.Match != MatchExact || string(r2.ID()) != string(r.ID()) {
					t.Fatalf("follow-up: match %v, same session %v", r2.Match, string(r2.ID()) == string(r.ID()))
				}
				if r2.FirstNew != len(tc.next.Messages) {
					t.Errorf("follow-up FirstNew %d, want %d", r2.FirstNew, len(tc.next.Messages))
				}
			})
		}
	})
}

func appendMsgs(c *Conversation, msgs ...Message) *Conversation {
	n := *c
	n.Messages = append(append([]Message{}, c.Messages...), msgs...)
	return &n
}

// F0: identical concurrent starts whose continuations arrive out of order.
// The original gives the first continuation to the oldest session; the
// recorded replies give each its own.
func TestTieBreakByReply(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		tab := newTestTable(t, fuzzy)
		start := chat(u("What is 2+2?"))
		ra := tab.Resolve(start)
		rb := tab.Resolve(start)
		if string(ra.ID()) == string(rb.ID()) || !rb.New || rb.Fragmented {
			t.Fatal("identical starts must be two sessions")
		}
		tab.Reply(&ra, ptr(aCall("", "call_A")), nil)
		tab.Reply(&rb, ptr(aCall("", "call_B")), nil)

		// B's continuation first.
		r := tab.Resolve(chat(u("What is 2+2?"), aCall("", "call_B"), tool("call_B", "4")))
		want := ra.ID() // the original: oldest session at that state
		if fuzzy {
			want = rb.ID()
			if !r.TieBreak || tab.Stats().TieBreaks != 1 {
				t.Errorf("tie-break not reported")
			}
		}
		if string(r.ID()) != string(want) || r.Match != MatchExact {
			t.Fatalf("B's continuation went to %s (%v), want %s", r.ID(), r.Match, want)
		}
		r = tab.Resolve(chat(u("What is 2+2?"), aCall("", "call_A"), tool("call_A", "4")))
		other := rb.ID()
		if fuzzy {
			other = ra.ID()
		}
		if string(r.ID()) != string(other) {
			t.Fatalf("A's continuation went to %s, want %s", r.ID(), other)
		}
	})
}

// Fuzzy matching never touches a request without history.
func TestFuzzyLeavesFirstMessagesAlone(t *testing.T) {
	tab := newTestTable(t, true)
	r1 := tab.Resolve(chat(u("Hello   world")))
	r2 := tab.Resolve(chat(u("Hello world")))
	r3 := tab.Resolve(chat(u("Hello world")))
	if !r2.New || !r3.New || string(r1.ID()) == string(r2.ID()) || string(r2.ID()) == string(r3.ID()) {
		t.Fatal("first messages must always start sessions")
	}
	if st := tab.Stats(); st.FuzzyMatches != 0 || st.Created != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// Agents never merge: the system prompt must agree in normal form.
func TestFuzzyKeepsAgentsApart(t *testing.T) {
	tab := newTestTable(t, true)
	h := []Message{u("Find flights to Paris"), a("Which dates?"), u("Monday")}
	tab.Resolve(chat(h...))
	other := "You are a travel agent for business customers."
	c := withSystem(other, sys(other), u("Find  flights to Paris"), a("Which dates?"), u("Monday"), a("Searching."), u("Thanks"))
	if r := tab.Resolve(c); !r.Fragmented || r.Match != MatchCreated {
		t.Fatalf("another agent's request joined the session: %v", r.Match)
	}
}

// The system prompt in another normal form still matches.
func TestFuzzySystemNormalForm(t *testing.T) {
	tab := newTestTable(t, true)
	h := []Message{u("Find flights to Paris"), a("Which dates?"), u("Monday")}
	first := tab.Resolve(chat(h...))
	variant := "You are a travel agent.  Use the tools to search flights and hotels, then answer briefly.\n"
	c := withSystem(variant, sys(variant), u("Find flights to Paris"), a("Which dates?"), u("Monday"), a("Searching."), u("Thanks"))
	if r := tab.Resolve(c); r.Match != MatchTail || string(r.ID()) != string(first.ID()) {
		t.Fatalf("match %v", r.Match)
	}
}

func TestNormText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{"  lead and trail  ", "lead and trail"},
		{"a \t\n b", "a b"},
		{"a\u00a0b", "a b"},
		{"a\u3000b", "a b"},
		{"ﬁle", "file"},
		{"Ｆｕｌｌ１２３", "Full123"},
		{"x\u200by\ufeffz", "xyz"},
		{"e\u0301", "é"},
		{strings.Repeat("ab ", 60), strings.Repeat("ab ", 33) + "a"},
	}
	for _, tc := range cases {
		if got := string(normText(nil, []byte(tc.in), false)); got != tc.want {
			t.Errorf("normText(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := string(normText(nil, []byte(jsonBody(tc.in)), true)); got != tc.want {
			t.Errorf("normText(escaped %q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Identical starts with a few-shot template reach the same tail: a
// re-rendered continuation whose reply was not recorded matches none of
// them rather than the last one (F2 refuses an ambiguous tail).
func TestFuzzyTemplateTailIsAmbiguous(t *testing.T) {
	tab := newTestTable(t, true)
	template := []Message{u(`Example: "summarise" this ticket`), a("**Summary**: the customer's card was declined twice."), u("Run the daily check of the payment queue")}
	ra := tab.Resolve(chat(template...))
	rb := tab.Resolve(chat(template...))
	if !ra.New || !rb.New || string(ra.ID()) == string(rb.ID()) {
		t.Fatal("identical starts must be two sessions")
	}
	rendered := []Message{u(`Example:  "summarise" this ticket`), a("**Summary**:\nthe customer's card was declined twice."), u("Run the daily check of the payment queue\n")}
	r := tab.Resolve(chat(append(rendered, a("Queue checked: 3 payments pending."), u("Retry them"))...))
	if r.Match != MatchCreated || string(r.ID()) == string(ra.ID()) || string(r.ID()) == string(rb.ID()) {
		t.Fatalf("match %v: merged into a template twin", r.Match)
	}
}

// F0: among identical starts, a session known to have received another
// reply is not the one a continuation belongs to; one whose reply was not
// recorded may be.
func TestTieBreakPrefersUnknownReply(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		tab := newTestTable(t, fuzzy)
		start := chat(u("What is 2+2?"))
		ra := tab.Resolve(start)
		rb := tab.Resolve(start)
		tab.Reply(&ra, ptr(aCall("", "call_A")), nil)
		// B's reply was lost (a cut stream); B's continuation comes first.
		r := tab.Resolve(chat(u("What is 2+2?"), aCall("", "call_B"), tool("call_B", "4")))
		want := ra.ID() // the original: the oldest session at that state
		if fuzzy {
			want = rb.ID()
		}
		if string(r.ID()) != string(want) || r.Match != MatchExact {
			t.Fatalf("B's continuation went to %s (%v), want %s", r.ID(), r.Match, want)
		}
	})
}
