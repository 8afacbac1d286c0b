package clickhouse_test

import (
	"context"
	"time"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/clickhouse"
)

// The wiring cmd/perimeter does for storage.engine: clickhouse.
func Example() {
	cfg := configs.Default().Storage
	ctx := context.Background()

	store, err := clickhouse.Open(ctx, clickhouse.OptionsFromConfig(cfg))
	if err != nil {
		panic(err) // bad options only; a server that is down shows in store.Status()
	}
	p, err := sink.NewPipeline(sink.OptionsFromConfig(cfg), store)
	if err != nil {
		panic(err)
	}

	// The proxy: never blocks.
	p.Publish(&sink.Event{ID: sink.NewID(), Time: time.Now().UTC(), Name: sink.SessionStart, SessionID: "s1"})

	// The dashboard: deduplicated aggregates through EventsSource.
	_, _ = store.Query(ctx, "SELECT agent_id, count() FROM "+sink.EventsSource(store.Schema())+" GROUP BY agent_id")

	// /metrics
	_ = p.Metrics()

	// Shutdown: drains the queues into ClickHouse (or to the spill
	// directory if the deadline passes first) and closes the store.
	shutdown, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = p.Close(shutdown)
}
