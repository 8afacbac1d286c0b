package workflow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/chdb"
	"github.com/cylestio/perimeter/sink/clickhouse"
	"github.com/cylestio/perimeter/sink/clickhouse/chtest"
)

// The tests run against real stores, never mocks:
//
//   - embedded chDB: libchdb.so must be installed (make chdb). Missing, the
//     tests skip loudly, or fail when PERIMETER_REQUIRE_CHDB is set (CI).
//     The test binary doubles as the engine's worker process.
//   - a ClickHouse server: PERIMETER_TEST_CLICKHOUSE=host:port (CI), else
//     127.0.0.1:9000 if something listens there, else a private
//     clickhouse-server (if installed, e.g. Debian's 18.16) started for the
//     run, else skipped loudly. Each store gets its own database.

const (
	testWorkerEnv  = "WORKFLOW_TEST_CHDB_WORKER"
	envRequireChdb = "PERIMETER_REQUIRE_CHDB"
	envClickHouse  = "PERIMETER_TEST_CLICKHOUSE"
	engineEmbedded = "embedded"
	engineServer   = "clickhouse"
)

var engines = []string{engineEmbedded, engineServer}

func TestMain(m *testing.M) {
	if os.Getenv(testWorkerEnv) != "" {
		os.Exit(chdb.WorkerMain(workerFlags(os.Args)))
	}
	code := m.Run()
	chServer.stop()
	os.Exit(code)
}

func workerFlags(args []string) []string {
	for i, a := range args {
		if a == "--" {
			return args[i+1:]
		}
	}
	return nil
}

func banner(msg string) {
	line := strings.Repeat("!", 78)
	fmt.Fprintf(os.Stderr, "\n%s\n!! %s\n%s\n\n", line, msg, line)
}

// openStore opens a fresh store of the named engine, or skips.
func openStore(tb testing.TB, engine string) Store {
	if engine == engineEmbedded {
		return openEmbedded(tb)
	}
	return openServer(tb)
}

func openEmbedded(tb testing.TB) *chdb.Store {
	tb.Helper()
	lib, err := chdb.FindLib("")
	if err != nil {
		if os.Getenv(envRequireChdb) != "" {
			tb.Fatalf("%s is set but: %v", envRequireChdb, err)
		}
		banner(fmt.Sprintf("SKIPPING %s on embedded chDB: %v. Run `make chdb`; CI runs it.", tb.Name(), err))
		tb.Skip(err)
	}
	dir, err := os.MkdirTemp("", "workflow-chdb-")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, err := chdb.Open(ctx, chdb.Options{
		LibPath:        lib,
		Path:           dir,
		WorkerCommand:  []string{"/usr/bin/env", testWorkerEnv + "=1", "GORACE=atexit_sleep_ms=0", os.Args[0]},
		Logger:         zerolog.Nop(),
		MinBackoff:     100 * time.Millisecond,
		MaxBackoff:     time.Second,
		InsertInterval: -1,
	})
	if err != nil {
		s.Close()
		os.RemoveAll(dir)
		tb.Fatalf("embedded store: %v", err)
	}
	tb.Cleanup(func() {
		s.Close()
		os.RemoveAll(dir)
	})
	return s
}

// server finds or starts the ClickHouse server once per run.
type server struct {
	once sync.Once
	addr string
	why  string
	stop func()
}

var chServer = &server{stop: func() {}}

func (s *server) find() {
	s.once.Do(func() {
		if addr := os.Getenv(envClickHouse); addr != "" {
			if err := chtest.WaitPort(addr, 5*time.Second); err != nil {
				s.why = fmt.Sprintf("%s=%s but nothing answers there: %v", envClickHouse, addr, err)
				return
			}
			s.addr = addr
			return
		}
		if chtest.WaitPort("127.0.0.1:9000", 300*time.Millisecond) == nil {
			s.addr = "127.0.0.1:9000"
			return
		}
		addr, stop, err := chtest.StartPrivate("workflow tests")
		if err != nil {
			s.why = "no ClickHouse on 127.0.0.1:9000 and could not start one: " + err.Error()
			banner("SKIPPING the workflow's ClickHouse-server tests: " + s.why + "; install clickhouse-server or set " + envClickHouse + "=host:port")
			return
		}
		s.addr, s.stop = addr, stop
	})
}

func openServer(tb testing.TB) *clickhouse.Store {
	tb.Helper()
	chServer.find()
	if chServer.addr == "" {
		if os.Getenv(envClickHouse) != "" {
			tb.Fatalf("ClickHouse required: %s", chServer.why)
		}
		tb.Skipf("SKIPPED (no ClickHouse server): %s", chServer.why)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	db := "workflow_test_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := clickhouse.Open(ctx, clickhouse.Options{Addresses: []string{chServer.addr}, Database: db,
		DialTimeout: 5 * time.Second, QueryTimeout: 20 * time.Second, Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Connect(ctx); err != nil {
		tb.Fatalf("connect to %s: %v", chServer.addr, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.Exec(ctx, "DROP DATABASE IF EXISTS "+sink.Ident(db))
		_ = s.Close()
	})
	return s
}

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
