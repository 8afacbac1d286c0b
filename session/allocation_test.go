//go:build !race

package session

import (
	"strconv"
	"testing"
)

// growing returns a conversation of n turns (user question, assistant tool
// call, tool result, assistant answer), texts plain, escaped or not ASCII.
func growing(n int, kind string) []Message {
	var out []Message
	for i := 0; i < n; i++ {
		id := "call_" + strconv.Itoa(i)
		q, ans := "Question number "+strconv.Itoa(i)+" about the weather", "Answer "+strconv.Itoa(i)+": sunny, 25 degrees"
		m := []Message{u(q), aCall("", id), tool(id, `{"temp": 25}`), a(ans)}
		switch kind {
		case "escaped":
			for j := range m {
				m[j].Content = []byte(jsonBody(string(m[j].Content) + "\n\t\"quoted\" \u00e9"))
				m[j].Escaped = true
			}
		case "unicode":
			m[0].Content = []byte("Ｑｕｅｓｔｉｏｎ №" + strconv.Itoa(i) + " über das Wetter\u00a0")
			m[3].Content = []byte("Antwort " + strconv.Itoa(i) + ": sonnig, 25 °C")
		}
		out = append(out, m...)
	}
	return out
}

func TestResolveDoesNotAllocate(t *testing.T) {
	for _, kind := range []string{"plain", "escaped", "unicode"} {
		for _, fuzzy := range []bool{false, true} {
			t.Run(kind+"/"+strconv.FormatBool(fuzzy), func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.Fuzzy = fuzzy
				tab := New(cfg)
				msgs := growing(120, kind)
				c := withSystem(agentPrompt)
				turn := 0
				reply := Message{}
				allocs := testing.AllocsPerRun(100, func() {
					turn++
					c.Messages = msgs[:2*turn-1] // the question, or a tool result

					r := tab.Resolve(c)
					if turn > 1 && r.Match != MatchExact {
						t.Fatalf("turn %d: %v", turn, r.Match)
					}
					reply = msgs[2*turn-1]
					tab.Reply(&r, &reply, nil)
					tab.SetSpan(&r, uint64(turn))
				})
				if allocs != 0 {
					t.Fatalf("%v allocations per request", allocs)
				}
			})
		}
	}
}

func TestNewSessionDoesNotAllocate(t *testing.T) {
	tab := New(DefaultConfig())
	convs := make([]*Conversation, 102)
	for i := range convs {
		convs[i] = chat(u("Fresh question " + strconv.Itoa(i)))
	}
	i := 0
	allocs := testing.AllocsPerRun(100, func() {
		if r := tab.Resolve(convs[i]); !r.New {
			t.Fatal("not new")
		}
		i++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per new session", allocs)
	}
}

func TestExternalDoesNotAllocate(t *testing.T) {
	tab := New(DefaultConfig())
	c := chat(u("q"))
	c.ExternalSessionID = []byte("external-session-123")
	tab.Resolve(c)
	if allocs := testing.AllocsPerRun(100, func() { tab.Resolve(c) }); allocs != 0 {
		t.Fatalf("%v allocations per external request", allocs)
	}
}

func TestHeadersDoNotAllocate(t *testing.T) {
	tab := New(DefaultConfig())
	c := chat(u("q"))
	tags := []byte("user:alice, env:prod, debug, path:/a:b")
	dst := make([]Tag, 0, MaxTags)
	buf := make([]byte, 0, 64)
	tab.AgentID(buf, c) // fill the cache
	allocs := testing.AllocsPerRun(100, func() {
		dst = ParseTags(dst[:0], tags)
		buf = tab.AgentID(buf[:0], c)
		_ = SessionIDHeader(nil, []byte(" conv-1 "))
		_ = ClassifyHeader([]byte("X-Cylestio-Tags"))
		_ = PromptAgentID(buf[:0], []byte("You are helpful."), false)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}
