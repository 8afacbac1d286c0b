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

// TestRealTagsColumnUpgrade: a data directory at schema version 3 (before
// the tags column) with a session start in it is brought up to date by
// Migrate; the old row's tags are "" (the dashboard reads those from the
// attributes), a new start stores its tags as a flat object that
// visitParamExtractString reads, and other events store "".
func TestRealTagsColumnUpgrade(t *testing.T) {
	s := mustOpen(t, eventsOptions(t))
	ctx := context.Background()
	v, o := s.Version(), s.Schema()
	for _, tbl := range []string{sink.EventsTable, sink.MigrationsTable} {
		if err := s.Exec(ctx, "DROP TABLE "+o.Table(tbl)); err != nil {
			t.Fatal(err)
		}
	}
	for _, stmt := range sink.SchemaStatementsAt(v, o, 3) {
		if err := s.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if applied, err := sink.MigrateWith(ctx, s, v, o, sink.Migrations()[:3]); err != nil || !reflect.DeepEqual(applied, []int{1, 2, 3}) {
		t.Fatalf("record versions 1-3: %v %v", applied, err)
	}
	old := "INSERT INTO " + o.Table(sink.EventsTable) + " (id, date, ts, ts_us, name, session_id, attributes)" +
		` SELECT toUUID('00000000-0000-0000-0000-0000000000aa'), toDate('2026-05-01'), toDateTime(1777629600), 1777629600000000, 'session.start', 'old', '{"tags":{"env":"prod"}}'`
	if err := s.Exec(ctx, old); err != nil {
		t.Fatal(err)
	}
	applied, err := sink.Migrate(ctx, s, v, o)
	if err != nil || !reflect.DeepEqual(applied, versionsFrom(4)) {
		t.Fatalf("upgrade applied %v, %v", applied, err)
	}
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
