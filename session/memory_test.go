package session

import (
	"fmt"
	"testing"
)

// TestDefaultSizeKeepsTwentyTurns: a table sized by MemoryMBFor (the
// default) holds every state of 20 turns of each of its MaxSessions
// sessions without forgetting any fingerprint, and the size is what the
// budget says, not a wide margin: at 30 turns the index starts forgetting
// (the least recently used states, so no session is lost).
func TestDefaultSizeKeepsTwentyTurns(t *testing.T) {
	if testing.Short() {
		t.Skip("resolves 300,000 requests")
	}
	if got := MemoryMBFor(DefaultMaxSessions); got != DefaultConfig().MemoryMB || got >= 64 {
		t.Fatalf("MemoryMBFor(%d) = %d MiB, DefaultConfig %d MiB", DefaultMaxSessions, got, DefaultConfig().MemoryMB)
	}
	cfg := DefaultConfig()
	cfg.MemoryMB = 0 // derived from MaxSessions
	tb := New(cfg)
	if tb.Config().MemoryMB != MemoryMBFor(cfg.MaxSessions) {
		t.Fatalf("MemoryMB 0 became %d, want MemoryMBFor = %d", tb.Config().MemoryMB, MemoryMBFor(cfg.MaxSessions))
	}
	convs := make([]*Conversation, cfg.MaxSessions)
	ids := make([]string, cfg.MaxSessions)
	for i := range convs {
		convs[i] = withSystem("You are agent", sys("You are agent"), u(fmt.Sprintf("question %d", i)))
	}
	lost := 0
	for turn := range 30 {
		for i, c := range convs {
			r := tb.Resolve(c)
			if turn == 0 {
				ids[i] = string(r.ID())
			} else if string(r.ID()) != ids[i] {
				lost++
				ids[i] = string(r.ID())
			}
			reply := a(fmt.Sprintf("answer %d.%d", i, turn))
			tb.Reply(&r, &reply, nil)
			c.Messages = append(c.Messages, reply, u(fmt.Sprintf("follow-up %d.%d", i, turn)))
		}
		if st := tb.Stats(); turn == 19 && st.IndexEvictions != 0 {
			t.Fatalf("after 20 turns of %d sessions the index forgot %d of %d fingerprints", cfg.MaxSessions, st.IndexEvictions, st.IndexEntries)
		}
	}
	if st := tb.Stats(); st.IndexEvictions == 0 {
		t.Errorf("30 turns of %d sessions fit in %d MiB: the default is larger than its budget says", cfg.MaxSessions, cfg.MemoryMB)
	}
	if lost != 0 {
		t.Errorf("%d follow-ups lost their session once the index was full", lost)
	}
}
