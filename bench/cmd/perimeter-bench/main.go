// Command perimeter-bench is make bench: it builds Perimeter and the mock
// provider, starts them and nginx as separate processes on loopback, drives
// each target through the same scenarios in interleaved rounds, and writes
// a Markdown report, JSON and SVG charts under bench/results/.
//
//	perimeter-bench            # full run, ≤ 10 minutes
//	perimeter-bench --quick    # shorter runs, fewer scenarios, ≤ 2 minutes
//
// Run it from the repository root (make bench does). The load generator
// pins itself to one CPU and the servers to the others (--pin none to
// share all CPUs); the report states the machine and the split.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/cylestio/perimeter/bench/report"
	"github.com/cylestio/perimeter/bench/suite"
	"github.com/cylestio/perimeter/bench/sysinfo"
	"github.com/cylestio/perimeter/bench/target"
)

const pinEnv = "PERIMETER_BENCH_PIN"

type extraTargets []string

func (e *extraTargets) String() string     { return strings.Join(*e, " ") }
func (e *extraTargets) Set(v string) error { *e = append(*e, v); return nil }

type options struct {
	quick     bool
	rounds    int
	duration  time.Duration
	warmup    time.Duration
	scenarios string
	targets   string
	extra     extraTargets
	pin       string
	out       string
	noInstall bool
	repo      string
	ref       string
	render    string
}

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "short run: fewer scenarios, 1 round, 2 s per run (≤ 2 minutes)")
	flag.IntVar(&o.rounds, "rounds", 0, "interleaved rounds per scenario; figures are the median round (default 5, quick 1)")
	flag.DurationVar(&o.duration, "duration", 0, "measured time per run (default 3s, quick 2s)")
	flag.DurationVar(&o.warmup, "warmup", 0, "warm-up per run, not measured (default 500ms)")
	flag.StringVar(&o.scenarios, "scenarios", "", "comma-separated scenario names to run (default all of the mode)")
	flag.StringVar(&o.targets, "targets", "direct,perimeter,perimeter-capture,nginx", "built-in targets to compare: direct, perimeter (capture off), perimeter-capture (the default configuration: full capture into the embedded engine), nginx")
	flag.Var(&o.extra, "target", "extra Perimeter target NAME=CONFIG.yaml[,events=PATH][,dropped=PATH] (repeatable; PATHs are dot paths in /metrics)")
	flag.StringVar(&o.pin, "pin", "split", "CPU pinning: split (load generator on one CPU, servers on the rest) or none")
	flag.StringVar(&o.out, "out", "bench/results", "directory for results (a timestamped folder per run, and latest)")
	flag.BoolVar(&o.noInstall, "no-install", false, "do not apt-get install nginx when it is missing (skip it instead)")
	flag.StringVar(&o.repo, "repo", ".", "repository root to build cmd/perimeter and bench/cmd/mockllm from")
	flag.StringVar(&o.ref, "ref", "", "build Perimeter and the mock from this git commit (e.g. HEAD) instead of the working tree")
	flag.StringVar(&o.render, "render", "", "only re-render report.md and the charts of a results directory from its results.json")
	flag.Parse()

	if o.render != "" {
		if err := rerender(o.render); err != nil {
			fmt.Fprintln(os.Stderr, "perimeter-bench:", err)
			os.Exit(1)
		}
		return
	}
	pin := pinFirst(o.pin)
	if err := run(o, pin); err != nil {
		fmt.Fprintln(os.Stderr, "perimeter-bench:", err)
		os.Exit(1)
	}
}

// pinFirst plans the CPU split and, when it pins, re-executes this program
// under taskset on the load generator's CPU (Go sizes GOMAXPROCS from the
// affinity it starts with). After the re-exec the plan comes from the
// environment.
func pinFirst(mode string) sysinfo.Pinning {
	if enc := os.Getenv(pinEnv); enc != "" {
		if p, ok := sysinfo.DecodePinning(enc); ok {
			return p
		}
	}
	taskset, _ := exec.LookPath("taskset")
	allowed, err := sysinfo.AllowedCPUs()
	if err != nil {
		allowed = make([]int, runtime.NumCPU())
		for i := range allowed {
			allowed[i] = i
		}
	}
	p := sysinfo.PlanPinning(mode, allowed, taskset)
	if p.Mode != "split" {
		return p
	}
	self, err := os.Executable()
	if err != nil {
		p = sysinfo.PlanPinning("none", allowed, taskset)
		p.Note += " (cannot find own executable to re-run pinned: " + err.Error() + ")"
		return p
	}
	argv := p.LoadCommand(append([]string{self}, os.Args[1:]...))
	env := append(os.Environ(), pinEnv+"="+p.Encode())
	err = syscall.Exec(argv[0], argv, env)
	// Only reached when exec failed.
	p = sysinfo.PlanPinning("none", allowed, taskset)
	p.Note += " (re-exec under taskset failed: " + err.Error() + ")"
	return p
}

func say(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: %s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

func run(o options, pin sysinfo.Pinning) error {
	all := suite.Full()
	mode := "full"
	if o.quick {
		all, mode = suite.Quick(), "quick"
	}
	scenarios, unknown := suite.Select(all, o.scenarios)
	if len(unknown) > 0 {
		var names []string
		for _, s := range all {
			names = append(names, s.Name)
		}
		return fmt.Errorf("unknown scenario(s) %s for the %s run; choose from %s", strings.Join(unknown, ","), mode, strings.Join(names, ","))
	}
	def := func(v *time.Duration, full, quick time.Duration) {
		if *v <= 0 {
			*v = full
			if o.quick {
				*v = quick
			}
		}
	}
	def(&o.duration, 3*time.Second, 2*time.Second)
	def(&o.warmup, 500*time.Millisecond, 500*time.Millisecond)
	if o.rounds <= 0 {
		o.rounds = 5
		if o.quick {
			o.rounds = 1
		}
	}
	specs, err := chooseTargets(o)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	debug.SetGCPercent(400) // the load generator allocates little; keep GC out of its way

	started := time.Now()
	rep := &report.Report{
		Mode: mode, Started: started, Command: commandLine(o), Machine: sysinfo.Describe(), Pinning: pin,
		Rounds: o.rounds, WarmupS: o.warmup.Seconds(), DurationS: o.duration.Seconds(),
	}
	say("%s run on %d × %s, Linux %s, %s", mode, rep.Machine.CPUs, rep.Machine.Model, rep.Machine.Kernel, rep.Machine.GoVersion)
	say("pinning: %s", pin.Note)

	maxStreams := 0
	for _, s := range scenarios {
		if n := len(s.Steps); n > 0 {
			maxStreams = max(maxStreams, s.Steps[n-1])
		}
	}
	// Each held stream costs the load generator one descriptor, a proxy two
	// and the mock one; the children inherit the raised limit.
	need := 4*maxStreams + 4096
	if got, err := sysinfo.RaiseNoFile(uint64(need)); err != nil && int(got) < need {
		say("open-file limit %d (%v)", got, err)
		if int(got) < 3*maxStreams+1024 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("open-file limit is %d, too low for %d open streams: that scenario may fail", got, maxStreams))
		}
	}

	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	runDir := filepath.Join(out, started.Format("20060102-150405")+"-"+mode)
	logDir := filepath.Join(runDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	binDir, err := os.MkdirTemp("", "perimeter-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)

	env := &target.Env{Dir: logDir, Pin: pin, MaxStreams: maxStreams}
	src := o.repo
	rep.Build = provenance(o.repo, o.ref)
	if o.ref != "" {
		if src, err = exportRef(ctx, o.repo, o.ref, filepath.Join(binDir, "src")); err != nil {
			return err
		}
	}
	say("building cmd/perimeter and bench/cmd/mockllm from %s ...", orWorkingTree(o.ref))
	if env.PerimeterBin, err = build(ctx, src, "./cmd/perimeter", binDir); err != nil {
		return err
	}
	if env.MockBin, err = build(ctx, src, "./bench/cmd/mockllm", binDir); err != nil {
		return err
	}
	if len(rep.Build.Dirty) > 0 {
		say("note: the working tree has uncommitted changes to %s (measured as they are; --ref HEAD measures the last commit)", strings.Join(rep.Build.Dirty, ", "))
	}
	if wantsKind(specs, target.Nginx) {
		if o.noInstall {
			env.NginxBin = target.FindNginx()
		} else if env.NginxBin, err = target.InstallNginx(ctx, say); err != nil {
			say("nginx will be skipped: %v", err)
		}
	}

	fleet := &target.Fleet{Env: env, Specs: specs, Logf: say}
	defer fleet.Stop()
	if err := fleet.Start(ctx); err != nil {
		return err
	}
	for _, sp := range specs {
		t := report.Target{Name: sp.Name, Kind: string(sp.Kind), Description: sp.Description, Skipped: fleet.Skipped(sp.Name)}
		for _, r := range fleet.Targets() {
			if r.Spec.Name == sp.Name {
				t.Version = r.Version
			}
		}
		rep.Targets = append(rep.Targets, t)
	}
	running := fleet.Targets()
	if len(running) == 0 {
		return errors.New("no target could be started")
	}

	rn := &suite.Runner{
		Fleet:  fleet,
		Rounds: o.rounds, Warmup: o.warmup, Duration: o.duration, Progress: os.Stderr, Report: rep,
	}
	say("%d scenario(s) × %d target(s); %d round(s) of %s + %s warm-up each; about %s",
		len(scenarios), len(running), o.rounds, o.duration, o.warmup, suite.Estimate(scenarios, len(running), o.rounds, o.warmup, o.duration).Round(time.Second))
	rn.Run(ctx, scenarios)
	if ctx.Err() != nil {
		rep.Notes = append(rep.Notes, "interrupted: the figures cover only the runs that finished")
	}
	rep.Notes = append(rep.Notes, standingNotes(rep)...)
	rep.ElapsedS = time.Since(started).Seconds()
	report.Derive(rep)

	paths, err := report.Write(rep, runDir)
	if err != nil {
		return err
	}
	latest := filepath.Join(out, "latest")
	os.Remove(latest)
	if err := os.Symlink(filepath.Base(runDir), latest); err != nil {
		say("cannot link %s: %v", latest, err)
	}
	fmt.Println()
	fmt.Print(report.Summary(rep))
	fmt.Printf("\nReport: %s (also %s/); %d files, server logs in %s\n", filepath.Join(runDir, "report.md"), latest, len(paths), logDir)
	return nil
}

// rerender rewrites a results directory's report and charts from its JSON.
func rerender(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return err
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("%s/results.json: %w", dir, err)
	}
	report.Derive(&rep)
	if _, err := report.Write(&rep, dir); err != nil {
		return err
	}
	fmt.Print(report.Summary(&rep))
	return nil
}

func chooseTargets(o options) ([]target.Spec, error) {
	want := map[string]bool{}
	for _, n := range strings.Split(o.targets, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var specs []target.Spec
	for _, sp := range append(target.BuiltinSpecs(), target.OptionalSpecs()...) {
		if want[sp.Name] {
			specs = append(specs, sp)
			delete(want, sp.Name)
		}
	}
	for n := range want {
		return nil, fmt.Errorf("unknown built-in target %q (direct, perimeter, perimeter-capture, nginx; add others with --target NAME=CONFIG.yaml)", n)
	}
	for _, e := range o.extra {
		sp, err := target.ParseExtraSpec(e)
		if err != nil {
			return nil, err
		}
		specs = append(specs, sp)
	}
	if len(specs) == 0 {
		return nil, errors.New("no targets")
	}
	return specs, nil
}

func wantsKind(specs []target.Spec, k target.Kind) bool {
	for _, s := range specs {
		if s.Kind == k {
			return true
		}
	}
	return false
}

// build compiles pkg from repo into dir and returns the binary's path.
func build(ctx context.Context, repo, pkg, dir string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

func orWorkingTree(ref string) string {
	if ref == "" {
		return "the working tree"
	}
	return ref
}

// provenance records the commit built and, for a working-tree build, the
// uncommitted changes that can change a binary (non-test Go files, go.mod,
// go.sum).
func provenance(repo, ref string) report.Build {
	b := report.Build{Ref: ref}
	rev := ref
	if rev == "" {
		rev = "HEAD"
	}
	if out, err := gitOutput(repo, "rev-parse", "--verify", rev+"^{commit}"); err == nil {
		b.Commit = strings.TrimSpace(out)
	}
	if ref != "" {
		return b
	}
	out, err := gitOutput(repo, "status", "--porcelain")
	if err == nil {
		b.Dirty = buildRelevant(out)
	}
	return b
}

// buildRelevant picks, from git status --porcelain output, the changed
// paths that can change a binary: non-test Go files, go.mod and go.sum.
func buildRelevant(porcelain string) []string {
	var out []string
	for _, l := range strings.Split(porcelain, "\n") {
		if len(l) < 4 {
			continue
		}
		p := strings.TrimSpace(l[3:])
		if _, after, ok := strings.Cut(p, " -> "); ok {
			p = after
		}
		if p == "go.mod" || p == "go.sum" || (strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go")) {
			out = append(out, p)
		}
	}
	return out
}

func gitOutput(repo string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = repo
	out, err := cmd.Output()
	return string(out), err
}

// exportRef writes the tree of ref into dir (git archive) and returns dir.
func exportRef(ctx context.Context, repo, ref, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	archive := exec.CommandContext(ctx, "git", "archive", "--format=tar", ref)
	archive.Dir = repo
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	untar.Stdin = pipe
	var stderr strings.Builder
	archive.Stderr = &stderr
	if err := untar.Start(); err != nil {
		return "", err
	}
	if err := archive.Run(); err != nil {
		untar.Wait()
		return "", fmt.Errorf("git archive %s: %w: %s", ref, err, stderr.String())
	}
	if err := untar.Wait(); err != nil {
		return "", fmt.Errorf("unpack %s: %w", ref, err)
	}
	return dir, nil
}

func commandLine(o options) string {
	if o.quick && len(os.Args) == 2 {
		return "make bench-quick"
	}
	if len(os.Args) == 1 {
		return "make bench"
	}
	return "perimeter-bench " + strings.Join(os.Args[1:], " ")
}

// standingNotes say what the comparison does and does not show.
func standingNotes(r *report.Report) []string {
	notes := []string{
		"nginx here is a plain reverse proxy: it copies bytes. Perimeter, even with capture off, applies its header policy (hop-by-hop and x-cylestio-* removed, credentials replaced by the configured key), checks each body for \"stream\": true, copies SSE event by event with a flush each, and counts every request in its metrics; with capture on it also parses requests and answers, resolves sessions, builds, scans and stores events.",
		"All traffic is HTTP/1.1 over 127.0.0.1 keep-alive connections; there is no TLS (a real provider connection adds TLS on the upstream side for both proxies).",
	}
	if r.Pinning.Mode == "split" {
		notes = append(notes, "With the split pinning the proxy and the mock share one CPU, so at saturation a proxy's throughput is bounded by what the mock leaves it; direct has that CPU to the mock alone.")
	}
	return notes
}
