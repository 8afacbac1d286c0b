package dashboard

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// timedStore logs each query's time (go test -v).
type timedStore struct {
	sink.Store
	b *testing.B
}

func (t *timedStore) Query(ctx context.Context, q string, args ...any) (*sink.Rows, error) {
	start := time.Now()
	r, err := t.Store.Query(ctx, q, args...)
	t.b.Logf("%6.1f ms  %.140s", float64(time.Since(start).Microseconds())/1000, strings.Join(strings.Fields(q), " "))
	return r, err
}

// benchServer starts a dashboard over st for a benchmark; with -v every
// query's time is logged.
func benchServer(b *testing.B, st sink.Store) *Server {
	b.Helper()
	var store sink.Store = st
	if testing.Verbose() {
		store = &timedStore{Store: st, b: b}
	}
	srv, err := New(Options{Store: store, Schema: schemaOf(st), Port: 0})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return srv
}

// BenchmarkAPI1M times the dashboard's heaviest pages over 1,000,000
// stored events on the embedded engine: 40 agents × 330 sessions × about 77
// events (a session start, 25 calls with their finishes (priced but one), 12 tool calls with
// results, an error, findings in every fifth session), request attributes
// of about 1 KB. Run with
//
//	go test ./dashboard -run '^$' -bench API1M -benchtime 20x
func BenchmarkAPI1M(b *testing.B) {
	st := openEmbedded(b)
	seed1M(b, st)
	srv := benchServer(b, st)
	for _, path := range []string{"/api/dashboard", "/api/agent/agent-07", "/api/session/sess-07-100", "/api/sessions/list?limit=20",
		"/api/sessions/list?tags=env:prod&limit=20", "/api/sessions/tags", "/api/findings", "/api/risk?range=24h", "/api/timeseries?range=6h", "/api/stats", "/api/cost", "/api/cost?range=1h"} {
		b.Run(strings.TrimPrefix(path, "/api/"), func(b *testing.B) {
			for b.Loop() {
				resp, err := http.Get(srv.URL() + path)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), `"available":true`) {
					b.Fatalf("%s: %d %.300s", path, resp.StatusCode, body)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
		})
	}
}

// seed1M stores the benchmark's million events.
func seed1M(tb testing.TB, st sink.Store) {
	ctx := context.Background()
	const agents, sessions = 40, 330
	base := time.Now().Add(-6 * time.Hour).UTC()
	filler := strings.Repeat("lorem ipsum dolor sit amet ", 36)
	start := time.Now()
	total := 0
	for a := range agents {
		sd := &seed{}
		for s := range sessions {
			agent, sid := fmt.Sprintf("agent-%02d", a), fmt.Sprintf("sess-%02d-%03d", a, s)
			at := base.Add(time.Duration(a*sessions+s) * 2 * time.Second)
			sd.start(agent, sid, at, "You are agent "+agent, map[string]string{"env": []string{"prod", "dev"}[s%2]}, "lookup", "update")
			for c := range 25 {
				t := at.Add(time.Duration(c) * 50 * time.Millisecond)
				call := sd.call(agent, sid, t, []string{"gpt-4o-mini", "gpt-4o"}[c%2], filler, nil)
				f := sd.finish(agent, sid, t.Add(20*time.Millisecond), "openai", call.Model, float64(100+c*13%700), 500, 80)
				if c == 24 {
					priced(f, sink.CostUnpriced, 0)
				} else {
					priced(f, sink.CostPriced, 0.00012)
				}
				if c < 12 {
					sd.tool(agent, sid, t.Add(20*time.Millisecond), []string{"lookup", "update"}[c%2], `{"id":42}`)
					sd.result(agent, sid, t.Add(30*time.Millisecond), []string{"lookup", "update"}[c%2], "success", "ok")
				}
				if s%5 == 0 && c < 3 {
					sd.finding(call, "pii", "pii.email", "medium", 0.9, "j***@example.org", "LLM02")
				}
			}
			sd.fail(agent, sid, at.Add(2*time.Second), "gpt-4o", 429, "rate_limit_error", "slow down")
		}
		for i := 0; i < len(sd.events); i += 25000 {
			if err := st.WriteBatch(ctx, sd.events[i:min(i+25000, len(sd.events))]); err != nil {
				tb.Fatal(err)
			}
		}
		total += len(sd.events)
	}
	tb.Logf("stored %d events in %s", total, time.Since(start).Round(time.Millisecond))
}
