package dashboard

import (
	"testing"

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

// openEmbedded opens a chDB store in a temporary directory, or skips.
func openEmbedded(tb testing.TB) *chdb.Store { return stores.Embedded(tb) }

// schemaOf is where a test store keeps its events.
func schemaOf(st sink.Store) sink.SchemaOptions {
	if s, ok := st.(interface{ Schema() sink.SchemaOptions }); ok {
		return s.Schema()
	}
	return sink.SchemaOptions{}
}
