package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/internal/testkit"
)

// exampleRun is the binary running a shipped example config with the
// dashboard on, in dir (whose ./data is the store), in front of upstream.
type exampleRun struct {
	*perimeterProc
	dash string
}

func startExample(t *testing.T, dir, cfgPath, upstream, lib string) *exampleRun {
	t.Helper()
	port, dport := freePort(t), freePort(t)
	r := &exampleRun{dash: fmt.Sprintf("http://127.0.0.1:%d", dport),
		perimeterProc: launch(t, dir, []string{"OPENAI_BASE_URL=" + upstream, "OPENAI_API_KEY=", "CHDB_LIB_PATH=" + lib},
			"run", "-c", cfgPath, "--port", fmt.Sprint(port), "--dashboard-port", fmt.Sprint(dport))}
	r.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, r.url+"/health", 90*time.Second)
	waitHTTP(t, r.dash+"/health", 10*time.Second)
	return r
}

// storage is the store's status as /config shows it.
func (r *exampleRun) storage(t *testing.T) map[string]any {
	t.Helper()
	var cfg struct {
		Analytics struct {
			Storage map[string]any `json:"storage"`
		} `json:"analytics"`
	}
	getJSON(t, r.url+"/config", &cfg)
	return cfg.Analytics.Storage
}

// dashboardCalls is the dashboard's count of calls, once it reaches want
// (or the wait ends).
func (r *exampleRun) dashboardCalls(t *testing.T, want int64) int64 {
	t.Helper()
	var d struct {
		KPIs struct {
			TotalRequests int64 `json:"total_requests"`
		} `json:"kpis"`
	}
	testkit.Eventually(30*time.Second, 200*time.Millisecond, func() bool {
		getJSON(t, r.dash+"/api/dashboard", &d)
		return d.KPIs.TotalRequests >= want
	})
	return d.KPIs.TotalRequests
}

func sendCalls(t *testing.T, proxy string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		body := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"persist agent"},{"role":"user","content":"question %d"}]}`, i)
		postCall(t, proxy+"/v1/chat/completions", body)
	}
}

// writeExample writes the shipped example config name into dir, with
// edit applied to its text.
func writeExample(t *testing.T, dir, name string, edit func(string) string) string {
	t.Helper()
	data, err := configs.Example(name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(edit(string(data))), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestShippedConfigPersistsAcrossRestart: the shipped configs/openai.yaml,
// dashboard on, unchanged but for the upstream (its environment variable)
// and ports (flags). Calls answered before a restart are still counted by
// the dashboard after it, and nothing calls the store ephemeral.
func TestShippedConfigPersistsAcrossRestart(t *testing.T) {
	lib := requireLibchdb(t)
	upstream := startMock(t)
	dir := t.TempDir()
	cfg := writeExample(t, dir, "openai", func(s string) string { return s })
	const n1, n2 = 40, 10

	r := startExample(t, dir, cfg, upstream, lib)
	if st := r.storage(t); st["ephemeral"] == true || st["warning"] != nil {
		t.Fatalf("/config storage %v: the shipped config must persist", st)
	}
	if strings.Contains(r.logs.String(), "ephemeral: events") {
		t.Fatalf("startup warned of an ephemeral store:\n%s", r.logs.String())
	}
	sendCalls(t, r.url, 0, n1)
	if got := r.dashboardCalls(t, n1); got != n1 {
		t.Fatalf("first run: dashboard counts %d calls, want %d", got, n1)
	}
	r.stop(t, time.Minute)

	r = startExample(t, dir, cfg, upstream, lib)
	if got := r.dashboardCalls(t, n1); got != n1 {
		t.Fatalf("after a restart the dashboard counts %d calls, want the first run's %d", got, n1)
	}
	sendCalls(t, r.url, n1, n1+n2)
	if got := r.dashboardCalls(t, n1+n2); got != n1+n2 {
		t.Fatalf("second run: dashboard counts %d calls, want %d", got, n1+n2)
	}
	r.stop(t, time.Minute)
	if _, err := os.Stat(filepath.Join(dir, "data", "perimeter")); err != nil {
		t.Fatalf("no store at storage.embedded.path: %v", err)
	}
}

// TestEphemeralStoreIsSaidLoudly: storage_mode: memory written in the
// live_trace interceptor still gives an ephemeral store, but the startup
// log warns, /config and the dashboard's storage status say so, and the
// data is gone after a restart, as asked.
func TestEphemeralStoreIsSaidLoudly(t *testing.T) {
	lib := requireLibchdb(t)
	upstream := startMock(t)
	dir := t.TempDir()
	cfg := writeExample(t, dir, "openai", func(s string) string {
		return strings.Replace(s, "      server_port: 7100\n", "      server_port: 7100\n      storage_mode: memory\n", 1)
	})
	r := startExample(t, dir, cfg, upstream, lib)
	logs := r.logs.String()
	if !strings.Contains(logs, "WRN") || !strings.Contains(logs, "analytics are ephemeral") || !strings.Contains(logs, `storage_mode \"memory\"`) && !strings.Contains(logs, `storage_mode "memory"`) {
		t.Fatalf("no WARN naming the ephemeral store and its reason:\n%s", logs)
	}
	if st := r.storage(t); st["ephemeral"] != true || !strings.Contains(fmt.Sprint(st["warning"]), "deleted when perimeter stops") {
		t.Fatalf("/config storage %v: want ephemeral with a warning", st)
	}
	var health struct {
		Storage json.RawMessage `json:"storage"`
	}
	getJSON(t, r.dash+"/health", &health)
	if !strings.Contains(string(health.Storage), `"ephemeral":true`) {
		t.Fatalf("dashboard storage status %s: want ephemeral", health.Storage)
	}
	sendCalls(t, r.url, 0, 5)
	if got := r.dashboardCalls(t, 5); got != 5 {
		t.Fatalf("dashboard counts %d calls, want 5", got)
	}
	r.stop(t, time.Minute)
	r = startExample(t, dir, cfg, upstream, lib)
	if got := r.dashboardCalls(t, 0); got != 0 {
		t.Fatalf("an ephemeral store kept %d calls across a restart", got)
	}
	r.stop(t, time.Minute)
}
