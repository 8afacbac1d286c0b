package edge

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cylestio/perimeter/internal/loglin"
)

// counters are the proxy's own numbers, cheap enough for every request: one
// atomic add each, no locks.
type counters struct {
	requests      atomic.Uint64
	inFlight      atomic.Int64
	streams       atomic.Uint64
	streamsActive atomic.Int64
	bytesStreamed atomic.Uint64
	status        [6]atomic.Uint64 // by status/100; [0] counts odd codes
	errors        [numErrClasses]atomic.Uint64
	latency       histogram // upstream time to response headers
	// firstEvent is, for event streams, the time from the request's
	// arrival to the first bytes of the answer written to the client.
	firstEvent histogram
	// framing counts upstream connections closed because their bytes did
	// not add up to the answers asked for (transport.go).
	framing atomic.Uint64
}

func (c *counters) countStatus(code int) {
	i := code / 100
	if i < 1 || i > 5 {
		i = 0
	}
	c.status[i].Add(1)
}

// histogram records durations in microseconds into log-linear buckets: eight
// per power of two, so any reported percentile is within 12.5 % of the truth.
type histogram struct {
	buckets [histBuckets]atomic.Uint64
	sumUs   atomic.Uint64
	maxUs   atomic.Uint64
}

const (
	histSubBits = 3
	histSub     = 1 << histSubBits
	histBuckets = 64 * histSub
)

func histIndex(us uint64) int { return loglin.Index(us, histSubBits) }

// histUpper is the largest value that falls into bucket i.
func histUpper(i int) uint64 { return loglin.Upper(i, histSubBits) }

func (h *histogram) record(d time.Duration) {
	us := uint64(d / time.Microsecond)
	h.buckets[histIndex(us)].Add(1)
	h.sumUs.Add(us)
	for {
		m := h.maxUs.Load()
		if us <= m || h.maxUs.CompareAndSwap(m, us) {
			break
		}
	}
}

// count is the number of durations recorded: the buckets' sum, read when
// the metrics are, not kept per request.
func (h *histogram) count() uint64 {
	var n uint64
	for i := range h.buckets {
		n += h.buckets[i].Load()
	}
	return n
}

// quantiles returns the upper bound, in microseconds, of the buckets holding
// each quantile q (0 < q <= 1), in the order asked.
func (h *histogram) quantiles(qs ...float64) []uint64 {
	var counts [histBuckets]uint64
	var total uint64
	for i := range counts {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	out := make([]uint64, len(qs))
	if total == 0 {
		return out
	}
	maxUs := h.maxUs.Load()
	for j, q := range qs {
		rank := uint64(q*float64(total) + 0.5)
		if rank < 1 {
			rank = 1
		}
		var seen uint64
		for i, c := range counts {
			seen += c
			if seen >= rank {
				out[j] = min(histUpper(i), maxUs)
				break
			}
		}
	}
	return out
}

// promBounds are the buckets, in microseconds, of the histogram form of a
// histogram at /metrics/prometheus. Each is one of the log-linear buckets'
// upper bounds plus one, so the counts are exact.
var promBounds = func() []uint64 {
	want := []uint64{500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
		1000000, 2500000, 5000000, 10000000, 30000000, 60000000}
	out := make([]uint64, len(want))
	for i, w := range want {
		out[i] = histUpper(histIndex(w)) + 1
	}
	return out
}()

// appendHistogram renders h as a Prometheus histogram in seconds. A
// bucket's le is the exclusive upper end of the log-linear buckets it
// sums (within 12.5 % above the round number it was chosen near).
func (h *histogram) appendHistogram(b []byte, name, help string) []byte {
	b = append(b, "# HELP "+name+" "+help+"\n# TYPE "+name+" histogram\n"...)
	var cum uint64
	i := 0
	for _, le := range promBounds {
		for ; i < histBuckets && histUpper(i) < le; i++ {
			cum += h.buckets[i].Load()
		}
		b = append(b, name+`_bucket{le="`...)
		b = strconv.AppendFloat(b, float64(le)/1e6, 'g', -1, 64)
		b = append(b, `"} `...)
		b = strconv.AppendUint(b, cum, 10)
		b = append(b, '\n')
	}
	for ; i < histBuckets; i++ {
		cum += h.buckets[i].Load()
	}
	b = append(b, name+`_bucket{le="+Inf"} `...)
	b = strconv.AppendUint(b, cum, 10)
	b = append(b, '\n')
	b = append(b, name+"_sum "...)
	b = strconv.AppendFloat(b, float64(h.sumUs.Load())/1e6, 'g', -1, 64)
	b = append(b, '\n')
	b = append(b, name+"_count "...)
	b = strconv.AppendUint(b, cum, 10)
	return append(b, '\n')
}
