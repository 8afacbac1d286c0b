package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/sink/chdb"
)

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
	lib := requireLibchdb(t)
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "demo", "--duration", "8s", "--rate", "10", "--seed", "7", "--exit",
		"--port", fmt.Sprint(freePort(t)), "--dashboard-port", fmt.Sprint(freePort(t)), "--data", data)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "CHDB_LIB_PATH="+lib)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("perimeter demo: %v\n%s", err, out.String())
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
	byName := countEvents(t, st, "perimeter.events FINAL")
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
	agents, sessions, vendors, withUsage := toInt(rows.Data[0][0]), toInt(rows.Data[0][1]), toInt(rows.Data[0][2]), toInt(rows.Data[0][3])
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
}
