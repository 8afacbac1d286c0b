package chdb

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
)

// eventsOptions is realOptions with the production schema and renderer.
func eventsOptions(tb testing.TB) Options {
	o := realOptions(tb)
	o.Setup, o.Insert = nil, nil
	return o
}

func eventsBatch(n int, base time.Time) []*sink.Event {
	b := make([]*sink.Event, n)
	for i := range b {
		b[i] = &sink.Event{
			ID: sink.NewID(), Time: base.Add(time.Duration(i) * time.Millisecond), Name: sink.LLMCallFinish, Level: sink.LevelInfo,
			TraceID: fmt.Sprintf("%032x", i%50), SpanID: fmt.Sprintf("%016x", i), SessionID: "sess-" + strconv.Itoa(i%50), AgentID: "agent-" + strconv.Itoa(i%5),
			Vendor: "openai", Model: "gpt-4o-mini", Status: 200, DurationMs: float64(i%300) + 0.25,
			InputTokens: int64(i % 100), OutputTokens: 7, TotalTokens: int64(i%100) + 7,
			ToolName: "get_weather", FinishReason: "stop", RiskScore: 1.5,
			Attributes: json.RawMessage(`{"llm.request.model":"gpt-4o-mini","note":"it's \\"quoted\\"\ttab"}`),
		}
	}
	return b
}

// TestRealEventsSchema: the default Setup migrates the events schema, the
// default Insert stores sink events, a batch stored twice (a retry) counts
// once through sink.EventsSource, and after kill -9 the schema setup runs
// again harmlessly and every event is still there.
func TestRealEventsSchema(t *testing.T) {
	s := mustOpen(t, eventsOptions(t))
	ctx := context.Background()
	rows, err := s.Query(ctx, "SELECT max(version) FROM "+sink.SchemaOptions{}.Table(sink.MigrationsTable))
	if err != nil || fmt.Sprint(rows.Data) != fmt.Sprintf("[[%d]]", sink.SchemaVersion()) {
		t.Fatalf("migrations: %v, %v", rows, err)
	}
	batch := eventsBatch(1000, time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	for range 2 {
		if err := s.WriteBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		rows, err := s.Query(ctx, "SELECT count(), sum(input_tokens), uniqExact(session_id), min(ts), any(attributes) FROM "+sink.EventsSource(sink.SchemaOptions{})+" WHERE agent_id = ?", "agent-3")
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		var tokens int64
		for i := 3; i < 1000; i += 5 {
			tokens += int64(i % 100)
		}
		got := rows.Data[0]
		if got[0] != uint64(200) || got[1] != tokens || got[2] != uint64(10) || !got[3].(time.Time).Equal(batch[3].Time.Truncate(time.Second)) || got[4] != string(batch[0].Attributes) {
			t.Fatalf("%s: %v (want 200 events, %d tokens, 10 sessions, %s)", when, got, tokens, batch[3].Time)
		}
	}
	check("stored twice")
	pid := workerPID(s)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	testkit.WaitFor(t, 60*time.Second, "a new worker", func() bool { p := workerPID(s); return p != 0 && p != pid })
	check("after kill -9")
}

// BenchmarkRealInsertEvents is BenchmarkRealInsert with the production
// events schema (25 columns, ReplacingMergeTree) and renderer.
func BenchmarkRealInsertEvents(b *testing.B) {
	benchInsert(b, eventsOptions, func(n int) []*sink.Event { return eventsBatch(n, time.Now()) })
}

// BenchmarkRealQueryEvents: a dashboard's per-agent totals (requests,
// tokens, errors, p50/p99 latency, last activity) over 100,000 events read
// through sink.EventsSource (FINAL, deduplicating).
func BenchmarkRealQueryEvents(b *testing.B) {
	s := benchStore(b, eventsOptions(b))
	ctx := context.Background()
	for i := range 10 {
		if err := s.WriteBatch(ctx, eventsBatch(10000, time.Now().Add(time.Duration(i)*time.Minute))); err != nil {
			b.Fatal(err)
		}
	}
	q := "SELECT agent_id, count() AS requests, sum(total_tokens) AS tokens, countIf(status >= 400) AS errors," +
		" quantile(0.5)(duration_ms) AS p50, quantile(0.99)(duration_ms) AS p99, max(ts) AS last" +
		" FROM " + sink.EventsSource(s.Schema()) + " WHERE name = ? GROUP BY agent_id ORDER BY requests DESC"
	for b.Loop() {
		rows, err := s.Query(ctx, q, sink.LLMCallFinish)
		if err != nil || len(rows.Data) != 5 {
			b.Fatal(rows, err)
		}
	}
}

// oddEvents are events at the edges of every column's range: text that
// needs escaping or is not UTF-8, NaN and infinities, times before 1970
// and past 2106, statuses past UInt16, no attributes, priced and not.
func oddEvents() []*sink.Event {
	base := eventsBatch(3, time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.UTC))
	odd := []*sink.Event{
		{ID: sink.NewID(), Time: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), Status: 70000, DurationMs: math.NaN(), RiskScore: float32(math.Inf(1)), CostUSD: math.Inf(-1), CostStatus: sink.CostPriced},
		{ID: sink.NewID(), Time: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), Status: -1, InputTokens: -5, CacheWrite: math.MinInt64, CostStatus: sink.CostUnpriced},
		{ID: [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}, Time: time.Unix(0, 999), Name: "it's \\ 'quoted'\x00\n\n\t", SessionID: "sess-ü\xff\xfe", ErrorMessage: strings.Repeat("\n", 40), Attributes: json.RawMessage("{\"a\":\"b'c\\n\"}\n\n"), CostUSD: 0.000125, CostStatus: sink.CostPartial},
	}
	return append(base, odd...)
}

// TestRealNativeInsertMatchesValues: the default insert (Native through
// chDB's streaming INSERT) stores exactly what VALUES text stores, column
// for column, for ordinary and odd events.
func TestRealNativeInsertMatchesValues(t *testing.T) {
	s := mustOpen(t, eventsOptions(t))
	ctx := context.Background()
	events := sink.SchemaOptions{}.Table(sink.EventsTable)
	viaValues := sink.SchemaOptions{}.Table("events_values")
	if err := s.Exec(ctx, "CREATE TABLE "+viaValues+" AS "+events); err != nil {
		t.Fatal(err)
	}
	batch := oddEvents()
	if err := s.WriteBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	q := strings.Replace(string(s.insertValues(nil, batch)), events, viaValues, 1)
	if err := s.Exec(ctx, q); err != nil {
		t.Fatal(err)
	}
	read := func(table string) string {
		rows, err := s.Query(ctx, "SELECT toString(id), * FROM "+table+" ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows.Data) != len(batch) {
			t.Fatalf("%s: %d rows, want %d", table, len(rows.Data), len(batch))
		}
		return fmt.Sprint(rows.Types, rows.Data)
	}
	native, values := read(events), read(viaValues)
	if native != values {
		t.Fatalf("Native stored\n%s\nVALUES stored\n%s", native, values)
	}
	odd := batch[len(batch)-1]
	rows, err := s.Query(ctx, "SELECT toString(id), name, session_id, attributes, cost_usd FROM "+events+" WHERE id = ?", string(sink.AppendUUID(nil, odd.ID)))
	if err != nil || len(rows.Data) != 1 {
		t.Fatalf("odd row by id: %v, %v", rows, err)
	}
	if got := rows.Data[0]; got[0] != "01234567-89ab-cdef-fedc-ba9876543210" || got[1] != odd.Name || got[2] != odd.SessionID || got[3] != string(odd.Attributes) || got[4] != 0.000125 {
		t.Fatalf("odd row: %q", got)
	}
}
