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

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/chdb"
	"github.com/cylestio/perimeter/sink/clickhouse"
)

// driveProxy runs the built binary with cfg in front of a mock, sends n
// model calls (every third one streamed), stops it with SIGTERM and returns
// once it exited: by then the pipeline has drained into the store.
func driveProxy(t *testing.T, cfg string, n int, env ...string) {
	t.Helper()
	mock, base, err := mockllm.Start(mockllm.Config{Chunks: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Close()
	port := freePort(t)
	path := filepath.Join(t.TempDir(), "perimeter.yaml")
	cfg = fmt.Sprintf("server: {port: %d}\nllm: {base_url: %q, type: openai}\n", port, base) + cfg
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "run", "-c", path)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("perimeter output:\n%s", logs.String())
		}
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy never became healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range n {
		stream := ""
		if i%3 == 0 {
			stream = `"stream":true,"stream_options":{"include_usage":true},`
		}
		body := fmt.Sprintf(`{"model":"gpt-4o-mini",%s"messages":[{"role":"system","content":"agent %d"},{"role":"user","content":"question %d"}]}`, stream, i%4, i)
		resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("call %d: %d", i, resp.StatusCode)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("perimeter did not exit")
	}
}

// countEvents returns events by name, read with the store's deduplication.
func countEvents(t *testing.T, st sink.Store, table string) map[string]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rows, err := st.Query(ctx, "SELECT name, count() AS n, uniqExact(id) AS u FROM "+table+" GROUP BY name")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows.Data {
		n, u := toInt(r[1]), toInt(r[2])
		if n != u {
			t.Fatalf("%v: %d rows for %d distinct ids: an event was stored twice", r[0], n, u)
		}
		out[fmt.Sprint(r[0])] = n
	}
	return out
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case uint64:
		return int64(x)
	case int64:
		return x
	}
	return -1
}

func checkCounts(t *testing.T, got map[string]int64, n int) {
	t.Helper()
	for _, name := range []string{sink.SessionStart, sink.LLMCallStart, sink.LLMCallFinish} {
		if got[name] != int64(n) {
			t.Errorf("%s: %d events for %d calls (all: %v)", name, got[name], n, got)
		}
	}
}

// requireLibchdb returns libchdb's path, or skips the test loudly when it
// is not installed (fails when PERIMETER_REQUIRE_CHDB is set, as in CI).
func requireLibchdb(t *testing.T) string {
	t.Helper()
	lib, err := chdb.FindLib("")
	if err != nil {
		if os.Getenv("PERIMETER_REQUIRE_CHDB") != "" {
			t.Fatalf("libchdb required but not found: %v", err)
		}
		t.Skipf("SKIPPED LOUDLY: libchdb not installed (%v); run make chdb", err)
	}
	return lib
}

// TestEveryCallReachesTheEmbeddedStore: no storage config beyond the path,
// so the default engine; every call's events are queryable exactly once.
func TestEveryCallReachesTheEmbeddedStore(t *testing.T) {
	lib := requireLibchdb(t)
	data := t.TempDir()
	const n = 30
	driveProxy(t, fmt.Sprintf("storage: {embedded: {path: %q}}\ndetect: {enabled: true}\n", data), n, "CHDB_LIB_PATH="+lib)
	st, err := chdb.Open(context.Background(), chdb.Options{Path: data, LibPath: lib, WorkerCommand: []string{binary, "__chdb-worker"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkCounts(t, countEvents(t, st, "perimeter.events FINAL"), n)
}

// TestEveryCallReachesClickHouse does the same against a ClickHouse server
// (CI starts one and sets PERIMETER_TEST_CLICKHOUSE).
func TestEveryCallReachesClickHouse(t *testing.T) {
	addr := os.Getenv("PERIMETER_TEST_CLICKHOUSE")
	if addr == "" {
		t.Skip("SKIPPED LOUDLY: PERIMETER_TEST_CLICKHOUSE is not set (CI sets it after starting clickhouse-server)")
	}
	db := fmt.Sprintf("perimeter_e2e_%d", time.Now().UnixNano())
	const n = 30
	driveProxy(t, fmt.Sprintf("storage: {engine: clickhouse, clickhouse: {addresses: [%q], database: %s}}\n", addr, db), n)
	st, err := clickhouse.Open(context.Background(), clickhouse.Options{Addresses: []string{addr}, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkCounts(t, countEvents(t, st, db+".events FINAL"), n)
}
