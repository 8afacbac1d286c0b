package loadgen

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/cylestio/perimeter/internal/loglin"
)

// Histogram counts durations in log-linear buckets: values below 256 ns are
// exact, larger ones fall into one of 256 buckets per power of two, so any
// percentile it reports is within 1/256 (0.4 %) of the true value. Values
// above MaxValue are counted as MaxValue.
//
// Record is safe for concurrent use (one atomic add per bucket, counter and
// sum); Merge, Quantile and the other readers must not race with Record.
// The zero Histogram is ready to use.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64 // nanoseconds
	max    atomic.Int64
	min    atomic.Int64 // stored as min+1 so that the zero value means "none"
}

const (
	subBits    = 8
	subCount   = 1 << subBits
	maxExp     = 43 // 2^43 ns ≈ 2.4 h
	numBuckets = (maxExp - subBits + 1) * subCount

	// MaxValue is the largest duration a Histogram tells apart.
	MaxValue = time.Duration(1<<maxExp - 1)
)

func bucketIndex(v uint64) int { return loglin.Index(v, subBits) }

// bucketUpper is the largest value that falls into bucket i.
func bucketUpper(i int) uint64 { return loglin.Upper(i, subBits) }

// Record adds one duration. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	if d > MaxValue {
		d = MaxValue
	}
	v := uint64(d)
	h.counts[bucketIndex(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if int64(v) <= m || h.max.CompareAndSwap(m, int64(v)) {
			break
		}
	}
	for {
		m := h.min.Load()
		if (m != 0 && int64(v)+1 >= m) || h.min.CompareAndSwap(m, int64(v)+1) {
			break
		}
	}
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max is the largest recorded value (0 when empty).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Min is the smallest recorded value (0 when empty).
func (h *Histogram) Min() time.Duration {
	m := h.min.Load()
	if m == 0 {
		return 0
	}
	return time.Duration(m - 1)
}

// Mean is the exact arithmetic mean (0 when empty).
func (h *Histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the value at quantile q (0 < q <= 1): the highest value
// equivalent to the one of rank ceil(q·n), clamped to [Min, Max]. It returns
// 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	rank = min(rank, n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			v := time.Duration(bucketUpper(i))
			return min(max(v, h.Min()), h.Max())
		}
	}
	return h.Max()
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n.Load() == 0 {
		return
	}
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	h.sum.Add(o.sum.Load())
	if m := o.max.Load(); m > h.max.Load() {
		h.max.Store(m)
	}
	if m := o.min.Load(); m != 0 && (h.min.Load() == 0 || m < h.min.Load()) {
		h.min.Store(m)
	}
}

// Reset forgets every value.
func (h *Histogram) Reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.n.Store(0)
	h.sum.Store(0)
	h.max.Store(0)
	h.min.Store(0)
}
