package sink

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/golden"
)

func mustVersion(t *testing.T, s string) ServerVersion {
	t.Helper()
	v, err := ParseServerVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseServerVersion(t *testing.T) {
	for _, tc := range []struct {
		in                  string
		major, minor, patch int
	}{
		{"18.16.1", 18, 16, 1},
		{"26.7.3.1", 26, 7, 3},
		{"24.8.4.13\n", 24, 8, 4},
		{"25.3", 25, 3, 0},
		{"23.8.1-stable", 23, 8, 1},
	} {
		v := mustVersion(t, tc.in)
		if v.Major != tc.major || v.Minor != tc.minor || v.Patch != tc.patch {
			t.Errorf("%q: %d.%d.%d", tc.in, v.Major, v.Minor, v.Patch)
		}
	}
	for _, bad := range []string{"", "x", "18", "a.b"} {
		if _, err := ParseServerVersion(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	old, cur := mustVersion(t, "18.16.1"), mustVersion(t, "26.7.3.1")
	if old.LowCardinality() || old.TTL() || old.AddColumnIfNotExists() || old.Codecs() {
		t.Error("18.16 must use none of the newer features")
	}
	if !cur.LowCardinality() || !cur.TTL() || !cur.AddColumnIfNotExists() || !cur.Codecs() {
		t.Error("26.7 supports every feature")
	}
}

// TestSchemaGolden pins the DDL: the 18.16 single-node schema in full,
// every other variant as its line diff from a pinned base (26.7 single
// node from 18.16's, 26.7's cluster and embedded variants from 26.7's
// single node, 18.16's cluster from 18.16's single node), so that the
// goldens hold what a variant changes and nothing twice.
func TestSchemaGolden(t *testing.T) {
	render := func(version string, o SchemaOptions) []byte {
		return []byte(strings.Join(SchemaStatements(mustVersion(t, version), o), ";\n\n") + ";\n")
	}
	single := SchemaOptions{RetentionDays: 30}
	old, cur := render("18.16.1", single), render("26.7.3.1", single)
	golden.Check(t, "schema_18.16_single.sql", old)
	golden.CheckDiff(t, "schema_26.7_single.sql.diff", old, cur)
	for _, tc := range []struct {
		file string
		base []byte
		got  []byte
	}{
		{"schema_18.16_cluster.sql.diff", old, render("18.16.1", SchemaOptions{Database: "analytics", Cluster: "prod"})},
		{"schema_26.7_cluster.sql.diff", cur, render("26.7.3.1", SchemaOptions{Cluster: "prod", RetentionDays: 90,
			ReplicaPath: "/ch/{cluster}/{shard}/perimeter/events_local"})},
		{"schema_26.7_embedded.sql.diff", cur, render("26.7.3.1", SchemaOptions{Embedded: true})},
	} {
		t.Run(tc.file, func(t *testing.T) { golden.CheckDiff(t, tc.file, tc.base, tc.got) })
	}
}

func TestSchemaShape(t *testing.T) {
	v := mustVersion(t, "18.16.1")
	all := strings.Join(SchemaStatements(v, SchemaOptions{RetentionDays: 7}), "\n")
	for _, banned := range []string{"LowCardinality", "TTL", "DateTime64", "Map(", "JSON", "CODEC", "ADD COLUMN IF NOT EXISTS"} {
		if strings.Contains(all, banned) && !(banned == "JSON" && !strings.Contains(all, " JSON")) {
			t.Errorf("18.16 schema uses %q", banned)
		}
	}
	for _, need := range []string{"PARTITION BY toYYYYMM(date)", "ORDER BY (agent_id, session_id, ts_us, id)", "ReplacingMergeTree()", "`attributes` String"} {
		if !strings.Contains(all, need) {
			t.Errorf("schema lacks %q", need)
		}
	}
	cl := strings.Join(SchemaStatements(v, SchemaOptions{Cluster: "c"}), "\n")
	for _, need := range []string{
		"CREATE DATABASE IF NOT EXISTS `perimeter` ON CLUSTER `c`",
		"CREATE TABLE IF NOT EXISTS `perimeter`.`events_local` ON CLUSTER `c`",
		"ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/perimeter/events_local', '{replica}')",
		"CREATE TABLE IF NOT EXISTS `perimeter`.`events` ON CLUSTER `c` AS `perimeter`.`events_local`",
		"ENGINE = Distributed('c', 'perimeter', 'events_local', cityHash64(session_id))",
	} {
		if !strings.Contains(cl, need) {
			t.Errorf("cluster schema lacks %q", need)
		}
	}
}

func TestInsertColumnsMatchSchema(t *testing.T) {
	cols := InsertColumns()
	var cb ColumnBatch
	cb.Append(fullEvent())
	vals := cb.Columns()
	if len(vals) != len(cols) || len(ColumnTypes(ServerVersion{Major: 18, Minor: 16})) != len(cols) {
		t.Fatalf("%d column values for %d columns", len(vals), len(cols))
	}
	for i, v := range vals {
		if n := reflect.ValueOf(v).Len(); n != 1 {
			t.Errorf("column %s has %d values", cols[i], n)
		}
	}
	// One VALUES tuple has one field per column.
	row := string(AppendValues(nil, []*Event{{ID: [16]byte{1}, Time: time.Unix(1, 0)}}))
	if n := strings.Count(row, ",") + 1; n != len(cols) {
		t.Fatalf("VALUES tuple has %d fields for %d columns: %s", n, len(cols), row)
	}
	cb.Reset()
	if cb.Len() != 0 {
		t.Fatal("Reset kept rows")
	}
}

func TestRenderInsertGolden(t *testing.T) {
	e1 := fullEvent()
	e1.ID = [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}
	e2 := &Event{ID: [16]byte{15: 1}, Time: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), Status: 70000, RiskScore: 0.1}
	got := RenderInsert(SchemaOptions{}, []*Event{e1, e2})
	golden.Check(t, "insert_values.sql", []byte(got+"\n"))
}

func TestAppendUUID(t *testing.T) {
	id := [16]byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10}
	if got := string(AppendUUID(nil, id)); got != "01020304-0506-0708-090a-0b0c0d0e0f10" {
		t.Fatal(got)
	}
}

func TestIdentQuotes(t *testing.T) {
	if got := Ident("a`b\\c"); got != "`a\\`b\\\\c`" {
		t.Fatal(got)
	}
	o := SchemaOptions{Database: "x`; DROP TABLE y; --"}
	if got := o.Table("events"); got != "`x\\`; DROP TABLE y; --`.`events`" {
		t.Fatal(got)
	}
}

// fakeExecer records statements and answers the migrator's two queries.
type fakeExecer struct {
	execs   []string
	applied int64
	columns map[string]bool
}

func (f *fakeExecer) Exec(_ context.Context, sql string) error {
	f.execs = append(f.execs, sql)
	return nil
}

func (f *fakeExecer) Query(_ context.Context, sql string, args ...any) (*Rows, error) {
	if strings.Contains(sql, "system.columns") {
		n := uint64(0)
		if f.columns[args[1].(string)+"."+args[2].(string)] {
			n = 1
		}
		return &Rows{Columns: []string{"count()"}, Data: [][]any{{n}}}, nil
	}
	return &Rows{Columns: []string{"max(version)"}, Data: [][]any{{uint64(f.applied)}}}, nil
}

func TestMigrateRunsOnlyNewVersions(t *testing.T) {
	v := mustVersion(t, "18.16.1")
	next := SchemaVersion() + 1
	ms := append(Migrations(), Migration{Version: next, Name: "add x", steps: func(v ServerVersion, o SchemaOptions) []Step {
		return []Step{AddColumnStep(v, o, EventsTable, "x", "String"), AddColumnStep(v, o, EventsTable, "y", "UInt8")}
	}})
	ex := &fakeExecer{columns: map[string]bool{"events.x": true}}
	applied, err := MigrateWith(context.Background(), ex, v, SchemaOptions{}, ms)
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for i := 1; i <= next; i++ {
		want = append(want, i)
	}
	if !reflect.DeepEqual(applied, want) {
		t.Fatalf("applied %v, want %v", applied, want)
	}
	joined := strings.Join(ex.execs, "\n")
	if strings.Contains(joined, "ADD COLUMN `x`") {
		t.Error("existing column x added again on 18.16")
	}
	if !strings.Contains(joined, "ALTER TABLE `perimeter`.`events` ADD COLUMN `y` UInt8") {
		t.Error("missing column y not added")
	}
	if strings.Count(joined, "INSERT INTO `perimeter`.`schema_migrations`") != next {
		t.Error("each migration must be recorded")
	}

	ex2 := &fakeExecer{applied: int64(next)}
	applied, err = MigrateWith(context.Background(), ex2, v, SchemaOptions{}, ms)
	if err != nil || len(applied) != 0 {
		t.Fatalf("up-to-date schema: applied %v, %v", applied, err)
	}
	if len(ex2.execs) != 0 {
		t.Fatalf("up-to-date schema ran %d statements, want none (a reconnect runs no DDL): %q", len(ex2.execs), ex2.execs)
	}

	newer := AddColumnStep(mustVersion(t, "24.8.1"), SchemaOptions{Cluster: "c"}, EventsLocalTable, "z", "String")
	if newer.SQL != "ALTER TABLE `perimeter`.`events_local` ON CLUSTER `c` ADD COLUMN IF NOT EXISTS `z` String" {
		t.Fatal(newer.SQL)
	}
}

func TestMigrateHistoryKeepsItsOwnVersions(t *testing.T) {
	v := mustVersion(t, "18.16.1")
	ms := []Migration{NewMigration(1, "other table", func(ServerVersion, SchemaOptions) []Step {
		return []Step{{SQL: "CREATE TABLE IF NOT EXISTS x (a UInt8) ENGINE = Memory"}}
	})}
	// The other history records its versions in its own table, never in
	// the events schema's.
	ex := &fakeExecer{applied: 0}
	applied, err := MigrateHistory(context.Background(), ex, v, SchemaOptions{Cluster: "c"}, "other_migrations", ms)
	if err != nil || !reflect.DeepEqual(applied, []int{1}) {
		t.Fatalf("applied %v, %v", applied, err)
	}
	joined := strings.Join(ex.execs, "\n")
	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS `perimeter`.`other_migrations` ON CLUSTER `c`",
		"INSERT INTO `perimeter`.`other_migrations`",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q in:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "schema_migrations") {
		t.Errorf("touched the events schema's bookkeeping:\n%s", joined)
	}
}

// The steps that bring tables of older schema versions up to date (ADD
// COLUMN, the embedded engine's codecs and part settings, in cluster mode
// the Distributed table made again over the altered local ones;
// SchemaStatements leaves them out: it creates the table with them), for
// each server generation and layout; the embedded engine's as their diff
// from the 26.7 single node's.
func TestMigrationStepsGolden(t *testing.T) {
	steps := func(version string, o SchemaOptions) string {
		var b strings.Builder
		fmt.Fprintf(&b, "-- %s cluster=%q embedded=%v\n", version, o.Cluster, o.Embedded)
		for _, m := range Migrations()[1:] {
			fmt.Fprintf(&b, "-- migration %d: %s\n", m.Version, m.Name)
			for _, s := range m.Steps(mustVersion(t, version), o) {
				if s.Column == "" && !s.Upgrade {
					t.Errorf("migration %d has a step that a table created now would repeat: %s", m.Version, s.SQL)
				}
				b.WriteString(s.SQL + ";\n")
			}
		}
		return b.String() + "\n"
	}
	single := steps("26.7.3.1", SchemaOptions{})
	golden.Check(t, "migration_steps.sql", []byte(steps("18.16.1", SchemaOptions{})+
		steps("18.16.1", SchemaOptions{Database: "analytics", Cluster: "prod"})+
		single+
		steps("26.7.3.1", SchemaOptions{Cluster: "prod"})))
	golden.CheckDiff(t, "migration_steps_embedded.sql.diff", []byte(single), []byte(steps("26.7.3.1", SchemaOptions{Embedded: true})))
}

func TestSchemaStatementsAt(t *testing.T) {
	v := mustVersion(t, "26.7.3.1")
	for _, o := range []SchemaOptions{{}, {Cluster: "c"}} {
		at := func(version int) string { return strings.Join(SchemaStatementsAt(v, o, version), "\n") }
		if s := at(1); strings.Contains(s, "`category`") || !strings.Contains(s, "`attributes` String CODEC(ZSTD(1))\n)") {
			t.Errorf("version 1 (cluster %q):\n%s", o.Cluster, s)
		}
		if s := at(2); strings.Contains(s, "cost_usd") || !strings.Contains(s, "`severity` LowCardinality(String)\n)") {
			t.Errorf("version 2 (cluster %q):\n%s", o.Cluster, s)
		}
		if at(SchemaVersion()) != strings.Join(SchemaStatements(v, o), "\n") {
			t.Errorf("the current version differs from SchemaStatements (cluster %q)", o.Cluster)
		}
	}
}
