package edge

import (
	"testing"
	"time"
)

func TestHistogramBucketsCoverValues(t *testing.T) {
	for _, us := range []uint64{0, 1, 7, 8, 9, 15, 16, 100, 1000, 12345, 1 << 30, 1<<40 + 7} {
		i := histIndex(us)
		if us > histUpper(i) {
			t.Fatalf("%d µs in bucket %d whose upper bound is %d", us, i, histUpper(i))
		}
		if i > 0 && us <= histUpper(i-1) {
			t.Fatalf("%d µs belongs below bucket %d", us, i)
		}
		if us >= 8 && float64(histUpper(i)-us) > 0.125*float64(us) {
			t.Fatalf("%d µs: bucket bound %d is more than 12.5%% away", us, histUpper(i))
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	q := h.quantiles(0.5, 0.99, 1)
	within := func(got uint64, want float64) bool {
		return float64(got) >= want && float64(got) <= want*1.125
	}
	if !within(q[0], 500_000) || !within(q[1], 990_000) || q[2] != 1_000_000 {
		t.Fatalf("quantiles = %v", q)
	}
	if h.count.Load() != 1000 {
		t.Fatalf("count = %d", h.count.Load())
	}
}
