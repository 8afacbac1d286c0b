package clickhouse

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/cylestio/perimeter/sink"
)

// costBatch is one session of priced calls (one cut), one of unpriced
// calls, one call without usage and a tool event (no cost at all).
func costBatch() []*sink.Event {
	var out []*sink.Event
	add := func(session, status string, cost float64) {
		e := testEvent(len(out))
		e.SessionID, e.CostStatus, e.CostUSD = session, status, cost
		out = append(out, e)
	}
	add("sess-a", sink.CostPriced, 0.5)
	add("sess-a", sink.CostPartial, 0.25)
	add("sess-b", sink.CostUnpriced, 0)
	add("sess-b", sink.CostUnpriced, 0)
	add("sess-c", sink.CostNoUsage, 0)
	add("sess-d", "", 0)
	out[len(out)-1].Name = sink.ToolExecution
	return out
}

// wantCostRows is what costQuery returns for costBatch plus the row stored
// before the upgrade (session "old"): cost sums of priced calls only, NULL
// where a session has none, never 0.
var wantCostRows = [][]any{
	{"old", nil, uint64(0), ""},
	{"sess-a", 0.75, uint64(2), "partial,priced"},
	{"sess-b", nil, uint64(0), "unpriced"},
	{"sess-c", nil, uint64(0), "no_usage"},
	{"sess-d", nil, uint64(0), ""},
}

func costQuery(o sink.SchemaOptions) string {
	return "SELECT session_id, sum(cost_usd), count(cost_usd), arrayStringConcat(arraySort(groupUniqArray(cost_status)), ',')" +
		" FROM " + sink.EventsSource(o) + " GROUP BY session_id ORDER BY session_id"
}

// A table of schema version 2 (before the cost columns), with a row in
// it, is brought up to date by Migrate; the old row has no cost and new
// rows store theirs.
func TestCostColumnsUpgrade(t *testing.T) {
	s := testStore(t, nil)
	v, o := s.Version(), s.schema
	for _, tbl := range []string{sink.EventsTable, sink.MigrationsTable} {
		if err := s.Exec(ctxT(t), "DROP TABLE "+o.Table(tbl)); err != nil {
			t.Fatal(err)
		}
	}
	for _, stmt := range sink.SchemaStatementsAt(v, o, 2) {
		if err := s.Exec(ctxT(t), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if applied, err := sink.MigrateWith(ctxT(t), execer{s}, v, o, sink.Migrations()[:2]); err != nil || !reflect.DeepEqual(applied, []int{1, 2}) {
		t.Fatalf("record versions 1, 2: %v %v", applied, err)
	}
	old := "INSERT INTO " + o.Table(sink.EventsTable) + " (id, date, ts, ts_us, name, session_id, model, input_tokens, output_tokens)" +
		" SELECT toUUID('00000000-0000-0000-0000-0000000000aa'), toDate('2026-02-03'), toDateTime(1770091506), 1770091506000000, 'llm.call.finish', 'old', 'gpt-4o', 10, 5"
	if err := s.Exec(ctxT(t), old); err != nil {
		t.Fatal(err)
	}
	applied, err := sink.Migrate(ctxT(t), execer{s}, v, o)
	if err != nil || !reflect.DeepEqual(applied, versionsFrom(3)) {
		t.Fatalf("upgrade applied %v, %v", applied, err)
	}
	if typ := scalar(t, s, "SELECT type FROM system.columns WHERE database = ? AND table = ? AND name = 'cost_usd'", o.Database, sink.EventsTable); typ != "Nullable(Float64)" {
		t.Fatalf("cost_usd is %v", typ)
	}
	batch := costBatch()
	for _, e := range batch {
		e.InstanceID = "proxy-a:4000"
	}
	if err := s.WriteBatch(ctxT(t), batch); err != nil {
		t.Fatal(err)
	}
	r, err := s.Query(ctxT(t), costQuery(o))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.Data) != fmt.Sprint(wantCostRows) {
		t.Fatalf("per session cost:\n got %v\nwant %v", r.Data, wantCostRows)
	}
	// Migration 6: rows stored before it have no instance id, new ones
	// theirs.
	r, err = s.Query(ctxT(t), "SELECT session_id, any(instance_id) FROM "+sink.EventsSource(o)+" WHERE session_id IN ('old', 'sess-a') GROUP BY session_id ORDER BY session_id")
	if err != nil || fmt.Sprint(r.Data) != "[[old ] [sess-a proxy-a:4000]]" {
		t.Fatalf("instance ids: %v %v", r, err)
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
