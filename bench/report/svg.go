package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// A small SVG plotter: grouped bar charts (linear or log y) and line
// charts, enough for the report and with no dependencies.

const (
	chartW, chartH                     = 760, 400
	marginL, marginR, marginT, marginB = 78, 20, 64, 56
)

type series struct {
	Name   string
	Color  string
	Values []float64 // one per group (bar) or per X (line); NaN = missing
	Labels []string  // bar charts: text over each bar instead of Format(value)
	X      []float64 // line charts only
}

type barChart struct {
	Title, YLabel string
	Groups        []string
	Series        []series
	LogY          bool
	Format        func(float64) string // bar labels and ticks
}

type lineChart struct {
	Title, XLabel, YLabel string
	Series                []series
	FormatY, FormatX      func(float64) string
}

type svgWriter struct{ b strings.Builder }

func (w *svgWriter) f(format string, a ...any) { fmt.Fprintf(&w.b, format, a...) }

func esc(s string) string { return html.EscapeString(s) }

func (w *svgWriter) open(title string, series []series) {
	w.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", chartW, chartH, chartW, chartH)
	w.f(`<rect width="100%%" height="100%%" fill="#fff"/>` + "\n")
	w.f(`<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", marginL, esc(title))
	x := float64(marginL)
	for _, s := range series {
		w.f(`<rect x="%.1f" y="34" width="12" height="12" fill="%s"/><text x="%.1f" y="44">%s</text>`+"\n", x, s.Color, x+16, esc(s.Name))
		x += 16 + 7.5*float64(len([]rune(s.Name))) + 18
	}
}

func (w *svgWriter) close() string {
	w.f("</svg>\n")
	return w.b.String()
}

// axis maps values onto the plot's vertical extent.
type axis struct {
	lo, hi float64
	log    bool
	ticks  []float64
}

func (a axis) y(v float64) float64 {
	top, bottom := float64(marginT), float64(chartH-marginB)
	var f float64
	if a.log {
		f = (math.Log10(v) - math.Log10(a.lo)) / (math.Log10(a.hi) - math.Log10(a.lo))
	} else {
		f = (v - a.lo) / (a.hi - a.lo)
	}
	return bottom - f*(bottom-top)
}

func (a axis) x(v float64) float64 {
	left, right := float64(marginL), float64(chartW-marginR)
	return left + (v-a.lo)/(a.hi-a.lo)*(right-left)
}

// linearAxis covers [0, max] with about five round ticks.
func linearAxis(maxV float64) axis {
	if !(maxV > 0) {
		maxV = 1
	}
	step := niceStep(maxV / 5)
	hi := math.Ceil(maxV*1.08/step) * step
	a := axis{lo: 0, hi: hi}
	for v := 0.0; v <= hi+step/2; v += step {
		a.ticks = append(a.ticks, v)
	}
	return a
}

func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// logAxis covers whole decades around [minV, maxV], ticked at 1-2-5 when
// there are few decades.
func logAxis(minV, maxV float64) axis {
	if !(minV > 0) {
		minV = 1
	}
	if maxV < minV {
		maxV = minV
	}
	lo := math.Pow(10, math.Floor(math.Log10(minV)))
	hi := math.Pow(10, math.Ceil(math.Log10(maxV*1.05)))
	if hi <= lo {
		hi = lo * 10
	}
	a := axis{lo: lo, hi: hi, log: true}
	decades := math.Round(math.Log10(hi / lo))
	for d := lo; d <= hi*1.001; d *= 10 {
		a.ticks = append(a.ticks, d)
		if decades <= 3 && d < hi/1.001 {
			a.ticks = append(a.ticks, 2*d, 5*d)
		}
	}
	return a
}

func (w *svgWriter) yAxis(a axis, label string, format func(float64) string) {
	left, right := float64(marginL), float64(chartW-marginR)
	for _, t := range a.ticks {
		y := a.y(t)
		w.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e3e3"/>`+"\n", left, y, right, y)
		w.f(`<text x="%.1f" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n", left-6, y+4, esc(format(t)))
	}
	w.f(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", left, marginT, left, chartH-marginB)
	w.f(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", left, chartH-marginB, right, chartH-marginB)
	cy := float64(marginT+chartH-marginB) / 2
	w.f(`<text transform="translate(16,%.1f) rotate(-90)" text-anchor="middle" fill="#333">%s</text>`+"\n", cy, esc(label))
}

func (c barChart) svg() string {
	var w svgWriter
	w.open(c.Title, c.Series)
	minV, maxV := math.Inf(1), 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v > 0 && !math.IsNaN(v) {
				minV = math.Min(minV, v)
				maxV = math.Max(maxV, v)
			}
		}
	}
	var a axis
	if c.LogY {
		a = logAxis(minV, maxV)
	} else {
		a = linearAxis(maxV)
	}
	w.yAxis(a, c.YLabel, c.Format)
	plotW := float64(chartW - marginL - marginR)
	groupW := plotW / float64(max(len(c.Groups), 1))
	barW := groupW * 0.8 / float64(max(len(c.Series), 1))
	base := a.y(a.lo)
	for gi, g := range c.Groups {
		gx := float64(marginL) + float64(gi)*groupW + groupW*0.1
		for si, s := range c.Series {
			if gi >= len(s.Values) || math.IsNaN(s.Values[gi]) || s.Values[gi] <= 0 && c.LogY {
				continue
			}
			v := s.Values[gi]
			x := gx + float64(si)*barW
			y := a.y(math.Max(v, a.lo))
			label := c.Format(v)
			if gi < len(s.Labels) && s.Labels[gi] != "" {
				label = s.Labels[gi]
			}
			w.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
				x+1, y, barW-2, math.Max(base-y, 0.5), s.Color, esc(s.Name), esc(g), esc(label))
			w.f(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10" fill="#222">%s</text>`+"\n", x+barW/2, y-4, esc(label))
		}
		w.f(`<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", float64(marginL)+(float64(gi)+0.5)*groupW, chartH-marginB+20, esc(g))
	}
	return w.close()
}

func (c lineChart) svg() string {
	var w svgWriter
	w.open(c.Title, c.Series)
	maxX, maxY := 0.0, 0.0
	for _, s := range c.Series {
		for i, v := range s.Values {
			if !math.IsNaN(v) {
				maxY = math.Max(maxY, v)
				maxX = math.Max(maxX, s.X[i])
			}
		}
	}
	ay, ax := linearAxis(maxY), linearAxis(maxX)
	w.yAxis(ay, c.YLabel, c.FormatY)
	for _, t := range ax.ticks {
		x := ax.x(t)
		w.f(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", x, chartH-marginB, x, chartH-marginB+4)
		w.f(`<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", x, chartH-marginB+18, esc(c.FormatX(t)))
	}
	w.f(`<text x="%.1f" y="%d" text-anchor="middle" fill="#333">%s</text>`+"\n", float64(marginL+chartW-marginR)/2, chartH-12, esc(c.XLabel))
	for _, s := range c.Series {
		var pts []string
		for i, v := range s.Values {
			if math.IsNaN(v) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", ax.x(s.X[i]), ay.y(v)))
		}
		if len(pts) == 0 {
			continue
		}
		w.f(`<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", s.Color, strings.Join(pts, " "))
		for i, v := range s.Values {
			if !math.IsNaN(v) {
				w.f(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: %s at %s</title></circle>`+"\n",
					ax.x(s.X[i]), ay.y(v), s.Color, esc(s.Name), esc(c.FormatY(v)), esc(c.FormatX(s.X[i])))
			}
		}
	}
	return w.close()
}
