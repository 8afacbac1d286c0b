package chdb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// BenchmarkRealInsert: sustained events/s into the embedded engine through
// the worker, one INSERT per operation, rendering included, for the
// pipeline's default batch (1,000) and larger ones.
func BenchmarkRealInsert(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run("batch="+strconv.Itoa(n), func(b *testing.B) {
			s := benchStore(b)
			batch := testBatch(n, 20, time.Now())
			ctx := context.Background()
			for b.Loop() {
				if err := s.WriteBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkRealQuery: a dashboard-style aggregate over 200,000 events,
// round trip through the worker and the result parser.
func BenchmarkRealQuery(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	for range 200 {
		if err := s.WriteBatch(ctx, testBatch(1000, 20, time.Now())); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		rows, err := s.Query(ctx, "SELECT agent, count(), sum(tokens), quantile(0.99)(dur), max(ts) FROM "+testTable+" GROUP BY agent ORDER BY agent")
		if err != nil || len(rows.Data) != 20 {
			b.Fatal(rows, err)
		}
	}
}

func benchStore(b *testing.B) *Store {
	opts := realOptions(b)
	s, err := Open(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// captureBatch is n events shaped like full capture's: a call's
// llm.call.start (the request body, about 1.2 KB of attributes) and its
// llm.call.finish (usage, cost and the reply, about 0.4 KB), for 200
// sessions of 10 agents.
func captureBatch(n int, base time.Time) []*sink.Event {
	prompt := strings.Repeat("Summarise the quarterly figures for the northern region. ", 12)
	reply := strings.Repeat("Revenue rose 4% on the quarter. ", 8)
	b := make([]*sink.Event, n)
	for i := range b {
		sess := i / 2 % 200
		e := &sink.Event{
			ID: sink.NewID(), Time: base.Add(time.Duration(i) * 100 * time.Microsecond), Level: sink.LevelInfo,
			TraceID: fmt.Sprintf("%032x", sess), SpanID: fmt.Sprintf("%016x", i/2), SessionID: "sess-" + strconv.Itoa(sess), AgentID: "agent-" + strconv.Itoa(sess%10),
			Vendor: "openai", Model: "gpt-4o-mini",
		}
		if i%2 == 0 {
			e.Name = sink.LLMCallStart
			e.Attributes = json.RawMessage(`{"llm.vendor":"openai","llm.model":"gpt-4o-mini","llm.request.data":{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful analyst."},{"role":"user","content":"` + prompt + `"}],"temperature":0.2},"session.id":"` + e.SessionID + `","http.method":"POST","http.path":"/v1/chat/completions","llm.request.stream":false}`)
		} else {
			e.Name, e.Status, e.DurationMs = sink.LLMCallFinish, 200, float64(i%900)+12.5
			e.InputTokens, e.OutputTokens, e.TotalTokens = 160, 64, 224
			e.FinishReason, e.CostUSD, e.CostStatus = "stop", 0.0000624, sink.CostPriced
			e.Attributes = json.RawMessage(`{"llm.vendor":"openai","llm.model":"gpt-4o-mini","llm.response.duration_ms":` + strconv.Itoa(i%900) + `,"llm.usage.input_tokens":160,"llm.usage.output_tokens":64,"llm.usage.total_tokens":224,"llm.response.content":[{"type":"text","text":"` + reply + `"}],"llm.response.id":"chatcmpl-` + strconv.Itoa(i) + `","session.id":"` + e.SessionID + `"}`)
		}
		b[i] = e
	}
	return b
}

// cpuTime is the user plus system CPU a process has used, from
// /proc/<pid>/stat (clock ticks of 10 ms).
func cpuTime(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// BenchmarkRealInsertFormat: the embedded engine's insert path with the
// production schema and capture-shaped events, VALUES text against Native
// through the streaming INSERT, a second's worth of events at 5,000 calls/s
// per insert. worker-µs/event is the worker's CPU (parsing, sorting,
// compressing, writing parts, and whatever merges ran meanwhile) per
// stored event; render-µs/event is this process's, B/event the request's
// bytes.
func BenchmarkRealInsertFormat(b *testing.B) {
	for _, format := range []string{"values", "native", "native-lz4"} {
		b.Run(format, func(b *testing.B) {
			s, err := Open(context.Background(), eventsOptions(b))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			if strings.HasSuffix(format, "-lz4") {
				for _, c := range []string{"attributes", "error_message"} {
					if err := s.Exec(context.Background(), "ALTER TABLE perimeter.events MODIFY COLUMN "+c+" String CODEC(LZ4)"); err != nil {
						b.Fatal(err)
					}
				}
			}
			if format == "values" {
				s.opts.Insert = s.insertValues
			}
			batch := captureBatch(10000, time.Now())
			var probe insertBuf
			if format == "values" {
				probe.b = s.insertValues(nil, batch)
			} else {
				probe.b = s.insertNative(nil, &probe.cols, batch)
			}
			ctx := context.Background()
			pid := workerPID(s)
			w0, p0 := cpuTime(b, pid), cpuTime(b, os.Getpid())
			for b.Loop() {
				if err := s.WriteBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			events := float64(b.N * len(batch))
			b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64((cpuTime(b, pid)-w0).Microseconds())/events, "worker-µs/event")
			b.ReportMetric(float64((cpuTime(b, os.Getpid())-p0).Microseconds())/events, "render-µs/event")
			b.ReportMetric(float64(len(probe.b))/float64(len(batch)), "B/event")
		})
	}
}
