package edge

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/testkit"
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
	if h.count() != 1000 {
		t.Fatalf("count = %d", h.count())
	}
}

// TestTimeToFirstTokenIsRecordedForStreams: a stream whose provider waits
// 150 ms before answering records one first-event time of at least that;
// a buffered answer records none; the exposition parses.
func TestTimeToFirstTokenIsRecordedForStreams(t *testing.T) {
	h := startWithMock(t, mockllm.Config{Chunks: 3}, Options{})
	resp := h.post("/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "x-mock-hang", "150ms")
	readAll(t, resp.Body)
	resp = h.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`)
	readAll(t, resp.Body)
	st := &h.srv.proxy.stats
	testkit.Eventually(waitLimit, 5*time.Millisecond, func() bool { return st.firstEvent.count() != 0 })
	if n := st.firstEvent.count(); n != 1 {
		t.Fatalf("%d first-event times recorded, want 1 (the stream only)", n)
	}
	if q := st.firstEvent.quantiles(1)[0]; q < 150_000 {
		t.Errorf("time to first event %d µs, the provider waited 150 ms", q)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(h.srv.proxy.appendPrometheus(nil)))
	if err != nil {
		t.Fatal(err)
	}
	ttft := fams["perimeter_time_to_first_token_seconds"].GetMetric()[0].GetHistogram()
	var le100ms, le250ms uint64
	for _, b := range ttft.GetBucket() {
		if b.GetUpperBound() <= 0.1 {
			le100ms = b.GetCumulativeCount()
		}
		if b.GetUpperBound() <= 0.3 {
			le250ms = b.GetCumulativeCount()
		}
	}
	if ttft.GetSampleCount() != 1 || le100ms != 0 || le250ms != 1 {
		t.Errorf("ttft histogram %v", ttft)
	}
	if up := fams["perimeter_upstream_response_seconds"].GetMetric()[0].GetHistogram(); up.GetSampleCount() != 2 {
		t.Errorf("upstream histogram counts %d, want 2", up.GetSampleCount())
	}
}
