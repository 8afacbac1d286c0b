package report

import (
	"time"

	"github.com/cylestio/perimeter/bench/loadgen"
	"github.com/cylestio/perimeter/bench/sysinfo"
)

// Report is one benchmark run.
type Report struct {
	Mode      string          `json:"mode"` // "full" or "quick"
	Started   time.Time       `json:"started"`
	ElapsedS  float64         `json:"elapsed_s"`
	Command   string          `json:"command"`
	Build     Build           `json:"build"`
	Machine   sysinfo.Machine `json:"machine"`
	Pinning   sysinfo.Pinning `json:"pinning"`
	Rounds    int             `json:"rounds"`
	WarmupS   float64         `json:"warmup_s"`
	DurationS float64         `json:"duration_s"` // measured seconds per run
	Targets   []Target        `json:"targets"`
	Scenarios []Scenario      `json:"scenarios"`
	Notes     []string        `json:"notes,omitempty"`
}

// Build says which source the measured binaries were built from.
type Build struct {
	Commit string   `json:"commit,omitempty"` // full hash
	Ref    string   `json:"ref,omitempty"`    // the --ref given, or "" for the working tree
	Dirty  []string `json:"uncommitted,omitempty"`
}

// Target is one system compared.
type Target struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"` // direct, perimeter, nginx
	Description string `json:"description"`
	Version     string `json:"version,omitempty"`
	Skipped     string `json:"skipped,omitempty"` // why it was not measured
}

// Scenario kinds.
const (
	KindRate    = "rate"    // open loop at a fixed rate
	KindMax     = "max"     // closed loop, maximum throughput
	KindStreams = "streams" // many slow streams held open, memory
)

// Scenario is one workload and what every target did under it.
type Scenario struct {
	Name         string   `json:"name"`
	Title        string   `json:"title"`
	Kind         string   `json:"kind"`
	Stream       bool     `json:"stream"`
	Rate         float64  `json:"rate,omitempty"`  // requests per second (rate)
	Conns        int      `json:"conns,omitempty"` // connections (max) or open streams (streams)
	Chunks       int      `json:"chunks,omitempty"`
	ChunkDelayMs float64  `json:"chunk_delay_ms,omitempty"`
	Results      []Result `json:"results"`
}

// Result is one target under one scenario: one round, or the rounds
// combined by Combine.
type Result struct {
	Target     string    `json:"target"`
	OK         uint64    `json:"ok"`
	Errors     uint64    `json:"errors"`
	Unsent     uint64    `json:"unsent,omitempty"` // open loop: due but never sent
	Events     uint64    `json:"sse_events,omitempty"`
	Seconds    float64   `json:"seconds"`
	RPS        float64   `json:"rps"`
	RoundRPS   []float64 `json:"round_rps,omitempty"`
	RoundP50Us []float64 `json:"round_p50_us,omitempty"`
	RoundP99Us []float64 `json:"round_p99_us,omitempty"`

	Latency *Percentiles `json:"latency_us,omitempty"`
	TTFB    *Percentiles `json:"ttfb_us,omitempty"`
	Gap     *Percentiles `json:"sse_gap_us,omitempty"`
	// SendLag is how late the load generator wrote requests after they
	// were due (open loop): its own share of the latency.
	SendLag *Percentiles `json:"load_generator_lag_us,omitempty"`

	// ForeignCPU is how many CPUs other processes on the machine kept
	// busy, on average, during the measured window (the noise); for
	// combined rounds the median, ForeignCPUMax the worst round.
	ForeignCPU    float64 `json:"other_processes_cpus"`
	ForeignCPUMax float64 `json:"other_processes_cpus_max,omitempty"`

	CPUSeconds       float64  `json:"proxy_cpu_s,omitempty"`
	CPUPer1k         *float64 `json:"proxy_cpu_s_per_1k,omitempty"`
	UpstreamCPUPer1k *float64 `json:"upstream_cpu_s_per_1k,omitempty"`
	PeakRSSMiB       *float64 `json:"proxy_peak_rss_mib,omitempty"`
	Memory           *Memory  `json:"memory,omitempty"`

	EventsCaptured *uint64 `json:"events_captured,omitempty"`
	EventsDropped  *uint64 `json:"events_dropped,omitempty"`
	// RequestsAll counts every request of the runs that captured events,
	// warm-up included, to set against EventsCaptured.
	RequestsAll *uint64 `json:"requests_all,omitempty"`
	FirstError  string  `json:"first_error,omitempty"`

	// Derived by Derive.
	AddedP50Us         *float64 `json:"added_p50_us,omitempty"`
	AddedP99Us         *float64 `json:"added_p99_us,omitempty"`
	AddedTTFBP50Us     *float64 `json:"added_ttfb_p50_us,omitempty"`
	AddedTTFBP99Us     *float64 `json:"added_ttfb_p99_us,omitempty"`
	ThroughputVsDirect *float64 `json:"throughput_vs_direct,omitempty"`
	ThroughputVsNginx  *float64 `json:"throughput_vs_nginx,omitempty"`
	CPUVsNginx         *float64 `json:"cpu_vs_nginx,omitempty"`
	RSSPerStreamVsNgx  *float64 `json:"rss_per_stream_vs_nginx,omitempty"`
}

// Percentiles of a latency distribution, in microseconds.
type Percentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	N    uint64  `json:"n"`
}

// FromHistogram summarises h, or returns nil when it is empty.
func FromHistogram(h *loadgen.Histogram) *Percentiles {
	if h.Count() == 0 {
		return nil
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return &Percentiles{
		P50: us(h.Quantile(0.5)), P90: us(h.Quantile(0.9)), P99: us(h.Quantile(0.99)), P999: us(h.Quantile(0.999)),
		Max: us(h.Max()), Mean: us(h.Mean()), N: h.Count(),
	}
}

// Memory is what the open-streams scenario measured for a proxy.
type Memory struct {
	IdleRSSMiB   float64   `json:"idle_rss_mib"`
	Steps        []MemStep `json:"steps"`
	PerStreamKiB float64   `json:"per_stream_kib"` // (RSS at the last step − idle) / streams
	Opened       int       `json:"opened"`
	Failed       int       `json:"failed"`
}

// MemStep is the proxy's resident memory with Open streams running.
type MemStep struct {
	Open   int     `json:"open"`
	RSSMiB float64 `json:"rss_mib"`
}

// Result returns the named target's result in s, or nil.
func (s *Scenario) Result(target string) *Result {
	for i := range s.Results {
		if s.Results[i].Target == target {
			return &s.Results[i]
		}
	}
	return nil
}

// TargetsOfKind lists the measured targets of kind k, in report order.
func (r *Report) TargetsOfKind(k string) []Target {
	var out []Target
	for _, t := range r.Targets {
		if t.Kind == k && t.Skipped == "" {
			out = append(out, t)
		}
	}
	return out
}

func (r *Report) kindOf(name string) string {
	for _, t := range r.Targets {
		if t.Name == name {
			return t.Kind
		}
	}
	return ""
}

// measured lists the targets that ran, in report order.
func (r *Report) measured() []Target {
	var out []Target
	for _, t := range r.Targets {
		if t.Skipped == "" {
			out = append(out, t)
		}
	}
	return out
}
