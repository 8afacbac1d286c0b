package sink

import (
	"sync"
	"testing"
)

func TestNewIDIsUnique(t *testing.T) {
	seen := map[[16]byte]bool{}
	for range 10000 {
		id := NewID()
		if seen[id] {
			t.Fatal("duplicate event id")
		}
		seen[id] = true
	}
	e := Event{ID: NewID()}
	if len(e.IDString()) != 32 {
		t.Fatalf("id %q", e.IDString())
	}
}

func TestRecorderConcurrent(t *testing.T) {
	var r Recorder
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				r.Publish(&Event{SessionID: string(rune('a' + i))})
			}
		}()
	}
	wg.Wait()
	if n := len(r.Events()); n != 800 {
		t.Fatalf("recorded %d events", n)
	}
	if n := len(r.BySession("c")); n != 100 {
		t.Fatalf("session c has %d events", n)
	}
	r.Reset()
	if len(r.Events()) != 0 {
		t.Fatal("reset kept events")
	}
}
