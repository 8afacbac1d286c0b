package dashboard

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// BenchmarkAgentChecks times GET /api/agent/{id}/checks for an agent with
// 2,500 completed sessions (the newest 2,000 evaluated) of about 20 events
// each, among 100,000 events of other agents, on both engines. Run with
//
//	go test ./dashboard -run '^$' -bench AgentChecks -benchtime 10x
func BenchmarkAgentChecks(b *testing.B) {
	for _, engine := range engines {
		b.Run(engine, func(b *testing.B) {
			st := openStore(b, engine)
			seedChecks(b, st)
			srv := benchServer(b, st)
			for b.Loop() {
				resp, err := http.Get(srv.URL() + "/api/agent/bench-agent/checks")
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), `"sessions_analyzed":2000`) {
					b.Fatalf("%d %.300s", resp.StatusCode, body)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
		})
	}
}

func seedChecks(tb testing.TB, st sink.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	flows := [][]string{{"search", "fetch", "summarize"}, {"lookup_user", "update_ticket", "email"}, {"translate"},
		{"search", "search", "fetch", "fetch", "summarize", "email"}}
	base := time.Now().Add(-12 * time.Hour).UTC()
	start, total := time.Now(), 0
	write := func(sd *seed) {
		for i := 0; i < len(sd.events); i += 25000 {
			if err := st.WriteBatch(ctx, sd.events[i:min(i+25000, len(sd.events))]); err != nil {
				tb.Fatal(err)
			}
		}
		total += len(sd.events)
	}
	for a := range 6 {
		sd := &seed{}
		agent, n := fmt.Sprintf("other-%d", a), 1000
		if a == 0 {
			agent, n = "bench-agent", 2500
		}
		for s := range n {
			sid := fmt.Sprintf("%s-%04d", agent, s)
			at := base.Add(time.Duration(s) * 10 * time.Second)
			seq := flows[rng.IntN(len(flows))]
			sd.start(agent, sid, at, "You are a support agent.", nil, "search", "fetch", "summarize", "lookup_user", "update_ticket", "email")
			for c := range 4 {
				t := at.Add(time.Duration(c) * time.Second)
				call := sd.call(agent, sid, t, "gpt-4o-mini", "help me with my order", nil)
				sd.finish(agent, sid, t.Add(500*time.Millisecond), "openai", "gpt-4o-mini", 500, int64(300+rng.IntN(900)), int64(50+rng.IntN(300)))
				if c == 0 {
					for k, tool := range seq {
						sd.tool(agent, sid, t.Add(500*time.Millisecond+time.Duration(k)*time.Millisecond), tool, `{"q":1}`)
					}
				}
				if s%5 == 0 && c == 0 {
					sd.finding(call, "pii", "pii.email", "medium", 0.9, "j***@example.org", "LLM02")
				}
			}
		}
		write(sd)
	}
	tb.Logf("stored %d events in %s", total, time.Since(start).Round(time.Millisecond))
}
