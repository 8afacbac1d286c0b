package sink

import (
	"context"
	"syscall"
	"testing"
	"time"
)

type nopWriter struct{ name string }

func (w nopWriter) Name() string                             { return w.name }
func (nopWriter) WriteBatch(context.Context, []*Event) error { return nil }
func (nopWriter) Close() error                               { return nil }

// benchPipeline is a pipeline with o into a writer that does nothing,
// closed at the benchmark's end.
func benchPipeline(b *testing.B, o Options) *Pipeline {
	p, err := NewPipeline(o, nopWriter{"nop"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// fullEvents is n copies of fullEvent, each with its own id.
func fullEvents(n int) []*Event {
	events := make([]*Event, n)
	for i := range events {
		events[i] = fullEvent()
	}
	return events
}

// BenchmarkPublish is the proxy's cost per accepted event: a non-blocking
// channel send and counter updates, while the batcher drains the queue.
// When the queue fills (the benchmark outruns batching) the clock stops
// until it has drained, so only accepted publishes are timed.
func BenchmarkPublish(b *testing.B) {
	p := benchPipeline(b, Options{QueueSize: 1 << 20})
	ev := seqEvent(1)
	b.ReportAllocs()
	for b.Loop() {
		for !p.Publish(ev) {
			b.StopTimer()
			for len(p.events) > 0 {
				time.Sleep(time.Millisecond)
			}
			b.StartTimer()
		}
	}
}

func BenchmarkPublishParallel(b *testing.B) {
	p := benchPipeline(b, Options{QueueSize: 1 << 20})
	ev := seqEvent(1)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Publish(ev)
		}
	})
	b.StopTimer()
	if m := p.Metrics(); m.Dropped > 0 {
		b.ReportMetric(float64(m.Dropped)/float64(b.N), "drops/op")
	}
}

// BenchmarkPipelineThroughput is events/s through batching into a writer
// that does nothing: the pipeline's own ceiling.
func BenchmarkPipelineThroughput(b *testing.B) {
	p := benchPipeline(b, Options{QueueSize: 1 << 16, MaxDelay: 50 * time.Millisecond})
	ev := seqEvent(1)
	b.ReportAllocs()
	for b.Loop() {
		for !p.Publish(ev) {
		}
	}
	_ = p.Close(context.Background())
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDurability is the CPU the pipeline spends per event (all its
// threads: batcher and writer, from getrusage) to hand 1,000-event batches
// to a writer that does nothing, with batches kept in memory (durability
// none) and appended to the spill log first, then acked (spill).
func BenchmarkDurability(b *testing.B) {
	events := fullEvents(1000)
	for _, durable := range []bool{false, true} {
		name := "none"
		if durable {
			name = "spill"
		}
		b.Run(name, func(b *testing.B) {
			o := Options{MaxRows: 1000, WriterQueue: 64}
			if durable {
				o.Durable, o.SpillDir, o.SpillMaxBytes = true, b.TempDir(), 1<<30
			}
			p := benchPipeline(b, o)
			w := p.writers[0]
			cpu := processCPU()
			b.ReportAllocs()
			for b.Loop() {
				for w.lane.Depth() == w.lane.Cap() {
					time.Sleep(100 * time.Microsecond)
				}
				p.dispatch(events, time.Now())
			}
			_ = p.Close(context.Background())
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N*len(events)), "cpu-ns/event")
			if d := p.Metrics().Dropped; d != 0 {
				b.Fatalf("%d dropped", d)
			}
		})
	}
}

// processCPU is the process's user and system CPU time in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkSpillEncode(b *testing.B) {
	events := fullEvents(1000)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = encodeBatch(buf[:0], time.Now(), events)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkSpillDecode(b *testing.B) {
	events := fullEvents(1000)
	buf := encodeBatch(nil, time.Now(), events)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := decodeBatch(buf); err != nil {
			b.Fatal(err)
		}
	}
}
