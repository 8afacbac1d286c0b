package sink

import (
	"context"
	"errors"
	"time"
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

// Pacer is implemented by a writer that wants fewer, larger writes than
// the pipeline's batches: the pipeline starts a write to it at most once
// per WriteInterval, coalescing the batches queued meanwhile (up to
// Options.MaxWriteRows), and at once when that many are queued, when it is
// closing, or after an idle spell. The embedded engine is one: each insert
// creates a part (a directory of files) that background merges rewrite, so
// its CPU per event falls about threefold from 1,000-row inserts five times
// a second to one insert a second. Events wait at most the interval longer
// in memory.
//
// A writer that wraps another (a filter, a notifier) passes its Pacer on
// by an Unwrap() Writer method.
type Pacer interface {
	WriteInterval() time.Duration
}

// writeInterval is w's Pacer interval, looking through wrappers; 0 when
// none paces.
func writeInterval(w Writer) time.Duration {
	for range 8 {
		if p, ok := w.(Pacer); ok {
			return p.WriteInterval()
		}
		u, ok := w.(interface{ Unwrap() Writer })
		if !ok {
			return 0
		}
		w = u.Unwrap()
	}
	return 0
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
