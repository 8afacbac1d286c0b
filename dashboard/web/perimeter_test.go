package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/testenv"
	"github.com/cylestio/perimeter/internal/testkit"
)

// The perimeter binary under test, for the browser tests against a real
// server: built once, run with a config in front of the mock provider,
// and spoken to over HTTP (traffic through the proxy, the dashboard's API).

var requireChdb = testenv.RequireLibchdb

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// perimeterBinary builds cmd/perimeter once per test run.
func perimeterBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "perimeter-webtest-")
		if err != nil {
			buildErr = err
			return
		}
		binPath, buildErr = testenv.Build(dir, "perimeter", "github.com/cylestio/perimeter/cmd/perimeter")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// instance is one running perimeter: its proxy's and dashboard's URLs and
// the mock provider it forwards to.
type instance struct {
	proxy, dashboard, upstream string
	client                     *http.Client
}

// startMock starts the mock provider for the test and returns its base
// URL.
func startMock(t *testing.T, cfg mockllm.Config) string {
	t.Helper()
	mock, base, err := mockllm.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mock.Close() })
	return base
}

// startPerimeter runs "perimeter run" with extra config in front of the
// mock at base, with its dashboard on a free port; it is stopped (SIGTERM)
// at cleanup.
func startPerimeter(t *testing.T, base, extra string, env ...string) *instance {
	t.Helper()
	return startPerimeterLT(t, base, "", extra, env...)
}

// startWithStore starts a mock provider with mock and a perimeter in front
// of it that keeps events in the embedded store (libchdb, required) and
// runs detection; ltExtra and env are as startPerimeterLT takes them.
func startWithStore(t *testing.T, mock mockllm.Config, ltExtra string, env ...string) *instance {
	t.Helper()
	lib := requireChdb(t)
	base := startMock(t, mock)
	data := t.TempDir()
	return startPerimeterLT(t, base, ltExtra, fmt.Sprintf(`storage:
  embedded: {path: %q}
  spill: {dir: %q}
detect: {enabled: true}
`, filepath.Join(data, "chdb"), filepath.Join(data, "spill")), append(env, "CHDB_LIB_PATH="+lib)...)
}

// startPerimeterLT is startPerimeter with more live_trace config (ltExtra:
// ", key: value" pairs).
func startPerimeterLT(t *testing.T, base, ltExtra, extra string, env ...string) *instance {
	t.Helper()
	bin := perimeterBinary(t)
	port, dport := testenv.FreePort(t), testenv.FreePort(t)
	cfg := fmt.Sprintf(`server: {port: %d}
llm: {base_url: %q, type: openai}
interceptors:
  - type: live_trace
    config: {server_port: %d, auto_open_browser: false%s}
`, port, base, dport, ltExtra) + extra
	path := filepath.Join(t.TempDir(), "perimeter.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "-c", path)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	// The process writes its output to a file of its own: nothing copies
	// it, and the test reads it back when it fails.
	logPath := filepath.Join(t.TempDir(), "perimeter.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // the process has its own copy once started
	output := func() string {
		b, _ := os.ReadFile(logPath)
		return string(b)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("perimeter output:\n%s", output())
		}
	})
	in := &instance{
		proxy:     fmt.Sprintf("http://127.0.0.1:%d", port),
		dashboard: fmt.Sprintf("http://127.0.0.1:%d", dport),
		upstream:  base,
		client:    &http.Client{Timeout: 30 * time.Second},
	}
	deadline := time.Now().Add(90 * time.Second)
	for _, u := range []string{in.proxy + "/health", in.dashboard + "/health"} {
		for {
			resp, err := in.client.Get(u)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			select {
			case <-exited:
				t.Fatalf("perimeter exited:\n%s", output())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never answered: %v\n%s", u, err, output())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return in
}

// conversation sends a two-call tool-using OpenAI chat through the proxy
// as agent.
func (in *instance) conversation(t *testing.T, agent, system, user string) {
	t.Helper()
	in.conversationAt(t, "", agent, system, user)
}

// conversationAt is conversation under a path prefix of the proxy (the
// agent workflow route /agent-workflow/{id}).
func (in *instance) conversationAt(t *testing.T, prefix, agent, system, user string) {
	t.Helper()
	msgs := []any{
		map[string]any{"role": "system", "content": system},
		map[string]any{"role": "user", "content": user},
	}
	tools := []any{map[string]any{"type": "function", "function": map[string]any{"name": "get_weather", "parameters": map[string]any{"type": "object"}}}}
	first := in.chat(t, prefix, agent, msgs, tools, "1")
	var resp struct {
		Choices []struct {
			Message map[string]any `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(first, &resp); err != nil || len(resp.Choices) == 0 {
		t.Fatalf("first answer: %v %s", err, first)
	}
	call := resp.Choices[0].Message
	calls, _ := call["tool_calls"].([]any)
	if len(calls) == 0 {
		t.Fatalf("the mock did not call a tool: %s", first)
	}
	id, _ := calls[0].(map[string]any)["id"].(string)
	msgs = append(msgs, call, map[string]any{"role": "tool", "tool_call_id": id, "content": `{"temp_c":21,"sky":"clear"}`})
	in.chat(t, prefix, agent, msgs, tools, "0")
}

// sessionOf waits until the dashboard lists a session of agent and returns
// the newest one's id.
func (in *instance) sessionOf(t *testing.T, agent string) string {
	t.Helper()
	var list struct {
		Sessions []struct {
			ID string `json:"id"`
		} `json:"sessions"`
	}
	if !testkit.Eventually(30*time.Second, 50*time.Millisecond, func() bool {
		in.getJSON(t, "/api/sessions/list?agent_id="+agent, &list)
		return len(list.Sessions) > 0
	}) {
		t.Fatalf("no session of %s stored", agent)
	}
	return list.Sessions[0].ID
}

// chat sends a gpt-4o-mini chat through the proxy as agent (tool is the
// mock's x-mock-tool control) and returns the answer, failing the test on
// a status other than 200.
func (in *instance) chat(t *testing.T, prefix, agent string, msgs, tools []any, tool string) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"model": "gpt-4o-mini", "messages": msgs, "tools": tools})
	status, out := in.send(t, prefix, agent, body, tool)
	if status != http.StatusOK {
		t.Fatalf("proxy answered %d: %s", status, out)
	}
	return out
}

// send posts an OpenAI chat body through the proxy as agent, with the
// mock's x-mock-tool control when tool is set, and returns the status and
// body of the answer.
func (in *instance) send(t *testing.T, prefix, agent string, body []byte, tool string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, in.proxy+prefix+"/v1/chat/completions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-cylestio-agent-id", agent)
	if tool != "" {
		req.Header.Set(mockllm.HeaderTool, tool)
	}
	resp, err := in.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// getJSON decodes the dashboard's JSON answer at path into v.
func (in *instance) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(in.get(t, path)), v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// waitStored polls an API path until its body contains want.
func (in *instance) waitStored(t *testing.T, path, want string) {
	t.Helper()
	var body []byte
	var err error
	if testkit.Eventually(30*time.Second, 100*time.Millisecond, func() bool {
		var resp *http.Response
		if resp, err = in.client.Get(in.dashboard + path); err != nil {
			return false
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(body), want)
	}) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Fatalf("%s never contained %q: %s", path, want, body)
}

// postJSON posts body to the dashboard and returns its JSON answer,
// failing the test on a status other than 200.
func (in *instance) postJSON(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	raw := in.api(t, http.MethodPost, path, body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST %s: %v %s", path, err, raw)
	}
	return out
}

// get is the dashboard's answer at path, failing the test on a status
// other than 200.
func (in *instance) get(t *testing.T, path string) string {
	t.Helper()
	return string(in.api(t, http.MethodGet, path, nil))
}

// api sends method to the dashboard's path, with body as JSON when it is
// not nil, and returns the answer, failing the test on a status other
// than 200.
func (in *instance) api(t *testing.T, method, path string, body any) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, in.dashboard+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := in.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return raw
}
