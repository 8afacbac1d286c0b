package chdb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
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
	benchInsert(b, realOptions, func(n int) []*sink.Event { return testBatch(n, 20, time.Now()) })
}

// benchInsert writes batches of 1,000 and 10,000 events made by batch
// into a store with opts, one sub-benchmark each.
func benchInsert(b *testing.B, opts func(testing.TB) Options, batch func(n int) []*sink.Event) {
	for _, n := range []int{1000, 10000} {
		b.Run("batch="+strconv.Itoa(n), func(b *testing.B) {
			s := benchStore(b, opts(b))
			batch := batch(n)
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
	s := benchStore(b, realOptions(b))
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

// benchStore opens a real store with opts, closed when the benchmark ends.
func benchStore(b *testing.B, opts Options) *Store {
	s, err := Open(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// captureBatch is n events shaped like full capture's: a call's
// llm.call.start (the request body, about 1.2 KB of attributes) and its
// llm.call.finish (usage, cost and the reply, about 0.5 KB), for 200
// sessions of 10 agents. The texts are drawn from a vocabulary of 4,096
// words, so that they compress about as well as prose does, not as well
// as one sentence repeated.
func captureBatch(n int, base time.Time) []*sink.Event {
	b := make([]*sink.Event, n)
	rng := rand.New(rand.NewPCG(uint64(base.UnixNano()), 1))
	text := func(words int) string {
		var t []byte
		for i := range words {
			if i > 0 {
				t = append(t, ' ')
			}
			t = append(t, vocabulary[rng.IntN(len(vocabulary))]...)
		}
		return string(t)
	}
	for i := range b {
		sess := i / 2 % 200
		e := &sink.Event{
			ID: sink.NewID(), Time: base.Add(time.Duration(i) * 100 * time.Microsecond), Level: sink.LevelInfo,
			TraceID: fmt.Sprintf("%032x", sess), SpanID: fmt.Sprintf("%016x", i/2), SessionID: "sess-" + strconv.Itoa(sess), AgentID: "agent-" + strconv.Itoa(sess%10),
			Vendor: "openai", Model: "gpt-4o-mini",
		}
		if i%2 == 0 {
			e.Name = sink.LLMCallStart
			e.Attributes = json.RawMessage(`{"llm.vendor":"openai","llm.model":"gpt-4o-mini","llm.request.data":{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful analyst. Answer briefly and cite the figures you use."},{"role":"user","content":"` + text(130) + `"}],"temperature":0.2},"session.id":"` + e.SessionID + `","http.method":"POST","http.path":"/v1/chat/completions","llm.request.stream":false}`)
		} else {
			e.Name, e.Status, e.DurationMs = sink.LLMCallFinish, 200, float64(i%900)+12.5
			e.InputTokens, e.OutputTokens, e.TotalTokens = 160, 64, 224
			e.FinishReason, e.CostUSD, e.CostStatus = "stop", 0.0000624, sink.CostPriced
			e.Attributes = json.RawMessage(`{"llm.vendor":"openai","llm.model":"gpt-4o-mini","llm.response.duration_ms":` + strconv.Itoa(i%900) + `,"llm.usage.input_tokens":160,"llm.usage.output_tokens":64,"llm.usage.total_tokens":224,"llm.response.content":[{"type":"text","text":"` + text(40) + `"}],"llm.response.id":"chatcmpl-` + strconv.Itoa(i) + `","session.id":"` + e.SessionID + `"}`)
		}
		b[i] = e
	}
	return b
}

// vocabulary is 4,096 pronounceable words of 2 to 4 syllables.
var vocabulary = func() []string {
	syl := []string{"ka", "lo", "mer", "tin", "sa", "ve", "ro", "dun", "pi", "tal", "ne", "gor", "shi", "ba", "el", "quo"}
	rng := rand.New(rand.NewPCG(7, 7))
	out := make([]string, 4096)
	for i := range out {
		var w string
		for range 2 + rng.IntN(3) {
			w += syl[rng.IntN(len(syl))]
		}
		out[i] = w
	}
	return out
}()

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

// insertVariants are the embedded engine's insert configurations the
// benchmarks compare in one run: before (INSERT … VALUES text, ZSTD(1)
// text columns, wide parts from 10 MB, as schema version 4 created them,
// the library's start-up pages resident, no engineBudget),
// Native alone, the new storage alone, and the store as it is (Native,
// LZ4, compact parts up to sink.EmbeddedWidePartBytes).
var insertVariants = []benchVariant{
	{name: "before", setup: func(b *testing.B, s *Store) { s.opts.Insert = s.insertValues; oldStorage(b, s) }, opts: func(o *Options) { o.keepCode, o.noBudget = true, true }},
	{name: "native", setup: func(b *testing.B, s *Store) { oldStorage(b, s) }},
	{name: "values-new-storage", setup: func(b *testing.B, s *Store) { s.opts.Insert = s.insertValues }},
	{name: "after", setup: func(b *testing.B, s *Store) {}},
}

type benchVariant struct {
	name  string
	setup func(b *testing.B, s *Store)
	opts  func(o *Options)
}

// memoryVariants are the memory settings BenchmarkRealSteadyCapture
// compares with PERIMETER_STEADY_MEMORY set.
var memoryVariants = []benchVariant{
	{name: "keep-code-no-budget", setup: func(b *testing.B, s *Store) {}, opts: func(o *Options) { o.keepCode, o.noBudget = true, true }},
	{name: "no-budget", setup: func(b *testing.B, s *Store) {}, opts: func(o *Options) { o.noBudget = true }},
	{name: "jemalloc-decay-5s", setup: func(b *testing.B, s *Store) {}, opts: func(o *Options) { o.mallocConf = "dirty_decay_ms:5000" }},
	{name: "jemalloc-decay-1s", setup: func(b *testing.B, s *Store) {}, opts: func(o *Options) { o.mallocConf = "dirty_decay_ms:1000" }},
	{name: "jemalloc-decay-250ms", setup: func(b *testing.B, s *Store) {}, opts: func(o *Options) { o.mallocConf = "dirty_decay_ms:250" }},
	{name: "after", setup: func(b *testing.B, s *Store) {}},
}

// oldStorage sets the events table back to schema version 3's storage.
func oldStorage(b *testing.B, s *Store) {
	for _, c := range []string{"attributes", "error_message"} {
		mustExec(b, s, "ALTER TABLE perimeter.events MODIFY COLUMN "+c+" String CODEC(ZSTD(1))")
	}
	mustExec(b, s, "ALTER TABLE perimeter.events MODIFY SETTING min_bytes_for_wide_part = 10485760")
}

func mustExec(b *testing.B, s *Store, q string) {
	b.Helper()
	if err := s.Exec(context.Background(), q); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRealInsertFormat: the embedded engine's insert path with the
// production schema and capture-shaped events, a second's worth of events
// at 5,000 calls/s per insert, merges stopped (BenchmarkRealSteadyCapture
// has them). worker-µs/event is the worker's CPU (reading the data,
// sorting, compressing, writing the part) per stored event; render-µs/event
// is this process's, B/event the request's bytes. PERIMETER_BENCH_SMALL
// inserts rows with 90 bytes of attributes instead: what a row costs
// whatever it holds.
func BenchmarkRealInsertFormat(b *testing.B) {
	for _, v := range insertVariants {
		b.Run(v.name, func(b *testing.B) {
			s, err := Open(context.Background(), benchEventsOptions(b))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			mustExec(b, s, "SYSTEM STOP MERGES perimeter.events")
			v.setup(b, s)
			batch := captureBatch(10000, time.Now())
			if os.Getenv("PERIMETER_BENCH_SMALL") != "" {
				batch = eventsBatch(10000, time.Now()) // 90-byte attributes: the cost of a row as such
			}
			var probe insertBuf
			if s.opts.Insert != nil {
				probe.b = s.opts.Insert(nil, batch)
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

// benchEventsOptions is eventsOptions with the data directory under
// PERIMETER_BENCH_DIR when set (a tmpfs takes the file system's cost out
// of the comparison).
func benchEventsOptions(b *testing.B) Options {
	o := eventsOptions(b)
	if dir := os.Getenv("PERIMETER_BENCH_DIR"); dir != "" {
		d, err := os.MkdirTemp(dir, "chdb-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(d) })
		o.Path = d
	}
	return o
}

// BenchmarkRealSteadyCapture inserts capture-shaped events at full
// capture's rate at 5,000 calls/s (10,000 events/s, one insert a second as
// the store paces them) for PERIMETER_STEADY_SECONDS (default 20), then
// reports the worker's CPU per 1,000 stored events (inserts and the merges
// they cause), its peak resident memory (and the anonymous part of it, the
// engine's own allocations as opposed to the library's mapped code), the
// active parts left and the bytes stored per event. Run with -benchtime 1x.
func BenchmarkRealSteadyCapture(b *testing.B) {
	secs := 20
	if v, err := strconv.Atoi(os.Getenv("PERIMETER_STEADY_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	const perSecond = 10000
	variants := insertVariants
	if os.Getenv("PERIMETER_STEADY_MEMORY") != "" {
		variants = memoryVariants
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			o := benchEventsOptions(b)
			if v.opts != nil {
				v.opts(&o)
			}
			s, err := Open(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			v.setup(b, s)
			ctx := context.Background()
			pid := workerPID(s)
			batches := [][]*sink.Event{captureBatch(perSecond, time.Now()), captureBatch(perSecond, time.Now().Add(time.Hour)), captureBatch(perSecond, time.Now().Add(2*time.Hour))}
			var peak, peakAnon int64
			sample := func() {
				rss, anon := rssOf(pid)
				if rss > peak {
					peak, peakAnon = rss, anon
				}
			}
			for b.Loop() {
				cpu0 := cpuTime(b, pid)
				start := time.Now()
				for i := range secs {
					batch := batches[i%len(batches)]
					for j, e := range batch {
						e.ID = sink.NewID()
						e.Time = start.Add(time.Duration(i)*time.Second + time.Duration(j)*100*time.Microsecond)
					}
					if err := s.WriteBatch(ctx, batch); err != nil {
						b.Fatal(err)
					}
					for next := start.Add(time.Duration(i+1) * time.Second); time.Now().Before(next); {
						sample()
						time.Sleep(100 * time.Millisecond)
					}
				}
				events := float64(secs * perSecond)
				b.ReportMetric(float64((cpuTime(b, pid)-cpu0).Milliseconds())/events, "worker-CPU-s/1k-events")
			}
			b.ReportMetric(float64(peak>>20), "peak-RSS-MiB")
			b.ReportMetric(float64(peakAnon>>20), "peak-anon-MiB")
			rows, err := s.Query(ctx, "SELECT count(), sum(data_compressed_bytes) FROM system.parts WHERE database = 'perimeter' AND table = 'events' AND active")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(rows.Data[0][0].(uint64)), "parts")
			b.ReportMetric(float64(rows.Data[0][1].(uint64))/float64(secs*perSecond), "stored-B/event")
		})
	}
}

// rssOf is a process's resident memory and the anonymous part of it.
func rssOf(pid int) (rss, anon int64) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(raw)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "RssAnon:":
			anon = kb << 10
		}
	}
	return rss, anon
}
