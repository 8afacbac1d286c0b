package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/clickhouse/chtest"
)

// The cluster tests run storage.clickhouse.cluster against a real
// cluster: 2 shards × 2 replicas of Debian's clickhouse-server and a
// ZooKeeper, all private to the test (chtest.StartCluster), since they
// kill servers. They run when PERIMETER_TEST_CLICKHOUSE is set and
// clickhouse-server is installed (CI does both, and installs zookeeper);
// then a cluster that cannot start fails them. Otherwise they skip,
// loudly (chtest.StartTestCluster).

// privateCluster starts a cluster of the test's own, stopped at cleanup.
func privateCluster(t *testing.T) *chtest.Cluster {
	t.Helper()
	return chtest.StartTestCluster(t, 2, 2)
}

// clusterStore opens a store in cluster mode on c, in a fresh database.
func clusterStore(t *testing.T, c *chtest.Cluster, mod func(*Options)) *Store {
	t.Helper()
	return openStore(t, Options{Addresses: c.Addrs(), Cluster: c.Name, DialTimeout: 2 * time.Second, QueryTimeout: chtest.QueryTimeout},
		"perimeter_cluster_", mod, 2*time.Minute)
}

// nodeStore is a plain store on one server of the cluster, to read its
// local tables (and run DDL on the cluster through it).
func nodeStore(t *testing.T, addr, db string) *Store {
	t.Helper()
	s, err := Open(ctxT(t), Options{Addresses: []string{addr}, Database: db, DialTimeout: 2 * time.Second, QueryTimeout: chtest.QueryTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// clusterEvent is testEvent spread over 101 sessions, so that both shards
// get some.
func clusterEvent(i int) *sink.Event {
	e := testEvent(i)
	e.SessionID = fmt.Sprintf("sess-%d", i%101)
	return e
}

func clusterEvents(from, n int) []*sink.Event { return eventsOf(clusterEvent, from, n) }

// localCount is the deduplicated row count of events_local on one server.
func localCount(t *testing.T, addr, db string) uint64 {
	t.Helper()
	n := scalar(t, nodeStore(t, addr, db), "SELECT count() FROM "+sink.Ident(db)+"."+sink.Ident(sink.EventsLocalTable)+" FINAL")
	return n.(uint64)
}

// waitReplicas waits until the replicas of each shard hold the same rows
// and returns the shards' counts.
func waitReplicas(t *testing.T, c *chtest.Cluster, db string) []uint64 {
	t.Helper()
	var out []uint64
	for i, shard := range c.Shards {
		counts := make([]uint64, len(shard))
		agreed := testkit.Eventually(30*time.Second, 100*time.Millisecond, func() bool {
			for j, r := range shard {
				counts[j] = localCount(t, r.Addr, db)
			}
			return slices.Min(counts) == slices.Max(counts)
		})
		if !agreed {
			t.Fatalf("shard %d: the replicas never agreed: %v rows", i+1, counts)
		}
		out = append(out, counts[0])
	}
	return out
}

// comparisons are aggregates the dashboard's kind of query makes; each
// must answer the same on the cluster as on one server.
var comparisons = []string{
	"SELECT count(), uniqExact(id), sum(input_tokens), sum(total_tokens), round(sum(cost_usd), 9), countIf(cost_usd IS NULL) FROM %s",
	"SELECT agent_id, count(), uniqExact(session_id), sum(input_tokens), max(ts_us) FROM %s GROUP BY agent_id ORDER BY agent_id",
	"SELECT session_id, count(), min(ts_us), max(ts_us), sum(output_tokens) FROM %s GROUP BY session_id ORDER BY session_id",
	"SELECT cost_status, count(), quantileExact(0.5)(input_tokens) FROM %s GROUP BY cost_status ORDER BY cost_status",
	// 18.16 reading a Distributed table FINAL without a WHERE fails with
	// "Cannot find column agent_id in source stream" unless every column of
	// the sorting key is selected (the dashboard's queries filter or
	// aggregate).
	"SELECT id, agent_id, session_id, ts_us, input_tokens FROM %s ORDER BY ts_us DESC, id LIMIT 25",
	"SELECT count() FROM %s WHERE session_id GLOBAL IN (SELECT session_id FROM %[1]s WHERE input_tokens %% 5 = 0)",
}

// TestClusterSchemaInsertsAndReads: cluster mode creates the Replicated
// local tables and the Distributed table on every server, a batch written
// through it (twice, as a retry would) lands on both shards and on every
// replica exactly once, and the aggregates answer as on a single server
// holding the same events.
func TestClusterSchemaInsertsAndReads(t *testing.T) {
	c := privateCluster(t)
	s := clusterStore(t, c, nil)
	db := s.schema.Database
	for _, srv := range c.Servers() {
		n := nodeStore(t, srv.Addr, db)
		r, err := n.Query(ctxT(t), "SELECT name, engine FROM system.tables WHERE database = ? ORDER BY name", db)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(r.Data)
		if !strings.Contains(got, "[events Distributed]") || !strings.Contains(got, "[events_local ReplicatedReplacingMergeTree]") {
			t.Fatalf("tables on %s: %s", srv.Addr, got)
		}
	}
	const n = 3000
	batch := clusterEvents(0, n)
	for range 2 {
		if err := s.WriteBatch(ctxT(t), batch); err != nil {
			t.Fatal(err)
		}
	}
	single := testStore(t, nil)
	if err := single.WriteBatch(ctxT(t), batch); err != nil {
		t.Fatal(err)
	}
	shards := waitReplicas(t, c, db)
	if shards[0] == 0 || shards[1] == 0 || shards[0]+shards[1] != n {
		t.Fatalf("shards hold %v events, want both some and %d in all", shards, n)
	}
	for _, q := range comparisons {
		want, err := single.Query(ctxT(t), fmt.Sprintf(q, sink.EventsSource(single.schema)))
		if err != nil {
			t.Fatalf("single: %s: %v", q, err)
		}
		got, err := s.Query(ctxT(t), fmt.Sprintf(q, sink.EventsSource(s.schema)))
		if err != nil {
			t.Fatalf("cluster: %s: %v", q, err)
		}
		if len(want.Data) == 0 || !reflect.DeepEqual(got.Data, want.Data) {
			t.Errorf("%s\ncluster: %.300v\n single: %.300v", q, got.Data, want.Data)
		}
	}
	t.Logf("%d events: shard 1 holds %d, shard 2 %d, each on both replicas", n, shards[0], shards[1])
}

// TestClusterUpgradesOldTables: tables an older release created on every
// server get the new columns everywhere (local tables and the
// Distributed one), and a reconnect of an up-to-date store runs no DDL.
func TestClusterUpgradesOldTables(t *testing.T) {
	c := privateCluster(t)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	db := "perimeter_cluster_old_" + hex.EncodeToString(rnd[:])
	first := nodeStore(t, c.Addrs()[0], "")
	v := first.Version()
	o := sink.SchemaOptions{Database: db, Cluster: c.Name}
	for _, q := range sink.SchemaStatementsAt(v, o, 1) {
		if err := first.Exec(ctxT(t), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s := clusterStore(t, c, func(o *Options) { o.Database = db })
	for _, srv := range c.Servers() {
		for _, table := range []string{sink.EventsLocalTable, sink.EventsTable} {
			got := scalar(t, nodeStore(t, srv.Addr, db), "SELECT count() FROM system.columns WHERE database = ? AND table = ?", db, table)
			if got != uint64(len(sink.InsertColumns())) {
				t.Errorf("%s.%s on %s has %v columns, want %d", db, table, srv.Addr, got, len(sink.InsertColumns()))
			}
		}
	}
	if err := s.WriteBatch(ctxT(t), clusterEvents(0, 50)); err != nil {
		t.Fatalf("insert after the upgrade: %v", err)
	}
	var ddl countingExecer
	ddl.s = s
	if applied, err := sink.Migrate(ctxT(t), &ddl, v, s.schema); err != nil || len(applied) != 0 || ddl.execs != 0 {
		t.Fatalf("migrating an up-to-date cluster: applied %v, %d statements, err %v; want none", applied, ddl.execs, err)
	}
}

// countingExecer counts the statements Migrate runs.
type countingExecer struct {
	s     *Store
	execs int
}

func (e *countingExecer) Exec(ctx context.Context, sql string) error {
	e.execs++
	return e.s.Exec(ctx, sql)
}

func (e *countingExecer) Query(ctx context.Context, sql string, args ...any) (*sink.Rows, error) {
	return e.s.query(ctx, 0, sql, args...)
}

// TestClusterReplicaDown: with one replica of a shard killed, writes and
// reads go on through the other, with every event; the killed replica,
// restarted, fetches what it missed.
func TestClusterReplicaDown(t *testing.T) {
	c := privateCluster(t)
	s := clusterStore(t, c, nil)
	db := s.schema.Database
	if err := s.WriteBatch(ctxT(t), clusterEvents(0, 500)); err != nil {
		t.Fatal(err)
	}
	// A replica that dies before the other fetched its latest parts takes
	// them out of reach until it returns (they are on its disk); the test
	// kills it once they are replicated.
	waitReplicas(t, c, db)
	victim := c.Shards[1][0] // the replica in_order load balancing picks first
	victim.Kill()
	if err := s.WriteBatch(ctxT(t), clusterEvents(500, 500)); err != nil {
		t.Fatalf("a write with one replica of shard 2 down failed: %v", err)
	}
	if got := scalar(t, s, "SELECT count() FROM "+sink.EventsSource(s.schema)); got != uint64(1000) {
		t.Fatalf("%v events read with one replica down, want 1000", got)
	}
	if err := victim.Restart(); err != nil {
		t.Fatal(err)
	}
	if shards := waitReplicas(t, c, db); shards[0]+shards[1] != 1000 {
		t.Fatalf("shards hold %v after the replica came back, want 1000 in all", shards)
	}
}

// TestClusterShardDownSpillsAndReplays: with both replicas of a shard
// killed mid-run, inserts fail, the pipeline spills them, queries fail
// with ErrShardUnavailable naming the cluster; once the shard is back the
// spill is replayed and every event is stored exactly once.
func TestClusterShardDownSpillsAndReplays(t *testing.T) {
	c := privateCluster(t)
	s := clusterStore(t, c, nil)
	const perPhase = 2000
	down := func(p *sink.Pipeline) {
		waitWritten(t, p, perPhase)
		for _, r := range c.Shards[1] {
			r.Kill()
		}
	}
	up := func() {
		_, err := s.Query(ctxT(t), "SELECT count() FROM "+sink.EventsSource(s.schema))
		if !errors.Is(err, ErrShardUnavailable) || !strings.Contains(err.Error(), c.Name) {
			t.Fatalf("query with shard 2 down: %v; want ErrShardUnavailable naming the cluster", err)
		}
		t.Logf("query with shard 2 down: %v", err)
		for _, r := range c.Shards[1] {
			if err := r.Restart(); err != nil {
				t.Fatal(err)
			}
		}
	}
	outageDrill(t, s, perPhase, clusterEvent, 5*time.Second, down, up)
	storedOnce(t, clusterStore(t, c, func(o *Options) { o.Database = s.schema.Database }), 3*perPhase)
}

// waitWritten waits until the pipeline's store writer has written n
// events.
func waitWritten(t *testing.T, p *sink.Pipeline, n uint64) {
	t.Helper()
	if !testkit.Eventually(30*time.Second, 10*time.Millisecond, func() bool { return p.Metrics().Writers[0].Events >= n }) {
		t.Fatalf("the store writer wrote %+v, want %d events", p.Metrics().Writers[0], n)
	}
}
