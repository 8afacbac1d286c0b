package report

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/loadgen"
	"github.com/cylestio/perimeter/bench/sysinfo"
	"github.com/cylestio/perimeter/internal/golden"
)

func pct(p50, p99 float64) *Percentiles {
	return &Percentiles{P50: p50, P90: (p50 + p99) / 2, P99: p99, P999: p99 * 2, Max: p99 * 3, Mean: p50 * 1.1, N: 1000}
}

func f(v float64) *float64 { return &v }

// derived is the fixture after Derive.
func derived() *Report {
	r := fixture()
	Derive(r)
	return r
}

// fixture is a small report with every kind of scenario, as a run would
// produce before Derive.
func fixture() *Report {
	r := &Report{
		Mode: "quick", Started: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), ElapsedS: 95, Command: "make bench-quick",
		Machine: sysinfo.Machine{CPUs: 2, Model: "AMD EPYC", Kernel: "6.18.44", GoVersion: "go1.26.8", MemoryMiB: 24 * 1024, LoadAvg: "0.50 0.40 0.30"},
		Pinning: sysinfo.PlanPinning("split", []int{0, 1}, "/usr/bin/taskset"),
		Build:   Build{Commit: "0123456789abcdef0123", Dirty: []string{"edge/proxy.go"}},
		Rounds:  2, WarmupS: 0.5, DurationS: 3,
		Targets: []Target{
			{Name: "direct", Kind: "direct", Description: "load generator → mock upstream", Version: "mockllm"},
			{Name: "perimeter", Kind: "perimeter", Description: "Perimeter, capture off", Version: "perimeter dev"},
			{Name: "nginx", Kind: "nginx", Description: "nginx reverse proxy", Version: "nginx/1.22.1"},
			{Name: "capture-ch", Kind: "perimeter", Description: "Perimeter into ClickHouse", Skipped: "ClickHouse not running"},
		},
		Scenarios: []Scenario{
			{Name: "json-5k", Title: "JSON at 5,000 req/s", Kind: KindRate, Rate: 5000, Conns: 64, Results: []Result{
				{Target: "direct", OK: 30000, Seconds: 6, RPS: 5000, Latency: pct(80, 300), TTFB: pct(70, 290)},
				{Target: "perimeter", OK: 30000, Seconds: 6, RPS: 5000, SendLag: pct(20, 90), Latency: pct(120, 500), TTFB: pct(110, 480), CPUSeconds: 3, CPUPer1k: f(0.1), PeakRSSMiB: f(21.5)},
				{Target: "nginx", OK: 29990, Errors: 10, Unsent: 5, Seconds: 6, RPS: 4998, Latency: pct(110, 450), TTFB: pct(100, 440), CPUPer1k: f(0.08), PeakRSSMiB: f(8), FirstError: "HTTP status 502"},
			}},
			{Name: "json-max", Title: "JSON at saturation", Kind: KindMax, Conns: 64, Results: []Result{
				{Target: "direct", OK: 600000, Seconds: 6, RPS: 100000, Latency: pct(600, 2000)},
				{Target: "perimeter", OK: 240000, Seconds: 6, RPS: 40000, RoundRPS: []float64{39000, 41000}, Latency: pct(1500, 5000), CPUPer1k: f(0.012), PeakRSSMiB: f(30)},
				{Target: "nginx", OK: 180000, Seconds: 6, RPS: 30000, Latency: pct(2000, 6000), CPUPer1k: f(0.016), PeakRSSMiB: f(9)},
			}},
			{Name: "sse-rate", Title: "SSE at 200 streams/s", Kind: KindRate, Stream: true, Rate: 200, Conns: 256, Chunks: 20, ChunkDelayMs: 5, Results: []Result{
				{Target: "direct", OK: 1200, RPS: 200, Latency: pct(105000, 110000), TTFB: pct(90, 300), Gap: pct(5100, 5400)},
				{Target: "perimeter", OK: 1200, RPS: 200, Latency: pct(105100, 110200), TTFB: pct(150, 420), Gap: pct(5100, 5500), CPUPer1k: f(0.2)},
				{Target: "nginx", OK: 1200, RPS: 200, Latency: pct(105150, 110300), TTFB: pct(140, 400), Gap: pct(5100, 5450), CPUPer1k: f(0.25)},
			}},
			{Name: "streams", Title: "2,000 open streams", Kind: KindStreams, Stream: true, Conns: 2000, Chunks: 100, ChunkDelayMs: 100, Results: []Result{
				{Target: "direct", Memory: &Memory{IdleRSSMiB: 10, Steps: []MemStep{{1000, 20}, {2000, 30}}, PerStreamKiB: 10.24, Opened: 2000}, TTFB: pct(200, 900)},
				{Target: "perimeter", Memory: &Memory{IdleRSSMiB: 12, Steps: []MemStep{{1000, 40}, {2000, 70}}, PerStreamKiB: 29.7, Opened: 2000}, TTFB: pct(300, 1200)},
				{Target: "nginx", Memory: &Memory{IdleRSSMiB: 5, Steps: []MemStep{{1000, 8}, {2000, 11}}, PerStreamKiB: 3.07, Opened: 1990, Failed: 10}, FirstError: "read: connection reset"},
			}},
		},
		Notes: []string{"a note"},
	}
	return r
}

func near(a *float64, want float64) bool { return a != nil && math.Abs(*a-want) < 1e-9 }

func TestDerive(t *testing.T) {
	r := fixture()
	Derive(r)
	p := r.Scenarios[0].Result("perimeter")
	if !near(p.AddedP50Us, 40) || !near(p.AddedP99Us, 200) || !near(p.AddedTTFBP50Us, 40) || !near(p.AddedTTFBP99Us, 190) {
		t.Errorf("json-5k perimeter added: %v %v %v %v", *p.AddedP50Us, *p.AddedP99Us, *p.AddedTTFBP50Us, *p.AddedTTFBP99Us)
	}
	if p.ThroughputVsDirect != nil {
		t.Error("throughput ratio at a fixed rate is meaningless and should be left out")
	}
	if !near(p.CPUVsNginx, 0.1/0.08) {
		t.Errorf("cpu vs nginx %v", p.CPUVsNginx)
	}
	if d := r.Scenarios[0].Result("direct"); d.AddedP50Us != nil || d.CPUVsNginx != nil {
		t.Error("direct compared with itself")
	}
	m := r.Scenarios[1].Result("perimeter")
	if !near(m.ThroughputVsDirect, 0.4) || !near(m.ThroughputVsNginx, 40000.0/30000) {
		t.Errorf("json-max ratios %v %v", m.ThroughputVsDirect, m.ThroughputVsNginx)
	}
	if n := r.Scenarios[1].Result("nginx"); !near(n.ThroughputVsDirect, 0.3) || n.ThroughputVsNginx != nil {
		t.Errorf("nginx ratios %v %v", n.ThroughputVsDirect, n.ThroughputVsNginx)
	}
	if s := r.Scenarios[3].Result("perimeter"); !near(s.RSSPerStreamVsNgx, 29.7/3.07) {
		t.Errorf("rss per stream ratio %v", s.RSSPerStreamVsNgx)
	}
}

func TestHeadlines(t *testing.T) {
	r := derived()
	hs := Headlines(r)
	got := map[string]Headline{}
	for _, h := range hs {
		got[h.Label] = h
	}
	want := map[string][3]string{ // label → perimeter, nginx, comparison
		"added latency p50 / p99, JSON at 5,000 req/s":             {"+40 µs / +200 µs", "+30 µs / +150 µs", "+10 µs vs nginx"},
		"throughput, JSON at saturation":                           {"40,000 req/s (0.40× direct)", "30,000 req/s (0.30× direct)", "1.33× nginx"},
		"proxy CPU-s per 1,000 requests, JSON at saturation":       {"0.0120", "0.0160", "0.75× nginx"},
		"added time to first byte p50 / p99, SSE at 200 streams/s": {"+60 µs / +120 µs", "+50 µs / +100 µs", "+10 µs vs nginx"},
		"proxy memory per open stream, 2,000 open streams":         {"29.7 KiB", "3.1 KiB", "9.67× nginx"},
	}
	for label, w := range want {
		h, ok := got[label]
		if !ok {
			t.Errorf("no headline %q (have %v)", label, hs)
			continue
		}
		if h.Values["perimeter"] != w[0] || h.Values["nginx"] != w[1] || h.Ratio != w[2] {
			t.Errorf("%s: got %q %q %q, want %q", label, h.Values["perimeter"], h.Values["nginx"], h.Ratio, w)
		}
		if _, ok := h.Values["capture-ch"]; ok {
			t.Errorf("%s: skipped target has a value", label)
		}
	}
}

func TestMarkdownGolden(t *testing.T) {
	r := derived()
	got := Markdown(r)
	golden.Check(t, "report.md", []byte(got))
	for _, must := range []string{"AMD EPYC", "load generator on CPU 0", "`0123456789ab` plus uncommitted changes to edge/proxy.go", "**skipped:** ClickHouse not running", "latency-json-5k.svg", "rss-streams.svg", "throughput.svg", "— (no capture)", "(+5 unsent)", "worst target: p50 20 µs, p99 90 µs"} {
		if !strings.Contains(got, must) {
			t.Errorf("report lacks %q", must)
		}
	}
}

func TestChartsAreWellFormedSVG(t *testing.T) {
	r := derived()
	cs := Charts(r)
	files := map[string]bool{}
	for _, c := range cs {
		files[c.File] = true
		d := xml.NewDecoder(strings.NewReader(c.SVG))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", c.File, err)
			}
		}
		if !strings.Contains(c.SVG, "perimeter") || !strings.Contains(c.SVG, "<rect") && !strings.Contains(c.SVG, "<polyline") {
			t.Errorf("%s: no data drawn", c.File)
		}
	}
	for _, want := range []string{"latency-json-5k.svg", "latency-sse-rate.svg", "rss-streams.svg", "throughput.svg", "cpu.svg"} {
		if !files[want] {
			t.Errorf("chart %s missing (have %v)", want, files)
		}
	}
}

func TestAxes(t *testing.T) {
	a := logAxis(80, 6000)
	if a.lo != 10 || a.hi != 10000 || a.ticks[0] != 10 || a.ticks[len(a.ticks)-1] != 10000 {
		t.Errorf("log axis %+v", a)
	}
	if y := a.y(100); math.Abs(y-(float64(chartH-marginB)-(float64(chartH-marginB-marginT))/3)) > 1e-6 {
		t.Errorf("log y(100) = %v", y)
	}
	l := linearAxis(95000)
	if l.lo != 0 || l.hi < 95000 || len(l.ticks) < 4 || len(l.ticks) > 8 {
		t.Errorf("linear axis %+v", l)
	}
}

func TestSummaryFitsOneScreen(t *testing.T) {
	r := derived()
	s := Summary(r)
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 40 {
		t.Errorf("summary has %d lines", len(lines))
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > 160 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
	for _, must := range []string{"skipped capture-ch", "json-max", "29.7 KiB/stream", "→ 1.33× nginx"} {
		if !strings.Contains(s, must) {
			t.Errorf("summary lacks %q:\n%s", must, s)
		}
	}
}

func TestWrite(t *testing.T) {
	r := derived()
	dir := t.TempDir()
	paths, err := Write(r, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2+len(Charts(r)) {
		t.Errorf("wrote %v", paths)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Report
		Headline []Headline `json:"headline"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Scenarios) != 4 || back.Scenarios[1].Results[1].RPS != 40000 || len(back.Headline) == 0 || back.Pinning.Mode != "split" {
		t.Errorf("JSON round trip lost data: %+v", back.Scenarios)
	}
}

func TestFromHistogram(t *testing.T) {
	var h loadgen.Histogram
	if FromHistogram(&h) != nil {
		t.Error("empty histogram should give nil")
	}
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	p := FromHistogram(&h)
	if math.Abs(p.P50-500) > 2 || math.Abs(p.P99-990) > 4 || p.Max != 1000 || p.N != 1000 || math.Abs(p.Mean-500.5) > 0.01 {
		t.Errorf("got %+v", p)
	}
}

func TestFormat(t *testing.T) {
	cases := map[string]string{
		fmtInt(1234567.4): "1,234,567", fmtInt(-1234): "-1,234", fmtInt(999): "999",
		fmtUs(87.4): "87 µs", fmtUs(1240): "1.24 ms", fmtUs(12400): "12.4 ms", fmtUs(2.5e6): "2.50 s",
		fmtSignedUs(12): "+12 µs", fmtSignedUs(-3.2): "−3 µs", fmtSignedUs(-0.2): "+0 µs",
		fmtRatio(0.456): "0.46×", fmtRatio(12.3): "12×",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestCombine(t *testing.T) {
	u := func(v uint64) *uint64 { return &v }
	rounds := []Result{
		{Target: "p", OK: 100, Errors: 1, Seconds: 2, RPS: 50, Latency: pct(100, 900), CPUPer1k: f(0.02), PeakRSSMiB: f(30), EventsCaptured: u(100), EventsDropped: u(0), RequestsAll: u(110)},
		{Target: "p", OK: 300, Seconds: 2, RPS: 150, Latency: pct(5000, 90000), CPUPer1k: f(0.5), PeakRSSMiB: f(31), EventsCaptured: u(290), EventsDropped: u(10), RequestsAll: u(320), FirstError: "boom"}, // a disturbed round
		{Target: "p", OK: 110, Seconds: 2, RPS: 55, Latency: pct(120, 1000), CPUPer1k: f(0.03), PeakRSSMiB: f(29), EventsCaptured: u(110), RequestsAll: u(120)},
	}
	c := Combine(rounds)
	if c.OK != 510 || c.Errors != 1 || c.Seconds != 6 || c.RPS != 55 {
		t.Errorf("counts/rate: %+v", c)
	}
	if c.Latency.P50 != 120 || c.Latency.P99 != 1000 || c.Latency.Max != 270000 || c.Latency.N != 3000 {
		t.Errorf("latency %+v: want the median round's percentiles and the overall max", c.Latency)
	}
	if !near(c.CPUPer1k, 0.03) || !near(c.PeakRSSMiB, 31) {
		t.Errorf("cpu %v peak %v", *c.CPUPer1k, *c.PeakRSSMiB)
	}
	if *c.EventsCaptured != 500 || *c.EventsDropped != 10 || *c.RequestsAll != 550 || c.FirstError != "boom" {
		t.Errorf("events %d/%d/%d err %q", *c.EventsCaptured, *c.RequestsAll, *c.EventsDropped, c.FirstError)
	}
	if len(c.RoundRPS) != 3 || c.RoundP99Us[1] != 90000 {
		t.Errorf("per-round figures lost: %v %v", c.RoundRPS, c.RoundP99Us)
	}
	two := Combine(rounds[:2])
	if two.RPS != 100 || two.Latency.P50 != 2550 {
		t.Errorf("two rounds should average: rps %v p50 %v", two.RPS, two.Latency.P50)
	}
	one := Combine(rounds[:1])
	if one.RoundRPS != nil || one.RPS != 50 {
		t.Errorf("one round: %+v", one)
	}
	if Combine(nil).Target != "" {
		t.Error("empty combine")
	}
}
