package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Requests supplies the bytes of each request. worker is the index of the
// connection that sends it and seq counts that connection's requests, so a
// source can play per-connection conversations (multi-turn sessions). The
// returned slice must stay valid and unmodified until the next call with the
// same worker.
type Requests interface {
	Request(worker int, seq uint64) []byte
}

// Fixed sends the same request every time.
type Fixed []byte

// Request implements Requests.
func (f Fixed) Request(int, uint64) []byte { return f }

// Stats is what a run measured, counting only requests due (open loop) or
// sent (closed loop) after the warm-up.
type Stats struct {
	Latency Histogram // request due/sent → last byte of the answer
	TTFB    Histogram // request due/sent → first byte of the answer
	Gaps    Histogram // between consecutive SSE events of one answer
	SendLag Histogram // open loop: due → written, the load generator's own lateness

	OK     atomic.Uint64 // 2xx answers read completely
	Errors atomic.Uint64 // other statuses and transport errors
	Unsent atomic.Uint64 // open loop: due but never sent before the deadline
	Events atomic.Uint64 // SSE events in OK answers
	All    atomic.Uint64 // every answer or failure, warm-up included (to compare with events a proxy captured)

	Start, End time.Time // the measured window

	errOnce  sync.Once
	FirstErr string // the first error seen, for the report
}

// Seconds is the length of the measured window.
func (s *Stats) Seconds() float64 { return s.End.Sub(s.Start).Seconds() }

// RPS is OK answers per second of the measured window.
func (s *Stats) RPS() float64 {
	if sec := s.Seconds(); sec > 0 {
		return float64(s.OK.Load()) / sec
	}
	return 0
}

func (s *Stats) fail(msg string) {
	s.Errors.Add(1)
	s.errOnce.Do(func() { s.FirstErr = msg })
}

func (s *Stats) record(res Result, err error, from time.Time) {
	switch {
	case err != nil:
		s.fail(err.Error())
	case res.Status < 200 || res.Status > 299:
		s.fail("HTTP status " + itoa(res.Status))
	default:
		s.OK.Add(1)
		s.Events.Add(uint64(res.Events))
		s.Latency.Record(res.Done.Sub(from))
		s.TTFB.Record(res.FirstByte.Sub(from))
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// OpenLoop sends requests on a fixed-rate Schedule from a pool of Conns
// connections. Latency counts from the moment a request was due: when every
// connection is busy, due requests queue and their wait is part of their
// latency.
type OpenLoop struct {
	Addr     string
	Requests Requests
	Rate     float64       // requests per second
	Warmup   time.Duration // due requests before this are sent but not measured
	Duration time.Duration // measured part of the schedule
	Conns    int           // connections (and sending goroutines); default 64
	Grace    time.Duration // how long answers may still arrive after the last due time; default 5s
	// OnMeasure, when set, is called as the first measured request falls due
	// (from the pacing goroutine: keep it short).
	OnMeasure func()
}

type tick struct {
	i  int64
	at time.Time
}

// Run executes the schedule and returns when every answer is in or the
// grace period after the last due time has passed.
func (o OpenLoop) Run(ctx context.Context) *Stats {
	grace := o.Grace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	st := &Stats{}
	sched := Schedule{Start: time.Now().Add(20 * time.Millisecond), Rate: o.Rate}
	warmN := sched.Count(o.Warmup)
	total := sched.Count(o.Warmup + o.Duration)
	hardStop := sched.At(total).Add(grace)
	st.Start = sched.At(warmN)
	if warmN == 0 && o.OnMeasure != nil {
		o.OnMeasure()
	}

	ticks := make(chan tick, 4096)
	wait := startConns(o.Conns, o.Addr, func(w int, c *Conn) {
		var seq uint64
		for t := range ticks {
			if time.Now().After(hardStop) || ctx.Err() != nil {
				if t.i >= warmN {
					st.Unsent.Add(1)
				}
				continue
			}
			measured := t.i >= warmN
			var gaps *Histogram
			if measured {
				gaps = &st.Gaps
				st.SendLag.Record(time.Since(t.at))
			}
			res, err := c.RoundTrip(o.Requests.Request(w, seq), hardStop, gaps)
			seq++
			st.All.Add(1)
			if measured {
				st.record(res, err, t.at)
			}
		}
	})

	pc := newPacer()
	defer pc.close()
pace:
	for next := int64(0); next < total; {
		now := time.Now()
		due := sched.Due(now, total)
		if due <= next {
			// Pacing waits are short (the schedule's interval), so a
			// cancelled context is noticed within one of them.
			if !pc.sleep(ctx, sched.At(next).Sub(now)) {
				break pace
			}
			continue
		}
		for ; next < due; next++ {
			if next == warmN && warmN > 0 && o.OnMeasure != nil {
				o.OnMeasure()
			}
			select {
			case ticks <- tick{i: next, at: sched.At(next)}:
			case <-ctx.Done():
				break pace
			}
		}
		if time.Now().After(hardStop) {
			if next >= warmN {
				st.Unsent.Add(uint64(total - next))
			} else {
				st.Unsent.Add(uint64(total - warmN))
			}
			break
		}
	}
	close(ticks)
	wait()
	// The measured window is the schedule's: a server that keeps up
	// answers Rate requests per second of it.
	st.End = sched.At(total)
	if now := time.Now(); ctx.Err() != nil && now.Before(st.End) {
		st.End = now
	}
	return st
}

// ClosedLoop keeps Conns connections busy: each sends its next request as
// soon as the previous answer is complete.
type ClosedLoop struct {
	Addr        string
	Requests    Requests
	Conns       int           // default 64
	Warmup      time.Duration // requests sent before this are not measured
	Duration    time.Duration // measured part
	MaxRequests int64         // stop after this many requests in all; default 100 million
	// OnMeasure, when set, is called when the warm-up ends.
	OnMeasure func()
}

// Run drives the connections until Warmup+Duration has passed (answers in
// flight then are still read, for at most 5 s).
func (o ClosedLoop) Run(ctx context.Context) *Stats {
	maxReq := o.MaxRequests
	if maxReq <= 0 {
		maxReq = 100_000_000
	}
	st := &Stats{}
	begin := time.Now()
	st.Start = begin.Add(o.Warmup)
	end := st.Start.Add(o.Duration)
	hardStop := end.Add(5 * time.Second)
	var issued atomic.Int64
	if o.OnMeasure != nil {
		t := time.AfterFunc(o.Warmup, o.OnMeasure)
		defer t.Stop()
	}

	startConns(o.Conns, o.Addr, func(w int, c *Conn) {
		for seq := uint64(0); ; seq++ {
			sent := time.Now()
			if !sent.Before(end) || ctx.Err() != nil || issued.Add(1) > maxReq {
				return
			}
			measured := !sent.Before(st.Start)
			var gaps *Histogram
			if measured {
				gaps = &st.Gaps
			}
			res, err := c.RoundTrip(o.Requests.Request(w, seq), hardStop, gaps)
			st.All.Add(1)
			if measured {
				st.record(res, err, sent)
			}
			if err != nil {
				// Do not spin on a dead server: back off a little.
				select {
				case <-time.After(10 * time.Millisecond):
				case <-ctx.Done():
					return
				}
			}
		}
	})()
	st.End = end
	if now := time.Now(); now.Before(end) {
		st.End = now
	}
	return st
}

// startConns runs work for each of n connections to addr (64 when n is
// not set), w numbering them, each in a goroutine of its own; the
// returned wait blocks until every work returned and its connection is
// closed.
func startConns(n int, addr string, work func(w int, c *Conn)) (wait func()) {
	if n <= 0 {
		n = 64
	}
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := NewConn(addr)
			defer c.Close()
			work(w, c)
		}()
	}
	return wg.Wait
}
