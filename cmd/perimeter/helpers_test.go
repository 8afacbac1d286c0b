package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/testenv"
	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/chdb"
	"github.com/cylestio/perimeter/sink/clickhouse"
)

// The end-to-end tests' shared steps: build the binary, start it, wait
// until it answers, stop it, and open the store it wrote.

// binary is the perimeter executable built once for the tests of this
// package.
var binary string

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Binary{Path: &binary, Name: "perimeter", Pkg: "."})
}

var (
	freePort          = testenv.FreePort
	requireLibchdb    = testenv.RequireLibchdb
	requireClickHouse = testenv.RequireClickHouse
)

// runCLI runs the binary with args to its end and returns its output
// and exit code.
func runCLI(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// perimeterProc is a running perimeter binary.
type perimeterProc struct {
	url    string // http://addr, when the test started the proxy with runProxy
	addr   string // the proxy's host:port, likewise
	cmd    *exec.Cmd
	logs   *testkit.SyncBuffer
	exited chan error
}

// launch starts the binary with args in dir (a new temporary folder when
// dir is "", so that the default store's ./data is the test's own) and
// env added to the test's environment. The process is killed at the end
// of the test if it still runs, and its output logged if the test failed.
func launch(t *testing.T, dir string, env []string, args ...string) *perimeterProc {
	t.Helper()
	return launchVia(t, nil, dir, env, args...)
}

// launchVia is launch behind the command prefix wrap (e.g. prlimit).
func launchVia(t *testing.T, wrap []string, dir string, env []string, args ...string) *perimeterProc {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	argv := append(append(wrap[:len(wrap):len(wrap)], binary), args...)
	p := &perimeterProc{cmd: exec.Command(argv[0], argv[1:]...), logs: &testkit.SyncBuffer{}, exited: make(chan error, 1)}
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("perimeter output:\n%s", p.logs.String())
		}
	})
	return p
}

// runProxy runs "perimeter run" with args and a free --port (behind wrap,
// if any) and waits until the proxy answers /health.
func runProxy(t *testing.T, wrap, env []string, args ...string) *perimeterProc {
	t.Helper()
	port := freePort(t)
	p := launchVia(t, wrap, "", env, append(append([]string{"run"}, args...), "--port", fmt.Sprint(port))...)
	p.addr = fmt.Sprintf("127.0.0.1:%d", port)
	p.url = "http://" + p.addr
	waitHTTP(t, p.url+"/health", 90*time.Second, p.alive)
	return p
}

// writeConfig writes cfg to a YAML file of the test's and returns its path.
func writeConfig(t *testing.T, cfg string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "perimeter.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startConfig serves the config cfg (without a server port: runProxy picks
// one) with args.
func startConfig(t *testing.T, cfg string, args []string, env ...string) *perimeterProc {
	t.Helper()
	return runProxy(t, nil, env, append([]string{"-c", writeConfig(t, cfg)}, args...)...)
}

// llmSection is the llm section of an OpenAI-shaped upstream (no key:
// the client's own reaches it).
func llmSection(upstream string) string {
	return fmt.Sprintf("llm: {base_url: %q, type: openai}\n", upstream)
}

// startPerimeter runs the binary in front of upstream with cfg (the YAML
// sections after llm, e.g. storage), without the dashboard (its queries
// are not under test and port 7100 may be taken), and waits until it is
// healthy.
func startPerimeter(t *testing.T, upstream, cfg string, env ...string) *perimeterProc {
	t.Helper()
	return startConfig(t, llmSection(upstream)+cfg, []string{"--no-dashboard"}, env...)
}

// startEdge runs the binary (behind the command prefix wrap, e.g.
// prlimit) with cfg appended to a config naming upstream, without store,
// without dashboard unless cfg configures live_trace, and logging JSON
// unless cfg configures logging; it waits until /health answers.
func startEdge(t *testing.T, upstream, cfg string, wrap ...string) *perimeterProc {
	t.Helper()
	if !strings.Contains(cfg, "logging:") {
		cfg += "logging: {format: json}\n"
	}
	cfg = fmt.Sprintf("llm: {base_url: %q, type: openai, api_key: sk-configured-key-0123456789abcdef}\nstorage: {engine: none}\n", upstream) + cfg
	args := []string{"-c", writeConfig(t, cfg)}
	if !strings.Contains(cfg, "live_trace") {
		args = append(args, "--no-dashboard")
	}
	return runProxy(t, wrap, nil, args...)
}

// pid is the process id of the binary (of its wrapper, when it was
// started behind one that does not exec it).
func (p *perimeterProc) pid() int { return p.cmd.Process.Pid }

// alive reports whether the process is still running.
func (p *perimeterProc) alive() bool {
	select {
	case err := <-p.exited:
		p.exited <- err
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and requires a clean exit within d.
func (p *perimeterProc) stop(t *testing.T, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("perimeter exit: %v", err)
		}
	case <-time.After(d):
		t.Fatalf("perimeter did not exit within %s of SIGTERM", d)
	}
	return time.Since(start)
}

// halt sends SIGTERM and waits up to a minute for the exit, whatever it
// is: the end of a test that does not check how the binary stops.
func (p *perimeterProc) halt() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
	}
}

// waitUntil polls cond every 50 ms for at most d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !testkit.Eventually(d, 50*time.Millisecond, cond) {
		t.Fatalf("timed out after %s waiting for %s", d, what)
	}
}

// waitHTTP waits up to within for url to answer, and fails at once when
// the process that should answer has exited (running, if given, says).
func waitHTTP(t *testing.T, url string, within time.Duration, running ...func() bool) {
	t.Helper()
	var err error
	answers := func() bool {
		var resp *http.Response
		if resp, err = http.Get(url); err == nil {
			resp.Body.Close()
			return true
		}
		for _, r := range running {
			if !r() {
				t.Fatalf("%s never answered: the process exited", url)
			}
		}
		return false
	}
	if !testkit.Eventually(within, 20*time.Millisecond, answers) {
		t.Fatalf("%s never answered: %v", url, err)
	}
}

// getJSON reads url's JSON answer into v and requires a 200.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, v) != nil {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
}

// postCall sends one model call (a JSON body) to url and requires a 200;
// the answer is read to its end and dropped.
func postCall(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s %.80s: HTTP %d", url, body, resp.StatusCode)
	}
}

// postChat sends a chat completion to the proxy at url with headers (name,
// value, ...) and returns the status, the answer and how long it took.
func postChat(t *testing.T, url, body string, headers ...string) (int, string, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b), time.Since(start)
}

// writeSSE answers with events, each a "data:" line flushed on its own,
// as a streaming provider does.
func writeSSE(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	for _, ev := range events {
		fmt.Fprintf(w, "data: %s\n\n", ev)
		fl.Flush()
	}
}

// mockWith starts the mock provider with cfg for the test's duration.
func mockWith(t *testing.T, cfg mockllm.Config) (*mockllm.Server, string) {
	t.Helper()
	mock, base, err := mockllm.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mock.Close() })
	return mock, base
}

// startMockLLM starts the mock provider with its defaults for the test's
// duration and returns its base URL.
func startMockLLM(t *testing.T) string {
	t.Helper()
	_, base := mockWith(t, mockllm.Config{})
	return base
}

// startMock starts the mock provider for load: answers of three chunks,
// no requests kept.
func startMock(t *testing.T) string {
	t.Helper()
	_, base := mockWith(t, mockllm.Config{Chunks: 3, MaxRecorded: -1})
	return base
}

// rssBytes is the resident memory of process pid, 0 when it is gone (or
// there is no /proc).
func rssBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// embeddedSection and clickhouseSection are the storage sections of the
// two engines.
func embeddedSection(data string) string {
	return fmt.Sprintf("storage: {embedded: {path: %q}}\n", data)
}

func clickhouseSection(addr, db string) string {
	return fmt.Sprintf("storage: {engine: clickhouse, clickhouse: {addresses: [%q], database: %s}}\n", addr, db)
}

// openEmbedded opens the embedded store the binary wrote in data, after
// the binary exited; it is closed at the end of the test.
func openEmbedded(t *testing.T, data, lib string) *chdb.Store {
	t.Helper()
	st, err := chdb.Open(context.Background(), chdb.Options{Path: data, LibPath: lib, WorkerCommand: []string{binary, "__chdb-worker"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openClickHouse opens database db on addr; it is closed at the end of
// the test.
func openClickHouse(t *testing.T, addr, db string) *clickhouse.Store {
	t.Helper()
	st, err := clickhouse.Open(context.Background(), clickhouse.Options{Addresses: []string{addr}, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// dropAtEnd drops the test's database db on addr at the end of the test.
func dropAtEnd(t *testing.T, addr, db string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if st, err := clickhouse.Open(ctx, clickhouse.Options{Addresses: []string{addr}, Database: db}); err == nil {
			_ = st.Exec(ctx, "DROP DATABASE IF EXISTS "+sink.Ident(db))
			st.Close()
		}
	})
}
