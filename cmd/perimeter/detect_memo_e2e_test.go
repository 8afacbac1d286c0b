package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink/inspect"
)

// TestDetectMemoInMetrics: capture stores only the new messages of a call
// it can place in a session, so a continued conversation costs the memo
// misses only; a call sent again (a retry) is replayed from the memo, and
// /metrics → detect counts both.
func TestDetectMemoInMetrics(t *testing.T) {
	// The store is not read: without libchdb its events wait in the spill
	// log, and detection runs all the same.
	p := startPerimeter(t, startMock(t), embeddedSection(filepath.Join(t.TempDir(), "data")))
	first := `{"role":"user","content":"My card is 4539 1488 0343 6467, why was it declined?"}`
	call := `{"model":"gpt-4o-mini","messages":[` + first + `]}`
	postCall(t, p.url+"/v1/chat/completions", call)
	postCall(t, p.url+"/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[`+first+
		`,{"role":"assistant","content":"Let me check."},{"role":"user","content":"Thanks, I will wait."}]}`)
	memo := func(done func(inspect.MemoStats) bool) inspect.MemoStats {
		t.Helper()
		var m struct {
			Detect *inspect.Stats `json:"detect"`
		}
		if !testkit.Eventually(30*time.Second, 100*time.Millisecond, func() bool {
			getJSON(t, p.url+"/metrics", &m)
			return m.Detect != nil && done(m.Detect.Memo)
		}) {
			t.Fatalf("/metrics detect %+v", m.Detect)
		}
		return m.Detect.Memo
	}
	if s := memo(func(s inspect.MemoStats) bool { return s.Misses >= 3 }); s.Hits != 0 || s.Misses != 3 {
		t.Fatalf("memo %+v: want the first message and the second call's two new ones as misses", s)
	}
	postCall(t, p.url+"/v1/chat/completions", call)
	s := memo(func(s inspect.MemoStats) bool { return s.Hits >= 1 })
	if s.Bytes <= 0 || s.Bytes > inspect.DefaultMemoBytes {
		t.Fatalf("memo %+v: more than %d bytes", s, inspect.DefaultMemoBytes)
	}
}
