package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// benchEvent is an llm.call.finish with ~400 bytes of attributes, the
// common case on the dashboard's tables.
func benchEvent(i int) *sink.Event {
	e := testEvent(i)
	e.ID = sink.NewID()
	e.Attributes = []byte(`{"llm.vendor":"openai","llm.model":"gpt-4o","llm.response.duration_ms":812.5,"llm.usage.input_tokens":1234,` +
		`"llm.usage.output_tokens":56,"llm.usage.total_tokens":1290,"session.id":"` + e.SessionID + `","finish_reason":"stop",` +
		`"os.type":"Linux","os.version":"6.1.0","env.python.version":"3.11.4","env.machine.type":"x86_64","host.name":"bench-host",` +
		`"llm.response.content":[{"type":"text","text":"` + strings.Repeat("lorem ipsum ", 8) + `"}]}`)
	return e
}

// BenchmarkWriteBatch is one store's insert throughput, per batch size.
func BenchmarkWriteBatch(b *testing.B) {
	for _, size := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("rows=%d", size), func(b *testing.B) {
			s := testStore(b, nil)
			batch := make([]*sink.Event, size)
			for i := range batch {
				batch[i] = benchEvent(i)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := s.WriteBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkPipelineIntoClickHouse is the end-to-end rate from Publish to
// rows in ClickHouse through the pipeline, counting until Close has
// drained everything; max_rows is the batch size from the storage block.
func BenchmarkPipelineIntoClickHouse(b *testing.B) {
	for _, rows := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("max_rows=%d", rows), func(b *testing.B) {
			s := testStore(b, nil)
			const n = 200000
			evs := make([]*sink.Event, n)
			for i := range evs {
				evs[i] = benchEvent(i)
			}
			var total int
			b.ResetTimer()
			for b.Loop() {
				p, err := sink.NewPipeline(sink.Options{MaxRows: rows, MaxDelay: 200 * time.Millisecond, QueueSize: 100000,
					SpillDir: b.TempDir(), SpillMaxBytes: 1 << 30}, noClose{s})
				if err != nil {
					b.Fatal(err)
				}
				for _, e := range evs {
					for !p.Publish(e) {
						time.Sleep(50 * time.Microsecond) // the queue is full: the benchmark outruns the store
					}
				}
				if err := p.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
				m := p.Metrics()
				if d := m.Writers[0].Dropped; d != 0 {
					b.Fatalf("writer dropped %d", d)
				}
				total += n
				b.Logf("writes %d, spilled %d bytes, retries %d", m.Writers[0].Batches, m.Writers[0].SpilledBytes, m.Writers[0].Retries)
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
			got := scalar(b, s, "SELECT count() FROM "+sink.EventsSource(s.schema))
			if got != uint64(n) {
				b.Fatalf("%v events stored, want %d (each run re-publishes the same ids)", got, n)
			}
		})
	}
}

// BenchmarkSustainedRate publishes at a fixed rate (open loop, 100k
// events/s by default, 1 ms ticks) for 5 s through the pipeline with the
// default storage block, then closes it. The pipeline keeps up when
// nothing spills, nothing drops and the drain after the last publish is
// short; it reports the achieved rate and the worst lag seen.
func BenchmarkSustainedRate(b *testing.B) {
	const rate, seconds = 100000, 5
	s := testStore(b, nil)
	evs := make([]*sink.Event, rate*seconds)
	for i := range evs {
		evs[i] = benchEvent(i)
	}
	for b.Loop() {
		p, err := sink.NewPipeline(sink.Options{SpillDir: b.TempDir(), SpillMaxBytes: 1 << 30}, noClose{s})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		tick := time.NewTicker(time.Millisecond)
		sent, maxLag := 0, 0.0
		for sent < len(evs) {
			<-tick.C
			due := min(len(evs), int(time.Since(start).Seconds()*rate))
			for ; sent < due; sent++ {
				p.Publish(evs[sent])
			}
			if sent%10000 < rate/1000 {
				if lag := p.Metrics().Writers[0].LagSeconds; lag > maxLag {
					maxLag = lag
				}
			}
		}
		tick.Stop()
		published := time.Since(start)
		if err := p.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		total := time.Since(start)
		m := p.Metrics()
		b.ReportMetric(float64(len(evs))/total.Seconds(), "events/s")
		b.ReportMetric(maxLag*1000, "max-lag-ms")
		b.ReportMetric(float64(m.Writers[0].SpilledBytes), "spilled-B")
		b.ReportMetric(float64(m.Dropped), "dropped")
		b.Logf("published %d in %v, drained %v later; writes %d", len(evs), published.Round(time.Millisecond), (total - published).Round(time.Millisecond), m.Writers[0].Batches)
	}
	if got := scalar(b, s, "SELECT count() FROM "+sink.EventsSource(s.schema)); got != uint64(len(evs)) {
		b.Fatalf("%v events stored, want %d", got, len(evs))
	}
}

// noClose keeps the store open across pipelines (a pipeline closes its
// writers).
type noClose struct{ *Store }

func (noClose) Close() error { return nil }
