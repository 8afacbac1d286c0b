// Package testenv holds what end-to-end tests of several commands share:
// the services they require (libchdb, a ClickHouse server), binaries built
// once per test binary, free ports, and event counts read back from a
// store. Test code only.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/chdb"
)

// RequireLibchdb returns libchdb's path, or skips the test loudly when it
// is not installed (fails when PERIMETER_REQUIRE_CHDB is set, as in CI).
func RequireLibchdb(t testing.TB) string {
	t.Helper()
	lib, err := chdb.FindLib("")
	if err != nil {
		if os.Getenv("PERIMETER_REQUIRE_CHDB") != "" {
			t.Fatalf("libchdb required but not found: %v", err)
		}
		bar := strings.Repeat("!", 78)
		fmt.Fprintf(os.Stderr, "\n%s\n!! SKIPPING %s: libchdb not installed (%v); run make chdb\n%s\n\n", bar, t.Name(), err, bar)
		t.Skipf("SKIPPED LOUDLY: libchdb not installed (%v); run make chdb", err)
	}
	return lib
}

// RequireClickHouse returns the shared ClickHouse server's address, or
// skips the test loudly when PERIMETER_TEST_CLICKHOUSE is not set.
func RequireClickHouse(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("PERIMETER_TEST_CLICKHOUSE")
	if addr == "" {
		t.Skip("SKIPPED LOUDLY: PERIMETER_TEST_CLICKHOUSE is not set (CI sets it after starting clickhouse-server)")
	}
	return addr
}

// Build compiles the package pkg (an import path or ./dir) into dir/name
// and returns the binary's path.
func Build(dir, name, pkg string) (string, error) {
	bin := dir + "/" + name
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// Binary is a command a test binary builds once: the package Pkg (an
// import path or ./dir) compiled as Name, its path stored in *Path.
type Binary struct {
	Path      *string
	Name, Pkg string
}

// Main is a TestMain that builds bins into a temporary folder, runs the
// tests and removes the folder; a failed build ends the test binary with
// the compiler's output.
func Main(m *testing.M, bins ...Binary) {
	dir, err := os.MkdirTemp("", "perimeter-e2e")
	if err != nil {
		panic(err)
	}
	for _, b := range bins {
		if *b.Path, err = Build(dir, b.Name, b.Pkg); err != nil {
			os.RemoveAll(dir)
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// CountEvents returns the events of table by name, read with the store's
// deduplication, and fails the test when an event was stored twice.
func CountEvents(t testing.TB, st sink.Store, table string) map[string]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rows, err := st.Query(ctx, "SELECT name, count() AS n, uniqExact(id) AS u FROM "+table+" GROUP BY name")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows.Data {
		n, u := ToInt(r[1]), ToInt(r[2])
		if n != u {
			t.Fatalf("%v: %d rows for %d distinct ids: an event was stored twice", r[0], n, u)
		}
		out[fmt.Sprint(r[0])] = n
	}
	return out
}

// ToInt reads an integer cell of a query result (-1 when it is none).
func ToInt(v any) int64 {
	switch x := v.(type) {
	case uint64:
		return int64(x)
	case int64:
		return x
	}
	return -1
}
