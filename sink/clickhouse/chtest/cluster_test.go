package chtest_test

import (
	"context"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink/clickhouse/chtest"
)

// TestClusterShardsAndReplicates: the test cluster runs ON CLUSTER DDL on
// every server, a Distributed table splits rows between the two shards,
// and each shard's second replica holds its first replica's rows.
func TestClusterShardsAndReplicates(t *testing.T) {
	c := chtest.StartTestCluster(t, 2, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn := func(addr string) ch.Conn {
		conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Settings: ch.Settings{"insert_distributed_sync": 1}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	first := conn(c.Shards[0][0].Addr)
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS t ON CLUSTER perimeter_test",
		"CREATE TABLE t.x_local ON CLUSTER perimeter_test (n UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/t/x_local', '{replica}') ORDER BY n",
		"CREATE TABLE t.x ON CLUSTER perimeter_test AS t.x_local ENGINE = Distributed(perimeter_test, t, x_local, n)",
		"INSERT INTO t.x SELECT number FROM system.numbers LIMIT 1000",
	} {
		if err := first.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	count := func(addr, table string) uint64 {
		var n uint64
		if err := conn(addr).QueryRow(ctx, "SELECT count() FROM "+table).Scan(&n); err != nil {
			t.Fatalf("%s on %s: %v", table, addr, err)
		}
		return n
	}
	var sum uint64
	for i, shard := range c.Shards {
		n := count(shard[0].Addr, "t.x_local")
		if n == 0 || n == 1000 {
			t.Errorf("shard %d holds %d of 1000 rows: the rows were not split between shards", i+1, n)
		}
		sum += n
		if !testkit.Eventually(30*time.Second, 200*time.Millisecond, func() bool { return count(shard[1].Addr, "t.x_local") == n }) {
			t.Fatalf("shard %d replica 2 never caught up with replica 1 (%d rows)", i+1, n)
		}
	}
	if sum != 1000 {
		t.Errorf("the shards hold %d rows, want 1000", sum)
	}
	// Replicas caught up, the Distributed table on any server reads all.
	for _, s := range c.Servers() {
		if n := count(s.Addr, "t.x"); n != 1000 {
			t.Errorf("the Distributed table read on %s has %d rows, want 1000", s.Addr, n)
		}
	}
}
