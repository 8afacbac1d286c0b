package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/clickhouse"
	"github.com/cylestio/perimeter/sink/clickhouse/chtest"
)

// TestTwoProxiesOneCluster is the scale-out setup of the README: two
// "perimeter run" processes, each with its own dashboard, writing to one
// ClickHouse cluster (2 shards × 2 replicas, private to the test) through
// different nodes. Calls alternate between them as a round-robin balancer
// would send them. Every event is stored exactly once, stamped with the
// instance that saw it (the default id, <hostname>:<port>), and either
// dashboard shows the totals of all the traffic sent, and names every
// instance; /metrics and /config say which instance is which.
func TestTwoProxiesOneCluster(t *testing.T) {
	c := chtest.StartTestCluster(t, 2, 2)
	_, base := mockWith(t, mockllm.Config{Chunks: 3})
	db := fmt.Sprintf("perimeter_scale_%d", time.Now().UnixNano())
	addrs := c.Addrs()
	type instance struct {
		p    *perimeterProc
		dash string
		id   string
	}
	var insts []instance
	// Instance 0 talks to shard 1's first replica, instance 1 to shard 2's.
	for i, first := range []int{0, 2} {
		order := append([]string{addrs[first]}, append(append([]string{}, addrs[:first]...), addrs[first+1:]...)...)
		quoted := make([]string, len(order))
		for j, a := range order {
			quoted[j] = fmt.Sprintf("%q", a)
		}
		dport := freePort(t)
		cfg := llmSection(base) + fmt.Sprintf(`storage:
  engine: clickhouse
  clickhouse: {addresses: [%s], database: %s, cluster: %s, dial_timeout: 2s}
  batch: {max_rows: 100, max_delay_ms: 20}
  spill: {dir: %q, max_bytes: 64MiB}
`, strings.Join(quoted, ", "), db, c.Name, t.TempDir())
		p := startConfig(t, cfg, []string{"--dashboard-port", fmt.Sprint(dport)})
		defer p.halt()
		_, port, _ := net.SplitHostPort(p.addr)
		host, _ := os.Hostname()
		portN, _ := strconv.Atoi(port)
		insts = append(insts, instance{p: p, dash: fmt.Sprintf("http://127.0.0.1:%d", dport), id: configs.DefaultInstanceID(host, portN)})
		t.Logf("instance %d: %s, proxy %s, writes via %s", i, insts[i].id, p.url, order[0])
	}
	for _, in := range insts {
		waitHTTP(t, in.dash+"/health", 30*time.Second)
	}

	const calls = 40 // 20 through each instance
	for i := range calls {
		stream := ""
		if i%3 == 0 {
			stream = `"stream":true,"stream_options":{"include_usage":true},`
		}
		body := fmt.Sprintf(`{"model":"gpt-4o-mini",%s"messages":[{"role":"system","content":"agent %d"},{"role":"user","content":"question %d"}]}`, stream, i%4, i)
		postCall(t, insts[i%2].p.url+"/v1/chat/completions", body)
	}

	type kpis struct {
		TotalRequests int64 `json:"total_requests"`
		TotalSessions int64 `json:"total_sessions"`
		TotalEvents   int64 `json:"total_events"`
		TotalTokens   int64 `json:"total_tokens"`
		TotalAgents   int64 `json:"total_agents"`
	}
	var d [2]struct {
		KPIs kpis `json:"kpis"`
	}
	if !testkit.Eventually(60*time.Second, 200*time.Millisecond, func() bool {
		getJSON(t, insts[0].dash+"/api/dashboard", &d[0])
		getJSON(t, insts[1].dash+"/api/dashboard", &d[1])
		return d[0].KPIs.TotalRequests >= calls && d[1].KPIs.TotalRequests >= calls
	}) {
		t.Fatalf("the dashboards never showed the %d calls: %+v, %+v", calls, d[0].KPIs, d[1].KPIs)
	}

	// The stored events, read through the Distributed table: each exactly
	// once, half from each instance.
	st, err := clickhouse.Open(context.Background(), clickhouse.Options{Addresses: addrs, Database: db, Cluster: c.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o := st.Schema()
	checkCounts(t, countEvents(t, st, sink.EventsSource(o)), calls)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := st.Query(ctx, "SELECT instance_id, countIf(name = 'llm.call.finish') AS calls, sumIf(total_tokens, name = 'llm.call.finish') AS tokens, count() AS events FROM "+
		sink.EventsSource(o)+" GROUP BY instance_id ORDER BY instance_id")
	if err != nil {
		t.Fatal(err)
	}
	byInstance := map[string][]int64{}
	var tokens, events int64
	for _, r := range rows.Data {
		byInstance[fmt.Sprint(r[0])] = []int64{toInt(r[1]), toInt(r[2]), toInt(r[3])}
		tokens += toInt(r[2])
		events += toInt(r[3])
	}
	if len(byInstance) != 2 || byInstance[insts[0].id][0] != calls/2 || byInstance[insts[1].id][0] != calls/2 {
		t.Fatalf("calls by instance %v, want %d from each of %s and %s", byInstance, calls/2, insts[0].id, insts[1].id)
	}
	// Either dashboard shows all of it: the same totals, equal to what was
	// sent and what is stored.
	want := kpis{TotalRequests: calls, TotalSessions: calls, TotalEvents: events, TotalTokens: tokens, TotalAgents: 4}
	for i := range d {
		if d[i].KPIs != want {
			t.Errorf("dashboard of instance %d: %+v, want %+v", i, d[i].KPIs, want)
		}
	}
	if tokens == 0 {
		t.Fatal("no tokens stored: the mock's usage was not captured")
	}
	for i, in := range insts {
		var stats struct {
			Instances []struct {
				ID       string `json:"instance_id"`
				Requests int64  `json:"requests"`
			} `json:"instances"`
			ServedBy string `json:"served_by"`
		}
		getJSON(t, in.dash+"/api/stats", &stats)
		if stats.ServedBy != in.id || len(stats.Instances) != 2 || stats.Instances[0].Requests != calls/2 || stats.Instances[1].Requests != calls/2 {
			t.Errorf("/api/stats of instance %d: %+v", i, stats)
		}
		var m map[string]any
		getJSON(t, in.p.url+"/metrics", &m)
		if m["instance_id"] != in.id {
			t.Errorf("/metrics of instance %d: instance_id %v, want %s", i, m["instance_id"], in.id)
		}
		var cfg struct {
			Server struct {
				InstanceID string `json:"instance_id"`
			} `json:"server"`
		}
		getJSON(t, in.p.url+"/config", &cfg)
		if cfg.Server.InstanceID != in.id {
			t.Errorf("/config of instance %d: server.instance_id %q, want %s", i, cfg.Server.InstanceID, in.id)
		}
	}
	t.Logf("%d calls through 2 instances: %d events, %d tokens, per instance %v; both dashboards: %+v", calls, events, tokens, byInstance, d[0].KPIs)
}
