package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink/chdb"
)

func TestDashboardSettings(t *testing.T) {
	yes, no := true, false
	lt := func(enabled bool, cfg map[string]any) []configs.InterceptorConfig {
		return []configs.InterceptorConfig{{Type: configs.TypeLiveTrace, Enabled: enabled, Config: cfg}}
	}
	for _, c := range []struct {
		name          string
		interceptors  []configs.InterceptorConfig
		flags         dashboardFlags
		on, explicit  bool
		host          string
		port          int
		browser       bool
		wantErrSubstr string
	}{
		{name: "no config: on with the defaults, no browser", on: true, host: "127.0.0.1", port: 7100},
		{name: "live_trace configures it", interceptors: lt(true, map[string]any{"server_port": 7300, "auto_open_browser": true}),
			on: true, explicit: true, host: "127.0.0.1", port: 7300, browser: true},
		{name: "live_trace enabled: false turns it off", interceptors: lt(false, nil)},
		{name: "--no-dashboard", flags: dashboardFlags{on: &no}},
		{name: "--dashboard", flags: dashboardFlags{on: &yes}, on: true, host: "127.0.0.1", port: 7100},
		{name: "flags override the config", interceptors: lt(true, map[string]any{"server_port": 7300}),
			flags: dashboardFlags{host: "localhost", port: 7400}, on: true, explicit: true, host: "localhost", port: 7400, browser: true},
		{name: "bad port", flags: dashboardFlags{port: 70000}, wantErrSubstr: "--dashboard-port"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := configs.Default()
			cfg.Interceptors = c.interceptors
			got, explicit, on, err := dashboardSettings(cfg, c.flags)
			if c.wantErrSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErrSubstr) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil || on != c.on || explicit != c.explicit {
				t.Fatalf("on %v explicit %v err %v", on, explicit, err)
			}
			if on && (got.ServerHost != c.host || got.ServerPort != c.port || got.AutoOpenBrowser != c.browser) {
				t.Fatalf("%+v", got)
			}
		})
	}
}

// TestReplayOptions: the dashboard replays to llm.base_url with
// llm.api_key, else the provider's environment variable, else no key (the
// user types one per replay).
func TestReplayOptions(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-env-openai")
	t.Setenv("ANTHROPIC_API_KEY", "")
	for _, c := range []struct {
		llm         configs.LLMConfig
		key, source string
	}{
		{configs.LLMConfig{Type: "openai", BaseURL: "https://api.openai.com", APIKey: "sk-configured"}, "sk-configured", "proxy_config"},
		{configs.LLMConfig{Type: "openai", BaseURL: "https://api.openai.com"}, "sk-from-env-openai", "environment (OPENAI_API_KEY)"},
		{configs.LLMConfig{Type: "anthropic", BaseURL: "https://api.anthropic.com"}, "", ""},
	} {
		o := replayOptions(c.llm)
		if o.APIKey != c.key || o.KeySource != c.source || o.BaseURL != c.llm.BaseURL || o.ProviderType != c.llm.Type {
			t.Errorf("%+v: got %+v", c.llm, o)
		}
	}
}

// A dashboard beyond loopback without a token does not start, and says
// why.
func TestDashboardNeedsTokenBeyondLoopback(t *testing.T) {
	out, errOut, code := runCLI(t, []string{"CHDB_LIB_PATH=/nonexistent"}, "run", "--base-url", "http://127.0.0.1:1", "--type", "openai",
		"--port", fmt.Sprint(freePort(t)), "--dashboard-host", "0.0.0.0", "--dashboard-port", fmt.Sprint(freePort(t)), "--log-level", "warning")
	if code != 1 || !strings.Contains(out+errOut, "token is required") {
		t.Fatalf("%d %s%s", code, out, errOut)
	}
}

// TestRunServesTheDashboard: the README's first command (run, no config)
// serves the dashboard; traffic through the proxy shows up in its API.
func TestRunServesTheDashboard(t *testing.T) {
	base := startMockLLM(t)
	dport := freePort(t)
	env := []string{"LLM_BASE_URL=" + base, "LLM_TYPE=openai", "LLM_API_KEY=sk-dash-key-987654"}
	lib, libErr := chdb.FindLib("")
	if libErr == nil {
		env = append(env, "CHDB_LIB_PATH="+lib) // the binary runs from a temporary directory
	}
	p := runProxy(t, nil, env, "--dashboard-port", fmt.Sprint(dport))
	defer p.halt()
	proxy, dash := p.url, fmt.Sprintf("http://127.0.0.1:%d", dport)
	waitHTTP(t, dash+"/health", 10*time.Second)
	for i := range 3 {
		body := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"dash test"},{"role":"user","content":"question %d"}]}`, i)
		resp, err := http.Post(proxy+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var d struct {
		KPIs struct {
			TotalRequests int64 `json:"total_requests"`
		} `json:"kpis"`
		Storage struct {
			Available bool   `json:"available"`
			Reason    string `json:"reason"`
		} `json:"storage"`
	}
	emptyState := func() bool {
		return libErr != nil && !d.Storage.Available && strings.Contains(d.Storage.Reason, "libchdb")
	}
	if !testkit.Eventually(20*time.Second, 200*time.Millisecond, func() bool {
		getJSON(t, dash+"/api/dashboard", &d)
		return emptyState() || d.KPIs.TotalRequests == 3
	}) {
		t.Fatalf("dashboard never showed the 3 calls: %+v", d)
	}
	if emptyState() {
		t.Logf("no libchdb: the dashboard shows its empty state (%s)", d.Storage.Reason)
	}
	var cfg map[string]any
	getJSON(t, dash+"/api/config", &cfg)
	b, _ := json.Marshal(cfg)
	if cfg["provider_base_url"] != base || strings.Contains(string(b), "sk-dash-key-987654") {
		t.Fatalf("/api/config %s", b)
	}
	if resp, err := http.Get(dash + "/"); err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("UI: %v %v", resp, err)
	}
	if !strings.Contains(p.logs.String(), "dashboard ready") {
		t.Fatalf("no dashboard line in the log")
	}
}

func TestRunWithoutDashboard(t *testing.T) {
	dport := freePort(t)
	p := runProxy(t, nil, []string{"CHDB_LIB_PATH=/nonexistent"},
		"--dashboard-port", fmt.Sprint(dport), "--no-dashboard", "--base-url", "http://127.0.0.1:1", "--type", "openai")
	defer p.halt()
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", dport), time.Second); err == nil {
		c.Close()
		t.Fatal("--no-dashboard: the dashboard port answers")
	}
}

// TestDashboardNeverTakesTheProxysPort: validate-config refuses a
// live_trace on server.port as run does, and a --dashboard-port on the
// proxy's port leaves the dashboard off instead of the proxy.
func TestDashboardNeverTakesTheProxysPort(t *testing.T) {
	port := freePort(t)
	path := writeConfig(t, fmt.Sprintf(`server: {host: 127.0.0.1, port: %d}
llm: {base_url: "http://127.0.0.1:1", type: openai}
storage: {engine: none}
interceptors:
  - type: live_trace
    enabled: true
    config: {server_port: %d, auto_open_browser: false}
`, port, port))
	for _, args := range [][]string{{"validate-config", path}, {"run", "-c", path}} {
		_, errOut, code := runCLI(t, nil, args...)
		if code != 1 || !strings.Contains(errOut, fmt.Sprintf("interceptors[0].config.server_port: must not be the proxy's port %d", port)) {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
	}

	p := launch(t, "", []string{"CHDB_LIB_PATH=/nonexistent"}, "run", "--base-url", "http://127.0.0.1:1", "--type", "openai",
		"--port", fmt.Sprint(port), "--dashboard-port", fmt.Sprint(port), "--log-level", "warning")
	defer p.halt()
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/health", port), 30*time.Second, p.alive)
	if !strings.Contains(p.logs.String(), "dashboard not started: it would listen on the proxy's port") {
		t.Fatalf("no warning in the log:\n%s", p.logs.String())
	}
}
