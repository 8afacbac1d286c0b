package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/clickhouse/chtest"
)

// The integration tests need a real ClickHouse server (native protocol):
//
//   - PERIMETER_TEST_CLICKHOUSE=host:port: use that server; it must answer,
//     or every test fails (CI sets it after starting clickhouse-server).
//   - unset: use 127.0.0.1:9000 if something listens there, else start a
//     private clickhouse-server (if installed) on a free port in a temp
//     directory for the duration of the tests, else skip them, loudly.
//
// Each test works in its own database and drops it afterwards.

const envServer = chtest.EnvClickHouse

var (
	serverAddr string // "" when there is no server
	serverWhy  string // why not, for the skip message
)

func TestMain(m *testing.M) {
	stop := findServer()
	code := m.Run()
	stop()
	os.Exit(code)
}

func findServer() (stop func()) {
	serverAddr, stop, serverWhy = chtest.FindServer("clickhouse integration tests")
	if serverAddr == "" && os.Getenv(envServer) == "" {
		banner()
	}
	return stop
}

func banner() {
	line := strings.Repeat("!", 78)
	fmt.Fprintf(os.Stderr, "\n%s\n!! SKIPPING ClickHouse integration tests: %s\n!! Install clickhouse-server (apt-get install -y clickhouse-server) or set %s=host:port.\n%s\n\n",
		line, serverWhy, envServer, line)
}

// needServer returns the test server's address or skips (locally) / fails
// (when PERIMETER_TEST_CLICKHOUSE asked for one).
func needServer(t testing.TB) string {
	t.Helper()
	if serverAddr != "" {
		return serverAddr
	}
	if os.Getenv(envServer) != "" {
		t.Fatalf("ClickHouse required: %s", serverWhy)
	}
	t.Skipf("SKIPPED (no ClickHouse): %s", serverWhy)
	return ""
}

// testStore opens a store on the test server in a fresh database, dropped
// when the test ends.
func testStore(t testing.TB, mod func(*Options)) *Store {
	t.Helper()
	addr := needServer(t)
	s := openStore(t, Options{Addresses: []string{addr}, DialTimeout: 5 * time.Second, QueryTimeout: 20 * time.Second},
		"perimeter_test_", mod, 30*time.Second)
	t.Cleanup(func() { dropDatabase(addr, s.schema.Database) })
	return s
}

// openStore opens a store with o in a fresh database named prefix and a
// random suffix, changed by mod when set, connects it within timeout and
// closes it when the test ends.
func openStore(t testing.TB, o Options, prefix string, mod func(*Options), timeout time.Duration) *Store {
	t.Helper()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	o.Database = prefix + hex.EncodeToString(rnd[:])
	if mod != nil {
		mod(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Connect(ctx); err != nil {
		t.Fatalf("connect to %v (cluster %q): %v", o.Addresses, o.Cluster, err)
	}
	return s
}

// dropDatabase removes a test database over a connection of its own (the
// store may have been closed, or pointed through a proxy).
func dropDatabase(addr, db string) {
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}})
	if err != nil {
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+sink.Ident(db))
}
