package chdb

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
)

// The explorer runs on a lane of its own: a read answers while an
// explorer statement is still running.
func TestExplorerLaneDoesNotHoldReads(t *testing.T) {
	s := mustOpen(t, fakeOptions(t, "fake"))
	readBesideExplorer(t, s, "SLEEP 4s", "STATE")
}

// readBesideExplorer starts the explorer statement stmt, runs the read
// once the worker has stmt, and requires the read to answer while stmt
// is still running, and stmt to succeed after.
func readBesideExplorer(t *testing.T, s *Store, stmt, read string) {
	t.Helper()
	ctx := context.Background()
	explored := make(chan error, 1)
	go func() {
		_, err := s.QueryExplorer(ctx, stmt, 0)
		explored <- err
	}()
	testkit.WaitFor(t, 10*time.Second, "the explorer statement to reach the worker", func() bool { return exploring(s) == 1 })
	if _, err := s.Query(ctx, read); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-explored:
		t.Fatalf("the read waited for the explorer statement (which ended: %v)", err)
	default:
	}
	if err := <-explored; err != nil {
		t.Fatal(err)
	}
}

func TestExplorerByteLimit(t *testing.T) {
	s := mustOpen(t, fakeOptions(t, "fake"))
	ctx := context.Background()
	rows, err := s.QueryExplorer(ctx, "ROWS 1000 100", 0)
	if err != nil || len(rows.Data) != 1000 || rows.Truncated != "" {
		t.Fatalf("no limit: %d rows, truncated %q, %v", len(rows.Data), rows.Truncated, err)
	}
	const limit = 10_000
	rows, err = s.QueryExplorer(ctx, "ROWS 1000 100", limit)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, r := range rows.Data {
		size += sink.RowSize(r)
	}
	// Each row costs 100 + 16 + 24 bytes: 71 fit.
	if len(rows.Data) != limit/140 || size > limit || !strings.Contains(rows.Truncated, "larger than") {
		t.Fatalf("limit %d: %d rows of %d bytes, truncated %q", limit, len(rows.Data), size, rows.Truncated)
	}
	// A result the limit holds is whole.
	rows, err = s.QueryExplorer(ctx, "ROWS 10 100", limit)
	if err != nil || len(rows.Data) != 10 || rows.Truncated != "" {
		t.Fatalf("small result: %d rows, truncated %q, %v", len(rows.Data), rows.Truncated, err)
	}
}

func TestCutRows(t *testing.T) {
	out := []byte("a\tb\nString\tString\nxx\tyy\nzz\tww\n")
	for _, tt := range []struct {
		limit uint64
		want  string
	}{
		{1, "a\tb\nString\tString\n"},
		{18, "a\tb\nString\tString\n"},
		{24, "a\tb\nString\tString\nxx\tyy\n"},
		{29, "a\tb\nString\tString\nxx\tyy\n"},
		{30, string(out)},
	} {
		if got := string(cutRows(out, tt.limit)); got != tt.want {
			t.Errorf("cutRows(%d) = %q, want %q", tt.limit, got, tt.want)
		}
	}
}

// On the real engine: the explorer connection is read-only like the read
// connection, runs beside it, and its results are cut at the byte limit.
func TestRealExplorer(t *testing.T) {
	s := mustOpen(t, realOptions(t))
	ctx := context.Background()
	if _, err := s.QueryExplorer(ctx, "CREATE TABLE x (a UInt8) ENGINE = Memory", 0); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("DDL on the explorer connection: %v", err)
	}
	rows, err := s.QueryExplorer(ctx, "SELECT number, repeat('x', 100) AS s FROM numbers(100000)", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, r := range rows.Data {
		size += sink.RowSize(r)
	}
	if rows.Truncated == "" || size > 1<<20 || len(rows.Data) < 1000 || rows.Data[999][0] != uint64(999) {
		t.Fatalf("1 MiB limit: %d rows of %d bytes, truncated %q", len(rows.Data), size, rows.Truncated)
	}
	rows, err = s.QueryExplorer(ctx, "SELECT count() FROM numbers(1000)", 1<<20)
	if err != nil || rows.Truncated != "" || rows.Data[0][0] != uint64(1000) {
		t.Fatalf("small result: %+v, %v", rows, err)
	}
	// A result of many blocks is read until the limit and no further: the
	// rows that came are whole and in order, and the connection is clean
	// for the next statement.
	rows, err = s.QueryExplorer(ctx, "SELECT number FROM numbers(10000000) SETTINGS max_block_size = 1000", 1<<20)
	if err != nil {
		t.Fatalf("many blocks: %v", err)
	}
	if rows.Truncated == "" || len(rows.Data) < 20000 {
		t.Fatalf("many blocks: %d rows, truncated %q", len(rows.Data), rows.Truncated)
	}
	for i, r := range rows.Data {
		if r[0] != uint64(i) {
			t.Fatalf("many blocks: row %d is %v", i, r[0])
		}
	}
	rows, err = s.QueryExplorer(ctx, "SELECT 42 AS answer", 1<<20)
	if err != nil || fmt.Sprint(rows.Columns, rows.Data) != "[answer] [[42]]" || rows.Truncated != "" {
		t.Fatalf("after a cut result: %+v, %v", rows, err)
	}
	// A result far larger than the engine's memory limit for a statement
	// (but in blocks that fit, as reads of a table are) is cut, not
	// refused: the engine stops producing it at the limit.
	rows, err = s.QueryExplorer(ctx, "SELECT repeat('x', 100000) FROM numbers(20000) SETTINGS max_block_size = 100", 16<<20)
	if err != nil || rows.Truncated == "" || len(rows.Data) < 100 {
		t.Fatalf("2 GB result: %v", err)
	}
	// A statement failing half-way is its error, and leaves nothing behind.
	_, err = s.QueryExplorer(ctx, "SELECT number, throwIf(number = 300000, 'boom') FROM numbers(1000000) SETTINGS max_block_size = 1000", 64<<20)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("failing half-way: %v", err)
	}
	rows, err = s.QueryExplorer(ctx, "SELECT 42 AS answer", 1<<20)
	if err != nil || fmt.Sprint(rows.Columns, rows.Data) != "[answer] [[42]]" {
		t.Fatalf("after a failed statement: %+v, %v", rows, err)
	}

	// A slow explorer statement does not hold the read connection.
	readBesideExplorer(t, s, "SELECT sleepEachRow(1) FROM numbers(3) SETTINGS max_block_size = 1", "SELECT 1")
}

// exploring is the number of explorer statements the worker has not
// answered yet.
func exploring(s *Store) int {
	s.mu.Lock()
	p := s.cur
	s.mu.Unlock()
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lanes[laneExplore].outstanding
}
