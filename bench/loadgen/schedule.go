package loadgen

import "time"

// Schedule is a fixed-rate pacing plan: request i is due at Start + i/Rate.
// Due times are computed from i, never accumulated, so a late sender does
// not shift the requests after it: it only makes them late, and lateness is
// counted as latency.
type Schedule struct {
	Start time.Time
	Rate  float64 // requests per second, > 0
}

// At is when request i (0-based) is due.
func (s Schedule) At(i int64) time.Time {
	return s.Start.Add(s.Offset(i))
}

// Offset is how long after Start request i is due.
func (s Schedule) Offset(i int64) time.Duration {
	return time.Duration(float64(i) * float64(time.Second) / s.Rate)
}

// Count is how many requests fall due in [Start, Start+d).
func (s Schedule) Count(d time.Duration) int64 {
	if d <= 0 || s.Rate <= 0 {
		return 0
	}
	n := int64(d.Seconds() * s.Rate)
	// Rounding of d.Seconds()*Rate may be off by one either way.
	for n > 0 && s.Offset(n-1) >= d {
		n--
	}
	for s.Offset(n) < d {
		n++
	}
	return n
}

// Due returns the index of the first request due after now: every request
// below it is due at or before now. Requests are due from 0 up to limit-1.
func (s Schedule) Due(now time.Time, limit int64) int64 {
	el := now.Sub(s.Start)
	if el < 0 {
		return 0
	}
	n := int64(el.Seconds()*s.Rate) + 1
	for n > 0 && s.Offset(n-1) > el {
		n--
	}
	for n < limit && s.Offset(n) <= el {
		n++
	}
	return min(n, limit)
}
