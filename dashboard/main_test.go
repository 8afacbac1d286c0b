package dashboard

import (
	"context"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/chdb"
	"github.com/cylestio/perimeter/sink/storetest"
)

// The API tests run against real stores, never mocks: embedded chDB and a
// ClickHouse server, as sink/storetest finds them.

var stores = storetest.New("dashboard", "DASHBOARD_TEST_CHDB_WORKER")

const (
	engineEmbedded = storetest.Embedded
	engineServer   = storetest.Server
)

var engines = append(storetest.Engines[:len(storetest.Engines):len(storetest.Engines)], storetest.Cluster)

func TestMain(m *testing.M) { stores.Main(m, sharedCleanups.run) }

// openStore opens a fresh store of the named engine, or skips.
func openStore(tb testing.TB, engine string) sink.Store { return stores.Open(tb, engine) }

// eachEngine runs test as a subtest on every engine.
func eachEngine(t *testing.T, test func(t *testing.T, engine string)) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { test(t, engine) })
	}
}

// storeWith opens a fresh store of the named engine holding events, or
// skips.
func storeWith(tb testing.TB, engine string, events []*sink.Event) sink.Store {
	tb.Helper()
	st := openStore(tb, engine)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.WriteBatch(ctx, events); err != nil {
		tb.Fatal(err)
	}
	return st
}

// openEmbedded opens a chDB store in a temporary directory, or skips.
func openEmbedded(tb testing.TB) *chdb.Store { return stores.Embedded(tb) }

// schemaOf is where a test store keeps its events.
func schemaOf(st sink.Store) sink.SchemaOptions {
	if s, ok := st.(interface{ Schema() sink.SchemaOptions }); ok {
		return s.Schema()
	}
	return sink.SchemaOptions{}
}
