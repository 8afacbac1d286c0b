package main

import (
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

	"github.com/cylestio/perimeter/internal/testenv"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/chdb"
	"github.com/cylestio/perimeter/sink/clickhouse"
)

// The end-to-end tests' shared steps: start the built binary, stop it,
// and open the store it wrote.

// perimeterProc is a running perimeter binary.
type perimeterProc struct {
	url    string // the proxy, when the test started it from a config
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan error
}

// launch starts the binary with args in dir (a new temporary folder when
// dir is "", so that the default store's ./data is the test's own) and
// env added to the test's environment. The process is killed at the end
// of the test if it still runs, and its output logged if the test failed.
func launch(t *testing.T, dir string, env []string, args ...string) *perimeterProc {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	p := &perimeterProc{cmd: exec.Command(binary, args...), logs: &syncBuffer{}, exited: make(chan error, 1)}
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

// startConfig runs "perimeter run" on a config made of a server section
// (a free port) and rest, with args, and waits until the proxy answers.
func startConfig(t *testing.T, rest string, args []string, env ...string) *perimeterProc {
	t.Helper()
	port := freePort(t)
	path := filepath.Join(t.TempDir(), "perimeter.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf("server: {port: %d}\n", port)+rest), 0o600); err != nil {
		t.Fatal(err)
	}
	p := launch(t, "", env, append([]string{"run", "-c", path}, args...)...)
	p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, p.url+"/health", 90*time.Second)
	return p
}

// startPerimeter runs the binary in front of upstream with storage (YAML
// lines under the server and llm sections), without the dashboard (its
// queries are not under test and port 7100 may be taken), and waits until
// it is healthy.
func startPerimeter(t *testing.T, upstream, storage string, env ...string) *perimeterProc {
	t.Helper()
	return startConfig(t, fmt.Sprintf("llm: {base_url: %q, type: openai}\n", upstream)+storage, []string{"--no-dashboard"}, env...)
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

var requireLibchdb = testenv.RequireLibchdb

var requireClickHouse = testenv.RequireClickHouse

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
