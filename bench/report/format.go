package report

import (
	"math"
	"strconv"
	"strings"
)

// fmtInt formats v rounded, with thousands separators: 12,345.
func fmtInt(v float64) string {
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtFloat(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

// fmtUs formats microseconds: "87 µs", "1.24 ms", "2.5 s".
func fmtUs(us float64) string {
	a := math.Abs(us)
	switch {
	case a >= 1e6:
		return fmtFloat(us/1e6, 2) + " s"
	case a >= 1e4:
		return fmtFloat(us/1e3, 1) + " ms"
	case a >= 1e3:
		return fmtFloat(us/1e3, 2) + " ms"
	default:
		return fmtInt(us) + " µs"
	}
}

// fmtSignedUs is fmtUs with an explicit sign: "+87 µs", "−3 µs".
func fmtSignedUs(us float64) string {
	if math.Round(us) >= 0 {
		return "+" + fmtUs(us)
	}
	return "−" + fmtUs(-us)
}

// fmtRatio formats a ratio with two significant decimals: "0.45×", "1.8×".
func fmtRatio(r float64) string {
	switch {
	case r >= 10:
		return fmtFloat(r, 0) + "×"
	case r >= 1:
		return fmtFloat(r, 2) + "×"
	default:
		return fmtFloat(r, 2) + "×"
	}
}

// fmtMiB formats mebibytes.
func fmtMiB(m float64) string {
	if m >= 100 {
		return fmtFloat(m, 0) + " MiB"
	}
	return fmtFloat(m, 1) + " MiB"
}

func orDash(s string, ok bool) string {
	if !ok {
		return "—"
	}
	return s
}
