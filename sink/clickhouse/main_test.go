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

const envServer = "PERIMETER_TEST_CLICKHOUSE"

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
	stop = func() {}
	if addr := os.Getenv(envServer); addr != "" {
		serverAddr = addr
		if err := waitPort(addr, 2*time.Second); err != nil {
			serverWhy = fmt.Sprintf("%s=%s but nothing answers there: %v", envServer, addr, err)
			serverAddr = ""
		}
		return stop
	}
	if waitPort("127.0.0.1:9000", 300*time.Millisecond) == nil {
		serverAddr = "127.0.0.1:9000"
		return stop
	}
	addr, stopServer, err := startPrivateServer()
	if err != nil {
		serverWhy = "no ClickHouse on 127.0.0.1:9000 and could not start one: " + err.Error()
		banner()
		return stop
	}
	serverAddr = addr
	return stopServer
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

func waitPort(addr string, d time.Duration) error { return chtest.WaitPort(addr, d) }

func startPrivateServer() (string, func(), error) {
	return chtest.StartPrivate("clickhouse integration tests")
}

// testStore opens a store on the test server in a fresh database, dropped
// when the test ends.
func testStore(t testing.TB, mod func(*Options)) *Store {
	t.Helper()
	addr := needServer(t)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	o := Options{
		Addresses:    []string{addr},
		Database:     "perimeter_test_" + hex.EncodeToString(rnd[:]),
		DialTimeout:  5 * time.Second,
		QueryTimeout: 20 * time.Second,
	}
	if mod != nil {
		mod(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(ctx); err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		dropDatabase(addr, s.schema.Database)
	})
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
