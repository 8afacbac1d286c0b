package sink

import (
	"context"
	"errors"
)

// Writer persists batches of events. Writers are called from the pipeline's
// goroutines, never from the proxy's. A batch may be retried after an error
// or replayed from a spill file, so storing it twice must not double-count:
// every event carries a unique ID for the store to deduplicate by.
type Writer interface {
	// Name identifies the writer in logs and /metrics ("clickhouse", "embedded", "jsonl").
	Name() string
	// WriteBatch stores the events or returns an error; the pipeline retries
	// with backoff and spills to disk while it fails.
	WriteBatch(ctx context.Context, batch []*Event) error
	// Close flushes and releases the writer.
	Close() error
}

// Store is a Writer that can also answer analytics queries. Both engines
// (embedded chDB and a ClickHouse server) speak the same SQL, written for
// ClickHouse 18.16 and later.
type Store interface {
	Writer
	// Query runs one read-only SELECT. Arguments are bound client-side by
	// Bind ("?" placeholders), the only way user values reach SQL.
	Query(ctx context.Context, query string, args ...any) (*Rows, error)
	// Status tells whether the store works and, when it does not, why and
	// how to fix it; every analytics surface shows it.
	Status() Status
}

// Rows is a query result held in memory.
type Rows struct {
	Columns []string
	Types   []string // ClickHouse type names, e.g. "UInt64", "String"
	Data    [][]any  // row-major; values are int64, uint64, float64, string, bool, time.Time or nil
}

// Status describes a store's health for logs, /metrics, /config and the
// dashboard's empty states.
type Status struct {
	Engine    string `json:"engine"` // embedded | clickhouse | none
	Available bool   `json:"available"`
	Version   string `json:"version,omitempty"`
	Reason    string `json:"reason,omitempty"` // why it is unavailable
	Fix       string `json:"fix,omitempty"`    // what to do about it
}

// ErrUnavailable is returned by stores that cannot run here (for example
// the embedded engine without libchdb); Status says why.
var ErrUnavailable = errors.New("analytics store unavailable")
