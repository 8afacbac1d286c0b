package report

// Derive fills the comparisons of every result against the direct and nginx
// results of the same scenario (same run, same rounds).
func Derive(r *Report) {
	direct := first(r.TargetsOfKind("direct"))
	nginx := first(r.TargetsOfKind("nginx"))
	for si := range r.Scenarios {
		s := &r.Scenarios[si]
		d, n := s.Result(direct), s.Result(nginx)
		for i := range s.Results {
			res := &s.Results[i]
			if d != nil && res != d {
				if res.Latency != nil && d.Latency != nil {
					res.AddedP50Us = ptr(res.Latency.P50 - d.Latency.P50)
					res.AddedP99Us = ptr(res.Latency.P99 - d.Latency.P99)
				}
				if res.TTFB != nil && d.TTFB != nil {
					res.AddedTTFBP50Us = ptr(res.TTFB.P50 - d.TTFB.P50)
					res.AddedTTFBP99Us = ptr(res.TTFB.P99 - d.TTFB.P99)
				}
				if d.RPS > 0 && s.Kind == KindMax {
					res.ThroughputVsDirect = ptr(res.RPS / d.RPS)
				}
			}
			if n != nil && res != n {
				if n.RPS > 0 && s.Kind == KindMax {
					res.ThroughputVsNginx = ptr(res.RPS / n.RPS)
				}
				if res.CPUPer1k != nil && n.CPUPer1k != nil && *n.CPUPer1k > 0 {
					res.CPUVsNginx = ptr(*res.CPUPer1k / *n.CPUPer1k)
				}
				if res.Memory != nil && n.Memory != nil && n.Memory.PerStreamKiB > 0 && res != d {
					res.RSSPerStreamVsNgx = ptr(res.Memory.PerStreamKiB / n.Memory.PerStreamKiB)
				}
			}
		}
	}
}

func first(ts []Target) string {
	if len(ts) == 0 {
		return ""
	}
	return ts[0].Name
}

func ptr(v float64) *float64 { return &v }

// Headline is one line of the comparison that opens the report.
type Headline struct {
	Label    string            `json:"label"`
	Scenario string            `json:"scenario"`
	Values   map[string]string `json:"values"`                       // by proxy target name
	Ratio    string            `json:"perimeter_vs_nginx,omitempty"` // "0.93× nginx" or "+12 µs vs nginx"
}

// Headlines picks, per scenario, the figure it exists to show, for every
// proxy target: throughput at saturation, added latency at fixed rates,
// added first-byte latency for streams, CPU per 1,000 requests and memory
// per open stream.
func Headlines(r *Report) []Headline {
	var out []Headline
	proxies := proxyTargets(r)
	perim := first(r.TargetsOfKind("perimeter"))
	nginx := first(r.TargetsOfKind("nginx"))
	// add appends one headline; diff compares Perimeter with nginx as a
	// difference (latencies, where ratios of small numbers mislead) instead
	// of a ratio.
	add := func(label string, s *Scenario, diff bool, val func(*Result) (string, float64, bool)) {
		h := Headline{Label: label, Scenario: s.Name, Values: map[string]string{}}
		var pv, nv float64
		var pok, nok bool
		for _, t := range proxies {
			res := s.Result(t.Name)
			if res == nil {
				continue
			}
			text, v, ok := val(res)
			if !ok {
				continue
			}
			h.Values[t.Name] = text
			if t.Name == perim {
				pv, pok = v, true
			}
			if t.Name == nginx {
				nv, nok = v, true
			}
		}
		if len(h.Values) == 0 {
			return
		}
		switch {
		case pok && nok && diff:
			h.Ratio = fmtSignedUs(pv-nv) + " vs nginx"
		case pok && nok && nv != 0:
			h.Ratio = fmtRatio(pv/nv) + " nginx"
		}
		out = append(out, h)
	}
	cpuDone := false
	for si := range r.Scenarios {
		s := &r.Scenarios[si]
		switch s.Kind {
		case KindMax:
			add("throughput, "+s.Title, s, false, func(res *Result) (string, float64, bool) {
				if res.RPS == 0 {
					return "", 0, false
				}
				t := fmtInt(res.RPS) + " req/s"
				if res.ThroughputVsDirect != nil {
					t += " (" + fmtRatio(*res.ThroughputVsDirect) + " direct)"
				}
				return t, res.RPS, true
			})
			if !s.Stream && !cpuDone {
				cpuDone = true
				add("proxy CPU-s per 1,000 requests, "+s.Title, s, false, func(res *Result) (string, float64, bool) {
					if res.CPUPer1k == nil {
						return "", 0, false
					}
					return fmtFloat(*res.CPUPer1k, 4), *res.CPUPer1k, true
				})
			}
		case KindRate:
			add("added latency p50 / p99, "+s.Title, s, true, func(res *Result) (string, float64, bool) {
				if res.AddedP50Us == nil {
					return "", 0, false
				}
				return fmtSignedUs(*res.AddedP50Us) + " / " + fmtSignedUs(*res.AddedP99Us), *res.AddedP50Us, true
			})
			if s.Stream {
				add("added time to first byte p50 / p99, "+s.Title, s, true, func(res *Result) (string, float64, bool) {
					if res.AddedTTFBP50Us == nil {
						return "", 0, false
					}
					return fmtSignedUs(*res.AddedTTFBP50Us) + " / " + fmtSignedUs(*res.AddedTTFBP99Us), *res.AddedTTFBP50Us, true
				})
			}
		case KindStreams:
			add("proxy memory per open stream, "+s.Title, s, false, func(res *Result) (string, float64, bool) {
				if res.Memory == nil || len(res.Memory.Steps) == 0 {
					return "", 0, false
				}
				return fmtFloat(res.Memory.PerStreamKiB, 1) + " KiB", res.Memory.PerStreamKiB, true
			})
		}
	}
	return out
}

// proxyTargets are the measured targets other than direct.
func proxyTargets(r *Report) []Target {
	var out []Target
	for _, t := range r.measured() {
		if t.Kind != "direct" {
			out = append(out, t)
		}
	}
	return out
}
