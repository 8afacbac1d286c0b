package report

import (
	"fmt"
	"strings"
	"time"
)

// Markdown renders the whole report; charts are linked by file name (see
// Charts), so it belongs in the same directory as them.
func Markdown(r *Report) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# Perimeter benchmark\n\n")
	w("%s\n\n", runLine(r))
	w("- **Machine:** %s\n", machineLine(r))
	if bl := buildLine(r.Build); bl != "" {
		w("- **Built from:** %s\n", bl)
	}
	w("- **Pinning:** %s (%s)\n", r.Pinning.Note, r.Pinning.Mode)
	w("- **Method:** every scenario runs each target %d round(s), interleaved (the order rotates each round) so that drift on a shared machine falls on all targets alike; each run has %s of warm-up and %s measured. Counts add up over the rounds; rates, percentiles and CPU per request are the median round's, so a round disturbed by other work on the machine does not move them (JSON keeps every round's throughput, p50 and p99). Fixed-rate latency counts from the moment each request was due (open loop, no coordinated omission); saturation latency from the moment it was sent. Proxy CPU is utime+stime of the proxy's processes (nginx: master and workers) over the measured window; peak RSS is VmHWM, reset before each run.\n\n",
		r.Rounds, dur(r.WarmupS), dur(r.DurationS))

	w("| target | what | version |\n|---|---|---|\n")
	for _, t := range r.Targets {
		what := t.Description
		if t.Skipped != "" {
			what += " — **skipped:** " + t.Skipped
		}
		w("| %s | %s | %s |\n", t.Name, what, orDash(t.Version, t.Version != ""))
	}
	w("\n")

	if hs := Headlines(r); len(hs) > 0 {
		proxies := proxyTargets(r)
		w("## Headline\n\n| |")
		for _, t := range proxies {
			w(" %s |", t.Name)
		}
		w(" Perimeter vs nginx |\n|---|")
		for range proxies {
			w("---|")
		}
		w("---|\n")
		for _, h := range hs {
			w("| %s |", h.Label)
			for _, t := range proxies {
				v, ok := h.Values[t.Name]
				w(" %s |", orDash(v, ok))
			}
			w(" %s |\n", orDash(h.Ratio, h.Ratio != ""))
		}
		w("\nAdded latency is the target's percentile minus direct's at the same rate in the same run (so it can be slightly negative within noise). At saturation the load generator, the mock and the proxy share the CPUs, so ×direct measures what the proxy costs on a loaded box, not the proxy alone.\n\n")
	}

	for _, s := range r.Scenarios {
		w("## %s (`%s`)\n\n%s\n\n", s.Title, s.Name, scenarioLine(&s))
		if s.Kind == KindStreams {
			streamsTable(&b, r, &s)
		} else {
			loadTable(&b, r, &s)
		}
		for _, c := range chartsFor(r, &s) {
			w("![%s](%s)\n\n", c.Title, c.File)
		}
	}
	if cs := overviewCharts(r); len(cs) > 0 {
		w("## Charts\n\n")
		for _, c := range cs {
			w("![%s](%s)\n\n", c.Title, c.File)
		}
	}
	if len(r.Notes) > 0 {
		w("## Notes\n\n")
		for _, n := range r.Notes {
			w("- %s\n", n)
		}
		w("\n")
	}
	return b.String()
}

func runLine(r *Report) string {
	return fmt.Sprintf("Run %s (%s, %s): `%s`.", r.Started.UTC().Format("2006-01-02 15:04 UTC"), r.Mode, dur(r.ElapsedS), r.Command)
}

func buildLine(b Build) string {
	if b.Commit == "" {
		return ""
	}
	c := b.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	switch {
	case b.Ref != "":
		return fmt.Sprintf("`%s` (%s, exported from git: uncommitted changes excluded)", c, b.Ref)
	case len(b.Dirty) == 0:
		return fmt.Sprintf("`%s` (clean working tree)", c)
	default:
		return fmt.Sprintf("`%s` plus uncommitted changes to %s", c, strings.Join(b.Dirty, ", "))
	}
}

func machineLine(r *Report) string {
	m := r.Machine
	s := fmt.Sprintf("%d × %s, Linux %s, %d GiB, %s", m.CPUs, orDash(m.Model, m.Model != ""), orDash(m.Kernel, m.Kernel != ""), (m.MemoryMiB+512)/1024, m.GoVersion)
	if m.LoadAvg != "" {
		s += "; load average at start " + m.LoadAvg
	}
	return s
}

func dur(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return fmtFloat(sec, 1) + " s"
	default:
		return d.Round(time.Millisecond).String()
	}
}

func scenarioLine(s *Scenario) string {
	var parts []string
	switch s.Kind {
	case KindRate:
		parts = append(parts, fmt.Sprintf("Open loop at %s req/s (up to %d connections).", fmtInt(s.Rate), s.Conns))
	case KindMax:
		parts = append(parts, fmt.Sprintf("Closed loop, %d connections each sending its next request as soon as the previous answer is complete.", s.Conns))
	case KindStreams:
		parts = append(parts, fmt.Sprintf("Up to %s streams opened in steps and held open; the proxy's resident memory (VmRSS) is sampled at each step once every stream has delivered its first event.", fmtInt(float64(s.Conns))))
	}
	if s.Stream {
		d := ""
		if s.ChunkDelayMs > 0 {
			d = fmt.Sprintf(", %s ms between chunks", fmtFloat(s.ChunkDelayMs, 0))
		}
		parts = append(parts, fmt.Sprintf("SSE answers of %d content chunks%s.", s.Chunks, d))
	} else {
		parts = append(parts, "About 1 KB of JSON each way (chat completion, no streaming).")
	}
	return strings.Join(parts, " ")
}

func loadTable(b *strings.Builder, r *Report, s *Scenario) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	w("| target | req/s |")
	if s.Kind == KindMax {
		w(" ×direct | ×nginx |")
	}
	w(" p50 | p90 | p99 | p99.9 | added p50 | added p99 |")
	if s.Stream {
		w(" first byte p50 | first byte p99 | added first byte p50 | chunk gap p50 | chunk gap p99 |")
	}
	w(" proxy CPU-s / 1k req | ×nginx CPU | proxy peak RSS | errors | events captured / requests / dropped |\n|---|---:|")
	cols := 11
	if s.Kind == KindMax {
		cols += 2
	}
	if s.Stream {
		cols += 5
	}
	for range cols {
		w("---:|")
	}
	w("\n")
	for _, res := range s.Results {
		if r.kindOf(res.Target) == "" {
			continue
		}
		w("| %s | %s |", res.Target, fmtInt(res.RPS))
		if s.Kind == KindMax {
			w(" %s | %s |", optRatio(res.ThroughputVsDirect), optRatio(res.ThroughputVsNginx))
		}
		l := res.Latency
		if l == nil {
			l = &Percentiles{}
		}
		w(" %s | %s | %s | %s | %s | %s |", fmtUs(l.P50), fmtUs(l.P90), fmtUs(l.P99), fmtUs(l.P999), optSignedUs(res.AddedP50Us), optSignedUs(res.AddedP99Us))
		if s.Stream {
			t, g := res.TTFB, res.Gap
			if t == nil {
				t = &Percentiles{}
			}
			if g == nil {
				g = &Percentiles{}
			}
			w(" %s | %s | %s | %s | %s |", fmtUs(t.P50), fmtUs(t.P99), optSignedUs(res.AddedTTFBP50Us), fmtUs(g.P50), fmtUs(g.P99))
		}
		cpu := "—"
		if res.CPUPer1k != nil {
			cpu = fmtFloat(*res.CPUPer1k, 4)
		}
		rss := "—"
		if res.PeakRSSMiB != nil {
			rss = fmtMiB(*res.PeakRSSMiB)
		}
		errs := fmtInt(float64(res.Errors))
		if res.Unsent > 0 {
			errs += fmt.Sprintf(" (+%s unsent)", fmtInt(float64(res.Unsent)))
		}
		w(" %s | %s | %s | %s | %s |\n", cpu, optRatio(res.CPUVsNginx), rss, errs, eventsCell(r, &res))
	}
	w("\n")
	noisiest := 0.0
	for _, res := range s.Results {
		noisiest = max(noisiest, res.ForeignCPUMax, res.ForeignCPU)
	}
	w("Other processes on the machine kept at most %s CPU busy during one of these runs.\n\n", fmtFloat(noisiest, 2))
	if s.Kind == KindRate {
		var worst *Percentiles
		for _, res := range s.Results {
			if res.SendLag != nil && (worst == nil || res.SendLag.P99 > worst.P99) {
				worst = res.SendLag
			}
		}
		if worst != nil {
			w("Load generator lateness (due → written, included in the latencies above), worst target: p50 %s, p99 %s.\n\n", fmtUs(worst.P50), fmtUs(worst.P99))
		}
	}
	for _, res := range s.Results {
		if res.FirstError != "" {
			w("%s: first error: `%s`\n\n", res.Target, res.FirstError)
		}
	}
}

func eventsCell(r *Report, res *Result) string {
	if res.EventsCaptured == nil {
		if r.kindOf(res.Target) == "direct" || r.kindOf(res.Target) == "nginx" {
			return "—"
		}
		return "— (no capture)"
	}
	dropped := uint64(0)
	if res.EventsDropped != nil {
		dropped = *res.EventsDropped
	}
	reqs := "—"
	if res.RequestsAll != nil {
		reqs = fmtInt(float64(*res.RequestsAll))
	}
	return fmtInt(float64(*res.EventsCaptured)) + " / " + reqs + " / " + fmtInt(float64(dropped))
}

func streamsTable(b *strings.Builder, r *Report, s *Scenario) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	var steps []int
	for _, res := range s.Results {
		if res.Memory != nil && len(res.Memory.Steps) > len(steps) {
			steps = steps[:0]
			for _, st := range res.Memory.Steps {
				steps = append(steps, st.Open)
			}
		}
	}
	w("| target | idle RSS |")
	for _, n := range steps {
		w(" RSS at %s |", fmtInt(float64(n)))
	}
	w(" per open stream | ×nginx | first byte p50 | first byte p99 | failed |\n|---|---:|")
	for range len(steps) + 5 {
		w("---:|")
	}
	w("\n")
	for _, res := range s.Results {
		m := res.Memory
		if m == nil {
			continue
		}
		if r.kindOf(res.Target) == "direct" {
			w("| %s (mock upstream) | %s |", res.Target, fmtMiB(m.IdleRSSMiB))
		} else {
			w("| %s | %s |", res.Target, fmtMiB(m.IdleRSSMiB))
		}
		for i := range steps {
			if i < len(m.Steps) {
				w(" %s |", fmtMiB(m.Steps[i].RSSMiB))
			} else {
				w(" — |")
			}
		}
		t := res.TTFB
		if t == nil {
			t = &Percentiles{}
		}
		w(" %s KiB | %s | %s | %s | %d |\n", fmtFloat(m.PerStreamKiB, 1), optRatio(res.RSSPerStreamVsNgx), fmtUs(t.P50), fmtUs(t.P99), m.Failed)
	}
	w("\nThe direct row is the mock upstream's own memory, for scale: with a proxy in between the mock holds the same streams again.\n\n")
	for _, res := range s.Results {
		if res.FirstError != "" {
			w("%s: first error: `%s`\n\n", res.Target, res.FirstError)
		}
	}
}

func optRatio(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmtRatio(*v)
}

func optSignedUs(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmtSignedUs(*v)
}
