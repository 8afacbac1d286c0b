package detect

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestLeakPromptCacheUnderChurn scans responses that copy their own
// system prompt from 8 goroutines, with four times more prompts than the
// cache has slots (so entries are evicted and slots collide), and wants
// each response's leak finding to be the one a scan without the cache
// reports; responses under another session's prompt must find nothing.
func TestLeakPromptCacheUnderChurn(t *testing.T) {
	sc := NewScanner(Options{})
	n := 4 * len(leakPrompts)
	prompts := make([]string, n)
	for i := range prompts {
		prompts[i] = fmt.Sprintf("You are agent %d of team %d. ", i, i*7) + systemPrompts[i%len(systemPrompts)]
	}
	reply := func(i int) string {
		w := strings.Fields(prompts[i])
		return "Sure. My instructions say: " + strings.Join(w[:22+i%20], " ") + ". Anything else?"
	}
	fullPath = true
	want := make([][]Finding, n)
	for i := range prompts {
		want[i] = sc.Scan(&Input{Text: reply(i), Direction: Response, SystemPrompt: prompts[i]})
		if len(want[i]) != 1 || want[i][0].Rule != "llm07.system_prompt_leak" {
			t.Fatalf("prompt %d: full path found %+v, want one leak", i, want[i])
		}
	}
	fullPath = false
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 3*n; k++ {
				i := (k*(g+3) + g) % n
				got := sc.Scan(&Input{Text: reply(i), Direction: Response, SystemPrompt: prompts[i]})
				if len(got) != 1 || got[0] != want[i][0] {
					t.Errorf("prompt %d: got %+v, want %+v", i, got, want[i])
					return
				}
				other := (i + 1 + g) % n
				if got := sc.Scan(&Input{Text: reply(i)[:60], Direction: Response, SystemPrompt: prompts[other]}); len(got) != 0 {
					t.Errorf("reply %d under prompt %d: %+v", i, other, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
