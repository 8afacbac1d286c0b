package chdb

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// TestRealCostColumnsUpgrade: an events table of schema version 2 (before
// the cost columns), with a row in it, is brought up to date by Migrate;
// the old row has no cost, new rows store theirs (text inserts, NULL for
// calls without a cost), and sums count priced calls only: a session of
// unpriced calls sums to NULL, never 0.
func TestRealCostColumnsUpgrade(t *testing.T) {
	s, o := upgradedFrom(t, 2, "model, input_tokens, output_tokens", "'llm.call.finish', 'old', 'gpt-4o', 10, 5")
	ctx := context.Background()
	rows, err := s.Query(ctx, "SELECT type FROM system.columns WHERE database = ? AND table = ? AND name IN ('cost_usd', 'cost_status') ORDER BY name", databaseOf(o), sink.EventsTable)
	if err != nil || fmt.Sprint(rows.Data) != "[[LowCardinality(String)] [Nullable(Float64)]]" {
		t.Fatalf("cost column types: %v %v", rows, err)
	}

	batch := eventsBatch(6, time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	for i, c := range []struct {
		session, status string
		cost            float64
	}{
		{"sess-a", sink.CostPriced, 0.5},
		{"sess-a", sink.CostPartial, 0.25},
		{"sess-b", sink.CostUnpriced, 0},
		{"sess-b", sink.CostUnpriced, 0},
		{"sess-c", sink.CostNoUsage, 0},
		{"sess-d", "", 0},
	} {
		batch[i].SessionID, batch[i].CostStatus, batch[i].CostUSD = c.session, c.status, c.cost
		batch[i].InstanceID = "proxy-a:4000"
	}
	batch[5].Name = sink.ToolExecution
	if err := s.WriteBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	rows, err = s.Query(ctx, "SELECT session_id, sum(cost_usd), count(cost_usd), arrayStringConcat(arraySort(groupUniqArray(cost_status)), ',')"+
		" FROM "+sink.EventsSource(o)+" GROUP BY session_id ORDER BY session_id")
	if err != nil {
		t.Fatal(err)
	}
	want := "[[old <nil> 0 ] [sess-a 0.75 2 partial,priced] [sess-b <nil> 0 unpriced] [sess-c <nil> 0 no_usage] [sess-d <nil> 0 ]]"
	if got := fmt.Sprint(rows.Data); got != want {
		t.Fatalf("per session cost:\n got %s\nwant %s", got, want)
	}
	// Migration 6: rows stored before it have no instance id, new ones
	// theirs.
	rows, err = s.Query(ctx, "SELECT session_id, any(instance_id) FROM "+sink.EventsSource(o)+" WHERE session_id IN ('old', 'sess-a') GROUP BY session_id ORDER BY session_id")
	if err != nil || fmt.Sprint(rows.Data) != "[[old ] [sess-a proxy-a:4000]]" {
		t.Fatalf("instance ids: %v %v", rows, err)
	}
}

// upgradedFrom opens a store whose events table is at schema version n and
// holds one row of 2026-05-01 10:00 UTC (values: the SELECT list of its
// name, session_id and the columns cols, all of version n), and brings it
// up to date: Migrate must apply every version after n.
func upgradedFrom(t *testing.T, n int, cols, values string) (*Store, sink.SchemaOptions) {
	t.Helper()
	s := mustOpen(t, eventsOptions(t))
	ctx, v, o := context.Background(), s.Version(), s.Schema()
	eventsAtVersion(t, s, o, n)
	old := "INSERT INTO " + o.Table(sink.EventsTable) + " (id, date, ts, ts_us, name, session_id, " + cols + ")" +
		" SELECT toUUID('00000000-0000-0000-0000-0000000000aa'), toDate('2026-05-01'), toDateTime(1777629600), 1777629600000000, " + values
	if err := s.Exec(ctx, old); err != nil {
		t.Fatal(err)
	}
	if applied, err := sink.Migrate(ctx, s, v, o); err != nil || !reflect.DeepEqual(applied, versionsFrom(n+1)) {
		t.Fatalf("upgrade from version %d applied %v, %v", n, applied, err)
	}
	return s, o
}

// eventsAtVersion replaces the store's events table by the one of schema
// version n, as a data directory of that release holds it, with
// migrations 1 to n recorded.
func eventsAtVersion(t *testing.T, s *Store, o sink.SchemaOptions, n int) {
	t.Helper()
	ctx, v := context.Background(), s.Version()
	for _, tbl := range []string{sink.EventsTable, sink.MigrationsTable} {
		if err := s.Exec(ctx, "DROP TABLE "+o.Table(tbl)); err != nil {
			t.Fatal(err)
		}
	}
	for _, stmt := range sink.SchemaStatementsAt(v, o, n) {
		if err := s.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if applied, err := sink.MigrateWith(ctx, s, v, o, sink.Migrations()[:n]); err != nil || !reflect.DeepEqual(applied, versionsFrom(1)[:n]) {
		t.Fatalf("record versions 1 to %d: %v %v", n, applied, err)
	}
}

// versionsFrom lists the migrations from version first to the newest.
func versionsFrom(first int) []int {
	var out []int
	for v := first; v <= sink.SchemaVersion(); v++ {
		out = append(out, v)
	}
	return out
}

// TestRealEmbeddedStorageUpgrade: an events table an older release created
// (the schema version before "embedded storage": ZSTD text columns, wide
// parts from 10 MB) with rows in
// it gets the embedded engine's storage from Migrate: LZ4 text columns and
// compact parts up to sink.EmbeddedWidePartBytes; the old rows read back
// unchanged, before and after a merge rewrites them.
func TestRealEmbeddedStorageUpgrade(t *testing.T) {
	s := mustOpen(t, eventsOptions(t))
	ctx := context.Background()
	v, o := s.Version(), s.Schema()
	if !o.Embedded {
		t.Fatal("the embedded store's schema is not Embedded")
	}
	prev := 0 // the version before the embedded storage
	for _, m := range sink.Migrations() {
		if m.Name == "embedded storage" {
			prev = m.Version - 1
		}
	}
	before := o
	before.Embedded = false
	eventsAtVersion(t, s, before, prev)
	// Today's writer inserts every column: add those of the migrations
	// after the embedded storage first (Migrate adds them again, IF NOT
	// EXISTS, which does nothing).
	for _, m := range sink.Migrations()[prev+1:] {
		for _, st := range m.Steps(v, before) {
			if st.Column == "" {
				continue
			}
			if err := s.Exec(ctx, st.SQL); err != nil {
				t.Fatalf("%s: %v", st.SQL, err)
			}
		}
	}
	old := eventsBatch(500, time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	if err := s.WriteBatch(ctx, old); err != nil {
		t.Fatal(err)
	}
	storage := func() string {
		rows, err := s.Query(ctx, "SELECT name, compression_codec FROM system.columns WHERE database = ? AND table = ? AND name IN ('attributes', 'error_message') ORDER BY name", databaseOf(o), sink.EventsTable)
		if err != nil {
			t.Fatal(err)
		}
		create, err := s.Query(ctx, "SELECT position(create_table_query, 'min_bytes_for_wide_part = 134217728') > 0 FROM system.tables WHERE database = ? AND name = ?", databaseOf(o), sink.EventsTable)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rows.Data, create.Data)
	}
	if got := storage(); got != "[[attributes CODEC(ZSTD(1))] [error_message CODEC(ZSTD(1))]] [[0]]" {
		t.Fatalf("before: %s", got)
	}
	applied, err := sink.Migrate(ctx, s, v, o)
	if err != nil || !reflect.DeepEqual(applied, versionsFrom(prev+1)) {
		t.Fatalf("upgrade applied %v, %v", applied, err)
	}
	if got := storage(); got != "[[attributes CODEC(LZ4)] [error_message CODEC(LZ4)]] [[1]]" {
		t.Fatalf("after: %s", got)
	}
	fresh := eventsBatch(500, time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC))
	if err := s.WriteBatch(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		rows, err := s.Query(ctx, "SELECT count(), uniqExact(id), sum(length(attributes)) FROM "+sink.EventsSource(o))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint([][]any{{uint64(1000), uint64(1000), uint64(1000 * len(old[0].Attributes))}})
		if got := fmt.Sprint(rows.Data); got != want {
			t.Fatalf("%s: %s, want %s", when, got, want)
		}
	}
	check("after the upgrade")
	if err := s.Exec(ctx, "OPTIMIZE TABLE "+o.Table(sink.EventsTable)+" FINAL"); err != nil {
		t.Fatal(err)
	}
	check("after a merge")
	rows, err := s.Query(ctx, "SELECT part_type, count() FROM system.parts WHERE database = ? AND table = ? AND active GROUP BY part_type", databaseOf(o), sink.EventsTable)
	if err != nil || fmt.Sprint(rows.Data) != "[[Compact 1]]" {
		t.Fatalf("parts after the merge: %v %v", rows, err)
	}
}

// TestRealTagsColumnUpgrade: a data directory at schema version 3 (before
// the tags column) with a session start in it is brought up to date by
// Migrate; the old row's tags are "" (the dashboard reads those from the
// attributes), a new start stores its tags as a flat object that
// visitParamExtractString reads, and other events store "".
func TestRealTagsColumnUpgrade(t *testing.T) {
	s, o := upgradedFrom(t, 3, "attributes", `'session.start', 'old', '{"tags":{"env":"prod"}}'`)
	ctx := context.Background()
	batch := eventsBatch(2, time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	batch[0].Name, batch[0].SessionID = sink.SessionStart, "new"
	batch[0].Attributes = json.RawMessage(`{"tools":[{"name":"t","input_schema":{"properties":{"tags":{}}}}],"tags":{"team":"blue","env":"dev"}}`)
	batch[1].SessionID = "new"
	if err := s.WriteBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Query(ctx, "SELECT session_id, name, tags, visitParamExtractString(tags, 'env') FROM "+sink.EventsSource(o)+" ORDER BY session_id, name")
	if err != nil {
		t.Fatal(err)
	}
	want := `[[new llm.call.finish  ] [new session.start {"env":"dev","team":"blue"} dev] [old session.start  ]]`
	if got := fmt.Sprint(rows.Data); got != want {
		t.Fatalf("tags after the upgrade:\n got %s\nwant %s", got, want)
	}
}
