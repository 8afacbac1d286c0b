package sink

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// renderBatch is 1,000 events with a kilobyte of attributes each.
func renderBatch() []*Event {
	attrs := json.RawMessage(`{"llm.request.data":{"messages":[{"role":"user","content":"` + strings.Repeat("It's a \"quoted\" word. ", 45) + `"}]}}`)
	b := make([]*Event, 1000)
	for i := range b {
		e := fullEvent()
		e.Time = time.Unix(1_780_000_000+int64(i), 0)
		e.Attributes = attrs
		b[i] = e
	}
	return b
}

// BenchmarkRenderInsert: what a batch's insert costs the proxy's process
// to render, per 1,000 events: VALUES text (the embedded store before)
// against a Native block (ColumnBatch then AppendNative, the embedded
// store now), both into a reused buffer.
func BenchmarkRenderInsert(b *testing.B) {
	batch := renderBatch()
	b.Run("values", func(b *testing.B) {
		b.ReportAllocs()
		var dst []byte
		for b.Loop() {
			dst = AppendValues(dst[:0], batch)
		}
		b.ReportMetric(float64(len(dst))/float64(len(batch)), "B/event")
	})
	b.Run("native", func(b *testing.B) {
		b.ReportAllocs()
		var dst []byte
		var cols ColumnBatch
		for b.Loop() {
			cols.Reset()
			for _, e := range batch {
				cols.Append(e)
			}
			dst = AppendNative(dst[:0], &cols)
		}
		b.ReportMetric(float64(len(dst))/float64(len(batch)), "B/event")
	})
}
