package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestBucketRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 1 << 20, 123456789, 1<<maxExp - 1} {
		i := bucketIndex(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketIndex(%d) = %d out of range", v, i)
		}
		up := bucketUpper(i)
		if up < v {
			t.Errorf("bucketUpper(bucketIndex(%d)) = %d < value", v, up)
		}
		if bucketIndex(up) != i || (i > 0 && bucketIndex(bucketUpper(i-1)+1) != i) {
			t.Errorf("bucket %d bounds inconsistent", i)
		}
		if v >= subCount && float64(up-v) > float64(v)/subCount {
			t.Errorf("value %d in bucket up to %d: error above 1/%d", v, up, subCount)
		}
	}
	if bucketIndex(1<<maxExp-1) != numBuckets-1 {
		t.Errorf("largest value not in the last bucket")
	}
}

func TestQuantileMatchesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	vals := make([]time.Duration, 100_000)
	for i := range vals {
		// Log-normal-ish latencies from ~10 µs to ~100 ms.
		vals[i] = time.Duration(math.Exp(r.NormFloat64()*1.5+math.Log(200e3))) + 10*time.Microsecond
		h.Record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/subCount+1 {
			t.Errorf("q%v: got %v, exact %v", q, got, exact)
		}
	}
	if h.Count() != uint64(len(vals)) || h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
		t.Errorf("count/min/max = %d/%v/%v", h.Count(), h.Min(), h.Max())
	}
	var sum time.Duration
	for _, v := range vals {
		sum += v
	}
	if want := sum / time.Duration(len(vals)); h.Mean() != want {
		t.Errorf("mean %v, want %v", h.Mean(), want)
	}
}

func TestQuantileSmallAndEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram should report zeros")
	}
	for _, v := range []time.Duration{10, 20, 30, 40} {
		h.Record(v)
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{{0.25, 10}, {0.5, 20}, {0.51, 30}, {0.75, 30}, {0.99, 40}, {1, 40}, {0, 10}}
	for _, c := range cases {
		if got := h.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	h.Record(-5)
	if h.Min() != 0 {
		t.Errorf("negative value should count as 0, min = %v", h.Min())
	}
	h.Record(10 * time.Hour)
	if h.Max() != MaxValue {
		t.Errorf("huge value should clamp to MaxValue, max = %v", h.Max())
	}
	h.Reset()
	if h.Count() != 0 || h.Quantile(1) != 0 {
		t.Error("Reset left values behind")
	}
}

func TestMergeEqualsRecordingAll(t *testing.T) {
	var a, b, all Histogram
	for i := range 5000 {
		v := time.Duration(i*i) * time.Nanosecond
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	m.Merge(&Histogram{})
	for _, q := range []float64{0.1, 0.5, 0.9, 0.99, 0.999} {
		if m.Quantile(q) != all.Quantile(q) {
			t.Errorf("q%v: merged %v, direct %v", q, m.Quantile(q), all.Quantile(q))
		}
	}
	if m.Count() != all.Count() || m.Min() != all.Min() || m.Max() != all.Max() || m.Mean() != all.Mean() {
		t.Error("merged summary differs")
	}
}

func TestRecordConcurrent(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				h.Record(time.Duration(g*1000 + i + 1))
			}
		}()
	}
	wg.Wait()
	if h.Count() != 4000 || h.Min() != 1 || h.Max() != 4000 {
		t.Errorf("count %d min %v max %v", h.Count(), h.Min(), h.Max())
	}
}
