// Package storetest opens real stores for other packages' integration
// tests, never mocks, and fills them with sessions (Sessions):
//
//   - embedded chDB: libchdb.so must be installed (make chdb). Missing, a
//     test skips loudly, or fails when PERIMETER_REQUIRE_CHDB is set (CI).
//     The test binary doubles as the engine's worker process (see Main).
//   - a ClickHouse cluster (Cluster): a private one of 2 shards × 2
//     replicas and a ZooKeeper (chtest.StartCluster), started once for the
//     run when PERIMETER_TEST_CLICKHOUSE is set and clickhouse-server is
//     installed (CI does both and installs zookeeper); otherwise the cluster
//     tests skip loudly, else a cluster that cannot start fails them. Stores write and read through
//     the Distributed table (storage.clickhouse.cluster).
//   - a ClickHouse server: PERIMETER_TEST_CLICKHOUSE=host:port (CI), else
//     127.0.0.1:9000 if something listens there, else a private
//     clickhouse-server (if installed, e.g. Debian's 18.16) started once
//     for the run, else skipped loudly. Each store gets its own database,
//     dropped at the test's cleanup.
//
// It is test infrastructure: the product never imports it.
package storetest

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

// The environment the tests read.
const (
	EnvRequireChdb = "PERIMETER_REQUIRE_CHDB"
	EnvClickHouse  = "PERIMETER_TEST_CLICKHOUSE"
)

// Engine names, as tests iterate over them.
const (
	Embedded = "embedded"
	Server   = "clickhouse"
	Cluster  = "cluster"
)

// Engines lists both engines; tests that also run on a cluster add
// Cluster.
var Engines = []string{Embedded, Server}

// Kit opens the stores of one test binary.
type Kit struct {
	name      string // "dashboard": temporary folders, databases and messages
	workerEnv string // set in the environment of the chDB worker process

	// EmbeddedOptions, when set, adjusts the options of embedded stores.
	EmbeddedOptions func(*chdb.Options)

	once sync.Once
	addr string
	why  string
	stop func()

	clusterOnce sync.Once
	cluster     *chtest.Cluster
	clusterWhy  string
}

// New returns the kit of the tests named name (a word: it prefixes
// folders and databases). workerEnv is the environment variable that
// marks the test binary started as chDB's worker.
func New(name, workerEnv string) *Kit {
	return &Kit{name: name, workerEnv: workerEnv, stop: func() {}}
}

// Main is the test binary's TestMain: it runs as chDB's worker when
// started as one, else runs the tests, then after (when set), then stops
// a private server, and exits.
func (k *Kit) Main(m *testing.M, after func()) {
	if os.Getenv(k.workerEnv) != "" {
		os.Exit(chdb.WorkerMain(workerFlags(os.Args)))
	}
	code := m.Run()
	if after != nil {
		after()
	}
	k.stop()
	if k.cluster != nil {
		k.cluster.Stop()
	}
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

// Banner writes msg to stderr where a skipped engine cannot be missed.
func Banner(msg string) {
	line := strings.Repeat("!", 78)
	fmt.Fprintf(os.Stderr, "\n%s\n!! %s\n%s\n\n", line, msg, line)
}

// Store is what both engines' stores offer tests: queries and writes,
// statements, and where the tables live.
type Store interface {
	sink.Store
	Exec(ctx context.Context, sql string) error
	Schema() sink.SchemaOptions
}

// Open opens a fresh store of the named engine, or skips.
func (k *Kit) Open(tb testing.TB, engine string) Store {
	switch engine {
	case Embedded:
		return k.Embedded(tb)
	case Cluster:
		return k.Cluster(tb)
	}
	return k.Server(tb)
}

// Embedded opens a chDB store in a temporary folder, or skips.
func (k *Kit) Embedded(tb testing.TB) *chdb.Store {
	tb.Helper()
	lib, err := chdb.FindLib("")
	if err != nil {
		if os.Getenv(EnvRequireChdb) != "" {
			tb.Fatalf("%s is set but: %v", EnvRequireChdb, err)
		}
		Banner(fmt.Sprintf("SKIPPING %s on embedded chDB: %v. Run `make chdb`; CI runs it.", tb.Name(), err))
		tb.Skip(err)
	}
	dir, err := os.MkdirTemp("", k.name+"-chdb-")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := chdb.Options{
		LibPath:       lib,
		Path:          dir,
		WorkerCommand: []string{"/usr/bin/env", k.workerEnv + "=1", "GORACE=atexit_sleep_ms=0", os.Args[0]},
		Logger:        zerolog.Nop(),
		MinBackoff:    100 * time.Millisecond,
		MaxBackoff:    time.Second,
	}
	if k.EmbeddedOptions != nil {
		k.EmbeddedOptions(&opts)
	}
	s, err := chdb.Open(ctx, opts)
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

// find finds or starts the ClickHouse server once per run.
func (k *Kit) find() {
	k.once.Do(func() {
		k.addr, k.stop, k.why = chtest.FindServer(k.name + " tests")
		if k.addr == "" && os.Getenv(EnvClickHouse) == "" {
			Banner("SKIPPING the " + k.name + "'s ClickHouse-server tests: " + k.why + "; install clickhouse-server or set " + EnvClickHouse + "=host:port")
		}
	})
}

// Server opens a store on the ClickHouse server in a fresh database
// (dropped at cleanup), or skips.
func (k *Kit) Server(tb testing.TB) *clickhouse.Store {
	tb.Helper()
	k.find()
	if k.addr == "" {
		if os.Getenv(EnvClickHouse) != "" {
			tb.Fatalf("ClickHouse required: %s", k.why)
		}
		tb.Skipf("SKIPPED (no ClickHouse server): %s", k.why)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	db := k.name + "_test_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := clickhouse.Open(ctx, clickhouse.Options{Addresses: []string{k.addr}, Database: db,
		DialTimeout: 5 * time.Second, QueryTimeout: 20 * time.Second, Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Connect(ctx); err != nil {
		tb.Fatalf("connect to %s: %v", k.addr, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.Exec(ctx, "DROP DATABASE IF EXISTS "+sink.Ident(db))
		_ = s.Close()
	})
	return s
}

// ClusterOf starts the kit's cluster once per run (or skips, or fails,
// as the package comment says) and returns it.
func (k *Kit) ClusterOf(tb testing.TB) *chtest.Cluster {
	tb.Helper()
	k.clusterOnce.Do(func() {
		if why := chtest.SkipCluster(); why != "" {
			k.clusterWhy = why
			Banner("SKIPPING the " + k.name + "'s ClickHouse cluster tests: " + k.clusterWhy)
			return
		}
		c, err := chtest.StartCluster(k.name+" tests", 2, 2)
		if err != nil {
			k.clusterWhy = "could not start a ClickHouse cluster: " + err.Error()
			return
		}
		k.cluster = c
	})
	if k.cluster == nil {
		if chtest.SkipCluster() == "" {
			tb.Fatalf("ClickHouse cluster required (%s is set): %s", EnvClickHouse, k.clusterWhy)
		}
		tb.Skipf("SKIPPED (no ClickHouse cluster): %s", k.clusterWhy)
	}
	return k.cluster
}

// Cluster opens a store in cluster mode on the kit's cluster in a fresh
// database (dropped ON CLUSTER at cleanup), or skips.
func (k *Kit) Cluster(tb testing.TB) *clickhouse.Store {
	tb.Helper()
	c := k.ClusterOf(tb)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	db := k.name + "_cluster_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := clickhouse.Open(ctx, clickhouse.Options{Addresses: c.Addrs(), Database: db, Cluster: c.Name,
		DialTimeout: 5 * time.Second, QueryTimeout: chtest.QueryTimeout, Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Connect(ctx); err != nil {
		tb.Fatalf("connect to cluster %s via %v: %v", c.Name, c.Addrs(), err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = s.Exec(ctx, "DROP DATABASE IF EXISTS "+sink.Ident(db)+" ON CLUSTER "+sink.Ident(c.Name))
		_ = s.Close()
	})
	return s
}
