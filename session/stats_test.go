package session

import (
	"encoding/json"
	"testing"
)

// Stats.MatchedBy counts each request under the rule that resolved it, and
// /metrics publishes it as sessions.matched_by.
func TestMatchedByCountsEachRule(t *testing.T) {
	tab := newTestTable(t, true)
	h := []Message{u(`Find flights to "Paris" for March, it's for my team's offsite`), a("Which dates? I can search the 2nd to the 5th."), u("The 2nd, returning on the 5th, two adults please")}
	r := tab.Resolve(chat(h[0]))                                                                    // new
	tab.Resolve(chat(h...))                                                                         // exact
	tab.Reply(&r, ptr(aCall("", "call_s1")), []byte("resp_1"))                                      // the reply F1 will find
	tab.Resolve(chat(u("Summary: flights to Paris."), aCall("", "call_s1"), tool("call_s1", "{}"))) // F1, the reply alone
	g := []Message{u(`Book the "Louvre" hotel, it's near the museum`), a("Booked: two nights."), u("Now a table for two tonight, near the hotel please")}
	tab.Resolve(chat(g...))                                                                                                                             // new, another conversation
	tab.Resolve(chat(u("Book the “Louvre” hotel, it’s near the museum"), a("Booked:\ntwo nights."), g[2], aCall("", "call_t1"), tool("call_t1", "{}"))) // F2
	tab.Resolve(&Conversation{PreviousResponseID: []byte("resp_1"), Messages: []Message{u("And hotels?")}})                                             // response id
	ext := chat(u("hello"))
	ext.ExternalSessionID = []byte("ext-1")
	tab.Resolve(ext)
	tab.Resolve(ext) // external continuation

	got := tab.Stats().MatchedBy
	want := MatchCounts{Exact: 1, Reply: 1, ReplyAlone: 1, Tail: 1, New: 2, Fragmented: 1, ResponseID: 1, External: 1}
	if got != want {
		t.Fatalf("matched by %+v, want %+v", got, want)
	}
	b, err := json.Marshal(tab.Stats())
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		MatchedBy map[string]uint64 `json:"matched_by"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]uint64{"exact": 1, "fuzzy_reply": 1, "fuzzy_reply_alone": 1, "fuzzy_tail": 1, "new": 2, "response_id": 1, "external": 1, "exact_tie_break": 0, "fuzzy_tail_alone": 0, "new_fragmented": 1} {
		if v, ok := out.MatchedBy[name]; !ok || v != n {
			t.Errorf("matched_by.%s = %d (present %v), want %d", name, v, ok, n)
		}
	}
}
