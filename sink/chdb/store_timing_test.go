package chdb

import (
	"context"
	"strconv"
	"testing"
	"time"
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
