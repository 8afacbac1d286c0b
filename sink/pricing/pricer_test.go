package pricing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
)

func f(v float64) *float64 { return &v }

func finish(model, vendor string, in, out int64) *sink.Event {
	return &sink.Event{Name: sink.LLMCallFinish, Model: model, Vendor: vendor, InputTokens: in, OutputTokens: out, Time: time.Unix(1700000000, 0)}
}

func TestApply(t *testing.T) {
	p, err := New(Options{Models: map[string]Rates{
		"llama-3.1-70b": {Input: f(0), Output: f(0)}, // self-hosted: zero on purpose
		"gpt-4o":        {Input: f(1), Output: f(4)}, // a negotiated rate
		"my-reasoner":   {Input: f(1), Output: f(2), Reasoning: f(3)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cut := finish("claude-haiku-4-5", "anthropic", 1000, 10)
	cut.Cut = true
	reasoner := finish("my-reasoner", "openai", 0, 1000)
	reasoner.ReasoningTokens = 500
	batch := []*sink.Event{
		finish("gpt-4o-2024-08-06", "openai", 1000, 1000), // the override covers the snapshot priced like gpt-4o
		finish("gpt-4o-mini", "openai", 1e6, 1e6),
		finish("llama-3.1-70b-instruct", "openai", 5000, 5000),
		finish("mystery-model", "openai", 10, 10),
		finish("mystery-model", "openai", 10, 10),
		finish("", "openai", 10, 10),
		finish("gpt-4o-mini", "openai", 0, 0),
		cut,
		reasoner,
		{Name: sink.LLMCallStart, Model: "gpt-4o", InputTokens: 5},
		{Name: sink.LLMCallError, Model: "gpt-4o"},
	}
	out := p.Apply(batch)
	if len(out) != len(batch) {
		t.Fatalf("%d events out of %d", len(out), len(batch))
	}
	for i, tc := range []struct {
		status string
		cost   float64
	}{
		{sink.CostPriced, 0.005},    // 1000 x 1 + 1000 x 4 per 1M
		{sink.CostPriced, 0.75},     // 1M x 0.15 + 1M x 0.60
		{sink.CostPriced, 0},        // priced at zero, not unpriced
		{sink.CostUnpriced, 0},      //
		{sink.CostUnpriced, 0},      //
		{sink.CostUnpriced, 0},      // no model at all
		{sink.CostNoUsage, 0},       // no usage reported
		{sink.CostPartial, 0.00105}, // 1000 x 1 + 10 x 5, from a cut stream
		{sink.CostPriced, 0.0025},   // 500 x 2 + 500 x 3
		{"", 0}, {"", 0},            // not a call's finish
	} {
		ev := out[i]
		if ev.CostStatus != tc.status || !near(ev.CostUSD, tc.cost) {
			t.Errorf("event %d (%s %q): %q %v, want %q %v", i, ev.Name, ev.Model, ev.CostStatus, ev.CostUSD, tc.status, tc.cost)
		}
		if ev.Priced() != (tc.status == sink.CostPriced || tc.status == sink.CostPartial) {
			t.Errorf("event %d: Priced() = %v with status %q", i, ev.Priced(), ev.CostStatus)
		}
	}
	st := p.Status()
	if len(st.Unpriced) != 2 || st.Unpriced[0].Model != "mystery-model" || st.Unpriced[0].Calls != 2 || st.Unpriced[1].Model != "" {
		t.Fatalf("unpriced %+v", st.Unpriced)
	}
	if st.Source != "built-in" || st.InUse != "built-in" || st.Overrides != 3 || st.Error != "" || st.Models != Builtin().Len() {
		t.Fatalf("status %+v", st)
	}
	// The negotiated gpt-4o rate covers its snapshots priced like it, not
	// the May 2024 one (priced apart) nor gpt-4o-mini.
	var configured []string
	for _, m := range p.Models() {
		if m.Provider == OverrideProvider {
			configured = append(configured, m.Name)
		}
	}
	if strings.Join(configured, " ") != "gpt-4o gpt-4o-2024-08-06 gpt-4o-2024-11-20 llama-3.1-70b my-reasoner" {
		t.Fatalf("configured models listed: %v", configured)
	}
	if m, _ := p.Lookup("gpt-4o-2024-05-13"); m.Input != 5 {
		t.Fatalf("gpt-4o-2024-05-13 repriced: %+v", m)
	}
}

func TestNewRejectsBadOverrides(t *testing.T) {
	if _, err := New(Options{Models: map[string]Rates{"x": {Input: f(1)}}}); err == nil || !strings.Contains(err.Error(), "pricing.models.x: input and output are required") {
		t.Fatal(err)
	}
	if _, err := New(Options{Models: map[string]Rates{"x": {Input: f(1), Output: f(-1)}}}); err == nil {
		t.Fatal("negative rate accepted")
	}
	if _, err := New(Options{File: "a", URL: "http://b"}); err == nil {
		t.Fatal("file and url together accepted")
	}
}

const smallTable = `{"last_updated": "%s", "models": {"acme": {"acme-1": {"input": 2, "output": 4}}}}`

func TestFileSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prices.json")
	if err := os.WriteFile(path, []byte(strings.Replace(smallTable, "%s", "2030-01-01", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{File: path})
	if err != nil {
		t.Fatal(err)
	}
	st := p.Status()
	if st.Source != "file" || st.InUse != "file" || st.LastUpdated != "2030-01-01" || st.Models != 1 || st.Error != "" || st.LoadedAt.IsZero() {
		t.Fatalf("status %+v", st)
	}
	if _, ok := p.Lookup("acme-1"); !ok {
		t.Fatal("file's model missing")
	}
	if _, ok := p.Lookup("gpt-4o"); ok {
		t.Fatal("the file replaces the built-in table")
	}

	// A file that cannot be read: the built-in table, and the reason.
	p, err = New(Options{File: filepath.Join(dir, "missing.json")})
	if err != nil {
		t.Fatal(err)
	}
	st = p.Status()
	if st.InUse != "built-in" || !strings.Contains(st.Error, "no such file") || !strings.Contains(st.Error, "built-in table is used instead") || st.Fix == "" {
		t.Fatalf("status %+v", st)
	}
	if _, ok := p.Lookup("gpt-4o"); !ok {
		t.Fatal("built-in table not in use")
	}
}

func TestURLSourceRefreshes(t *testing.T) {
	var version atomic.Int32
	version.Store(1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch version.Load() {
		case 1:
			w.Write([]byte(strings.Replace(smallTable, "%s", "v1", 1)))
		case 2:
			w.Write([]byte(strings.Replace(strings.Replace(smallTable, "%s", "v2", 1), `"input": 2`, `"input": 3`, 1)))
		default:
			http.Error(w, "gone", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	p, err := New(Options{URL: srv.URL + "/latest.json?token=secret", Refresh: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if st := p.Status(); st.InUse != "built-in" || !strings.Contains(st.Error, "not fetched yet") || strings.Contains(st.Location, "secret") {
		t.Fatalf("before Run: %+v", st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	waitFor := func(what string, ok func(Status) bool) Status {
		t.Helper()
		var st Status
		if !testkit.Eventually(5*time.Second, 5*time.Millisecond, func() bool { st = p.Status(); return ok(st) }) {
			t.Fatalf("%s: status %+v", what, st)
		}
		return st
	}
	waitFor("first fetch", func(st Status) bool { return st.InUse == "url" && st.LastUpdated == "v1" && st.Error == "" })
	if m, ok := p.Lookup("acme-1"); !ok || m.Input != 2 {
		t.Fatalf("v1: %+v %v", m, ok)
	}
	version.Store(2)
	waitFor("refresh", func(st Status) bool { return st.LastUpdated == "v2" })
	if m, _ := p.Lookup("acme-1"); m.Input != 3 {
		t.Fatalf("v2 input %v", m.Input)
	}
	version.Store(3)
	st := waitFor("failed refresh", func(st Status) bool { return st.Error != "" })
	if !strings.Contains(st.Error, "HTTP 500") || !strings.Contains(st.Error, "stays in use") || st.InUse != "url" || strings.Contains(st.Error, "secret") {
		t.Fatalf("after a failed refresh: %+v", st)
	}
	if m, _ := p.Lookup("acme-1"); m.Input != 3 {
		t.Fatal("a failed refresh dropped the last good table")
	}
}
