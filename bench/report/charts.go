package report

import (
	"math"
)

// Chart is one SVG file of the report.
type Chart struct {
	File  string
	Title string
	SVG   string
}

var palette = []string{"#8c8c8c", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"}

func (r *Report) color(target string) string {
	for i, t := range r.Targets {
		if t.Name == target {
			return palette[i%len(palette)]
		}
	}
	return palette[len(palette)-1]
}

// Charts returns every chart of the report.
func Charts(r *Report) []Chart {
	var out []Chart
	for i := range r.Scenarios {
		out = append(out, chartsFor(r, &r.Scenarios[i])...)
	}
	return append(out, overviewCharts(r)...)
}

// chartsFor is the charts shown under scenario s: latency percentiles per
// target for fixed-rate scenarios, RSS against open streams for the
// streams scenario.
func chartsFor(r *Report, s *Scenario) []Chart {
	switch s.Kind {
	case KindRate:
		c := barChart{
			Title:  "Latency percentiles, " + s.Title,
			YLabel: "latency (log scale)",
			Groups: []string{"p50", "p90", "p99", "p99.9"},
			LogY:   true,
			Format: fmtUs,
		}
		for _, t := range r.measured() {
			res := s.Result(t.Name)
			if res == nil || res.Latency == nil {
				continue
			}
			l := res.Latency
			c.Series = append(c.Series, series{Name: t.Name, Color: r.color(t.Name), Values: []float64{l.P50, l.P90, l.P99, l.P999}})
		}
		if len(c.Series) == 0 {
			return nil
		}
		return []Chart{{File: "latency-" + s.Name + ".svg", Title: c.Title, SVG: c.svg()}}
	case KindStreams:
		c := lineChart{
			Title:  "Proxy resident memory vs open streams",
			XLabel: "open streams", YLabel: "RSS (MiB)",
			FormatY: func(v float64) string { return fmtFloat(v, 0) },
			FormatX: func(v float64) string { return fmtInt(v) },
		}
		for _, t := range r.measured() {
			res := s.Result(t.Name)
			if res == nil || res.Memory == nil || t.Kind == "direct" {
				continue
			}
			sr := series{Name: t.Name, Color: r.color(t.Name), X: []float64{0}, Values: []float64{res.Memory.IdleRSSMiB}}
			for _, st := range res.Memory.Steps {
				sr.X = append(sr.X, float64(st.Open))
				sr.Values = append(sr.Values, st.RSSMiB)
			}
			c.Series = append(c.Series, sr)
		}
		if len(c.Series) == 0 {
			return nil
		}
		return []Chart{{File: "rss-streams.svg", Title: c.Title, SVG: c.svg()}}
	}
	return nil
}

// overviewCharts compares the targets across scenarios: throughput at
// saturation and proxy CPU per 1,000 requests.
func overviewCharts(r *Report) []Chart {
	var out []Chart
	// Scenarios differ in scale (a stream is 24 events), so the bars are
	// relative to direct in the same scenario and labelled with req/s.
	tp := barChart{Title: "Throughput at saturation, relative to direct (labels: req/s)", YLabel: "× direct", Format: func(v float64) string { return fmtFloat(v, 2) + "×" }}
	cpu := barChart{Title: "Proxy CPU seconds per 1,000 requests", YLabel: "CPU-s / 1k requests", Format: func(v float64) string { return fmtFloat(v, 3) }}
	var tpScen, cpuScen []*Scenario
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		if s.Kind == KindMax {
			tpScen = append(tpScen, s)
			tp.Groups = append(tp.Groups, s.Name)
		}
		if s.Kind != KindStreams {
			cpuScen = append(cpuScen, s)
			cpu.Groups = append(cpu.Groups, s.Name)
		}
	}
	for _, t := range r.measured() {
		sr := series{Name: t.Name, Color: r.color(t.Name)}
		any := false
		direct := first(r.TargetsOfKind("direct"))
		for _, s := range tpScen {
			v, label := math.NaN(), ""
			res, d := s.Result(t.Name), s.Result(direct)
			if res != nil && d != nil && res.RPS > 0 && d.RPS > 0 {
				v, label, any = res.RPS/d.RPS, fmtInt(res.RPS), true
			}
			sr.Values = append(sr.Values, v)
			sr.Labels = append(sr.Labels, label)
		}
		if any {
			tp.Series = append(tp.Series, sr)
		}
		if t.Kind == "direct" {
			continue
		}
		sc := series{Name: t.Name, Color: r.color(t.Name)}
		any = false
		for _, s := range cpuScen {
			v := math.NaN()
			if res := s.Result(t.Name); res != nil && res.CPUPer1k != nil {
				v, any = *res.CPUPer1k, true
			}
			sc.Values = append(sc.Values, v)
		}
		if any {
			cpu.Series = append(cpu.Series, sc)
		}
	}
	if len(tp.Series) > 0 {
		out = append(out, Chart{File: "throughput.svg", Title: tp.Title, SVG: tp.svg()})
	}
	if len(cpu.Series) > 0 {
		out = append(out, Chart{File: "cpu.svg", Title: cpu.Title, SVG: cpu.svg()})
	}
	return out
}
