package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSoak runs the binary with capture, detection and the embedded store
// at a steady rate for PERIMETER_SOAK (a duration, e.g. 10m) and samples
// the RSS of the proxy and of the chDB worker every 10 s. It is opt-in:
// CI does not set PERIMETER_SOAK. PERIMETER_SOAK_RATE sets the calls per
// second (default 300); PERIMETER_SOAK_OUT names a CSV file for the curve.
//
// Every call is a new conversation, so the session table fills to its
// bound (session.max_sessions slots, the index capped by
// session.memory_mb) and then recycles; the test requires that both
// processes reach a plateau: the largest RSS of the last third of the run
// exceeds that of the middle third by at most 10% (proxy) or 25% (engine,
// whose merges come and go).
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("PERIMETER_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("opt-in: set PERIMETER_SOAK=10m (and PERIMETER_SOAK_RATE, default 300 calls/s)")
	}
	rate := 300
	if r, err := strconv.Atoi(os.Getenv("PERIMETER_SOAK_RATE")); err == nil && r > 0 {
		rate = r
	}
	lib := requireLibchdb(t)
	storage := fmt.Sprintf("storage:\n  embedded: {path: %q}\n  spill: {dir: %q, max_bytes: 1GB}\n", t.TempDir(), t.TempDir())
	p := startPerimeter(t, startMock(t), storage, "CHDB_LIB_PATH="+lib)
	worker := p.metrics(t).Storage.Embedded.WorkerPID
	pid := p.cmd.Process.Pid

	var out *os.File
	if path := os.Getenv("PERIMETER_SOAK_OUT"); path != "" {
		if out, err = os.Create(path); err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		fmt.Fprintln(out, "seconds,calls,failed,behind,proxy_rss_mb,engine_rss_mb,active_sessions,sessions_created")
	}

	// Open loop: a tick every 10 ms releases rate/100 calls to a pool of
	// 64 senders; a call that finds every sender busy is counted behind.
	l := newLoad(p.url)
	jobs := make(chan int, 64)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				l.send(i)
			}
		}()
	}
	var behind atomic.Int64
	type sample struct{ proxy, engine float64 }
	var samples []sample
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	next, sent := start.Add(10*time.Second), 0
	for now := range tick.C {
		if now.Sub(start) >= d {
			break
		}
		for due := int(now.Sub(start).Seconds() * float64(rate)); sent < due; sent++ {
			select {
			case jobs <- sent:
			default:
				behind.Add(1)
			}
		}
		if now.After(next) {
			next = next.Add(10 * time.Second)
			if w := p.metrics(t).Storage.Embedded.WorkerPID; w != 0 {
				worker = w
			}
			s := sample{float64(rssBytes(pid)) / (1 << 20), float64(rssBytes(worker)) / (1 << 20)}
			samples = append(samples, s)
			var m struct {
				Sessions struct {
					Active  int    `json:"active_sessions"`
					Created uint64 `json:"sessions_created"`
				} `json:"sessions"`
			}
			getJSON(t, p.url+"/metrics", &m)
			line := fmt.Sprintf("%.0f,%d,%d,%d,%.1f,%.1f,%d,%d", now.Sub(start).Seconds(), l.answered.Load(), l.failed.Load(), behind.Load(),
				s.proxy, s.engine, m.Sessions.Active, m.Sessions.Created)
			t.Log(line)
			if out != nil {
				fmt.Fprintln(out, line)
			}
		}
	}
	close(jobs)
	wg.Wait()
	if f := l.failed.Load(); f != 0 {
		t.Errorf("%d of %d calls failed; first: %v", f, l.answered.Load(), l.errs)
	}
	if n := len(samples); n >= 6 {
		mid, last := samples[n/3:2*n/3], samples[2*n/3:]
		peak := func(s []sample, f func(sample) float64) float64 {
			m := 0.0
			for _, x := range s {
				m = max(m, f(x))
			}
			return m
		}
		proxy := func(s sample) float64 { return s.proxy }
		engine := func(s sample) float64 { return s.engine }
		if a, b := peak(mid, proxy), peak(last, proxy); b > a*1.10 {
			t.Errorf("proxy RSS still growing: %.0f MB in the middle third, %.0f MB in the last", a, b)
		}
		if a, b := peak(mid, engine), peak(last, engine); b > a*1.25 {
			t.Errorf("engine RSS still growing: %.0f MB in the middle third, %.0f MB in the last", a, b)
		}
	}
	p.stop(t, 60*time.Second)
}
