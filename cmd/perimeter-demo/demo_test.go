package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/dashboard/workflow"
	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/internal/testenv"
	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink/chdb"
)

// binary and demoBinary are perimeter and perimeter-demo, built once for
// the tests of this package.
var binary, demoBinary string

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Binary{Path: &binary, Name: "perimeter", Pkg: "../perimeter"},
		testenv.Binary{Path: &demoBinary, Name: "perimeter-demo", Pkg: "."})
}

// TestDemoRiskyConversationsAreDetected: every agent's risky conversation
// carries something detection reports, and its ordinary ones nothing of
// high severity, so the demo's findings are the ones it meant to plant.
func TestDemoRiskyConversationsAreDetected(t *testing.T) {
	for i, a := range demoAgents {
		name := a.name
		if name == "" {
			name = fmt.Sprintf("agent %d", i)
		}
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(20) {
				r := rand.New(rand.NewPCG(seed, 1))
				if got := scanPlan(a.plan(r, true)); len(got) == 0 {
					t.Fatalf("seed %d: nothing detected in a risky conversation: %+v", seed, a.plan(rand.New(rand.NewPCG(seed, 1)), true))
				}
				for _, f := range scanPlan(a.plan(r, false)) {
					if f.Severity >= detect.SeverityHigh {
						t.Errorf("seed %d: ordinary conversation flagged: %s %q", seed, f.Rule, f.Evidence)
					}
				}
			}
		})
	}
}

func scanPlan(turns []demoTurn) []detect.Finding {
	var out []detect.Finding
	for _, turn := range turns {
		out = append(out, detect.Scan(&detect.Input{Text: turn.user, Role: detect.RoleUser, Direction: detect.Request})...)
		if turn.result != "" {
			out = append(out, detect.Scan(&detect.Input{Text: turn.result, Role: detect.RoleTool, Direction: detect.Request, ToolName: turn.tool})...)
		}
	}
	return out
}

func TestDemoCardIsValid(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		c := strings.ReplaceAll(demoCard(r), " ", "")
		sum := 0
		for i := range c {
			d := int(c[len(c)-1-i] - '0')
			if i%2 == 1 {
				d *= 2
				if d > 9 {
					d -= 9
				}
			}
			sum += d
		}
		if len(c) != 16 || c[0] != '4' || sum%10 != 0 {
			t.Fatalf("%s is not a Luhn-valid Visa number", c)
		}
	}
}

// TestDemoFillsTheStore runs perimeter demo for a few seconds (mock, proxy,
// dashboard and fleet in one process) and checks what reached the embedded
// store: several agents and sessions, both vendors, tool calls and their
// results, and the planted findings.
func TestDemoFillsTheStore(t *testing.T) {
	lib := testenv.RequireLibchdb(t)
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, demoBinary, "--perimeter", binary, "--duration", "8s", "--rate", "10", "--seed", "7", "--exit",
		"--port", fmt.Sprint(testenv.FreePort(t)), "--dashboard-port", fmt.Sprint(testenv.FreePort(t)), "--data", data)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "CHDB_LIB_PATH="+lib)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("perimeter-demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"Perimeter demo", "dashboard", "fleet done"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	st, err := chdb.Open(context.Background(), chdb.Options{Path: filepath.Join(data, "demo.chdb"), LibPath: lib, WorkerCommand: []string{binary, "__chdb-worker"}})
	if err != nil {
		t.Fatalf("open the demo's store: %v\n%s", err, out.String())
	}
	defer st.Close()
	byName := testenv.CountEvents(t, st, "perimeter.events FINAL")
	for _, name := range []string{"session.start", "llm.call.start", "llm.call.finish", "tool.execution", "tool.result", "security.finding"} {
		if byName[name] == 0 {
			t.Errorf("no %s events (all: %v)\n%s", name, byName, out.String())
		}
	}
	qctx, qcancel := context.WithTimeout(context.Background(), time.Minute)
	defer qcancel()
	rows, err := st.Query(qctx, "SELECT uniqExact(agent_id), uniqExact(session_id), uniqExactIf(vendor, vendor != ''), countIf(name = 'llm.call.finish' AND total_tokens > 0) FROM perimeter.events FINAL")
	if err != nil {
		t.Fatal(err)
	}
	agents, sessions, vendors, withUsage := testenv.ToInt(rows.Data[0][0]), testenv.ToInt(rows.Data[0][1]), testenv.ToInt(rows.Data[0][2]), testenv.ToInt(rows.Data[0][3])
	t.Logf("demo stored %v; %d agents, %d sessions, %d vendors", byName, agents, sessions, vendors)
	if agents < int64(len(demoAgents)) {
		t.Errorf("%d agents, want %d", agents, len(demoAgents))
	}
	if sessions < int64(len(demoAgents)) {
		t.Errorf("%d sessions, want at least %d", sessions, len(demoAgents))
	}
	if vendors < 2 {
		t.Errorf("%d vendors, want openai and anthropic", vendors)
	}
	if withUsage == 0 {
		t.Error("no completed call reported token usage")
	}
	if !strings.Contains(out.String(), "security workflow ready") {
		t.Errorf("output lacks the security workflow's summary:\n%s", out.String())
	}
	checkDemoWorkflows(t, st)
}

// checkDemoWorkflows reads, with the workflow package over the demo's
// store, what the demo's IDE assistant left: every workflow with traffic,
// each review's findings with what store_finding was given, their
// recommendations in the status the plan worked them to, the risk score
// of the completed review, the gates (customer-support OPEN, coding-agent
// BLOCKED), an audit trail, dynamic analyses, saved reports and agent
// display names.
func checkDemoWorkflows(t *testing.T, st *chdb.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svc := workflow.New(st, workflow.Options{})

	wl, err := svc.Workflows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]*workflow.WorkflowSummary{}
	unassigned := false
	for _, w := range wl.AgentWorkflows {
		if w.ID == nil {
			unassigned = true
			continue
		}
		seen[*w.ID] = w
	}
	for _, wf := range demoWorkflows {
		if w := seen[wf.id]; w == nil || w.SessionCount == 0 {
			t.Errorf("workflow %s: no sessions (workflows: %+v)", wf.id, wl.AgentWorkflows)
		}
	}
	if !unassigned {
		t.Error("no Unassigned row: the agents outside workflows are missing")
	}

	wantGate := map[string]string{"customer-support": "OPEN", "coding-agent": "BLOCKED"}
	for _, wf := range demoWorkflows {
		g, err := svc.GateStatus(ctx, wf.id)
		if err != nil {
			t.Fatal(err)
		}
		if want := wantGate[wf.id]; want != "" && g.GateState != want {
			t.Errorf("gate of %s: %s (%s), want %s", wf.id, g.GateState, g.Message, want)
		}
		if w := seen[wf.id]; w != nil && w.GateState != g.GateState {
			t.Errorf("workflows home says %s's gate is %s, the gate %s", wf.id, w.GateState, g.GateState)
		}
		if wf.review != nil {
			checkDemoReview(t, ctx, svc, wf, g)
		}
		if wf.dynamic {
			h, err := svc.AnalysisHistoryOf(ctx, wf.id, "DYNAMIC", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Analyses) == 0 || h.Analyses[0].Status != "COMPLETED" || h.Analyses[0].SessionsAnalyzed == nil || *h.Analyses[0].SessionsAnalyzed == 0 {
				t.Errorf("%s: no completed dynamic analysis of its sessions: %+v", wf.id, h)
			}
		}
	}

	ids := make([]string, len(demoAgentInfo))
	for i, a := range demoAgentInfo {
		ids[i] = a.id
	}
	infos, err := svc.AgentInfos(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range demoAgentInfo {
		if i := infos[a.id]; i == nil || i.DisplayName == nil || *i.DisplayName != a.name {
			t.Errorf("agent %s: info %+v, want display name %q", a.id, i, a.name)
		}
	}
}

func checkDemoReview(t *testing.T, ctx context.Context, svc *workflow.Service, wf *demoWorkflow, gate *workflow.GateStatus) {
	t.Helper()
	h, err := svc.AnalysisHistoryOf(ctx, wf.id, "STATIC", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Analyses) != 1 {
		t.Fatalf("%s: %d static analyses, want 1: %+v", wf.id, len(h.Analyses), h)
	}
	a := h.Analyses[0]
	// The review is completed before any recommendation is worked, so
	// every finding counts: CRITICAL 25, HIGH 15, MEDIUM 5, LOW 1.
	risk := 0
	for _, f := range wf.review.findings {
		risk += map[string]int{"CRITICAL": 25, "HIGH": 15, "MEDIUM": 5, "LOW": 1}[f.sev]
	}
	if a.Status != "COMPLETED" || a.FindingsCount != int64(len(wf.review.findings)) || a.RiskScore == nil || *a.RiskScore != min(risk, 100) {
		t.Errorf("%s: static analysis %+v, want COMPLETED with %d findings and risk %d", wf.id, a, len(wf.review.findings), min(risk, 100))
	}

	fl, err := svc.ListFindings(ctx, workflow.FindingFilter{WorkflowID: wf.id, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	byTitle := map[string]*workflow.Finding{}
	for _, f := range fl.Findings {
		if f.SourceType == "STATIC" {
			byTitle[f.Title] = f
		}
	}
	if len(byTitle) != len(wf.review.findings) {
		t.Errorf("%s: %d static findings, want %d", wf.id, len(byTitle), len(wf.review.findings))
	}
	recs, err := svc.ListRecommendations(ctx, wf.id, workflow.RecFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	recByID := map[string]*workflow.Recommendation{}
	for _, r := range recs.Recommendations {
		recByID[r.RecommendationID] = r
	}
	blocked := false
	for _, p := range wf.review.findings {
		f := byTitle[p.title]
		if f == nil {
			t.Errorf("%s: finding %q not stored", wf.id, p.title)
			continue
		}
		if f.FilePath != p.file || f.LineStart == nil || *f.LineStart != int64(p.lineStart) || f.LineEnd == nil || *f.LineEnd != int64(p.lineEnd) ||
			f.Severity != p.sev || f.CVSSScore == nil || *f.CVSSScore != p.cvss || f.CWE == nil || *f.CWE != p.cwe ||
			len(f.OWASPMapping) != 1 || f.OWASPMapping[0] != p.owasp || !strings.Contains(string(f.Evidence), "code_snippet") {
			t.Errorf("%s: finding %q stored as %+v", wf.id, p.title, f)
		}
		want := map[demoAction][2]string{ // recommendation, finding
			leavePending: {"PENDING", "OPEN"}, startFix: {"FIXING", "OPEN"}, fixAndVerify: {"VERIFIED", "FIXED"}, dismiss: {"DISMISSED", "DISMISSED"},
		}[p.work.action]
		wantRec, wantFinding := want[0], want[1]
		if f.Status != wantFinding {
			t.Errorf("%s: finding %q is %s, want %s", wf.id, p.title, f.Status, wantFinding)
		}
		if f.RecommendationID == nil || recByID[*f.RecommendationID] == nil {
			t.Errorf("%s: finding %q has no recommendation", wf.id, p.title)
			continue
		}
		r := recByID[*f.RecommendationID]
		if r.Status != wantRec {
			t.Errorf("%s: %s (%q) is %s, want %s", wf.id, r.RecommendationID, p.title, r.Status, wantRec)
		}
		if (p.sev == "CRITICAL" || p.sev == "HIGH") && (wantRec == "PENDING" || wantRec == "FIXING") {
			blocked = true
		}
		switch p.work.action {
		case dismiss:
			if r.DismissedReason == nil || *r.DismissedReason != p.work.reason {
				t.Errorf("%s: %s dismissed with reason %v", wf.id, r.RecommendationID, r.DismissedReason)
			}
		case fixAndVerify:
			log, err := svc.AuditLog(ctx, workflow.AuditFilter{EntityType: "recommendation", EntityID: r.RecommendationID})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range log.Entries { // newest first
				got = append([]string{e.Action}, got...)
			}
			if strings.Join(got, ",") != "CREATED,FIX_STARTED,FIX_COMPLETED,VERIFIED" {
				t.Errorf("%s: audit log of %s: %v", wf.id, r.RecommendationID, got)
			}
		}
	}
	// Dynamic recommendations may block a gate too; the plan alone decides
	// it for a workflow whose plan blocks it or has no dynamic analysis.
	if (blocked || !wf.dynamic) && gate.IsBlocked != blocked {
		t.Errorf("%s: gate %s, but the plan leaves it blocked=%v", wf.id, gate.GateState, blocked)
	}

	rl, err := svc.ListReports(ctx, wf.id, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.Reports) != 1 || rl.Reports[0].GateStatus != gate.GateState || rl.Reports[0].FindingsCount < int64(len(wf.review.findings)) {
		t.Errorf("%s: saved reports %+v, want one with gate %s and at least %d findings", wf.id, rl.Reports, gate.GateState, len(wf.review.findings))
	}
}

// TestDemoConfigIsValidAndIgnoresTheUsersProvider: the file the demo runs
// perimeter with validates, points at the mock and keeps a user's LLM_*
// variables (a real provider and key) out, on disk and in memory.
func TestDemoConfigIsValidAndIgnoresTheUsersProvider(t *testing.T) {
	env := map[string]string{"LLM_BASE_URL": "https://api.openai.com", "LLM_TYPE": "anthropic", "LLM_API_KEY": "sk-users-real-key", "LOG_LEVEL": "DEBUG"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, dataDir := range []string{"", t.TempDir()} {
		path := filepath.Join(t.TempDir(), "demo.yaml")
		if err := os.WriteFile(path, demoConfig("http://127.0.0.1:9", t.TempDir(), 4100, 7200, dataDir), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, problems, err := configs.LoadLayered(path, lookup)
		if err != nil || configs.HasErrors(problems) {
			t.Fatalf("data %q: %v %v", dataDir, err, problems)
		}
		if cfg.LLM.BaseURL != "http://127.0.0.1:9" || cfg.LLM.Type != "openai" || cfg.LLM.APIKey != "" || cfg.Logging.Level != "WARNING" {
			t.Errorf("data %q: llm %q %q key %q, log %q: the user's environment leaked in", dataDir, cfg.LLM.BaseURL, cfg.LLM.Type, cfg.LLM.APIKey, cfg.Logging.Level)
		}
		if cfg.Server.Port != 4100 || cfg.Server.Host != "127.0.0.1" {
			t.Errorf("data %q: listens on %s:%d", dataDir, cfg.Server.Host, cfg.Server.Port)
		}
		lt := cfg.Interceptors[len(cfg.Interceptors)-1]
		if lt.Type != configs.TypeLiveTrace || fmt.Sprint(lt.Config["server_port"]) != "7200" {
			t.Errorf("data %q: dashboard interceptor %+v", dataDir, lt)
		}
		if got := fmt.Sprint(lt.Config["storage_mode"]); (dataDir == "") != (got == "memory") {
			t.Errorf("data %q: storage_mode %s", dataDir, got)
		}
	}
}

// TestDemoStopsOnSignal: SIGINT sent to the demo's process group (a
// terminal's Ctrl-C, which the proxy in its own group does not get) or
// SIGTERM to the demo stops it promptly in every phase — while the proxy
// starts, while the fleet runs, and after the fleet is done — and with it
// the proxy and the proxy's engine worker.
func TestDemoStopsOnSignal(t *testing.T) {
	lib, libErr := chdb.FindLib("")
	for _, tc := range []struct {
		phase    string
		duration string
		ready    func(out string, children []int) bool
		sig      syscall.Signal
		group    bool
	}{
		{"starting", "5m", func(_ string, children []int) bool { return len(children) > 0 }, syscall.SIGTERM, false},
		{"fleet running", "5m", func(out string, _ []int) bool { return strings.Contains(out, "Perimeter demo") }, syscall.SIGINT, true},
		{"fleet done, workflow seeding", "1s", func(out string, _ []int) bool { return strings.Contains(out, "press Ctrl-C to stop") }, syscall.SIGTERM, false},
		// Nothing left but the proxy and the dashboard: the demo waits
		// for Ctrl-C only.
		{"all done", "8s", func(out string, _ []int) bool { return strings.Contains(out, "security workflow ready") }, syscall.SIGINT, true},
	} {
		t.Run(tc.phase, func(t *testing.T) {
			cmd := exec.Command(demoBinary, "--perimeter", binary, "--duration", tc.duration, "--rate", "10", "--seed", "7",
				"--port", fmt.Sprint(testenv.FreePort(t)), "--dashboard-port", fmt.Sprint(testenv.FreePort(t)))
			cmd.Dir = t.TempDir()
			cmd.Env = os.Environ()
			if libErr == nil {
				cmd.Env = append(cmd.Env, "CHDB_LIB_PATH="+lib)
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, as in a terminal
			out := &testkit.SyncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() {
				if t.Failed() {
					t.Logf("output:\n%s", out.String())
				}
			}()
			var family []int
			defer func() {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				for _, pid := range family { // the proxy has a group of its own
					if alive(pid) {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}()
			if !testkit.Eventually(2*time.Minute, 20*time.Millisecond, func() bool {
				family = descendants(cmd.Process.Pid)
				return tc.ready(out.String(), family)
			}) {
				t.Fatal("the demo never reached the phase")
			}
			if libErr == nil && tc.phase != "starting" {
				// The proxy's engine worker is up once the dashboard answered.
				if len(family) < 2 {
					t.Fatalf("proxy and engine worker not found: %v", family)
				}
			}
			target := cmd.Process.Pid
			if tc.group {
				target = -target
			}
			sent := time.Now()
			if err := syscall.Kill(target, tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				t.Logf("%s stopped the demo in %s (%v)", tc.sig, time.Since(sent).Round(time.Millisecond), err)
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: the demo still runs after 30s", tc.sig)
			}
			if !strings.Contains(out.String(), "stopping") {
				t.Error("the demo did not say it was stopping")
			}
			testkit.WaitFor(t, 5*time.Second, "the proxy and its engine worker to exit", func() bool {
				for _, pid := range family {
					if alive(pid) {
						return false
					}
				}
				return true
			})
		})
	}
}

// descendants lists the processes below pid (Linux /proc).
func descendants(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			if child, err := strconv.Atoi(field); err == nil {
				out = append(out, child)
				out = append(out, descendants(child)...)
			}
		}
	}
	return out
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
