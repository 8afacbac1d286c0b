package suite

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cylestio/perimeter/bench/loadgen"
	"github.com/cylestio/perimeter/bench/report"
	"github.com/cylestio/perimeter/bench/sysinfo"
	"github.com/cylestio/perimeter/bench/target"
	"github.com/cylestio/perimeter/internal/sched"
)

// Fleet is what the runner measures: the targets, the mock upstream behind
// them, and a way to start them all afresh (target.Fleet).
type Fleet interface {
	Targets() []*target.Running
	Upstream() sysinfo.Group // the mock's processes, for its CPU and memory
	Restart(ctx context.Context) error
	Check() error // which processes have died
}

// Runner drives targets through scenarios.
type Runner struct {
	Fleet    Fleet
	Targets  []*target.Running // set by Run from Fleet
	Mock     sysinfo.Group     // set by Run from Fleet
	Rounds   int
	Warmup   time.Duration
	Duration time.Duration
	Pause    time.Duration // between runs; default 200ms
	// StreamSettle is the pause after each step of an open-streams
	// scenario before memory is read (default 1s); StreamRest the pause
	// after a target's streams are closed (default 3s).
	StreamSettle, StreamRest time.Duration
	// MaxForeignCPU: a load run during which other processes on the
	// machine used more than this many CPUs on average is repeated, at
	// most RetryBudget times in all (defaults 0.3 and a fifth of the runs).
	MaxForeignCPU float64
	RetryBudget   int
	retries       int
	revivals      int
	Progress      io.Writer
	Report        *report.Report
	startedAt     time.Time
	done          int
	total         int
}

// Run executes every scenario and appends the results to r.Report. Open
// streams scenarios run first, while the processes are fresh, so the idle
// memory is a clean baseline; then every process is restarted, so that
// memory the streams left behind (Go keeps its heap) weighs on neither the
// peak RSS nor the speed of what follows. The report keeps the order given.
func (rn *Runner) Run(ctx context.Context, scenarios []Scenario) {
	rn.Targets, rn.Mock = rn.Fleet.Targets(), rn.Fleet.Upstream()
	if rn.Pause <= 0 {
		rn.Pause = 200 * time.Millisecond
	}
	if rn.StreamSettle <= 0 {
		rn.StreamSettle = time.Second
	}
	if rn.StreamRest <= 0 {
		rn.StreamRest = 3 * time.Second
	}
	rn.startedAt = time.Now()
	rn.total = 0
	loadRuns := 0
	for _, s := range scenarios {
		if s.Kind == report.KindStreams {
			rn.total += len(rn.Targets)
		} else {
			rn.total += len(rn.Targets) * rn.Rounds
			loadRuns += len(rn.Targets) * rn.Rounds
		}
	}
	if rn.MaxForeignCPU <= 0 {
		rn.MaxForeignCPU = 0.3
	}
	if rn.RetryBudget == 0 {
		rn.RetryBudget = max(loadRuns/5, 1)
	}
	defer func() {
		if rn.retries > 0 {
			rn.Report.Notes = append(rn.Report.Notes, fmt.Sprintf("%d run(s) were repeated because other processes used more than %.2f CPU during them (budget %d).", rn.retries, rn.MaxForeignCPU, rn.RetryBudget))
		}
	}()
	results := make([]report.Scenario, len(scenarios))
	order := make([]int, 0, len(scenarios))
	for i, s := range scenarios {
		if s.Kind == report.KindStreams {
			order = append(order, i)
		}
	}
	for i, s := range scenarios {
		if s.Kind != report.KindStreams {
			order = append(order, i)
		}
	}
	heldStreams := false
	for _, i := range order {
		s := &scenarios[i]
		results[i] = rn.describe(s)
		if ctx.Err() != nil {
			continue
		}
		if heldStreams && s.Kind != report.KindStreams {
			heldStreams = false
			rn.progress("restarting the mock and the proxies after the open-streams scenario")
			if err := rn.Fleet.Restart(ctx); err != nil {
				rn.Report.Notes = append(rn.Report.Notes, "restart after the open-streams scenario failed: "+err.Error())
				rn.progress("restart failed: %v", err)
				return
			}
			rn.Mock = rn.Fleet.Upstream()
		}
		if s.Kind == report.KindStreams {
			heldStreams = true
			results[i].Results = rn.runStreams(ctx, s)
		} else {
			results[i].Results = rn.runLoad(ctx, s)
		}
	}
	rn.Report.Scenarios = append(rn.Report.Scenarios, results...)
}

func (rn *Runner) describe(s *Scenario) report.Scenario {
	rs := report.Scenario{Name: s.Name, Title: s.Title, Kind: s.Kind, Stream: s.Stream, Rate: s.Rate, Conns: s.Conns, Chunks: s.Chunks,
		ChunkDelayMs: float64(s.ChunkDelay) / float64(time.Millisecond)}
	if s.Kind == report.KindStreams {
		rs.Conns = s.maxOpen()
	}
	return rs
}

func (rn *Runner) progress(format string, a ...any) {
	if rn.Progress == nil {
		return
	}
	el := time.Since(rn.startedAt).Round(time.Second)
	fmt.Fprintf(rn.Progress, "[%3d/%d %6s] "+format+"\n", append([]any{rn.done, rn.total, el}, a...)...)
}

func (rn *Runner) runLoad(ctx context.Context, s *Scenario) []report.Result {
	rounds := make([][]report.Result, len(rn.Targets))
	for round := 0; round < rn.Rounds; round++ {
		for k := range rn.Targets {
			// Rotate the order each round so no target always follows
			// the same one.
			ti := (k + round) % len(rn.Targets)
			t := rn.Targets[ti]
			if ctx.Err() != nil {
				break
			}
			if !rn.alive(ctx) {
				return rn.combine(rounds)
			}
			res := rn.loadOnce(ctx, s, t)
			for res.ForeignCPU > rn.MaxForeignCPU && rn.retries < rn.RetryBudget && ctx.Err() == nil {
				rn.retries++
				rn.progress("%-13s %-10s round %d/%d  other processes used %.2f CPU: repeating (%d/%d)",
					s.Name, t.Spec.Name, round+1, rn.Rounds, res.ForeignCPU, rn.retries, rn.RetryBudget)
				sched.Sleep(ctx, time.Second)
				if !rn.alive(ctx) {
					return rn.combine(rounds)
				}
				res = rn.loadOnce(ctx, s, t)
			}
			rounds[ti] = append(rounds[ti], res)
			rn.done++
			p50, p99 := 0.0, 0.0
			if res.Latency != nil {
				p50, p99 = res.Latency.P50, res.Latency.P99
			}
			rn.progress("%-13s %-10s round %d/%d %8.0f req/s  p50 %8.0f µs  p99 %8.0f µs  errors %d  other CPU %.2f",
				s.Name, t.Spec.Name, round+1, rn.Rounds, res.RPS, p50, p99, res.Errors+res.Unsent, res.ForeignCPU)
			rn.quiesce(ctx, t)
			sched.Sleep(ctx, rn.Pause)
		}
	}
	return rn.combine(rounds)
}

// quiesce waits (at most quiesceMax) until the target that just ran is
// idle again: a proxy that captures keeps writing and merging for a while
// after its load ends (the embedded engine's worker), which would otherwise
// land in the next target's run as foreign CPU and force repeats.
func (rn *Runner) quiesce(ctx context.Context, t *target.Running) {
	g, ok := t.Group()
	if !ok {
		return
	}
	start := time.Now()
	prev, err := g.Read()
	for err == nil && time.Since(start) < quiesceMax && ctx.Err() == nil {
		sched.Sleep(ctx, 100*time.Millisecond)
		cur, rerr := g.Read()
		if rerr != nil {
			return
		}
		if busy := (cur.CPU - prev.CPU).Seconds() / 0.1; busy < quiesceCPU {
			if d := time.Since(start); d > time.Second {
				rn.progress("%-10s took %s to settle after its run", t.Spec.Name, d.Round(100*time.Millisecond))
			}
			return
		}
		prev = cur
	}
}

// quiesceCPU is the CPU use below which a target counts as idle;
// quiesceMax bounds the wait.
const (
	quiesceCPU = 0.05
	quiesceMax = 10 * time.Second
)

func (rn *Runner) combine(rounds [][]report.Result) []report.Result {
	out := make([]report.Result, 0, len(rn.Targets))
	for i, t := range rn.Targets {
		if len(rounds[i]) == 0 {
			out = append(out, report.Result{Target: t.Spec.Name, FirstError: "not run (interrupted)"})
			continue
		}
		out = append(out, report.Combine(rounds[i]))
	}
	return out
}

// alive checks that every process still runs; when one has died it is
// noted and the fleet restarted (at most three times in a run). It
// returns false when the suite cannot go on.
func (rn *Runner) alive(ctx context.Context) bool {
	err := rn.Fleet.Check()
	if err == nil {
		return true
	}
	rn.Report.Notes = append(rn.Report.Notes, "a process died during the run and everything was restarted: "+err.Error())
	rn.progress("%v: restarting everything", err)
	if rn.revivals >= 3 || ctx.Err() != nil {
		rn.Report.Notes = append(rn.Report.Notes, "gave up after three restarts")
		return false
	}
	rn.revivals++
	if err := rn.Fleet.Restart(ctx); err != nil {
		rn.Report.Notes = append(rn.Report.Notes, "restart failed: "+err.Error())
		return false
	}
	rn.Mock = rn.Fleet.Upstream()
	return true
}

// loadOnce runs one target through one load scenario once.
func (rn *Runner) loadOnce(ctx context.Context, s *Scenario, t *target.Running) report.Result {
	res := report.Result{Target: t.Spec.Name}
	if t.Proc != nil {
		if done, err := t.Proc.Exited(); done {
			res.FirstError = fmt.Sprintf("%s exited (%v); see %s", t.Spec.Name, err, t.Proc.LogPath)
			return res
		}
	}
	group, isProxy := t.Group()
	if isProxy {
		group = group.Resolve()
		group.ResetPeak()
	}
	ev0, dr0, evOK := t.Counters(ctx)

	var before, mockBefore sysinfo.Snapshot
	var beforeErr error
	var busy0, self0 time.Duration
	snapped := make(chan struct{})
	onMeasure := func() {
		// Off the pacing goroutine: reading /proc must not delay requests.
		go func() {
			defer close(snapped)
			busy0, _ = sysinfo.BusyCPU()
			self0, _ = sysinfo.CPUTime(os.Getpid())
			if isProxy {
				before, beforeErr = group.Read()
			}
			mockBefore, _ = rn.Mock.Read()
		}()
	}
	req := s.requests(t.Addr)
	var st *loadgen.Stats
	if s.Kind == report.KindRate {
		st = loadgen.OpenLoop{Addr: t.Addr, Requests: req, Rate: s.Rate, Conns: s.Conns, Warmup: rn.Warmup, Duration: rn.Duration, OnMeasure: onMeasure}.Run(ctx)
	} else {
		st = loadgen.ClosedLoop{Addr: t.Addr, Requests: req, Conns: s.Conns, Warmup: rn.Warmup, Duration: rn.Duration, OnMeasure: onMeasure}.Run(ctx)
	}
	select {
	case <-snapped:
	case <-time.After(2 * time.Second):
		beforeErr = fmt.Errorf("no CPU snapshot at the start of the measured window")
	}

	res.OK, res.Errors, res.Unsent, res.Events = st.OK.Load(), st.Errors.Load(), st.Unsent.Load(), st.Events.Load()
	res.Seconds, res.RPS, res.FirstError = st.Seconds(), st.RPS(), st.FirstErr
	res.Latency, res.TTFB, res.SendLag = report.FromHistogram(&st.Latency), report.FromHistogram(&st.TTFB), report.FromHistogram(&st.SendLag)
	if s.Stream {
		res.Gap = report.FromHistogram(&st.Gaps)
	}
	k := float64(res.OK) / 1000
	busy1, _ := sysinfo.BusyCPU()
	self1, _ := sysinfo.CPUTime(os.Getpid())
	ours := self1 - self0
	if isProxy {
		if after, err := group.Read(); err == nil && beforeErr == nil {
			ours += after.CPU - before.CPU
		}
		if after, err := group.Read(); err == nil && beforeErr == nil && k > 0 {
			cpu := (after.CPU - before.CPU).Seconds()
			res.CPUSeconds = cpu
			res.CPUPer1k = ptr(cpu / k)
			res.PeakRSSMiB = ptr(float64(after.Mem.Peak) / 1024)
		}
	}
	if mockAfter, err := rn.Mock.Read(); err == nil {
		ours += mockAfter.CPU - mockBefore.CPU
		if k > 0 {
			res.UpstreamCPUPer1k = ptr((mockAfter.CPU - mockBefore.CPU).Seconds() / k)
		}
	}
	if busy0 > 0 && res.Seconds > 0 {
		// Everything the machine did that was not this benchmark.
		res.ForeignCPU = max((busy1-busy0-ours).Seconds(), 0) / res.Seconds
	}
	if evOK {
		if ev1, dr1, ok := settledCounters(ctx, t); ok {
			res.EventsCaptured = ptrU(ev1 - ev0)
			res.EventsDropped = ptrU(dr1 - dr0)
			res.RequestsAll = ptrU(st.All.Load())
		}
	}
	return res
}

// settledCounters waits (up to 3 s) for a capturing proxy's event counter
// to stop moving: capture is asynchronous and may lag the last answer.
func settledCounters(ctx context.Context, t *target.Running) (uint64, uint64, bool) {
	ev, dr, ok := t.Counters(ctx)
	for i := 0; i < 30 && ok; i++ {
		sched.Sleep(ctx, 100*time.Millisecond)
		ev2, dr2, ok2 := t.Counters(ctx)
		if !ok2 {
			return ev, dr, false
		}
		if ev2 == ev && dr2 == dr {
			break
		}
		ev, dr = ev2, dr2
	}
	return ev, dr, ok
}

func ptr(v float64) *float64 { return &v }

func ptrU(v uint64) *uint64 { return &v }

// runStreams holds the scenario's streams through each target in turn and
// samples the proxy's memory (for direct: the mock's, for scale).
func (rn *Runner) runStreams(ctx context.Context, s *Scenario) []report.Result {
	var out []report.Result
	for _, t := range rn.Targets {
		if ctx.Err() != nil {
			break
		}
		if !rn.alive(ctx) {
			break
		}
		group, isProxy := t.Group()
		if !isProxy {
			group = rn.Mock
		}
		group = group.Resolve()
		res := report.Result{Target: t.Spec.Name}
		idle, err := group.Read()
		if err != nil {
			res.FirstError = "read memory: " + err.Error()
			out = append(out, res)
			rn.done++
			continue
		}
		mem := &report.Memory{IdleRSSMiB: float64(idle.Mem.RSS) / 1024}
		var lastRSS uint64
		hs := loadgen.HoldStreams{
			Addr: t.Addr, Request: ChatRequest(t.Addr, true, s.Chunks, s.ChunkDelay), Steps: s.Steps, Settle: rn.StreamSettle,
			OnStep: func(open int) {
				snap, err := group.Read()
				if err != nil {
					return
				}
				lastRSS = snap.Mem.RSS
				mem.Steps = append(mem.Steps, report.MemStep{Open: open, RSSMiB: float64(snap.Mem.RSS) / 1024})
				rn.progress("%-13s %-11s %5d open streams  RSS %.1f MiB", s.Name, t.Spec.Name, open, float64(snap.Mem.RSS)/1024)
			},
		}
		st, err := hs.Run(ctx)
		rn.done++
		if err != nil {
			res.FirstError = err.Error()
			rn.progress("%-13s %-11s %v", s.Name, t.Spec.Name, err)
		} else if st.FirstErr != "" {
			res.FirstError = st.FirstErr
		}
		mem.Opened, mem.Failed = st.Opened, st.Failed
		if n := len(mem.Steps); n > 0 && mem.Steps[n-1].Open > 0 {
			mem.PerStreamKiB = (float64(lastRSS) - float64(idle.Mem.RSS)) / float64(mem.Steps[n-1].Open)
		}
		res.Memory = mem
		res.TTFB = report.FromHistogram(&st.TTFB)
		out = append(out, res)
		// Let the proxy and the mock notice the closed streams and settle
		// before the next measurement.
		sched.Sleep(ctx, rn.StreamRest)
	}
	return out
}

// Estimate is how long Run should take for these scenarios, not counting
// builds and start-up: every load run with its warm-up and pause, and every
// open-streams run with its steps (about a second to open each step, plus
// settling) and rest.
func Estimate(scenarios []Scenario, targets, rounds int, warmup, duration time.Duration) time.Duration {
	var d time.Duration
	for _, s := range scenarios {
		if s.Kind == report.KindStreams {
			per := time.Duration(len(s.Steps))*(time.Second+time.Second) + 3*time.Second
			d += time.Duration(targets) * per
			continue
		}
		per := warmup + duration + 200*time.Millisecond
		if s.Stream {
			per += s.ChunkDelay * time.Duration(s.Chunks+3) // the last streams finish
		}
		d += time.Duration(targets*rounds) * per
	}
	return d
}
