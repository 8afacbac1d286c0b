package clickhouse

import (
	"strings"
	"testing"

	"github.com/cylestio/perimeter/sink"
)

func TestQueryExplorerByteLimit(t *testing.T) {
	s := testStore(t, nil)
	const limit = 1 << 20
	rows, err := s.QueryExplorer(ctxT(t), "SELECT number, '"+strings.Repeat("x", 100)+"' AS s FROM system.numbers LIMIT 50000", limit)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, r := range rows.Data {
		size += sink.RowSize(r)
	}
	// A row costs 24 + (16+8) + (16+100) bytes: 6393 fit in 1 MiB.
	if len(rows.Data) != limit/164 || size > limit || !strings.Contains(rows.Truncated, "larger than 1 MiB") || rows.Data[6000][0] != uint64(6000) {
		t.Fatalf("1 MiB limit: %d rows of %d bytes, truncated %q", len(rows.Data), size, rows.Truncated)
	}
	rows, err = s.QueryExplorer(ctxT(t), "SELECT count() FROM (SELECT number FROM system.numbers LIMIT 1000)", limit)
	if err != nil || rows.Truncated != "" || len(rows.Data) != 1 {
		t.Fatalf("small result: %+v, %v", rows, err)
	}
	// The connection is fine afterwards, and the store is up.
	if _, err := s.Query(ctxT(t), "SELECT 1"); err != nil || !s.Status().Available {
		t.Fatalf("after a cut result: %v, %+v", err, s.Status())
	}
}
