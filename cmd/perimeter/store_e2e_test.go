package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/testenv"
	"github.com/cylestio/perimeter/sink"
)

// driveProxy runs the built binary with cfg in front of a mock, sends n
// model calls (every third one streamed), stops it with SIGTERM and returns
// once it exited: by then the pipeline has drained into the store.
func driveProxy(t *testing.T, cfg string, n int, env ...string) {
	t.Helper()
	_, base := mockWith(t, mockllm.Config{Chunks: 3})
	p := startConfig(t, llmSection(base)+cfg, nil, env...)
	url := p.url
	for i := range n {
		stream := ""
		if i%3 == 0 {
			stream = `"stream":true,"stream_options":{"include_usage":true},`
		}
		body := fmt.Sprintf(`{"model":"gpt-4o-mini",%s"messages":[{"role":"system","content":"agent %d"},{"role":"user","content":"question %d"}]}`, stream, i%4, i)
		postCall(t, url+"/v1/chat/completions", body)
	}
	p.stop(t, 60*time.Second)
}

var countEvents = testenv.CountEvents

var toInt = testenv.ToInt

func checkCounts(t *testing.T, got map[string]int64, n int) {
	t.Helper()
	for _, name := range []string{sink.SessionStart, sink.LLMCallStart, sink.LLMCallFinish} {
		if got[name] != int64(n) {
			t.Errorf("%s: %d events for %d calls (all: %v)", name, got[name], n, got)
		}
	}
}

// TestEveryCallReachesTheEmbeddedStore: no storage config beyond the path,
// so the default engine; every call's events are queryable exactly once.
func TestEveryCallReachesTheEmbeddedStore(t *testing.T) {
	lib := requireLibchdb(t)
	data := t.TempDir()
	const n = 30
	driveProxy(t, embeddedSection(data)+"detect: {enabled: true}\n", n, "CHDB_LIB_PATH="+lib)
	st := openEmbedded(t, data, lib)
	checkCounts(t, countEvents(t, st, "perimeter.events FINAL"), n)
}

// TestEveryCallReachesClickHouse does the same against a ClickHouse server
// (CI starts one and sets PERIMETER_TEST_CLICKHOUSE).
func TestEveryCallReachesClickHouse(t *testing.T) {
	addr := requireClickHouse(t)
	db := fmt.Sprintf("perimeter_e2e_%d", time.Now().UnixNano())
	const n = 30
	driveProxy(t, clickhouseSection(addr, db), n)
	st := openClickHouse(t, addr, db)
	checkCounts(t, countEvents(t, st, db+".events FINAL"), n)
}
