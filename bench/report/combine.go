package report

import "slices"

// Combine merges the rounds of one target under one scenario into one
// Result. Counts add up; rates, percentiles and CPU per request are the
// median over the rounds, so one round disturbed by other work on a shared
// machine does not move the figures (with two rounds, the mean of both);
// peak memory is the highest. The per-round throughput and p50/p99 stay in
// RoundRPS, RoundP50Us and RoundP99Us.
func Combine(rounds []Result) Result {
	if len(rounds) == 0 {
		return Result{}
	}
	out := Result{Target: rounds[0].Target}
	var rps, cpu, up, foreign []float64
	var lat, ttfb, gap, lag []*Percentiles
	for _, r := range rounds {
		out.OK += r.OK
		out.Errors += r.Errors
		out.Unsent += r.Unsent
		out.Events += r.Events
		out.Seconds += r.Seconds
		out.CPUSeconds += r.CPUSeconds
		rps = append(rps, r.RPS)
		foreign = append(foreign, r.ForeignCPU)
		out.ForeignCPUMax = max(out.ForeignCPUMax, r.ForeignCPU)
		out.RoundRPS = append(out.RoundRPS, r.RPS)
		if r.Latency != nil {
			out.RoundP50Us = append(out.RoundP50Us, r.Latency.P50)
			out.RoundP99Us = append(out.RoundP99Us, r.Latency.P99)
		}
		lat, ttfb, gap, lag = appendP(lat, r.Latency), appendP(ttfb, r.TTFB), appendP(gap, r.Gap), appendP(lag, r.SendLag)
		if r.CPUPer1k != nil {
			cpu = append(cpu, *r.CPUPer1k)
		}
		if r.UpstreamCPUPer1k != nil {
			up = append(up, *r.UpstreamCPUPer1k)
		}
		if r.PeakRSSMiB != nil && (out.PeakRSSMiB == nil || *r.PeakRSSMiB > *out.PeakRSSMiB) {
			out.PeakRSSMiB = ptr(*r.PeakRSSMiB)
		}
		if r.EventsCaptured != nil {
			out.EventsCaptured = addU(out.EventsCaptured, *r.EventsCaptured)
			d := uint64(0)
			if r.EventsDropped != nil {
				d = *r.EventsDropped
			}
			out.EventsDropped = addU(out.EventsDropped, d)
			if r.RequestsAll != nil {
				out.RequestsAll = addU(out.RequestsAll, *r.RequestsAll)
			}
		}
		if out.FirstError == "" {
			out.FirstError = r.FirstError
		}
	}
	out.RPS = median(rps)
	out.ForeignCPU = median(foreign)
	out.Latency, out.TTFB, out.Gap, out.SendLag = medianP(lat), medianP(ttfb), medianP(gap), medianP(lag)
	if len(cpu) == len(rounds) {
		out.CPUPer1k = ptr(median(cpu))
	}
	if len(up) == len(rounds) {
		out.UpstreamCPUPer1k = ptr(median(up))
	}
	if len(rounds) == 1 {
		out.RoundRPS, out.RoundP50Us, out.RoundP99Us = nil, nil, nil
	}
	return out
}

func addU(p *uint64, v uint64) *uint64 {
	if p == nil {
		return &v
	}
	s := *p + v
	return &s
}

func appendP(ps []*Percentiles, p *Percentiles) []*Percentiles {
	if p == nil {
		return ps
	}
	return append(ps, p)
}

// median of vs (the mean of the middle two for an even count); 0 when
// empty.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func medianP(ps []*Percentiles) *Percentiles {
	if len(ps) == 0 {
		return nil
	}
	field := func(f func(*Percentiles) float64) float64 {
		vs := make([]float64, len(ps))
		for i, p := range ps {
			vs[i] = f(p)
		}
		return median(vs)
	}
	out := &Percentiles{
		P50:  field(func(p *Percentiles) float64 { return p.P50 }),
		P90:  field(func(p *Percentiles) float64 { return p.P90 }),
		P99:  field(func(p *Percentiles) float64 { return p.P99 }),
		P999: field(func(p *Percentiles) float64 { return p.P999 }),
		Mean: field(func(p *Percentiles) float64 { return p.Mean }),
	}
	for _, p := range ps {
		out.Max = max(out.Max, p.Max)
		out.N += p.N
	}
	return out
}
