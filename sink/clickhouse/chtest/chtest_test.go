package chtest_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/cylestio/perimeter/sink/clickhouse/chtest"
)

// TestKillAndRestartKeepData: a killed server stops answering at once, and
// the restarted one answers on the same address with the data it had.
func TestKillAndRestartKeepData(t *testing.T) {
	srv, err := chtest.Start("chtest")
	if errors.Is(err, chtest.ErrNotInstalled) && os.Getenv("PERIMETER_TEST_CLICKHOUSE") == "" {
		t.Skip("SKIPPED LOUDLY: clickhouse-server is not installed (apt-get install -y clickhouse-server)")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	count := func() (uint64, error) {
		conn, err := ch.Open(&ch.Options{Addr: []string{srv.Addr}, DialTimeout: time.Second})
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var n uint64
		err = conn.QueryRow(ctx, "SELECT count() FROM default.t").Scan(&n)
		return n, err
	}
	conn, err := ch.Open(&ch.Options{Addr: []string{srv.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, q := range []string{
		"CREATE TABLE default.t (x UInt64) ENGINE = MergeTree ORDER BY x",
		"INSERT INTO default.t SELECT number FROM system.numbers LIMIT 1234",
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	if n, err := count(); n != 1234 || err != nil {
		t.Fatalf("before the kill: %d rows, %v", n, err)
	}

	pid := srv.PID()
	srv.Kill()
	if srv.PID() != 0 {
		t.Fatal("PID after Kill")
	}
	if c, err := net.DialTimeout("tcp", srv.Addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after Kill", srv.Addr)
	}
	if _, err := count(); err == nil {
		t.Fatal("a query succeeded on a killed server")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if p := srv.PID(); p == 0 || p == pid {
		t.Fatalf("pid %d after restart (was %d)", p, pid)
	}
	if err := srv.Restart(); err == nil {
		t.Fatal("Restart of a running server succeeded")
	}
	if n, err := count(); n != 1234 || err != nil {
		t.Fatalf("after the restart: %d rows, %v", n, err)
	}
}
