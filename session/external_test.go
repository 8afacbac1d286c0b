package session

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// The original's tests/providers/test_external_ids.py,
// minus what belongs to the edge (forwarding, key injection).

func TestExternalSessionID(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		tab := newTestTable(t, fuzzy)
		c := conv(u("Hello"))
		c.ExternalSessionID = []byte("external-session-123")

		r := tab.Resolve(c)
		if got := string(r.ID()); got != "external-session-123" {
			t.Fatalf("session id %q, want the header value", got)
		}
		if !r.New || r.Fragmented || r.Match != MatchExternal {
			t.Fatalf("first request: new=%v fragmented=%v match=%v", r.New, r.Fragmented, r.Match)
		}
		if s := tab.get(r.h); s == nil || !s.external {
			t.Fatal("no external session record")
		}

		c.Messages = []Message{u("Hello"), a("Hi"), u("More")}
		r2 := tab.Resolve(c)
		if string(r2.ID()) != "external-session-123" || r2.New || r2.Match != MatchExternal {
			t.Fatalf("second request: id=%q new=%v match=%v", r2.ID(), r2.New, r2.Match)
		}
		if r2.Processed < 1 || r2.FirstNew != 1 {
			t.Fatalf("second request: processed index %d, first new %d; want it preserved (1)", r2.Processed, r2.FirstNew)
		}
		st := tab.Stats()
		if st.Created != 1 || st.ExternalHits != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestExternalSessionWithAgentHeader(t *testing.T) {
	tab := newTestTable(t, true)
	c := withSystem("You are Claude.", u("Hi"))
	c.ExternalSessionID = []byte("ext-anthropic-1")
	c.AgentIDHeader = []byte("my-agent")
	r := tab.Resolve(c)
	if string(r.ID()) != "ext-anthropic-1" || !r.New {
		t.Fatalf("id %q new %v", r.ID(), r.New)
	}
	if got := string(tab.AgentID(nil, c)); got != "my-agent" {
		t.Fatalf("agent id %q, want the header value", got)
	}
}

func TestNoHeadersGeneratesID(t *testing.T) {
	tab := newTestTable(t, true)
	ext := conv(u("Hello"))
	ext.ExternalSessionID = []byte("external-session-123")
	tab.Resolve(ext)
	r := tab.Resolve(conv(u("Hello")))
	if id := string(r.ID()); id == "external-session-123" || len(id) != uuidLen || id[14] != '4' {
		t.Fatalf("generated id %q, want a fresh UUID4", id)
	}
}

func TestExternalProcessedIndexUpdate(t *testing.T) {
	tab := newTestTable(t, false)
	c := conv()
	c.ExternalSessionID = []byte("external-abc")
	r := tab.Resolve(c)
	tab.SetProcessed(&r, 3)
	if p, _ := tab.Processed(&r); p != 3 {
		t.Fatalf("processed %d, want 3", p)
	}
	tab.SetProcessed(&r, 7)
	if p, _ := tab.Processed(&r); p != 7 {
		t.Fatalf("processed %d, want 7", p)
	}
	if r2 := tab.Resolve(c); r2.Processed != 7 || r2.New {
		t.Fatalf("resumed with processed %d new %v", r2.Processed, r2.New)
	}
}

func TestLongExternalID(t *testing.T) {
	tab := newTestTable(t, false)
	id := strings.Repeat("x", 300)
	c := conv(u("q"))
	c.ExternalSessionID = []byte(id)
	r := tab.Resolve(c)
	r2 := tab.Resolve(c)
	if string(r.ID()) != id || string(r2.ID()) != id || r2.New {
		t.Fatalf("long external id not kept verbatim")
	}
}

func TestExternalSessionExpires(t *testing.T) {
	clock := newFakeClock()
	cfg := DefaultConfig()
	cfg.TTL = time.Minute
	tab := newTable(cfg, clock.now)
	c := conv(u("q"))
	c.ExternalSessionID = []byte("ext")
	tab.Resolve(c)
	clock.advance(59 * time.Second)
	if r := tab.Resolve(c); r.New {
		t.Fatal("expired before its TTL")
	}
	clock.advance(61 * time.Second)
	if r := tab.Resolve(c); !r.New || string(r.ID()) != "ext" {
		t.Fatalf("after the TTL: new=%v id=%q, want a new session with the same id", r.New, r.ID())
	}
}

func TestPreviousResponseID(t *testing.T) {
	forEachMode(t, func(t *testing.T, fuzzy bool) {
		tab := newTestTable(t, fuzzy)
		r := tab.Resolve(withSystem("Be brief.", u("What is the capital of France?")))
		tab.Reply(&r, &Message{Role: []byte("assistant"), Content: []byte("Paris.")}, []byte("resp_1"))

		next := withSystem("Be brief.", u("And of Spain?"))
		next.PreviousResponseID = []byte("resp_1")
		r2 := tab.Resolve(next)
		if string(r2.ID()) != string(r.ID()) || r2.New || r2.Match != MatchResponse {
			t.Fatalf("continuation: id=%q new=%v match=%v, want session %q", r2.ID(), r2.New, r2.Match, r.ID())
		}
		if r2.FirstNew != 0 {
			t.Fatalf("FirstNew %d: the whole input of a previous_response_id request is new", r2.FirstNew)
		}

		// An unknown id falls back to detection on the input.
		lost := withSystem("Be brief.", fco("call_9"))
		lost.PreviousResponseID = []byte("resp_unknown")
		if r3 := tab.Resolve(lost); !r3.New || r3.Match != MatchCreated {
			t.Fatalf("unknown previous_response_id: new=%v match=%v", r3.New, r3.Match)
		}
		if tab.Stats().ResponseHits != 1 {
			t.Fatalf("response hits %d", tab.Stats().ResponseHits)
		}
	})
}

func TestClassifyHeader(t *testing.T) {
	cases := map[string]HeaderKind{
		"x-cylestio-session-id":      HeaderSessionID,
		"X-Cylestio-Session-Id":      HeaderSessionID,
		"x-cylestio-conversation-id": HeaderConversationID,
		"x-cylestio-agent-id":        HeaderAgentID,
		"X-CYLESTIO-PROMPT-ID":       HeaderPromptID,
		"x-cylestio-tags":            HeaderTags,
		"x-cylestio-custom":          HeaderOtherCylestio,
		"x-cylestio-":                HeaderOtherCylestio,
		"x-cylestio":                 NotCylestio,
		"authorization":              NotCylestio,
		"x-api-key":                  NotCylestio,
		"content-type":               NotCylestio,
	}
	for name, want := range cases {
		if got := ClassifyHeader([]byte(name)); got != want {
			t.Errorf("ClassifyHeader(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestIDHeaders(t *testing.T) {
	cases := []struct{ canonical, alias, want string }{
		{"s1", "", "s1"},
		{"", "c1", "c1"},
		{"s1", "c1", "s1"},
		{"  s1\t", "", "s1"},
		{"   ", "c1", "c1"},
		{"", "", ""},
	}
	for _, tc := range cases {
		if got := string(SessionIDHeader([]byte(tc.canonical), []byte(tc.alias))); got != tc.want {
			t.Errorf("SessionIDHeader(%q, %q) = %q, want %q", tc.canonical, tc.alias, got, tc.want)
		}
		if got := string(AgentIDHeader([]byte(tc.canonical), []byte(tc.alias))); got != tc.want {
			t.Errorf("AgentIDHeader(%q, %q) = %q, want %q", tc.canonical, tc.alias, got, tc.want)
		}
	}
}

// The original's tests/providers/test_session_tags.py TestTagsHeaderParsing.
func TestParseTags(t *testing.T) {
	long60 := make([]string, 60)
	for i := range long60 {
		long60[i] = "key" + string(rune('A'+i%26)) + string(rune('a'+i/26)) + ":value"
	}
	cases := []struct {
		name   string
		header string
		want   [][2]string // in order
		count  int         // when want is nil: just the number of tags
	}{
		{"single key:value", "user:test@example.com", [][2]string{{"user", "test@example.com"}}, 0},
		{"multiple", "user:test@example.com,env:production,team:engineering", [][2]string{{"user", "test@example.com"}, {"env", "production"}, {"team", "engineering"}}, 0},
		{"flags", "debug,verbose", [][2]string{{"debug", "true"}, {"verbose", "true"}}, 0},
		{"mixed", "user:alice@test.com,debug,env:staging", [][2]string{{"user", "alice@test.com"}, {"debug", "true"}, {"env", "staging"}}, 0},
		{"value with colons", "time:12:30:45,path:/api/v1:users", [][2]string{{"time", "12:30:45"}, {"path", "/api/v1:users"}}, 0},
		{"empty header", "", [][2]string{}, 0},
		{"white space", "  user : test@example.com , env : prod  ", [][2]string{{"user", "test@example.com"}, {"env", "prod"}}, 0},
		{"empty segments", "user:test,,env:prod,", [][2]string{{"user", "test"}, {"env", "prod"}}, 0},
		{"key too long is skipped", strings.Repeat("k", 70) + ":value,valid:ok", [][2]string{{"valid", "ok"}}, 0},
		{"key of 64 is kept", strings.Repeat("k", 64) + ":v", [][2]string{{strings.Repeat("k", 64), "v"}}, 0},
		{"special characters", "path:/api/v1/users?id=123&name=test,query:name=foo%20bar", [][2]string{{"path", "/api/v1/users?id=123&name=test"}, {"query", "name=foo%20bar"}}, 0},
		{"workflowId", "workflowId:my-workflow-123,user:alice", [][2]string{{"workflowId", "my-workflow-123"}, {"user", "alice"}}, 0},
		{"repeated key keeps its place, takes the later value", "a:1,b:2,a:3", [][2]string{{"a", "3"}, {"b", "2"}}, 0},
		{"empty key is skipped", ":v,k:w", [][2]string{{"k", "w"}}, 0},
		{"empty value", "k:", [][2]string{{"k", ""}}, 0},
		{"at most 50 tags", strings.Join(long60, ","), nil, MaxTags},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseTags(nil, []byte(tc.header))
			if tc.want == nil {
				if len(got) != tc.count {
					t.Fatalf("%d tags, want %d", len(got), tc.count)
				}
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("tags %q, want %q", tagPairs(got), tc.want)
			}
			for i, w := range tc.want {
				if string(got[i].Key) != w[0] || string(got[i].Value) != w[1] {
					t.Fatalf("tags %q, want %q", tagPairs(got), tc.want)
				}
			}
		})
	}
	t.Run("value truncated to 512 characters", func(t *testing.T) {
		got := ParseTags(nil, []byte("key:"+strings.Repeat("v", 600)))
		if len(got) != 1 || len(got[0].Value) != MaxTagValueRunes {
			t.Fatalf("value of %d bytes", len(got[0].Value))
		}
		got = ParseTags(nil, []byte("key:"+strings.Repeat("é", 600)))
		if n := len([]rune(string(got[0].Value))); n != MaxTagValueRunes {
			t.Fatalf("value of %d characters, want %d", n, MaxTagValueRunes)
		}
	})
}

func md5Hex12(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:6])
}

func tagPairs(tags []Tag) [][2]string {
	out := make([][2]string, len(tags))
	for i, t := range tags {
		out[i] = [2]string{string(t.Key), string(t.Value)}
	}
	return out
}

func TestAgentID(t *testing.T) {
	tab := newTestTable(t, false)
	cases := []struct {
		name string
		c    *Conversation
		want string
	}{
		// the original's reference values
		{"no system prompt", conv(u("hi")), "prompt-7077bd40d00f"},
		{"empty system message", &Conversation{HasSystem: true, Messages: []Message{sys(""), u("hi")}}, "prompt-d41d8cd98f00"},
		// python3 -c 'import hashlib;print(hashlib.md5(b"You are a helpful assistant.").hexdigest()[:12])'
		{"string prompt", withSystem("You are a helpful assistant.", u("hi")), "prompt-943e842fab4e"},
		// a repr string passed as System gives the original's id for a list
		{"Python repr of a list", withSystem("['You are a helpful assistant.']", u("hi")), "prompt-4fcaaa9ec3ab"},
		{"header wins", func() *Conversation {
			c := withSystem("You are a helpful assistant.", u("hi"))
			c.AgentIDHeader = []byte("agent-7")
			return c
		}(), "agent-7"},
	}
	for _, tc := range cases {
		for round := 0; round < 2; round++ { // the second comes from the cache
			if got := string(tab.AgentID(nil, tc.c)); got != tc.want {
				t.Errorf("%s (round %d): %q, want %q", tc.name, round, got, tc.want)
			}
		}
	}
	// An escaped prompt has the id of its decoded text.
	plain := "Line one\nSay \"hi\" \u00e9\U0001F600 \\ done"
	escaped := `Line one\nSay \"hi\" \u00e9\ud83d\ude00 \\ done`
	c := &Conversation{System: []byte(escaped), SystemEscaped: true, HasSystem: true}
	if got, want := string(tab.AgentID(nil, c)), "prompt-"+md5Hex12(plain); got != want {
		t.Errorf("escaped prompt: %q, want %q", got, want)
	}
	long := strings.Repeat(`a\"b`, 1000)
	c = &Conversation{System: []byte(long), SystemEscaped: true, HasSystem: true}
	if got, want := string(tab.AgentID(nil, c)), "prompt-"+md5Hex12(strings.Repeat(`a"b`, 1000)); got != want {
		t.Errorf("long escaped prompt: %q, want %q", got, want)
	}
}
