package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/configs"
)

func TestGenerateThenValidate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "perimeter.yaml")
	out, _, code := runCLI(t, nil, "generate-config", path)
	if code != 0 || !strings.Contains(out, path) {
		t.Fatalf("generate-config: %d %s", code, out)
	}
	if _, errOut, code := runCLI(t, nil, "generate-config", path); code != 1 || !strings.Contains(errOut, "--force") {
		t.Fatalf("overwrite without --force: %d %s", code, errOut)
	}
	out, errOut, code := runCLI(t, nil, "validate-config", path)
	if code != 0 || !strings.Contains(out, "Configuration is valid") {
		t.Fatalf("validate-config: %d %s %s", code, out, errOut)
	}
}

// TestGenerateConfigToStdout: "-" is standard output, as the help says,
// and an unknown example lists the choices once.
func TestGenerateConfigToStdout(t *testing.T) {
	want, _ := configs.Example("openai")
	for _, args := range [][]string{{"generate-config", "-", "--example", "openai"}, {"generate-config", "--example", "openai", "--", "-"}} {
		out, errOut, code := runCLI(t, nil, args...)
		if code != 0 || out != string(want) || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %d bytes (want the example, %d)", args, code, errOut, len(out), len(want))
		}
	}
	_, errOut, code := runCLI(t, nil, "generate-config", "--example", "foo", filepath.Join(t.TempDir(), "x.yaml"))
	if code != 1 || strings.Count(errOut, "anthropic, clickhouse, default, openai, production") != 1 {
		t.Errorf("unknown example: exit %d\n%s", code, errOut)
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("server:\n  port: 0\nllm:\n  base_url: api.openai.com\n  type: gemini\nmiddlewares: []\n"), 0o600)
	_, errOut, code := runCLI(t, nil, "validate-config", path)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"server.port", "llm.base_url", "llm.type", "middlewares"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("missing %s in:\n%s", want, errOut)
		}
	}
}

// TestValidateRefusesWhatRunRefuses: a base_url with a query or a
// user:password@ fails validate-config as it fails run, and neither shows
// the secret it holds.
func TestValidateRefusesWhatRunRefuses(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://127.0.0.1:18001/v1?key=QUERYSECRET", "must not carry a query string"},
		{"http://127.0.0.1:18001/v1?x=QUERYSECRET", "must not carry a query string"},
		{"http://user:QUERYSECRET@127.0.0.1:18001/v1", "must not carry user:password@"},
	} {
		path := writeConfig(t, fmt.Sprintf("llm: {base_url: %q, type: openai}\nstorage: {engine: none}\n", tc.url))
		for _, args := range [][]string{{"validate-config", path}, {"run", "-c", path, "--port", fmt.Sprint(freePort(t))}} {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			cmd := exec.CommandContext(ctx, binary, args...) // a run that starts is stopped
			cmd.Env = append(os.Environ(), "CHDB_LIB_PATH=/nonexistent")
			b, _ := cmd.CombinedOutput()
			cancel()
			if out := string(b); cmd.ProcessState.ExitCode() != 1 || !strings.Contains(out, "llm.base_url: "+tc.want) || strings.Contains(out, "QUERYSECRET") {
				t.Errorf("%s %v: exit %d\n%s", tc.url, args, cmd.ProcessState.ExitCode(), out)
			}
		}
	}
}

func TestRunRequiresUpstream(t *testing.T) {
	_, errOut, code := runCLI(t, []string{"LLM_BASE_URL=", "LLM_TYPE="}, "run")
	if code != 1 || !strings.Contains(errOut, "--base-url and --type are required") {
		t.Fatalf("%d %s", code, errOut)
	}
}

// TestRunProxiesAndShutsDownGracefully drives the real binary: environment
// for the upstream, a flag for the port, a stream in flight when SIGTERM
// arrives, and an exit code of 0 after the stream completed.
func TestRunProxiesAndShutsDownGracefully(t *testing.T) {
	mock, base := mockWith(t, mockllm.Config{})
	p := runProxy(t, nil, []string{"LLM_BASE_URL=" + base, "LLM_TYPE=openai", "LLM_API_KEY=sk-env-key-123456"}, "--log-level", "debug")
	url := p.url

	// The key comes from LLM_API_KEY and never shows in /config or the logs.
	resp, err := http.Get(url + "/config")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(cfg, []byte("sk-env-key-123456")) || !bytes.Contains(cfg, []byte(base)) {
		t.Fatalf("/config = %s", cfg)
	}

	req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("x-mock-step", "1")
	req.Header.Set("x-mock-chunks", "3")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first event: %q %v", line, err)
	}
	if auth, _ := mock.LastRequest(); !strings.Contains(fmt.Sprint(auth.Headers), "Bearer sk-env-key-123456") {
		t.Fatalf("upstream did not get the configured key: %v", auth.Headers)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Let the stream finish: release the mock's remaining events.
	go func() {
		for range 10 {
			select {
			case mock.Step() <- struct{}{}:
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	rest, err := io.ReadAll(br)
	if err != nil || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("stream cut by shutdown: %q %v", rest, err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("perimeter did not exit after SIGTERM")
	}
	if strings.Contains(p.logs.String(), "sk-env-key-123456") {
		t.Fatal("the API key appears in the logs")
	}
	if !strings.Contains(p.logs.String(), "shutdown complete") {
		t.Fatalf("no shutdown log:\n%s", p.logs.String())
	}
}
