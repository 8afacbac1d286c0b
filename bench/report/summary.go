package report

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Summary is the one-screen text printed at the end of a run: where it ran,
// the headline comparison, and one line per target and scenario.
func Summary(r *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Perimeter benchmark (%s, %s) — %s\n", r.Mode, dur(r.ElapsedS), machineLine(r))
	fmt.Fprintf(&b, "pinning: %s\n", r.Pinning.Note)
	for _, n := range r.Notes {
		if strings.Contains(n, "repeated") || strings.Contains(n, "interrupted") || strings.Contains(n, "failed") {
			fmt.Fprintf(&b, "note: %s\n", n)
		}
	}
	for _, t := range r.Targets {
		if t.Skipped != "" {
			fmt.Fprintf(&b, "skipped %s: %s\n", t.Name, t.Skipped)
		}
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "scenario\ttarget\treq/s\tp50\tp99\tadded p50\tadded p99\tCPU-s/1k\tpeak RSS\terrors\t\n")
	for _, s := range r.Scenarios {
		for _, res := range s.Results {
			if s.Kind == KindStreams {
				if res.Memory == nil {
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s open\t\t\t\t\t\t%s/stream\t%d\t\n", s.Name, res.Target, fmtInt(float64(res.Memory.Opened)),
					fmtFloat(res.Memory.PerStreamKiB, 1)+" KiB", res.Memory.Failed)
				continue
			}
			l := res.Latency
			if l == nil {
				l = &Percentiles{}
			}
			cpu, rss := "—", "—"
			if res.CPUPer1k != nil {
				cpu = fmtFloat(*res.CPUPer1k, 4)
			}
			if res.PeakRSSMiB != nil {
				rss = fmtMiB(*res.PeakRSSMiB)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", s.Name, res.Target, fmtInt(res.RPS), fmtUs(l.P50), fmtUs(l.P99),
				optSignedUs(res.AddedP50Us), optSignedUs(res.AddedP99Us), cpu, rss, res.Errors+res.Unsent)
		}
	}
	tw.Flush()
	if hs := Headlines(r); len(hs) > 0 {
		b.WriteString("\nHeadline (Perimeter vs direct and nginx, same run):\n")
		for _, h := range hs {
			var parts []string
			for _, t := range proxyTargets(r) {
				if v, ok := h.Values[t.Name]; ok {
					parts = append(parts, t.Name+" "+v)
				}
			}
			fmt.Fprintf(&b, "  %s: %s", h.Label, strings.Join(parts, "; "))
			if h.Ratio != "" {
				fmt.Fprintf(&b, " → %s", h.Ratio)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
