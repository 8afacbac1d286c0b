package prom

import (
	"strconv"
	"strings"
)

// Exposition appends samples in the text format. Families must be
// declared (Family) before their samples; a family's samples must follow
// it without another family in between.
type Exposition struct {
	B []byte
}

// Family writes the HELP and TYPE lines: typ is counter, gauge or
// histogram.
func (e *Exposition) Family(name, typ, help string) {
	e.B = append(e.B, "# HELP "...)
	e.B = append(e.B, name...)
	e.B = append(e.B, ' ')
	e.B = append(e.B, strings.ReplaceAll(strings.ReplaceAll(help, `\`, `\\`), "\n", `\n`)...)
	e.B = append(e.B, "\n# TYPE "...)
	e.B = append(e.B, name...)
	e.B = append(e.B, ' ')
	e.B = append(e.B, typ...)
	e.B = append(e.B, '\n')
}

// Sample writes one sample; labels are name, value pairs.
func (e *Exposition) Sample(name string, v float64, labels ...string) {
	e.B = append(e.B, name...)
	if len(labels) > 0 {
		e.B = append(e.B, '{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				e.B = append(e.B, ',')
			}
			e.B = append(e.B, labels[i]...)
			e.B = append(e.B, '=', '"')
			e.B = appendLabelValue(e.B, labels[i+1])
			e.B = append(e.B, '"')
		}
		e.B = append(e.B, '}')
	}
	e.B = append(e.B, ' ')
	e.B = strconv.AppendFloat(e.B, v, 'g', -1, 64)
	e.B = append(e.B, '\n')
}

// Gauge writes a family of one unlabelled sample.
func (e *Exposition) Gauge(name, help string, v float64) {
	e.Family(name, "gauge", help)
	e.Sample(name, v)
}

// Counter writes a family of one unlabelled sample.
func (e *Exposition) Counter(name, help string, v float64) {
	e.Family(name, "counter", help)
	e.Sample(name, v)
}

func appendLabelValue(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// Histogram is a fixed-bucket histogram (not safe for concurrent use:
// Traffic guards it).
type Histogram struct {
	counts []uint64 // per bucket of Bounds, plus +Inf
	sum    float64
	n      uint64
}

// DurationBounds are the buckets of call durations, in seconds.
var DurationBounds = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300}

func (h *Histogram) observe(bounds []float64, v float64) {
	if h.counts == nil {
		h.counts = make([]uint64, len(bounds)+1)
	}
	i := 0
	for i < len(bounds) && v > bounds[i] {
		i++
	}
	h.counts[i]++
	h.sum += v
	h.n++
}

// write appends the histogram's _bucket, _sum and _count samples.
func (h *Histogram) write(e *Exposition, name string, bounds []float64, labels ...string) {
	var cum uint64
	lb := append(labels[:len(labels):len(labels)], "le", "")
	for i, b := range bounds {
		cum += h.counts[i]
		lb[len(lb)-1] = strconv.FormatFloat(b, 'g', -1, 64)
		e.Sample(name+"_bucket", float64(cum), lb...)
	}
	cum += h.counts[len(bounds)]
	lb[len(lb)-1] = "+Inf"
	e.Sample(name+"_bucket", float64(cum), lb...)
	e.Sample(name+"_sum", h.sum, labels...)
	e.Sample(name+"_count", float64(h.n), labels...)
}
