package workflow

import (
	"strings"
	"testing"

	"github.com/cylestio/perimeter/internal/golden"
	"github.com/cylestio/perimeter/sink"
)

// TestSchemaGolden pins the DDL: single node in full; a cluster (ON
// CLUSTER, ReplicatedReplacingMergeTree per local table with its own
// ZooKeeper path, a Distributed table sharded by the row key so that
// every version of a row lands on one shard) as its diff from the single
// node; a cluster with its own replica path and name as its diff from
// the plain cluster.
func TestSchemaGolden(t *testing.T) {
	render := func(o sink.SchemaOptions) []byte {
		v, _ := sink.ParseServerVersion("18.16.1")
		got := strings.Join(SchemaStatements(v, o), ";\n\n") + ";\n"
		// The DDL does not depend on the server version: the same
		// statements run on 18.16 and 26.x.
		v26, _ := sink.ParseServerVersion("26.7.2.1")
		if again := strings.Join(SchemaStatements(v26, o), ";\n\n") + ";\n"; again != got {
			t.Fatalf("DDL for %+v differs between 18.16 and 26.7", o)
		}
		return []byte(got)
	}
	single := render(sink.SchemaOptions{})
	cluster := render(sink.SchemaOptions{Database: "perimeter", Cluster: "prod"})
	replicaPath := render(sink.SchemaOptions{Cluster: "prod", ReplicaName: "{replica}-r",
		ReplicaPath: "/ch/{shard}/perimeter/events_local"})
	golden.Check(t, "schema_single.sql", single)
	golden.CheckDiff(t, "schema_cluster.sql.diff", single, cluster)
	golden.CheckDiff(t, "schema_cluster_replica_path.sql.diff", cluster, replicaPath)
}

func TestSchemaClusterShape(t *testing.T) {
	v, _ := sink.ParseServerVersion("24.8.1")
	stmts := SchemaStatements(v, sink.SchemaOptions{Cluster: "c"})
	if len(stmts) != 2*len(tables) {
		t.Fatalf("%d statements for %d tables", len(stmts), len(tables))
	}
	paths := map[string]bool{}
	for i, tb := range tables {
		local, dist := stmts[2*i], stmts[2*i+1]
		for _, want := range []string{"`perimeter`.`" + tb.name + "_local` ON CLUSTER `c`", "ReplicatedReplacingMergeTree(", ", version)", "ORDER BY `" + tb.key + "`"} {
			if !strings.Contains(local, want) {
				t.Errorf("%s local table lacks %q:\n%s", tb.name, want, local)
			}
		}
		path := local[strings.Index(local, "ReplicatedReplacingMergeTree('")+len("ReplicatedReplacingMergeTree('"):]
		path = path[:strings.IndexByte(path, '\'')]
		if paths[path] {
			t.Errorf("two tables share the ZooKeeper path %s", path)
		}
		paths[path] = true
		if !strings.Contains(dist, "Distributed('c', 'perimeter', '"+tb.name+"_local', cityHash64(`"+tb.key+"`))") {
			t.Errorf("%s distributed table:\n%s", tb.name, dist)
		}
	}
}

// TestMigrateFromV1 upgrades a database created by the first release of
// the schema: Service.ready applies only migration 2, recorded apart
// from the events schema's versions.
func TestMigrateFromV1(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := ctxT(t)
		st := openStore(t, engine)
		rows, err := st.Query(ctx, "SELECT version()")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := sink.ParseServerVersion(rows.Data[0][0].(string))
		if applied, err := sink.MigrateHistory(ctx, st, v, st.Schema(), MigrationsTable, migrations[:1]); err != nil || len(applied) != 1 {
			t.Fatalf("v1: %v %v", applied, err)
		}
		svc := New(st, Options{})
		if _, err := svc.UnanalyzedSessions(ctx, "wf", false); err != nil {
			t.Fatalf("after upgrade: %v", err)
		}
		for table, want := range map[string]int64{MigrationsTable: 2, sink.MigrationsTable: int64(sink.SchemaVersion())} {
			rows, err := st.Query(ctx, "SELECT max(version) FROM "+st.Schema().Table(table))
			if err != nil {
				t.Fatal(err)
			}
			if got := (&reader{r: rows.Data[0]}).i64(); got != want {
				t.Errorf("%s at version %d, want %d", table, got, want)
			}
		}
	})
}
