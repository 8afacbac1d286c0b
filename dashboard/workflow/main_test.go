package workflow

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/sink/chdb"
	"github.com/cylestio/perimeter/sink/clickhouse"
	"github.com/cylestio/perimeter/sink/storetest"
)

// The tests run against real stores, never mocks: embedded chDB and a
// ClickHouse server, as sink/storetest finds them.

var (
	stores  = storetest.New("workflow", "WORKFLOW_TEST_CHDB_WORKER")
	engines = append(storetest.Engines[:len(storetest.Engines):len(storetest.Engines)], storetest.Cluster)
)

func init() {
	stores.EmbeddedOptions = func(o *chdb.Options) { o.InsertInterval = -1 }
}

func TestMain(m *testing.M) { stores.Main(m, nil) }

// openStore opens a fresh store of the named engine, or skips.
func openStore(tb testing.TB, engine string) Store { return stores.Open(tb, engine) }

func openEmbedded(tb testing.TB) *chdb.Store { return stores.Embedded(tb) }

func openServer(tb testing.TB) *clickhouse.Store { return stores.Server(tb) }

// openUnreachable is a server store pointed at a port nobody listens on.
func openUnreachable(tb testing.TB) *clickhouse.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := clickhouse.Open(ctx, clickhouse.Options{Addresses: []string{"127.0.0.1:1"}, Database: "nowhere",
		DialTimeout: time.Second, QueryTimeout: time.Second, Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
