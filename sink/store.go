package sink

import (
	"context"
	"errors"
	"strconv"
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
	// with backoff and spills to disk while it fails. Events that can never
	// be stored are reported with a *RejectedError instead, so that they do
	// not stall the writer.
	WriteBatch(ctx context.Context, batch []*Event) error
	// Close flushes and releases the writer.
	Close() error
}

// RejectedError is what a writer returns, alone or joined
// (errors.Join) with other errors, for events of a batch that it has
// dropped because no retry could ever store them: a file the writer may
// not create or must not overwrite, say. The pipeline does not retry
// them: it counts them as dropped (reason "rejected"), logs Err at most
// once a second, and treats the batch as stored unless other errors came
// with it, which it retries as usual. The writer must not reject the same
// events again when the batch is retried for those.
//
// Err says what the operator can do so that later events are stored.
type RejectedError struct {
	Events int // events of the batch dropped
	Err    error
}

func (e *RejectedError) Error() string {
	return strconv.Itoa(e.Events) + " events dropped: " + e.Err.Error()
}

func (e *RejectedError) Unwrap() error { return e.Err }

// splitRejected takes the RejectedErrors out of err, appending them to
// rej, and returns them with what is left of err: nil when err was
// rejections only.
func splitRejected(rej []*RejectedError, err error) ([]*RejectedError, error) {
	if err == nil {
		return rej, nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		var rest []error
		for _, e := range errs {
			var r error
			if rej, r = splitRejected(rej, e); r != nil {
				rest = append(rest, r)
			}
		}
		switch {
		case len(rest) == 0:
			return rej, nil
		case len(rest) == len(errs):
			return rej, err
		}
		return rej, errors.Join(rest...)
	}
	var r *RejectedError
	if errors.As(err, &r) {
		return append(rej, r), nil
	}
	return rej, err
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

// ContextCloser is implemented by a writer whose Close may wait on
// something outside the process (an exporter's last export): the
// pipeline's Close calls CloseContext with its own context instead, so
// that wait ends with the shutdown's deadline. A wrapper passes it on by
// Unwrap, as for Pacer.
type ContextCloser interface {
	CloseContext(ctx context.Context) error
}

// closeWriter closes w, with ctx where w (or a writer it wraps) is a
// ContextCloser.
func closeWriter(ctx context.Context, w Writer) error {
	u := w
	for range 8 {
		if c, ok := u.(ContextCloser); ok {
			return c.CloseContext(ctx)
		}
		n, ok := u.(interface{ Unwrap() Writer })
		if !ok {
			break
		}
		u = n.Unwrap()
	}
	return w.Close()
}

// Volatile is implemented by a writer whose batches are not worth a spill
// log: it keeps counters or exports best-effort, never fails a write, and
// would gain nothing from a replay (the Prometheus counters, the
// OpenTelemetry exporter). The pipeline gives it no log, so durability
// costs no disk traffic for it; a batch its memory queue cannot take is
// dropped and counted.
type Volatile interface {
	Volatile() bool
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
	// Truncated, when not empty, says why Data holds only the first rows
	// of the result (ExplorerQuerier's byte limit); empty when complete.
	Truncated string
}

// ExplorerQuerier is implemented by stores that run people's and AI
// assistants' ad-hoc SQL (the dashboard's explorer and MCP query_sql)
// apart from the dashboard's own reads, so that a heavy explorer query
// never queues a dashboard page behind it: the embedded engine on a
// connection of its own, a server store on its pool.
type ExplorerQuerier interface {
	// QueryExplorer runs one read-only SELECT, already checked by the
	// caller, with the read connection's limits (readonly, the query
	// timeout). A result larger than maxBytes (as counted by ValueSize, row
	// by row) is cut after the last row that fits and says so in
	// Rows.Truncated; maxBytes <= 0 means no byte limit.
	QueryExplorer(ctx context.Context, query string, maxBytes int64) (*Rows, error)
}

// ExplorerConcurrency is implemented by explorer stores that run only so
// many explorer statements at once (the embedded engine: one, on its
// explorer connection). The dashboard lets no more into its explorer lane,
// so the rest wait there, within the lane's time limit, not in the store.
type ExplorerConcurrency interface {
	ExplorerConcurrency() int
}

// RowOverhead and ValueOverhead are what a row and a value cost in memory
// beyond their text (slice and interface headers); ValueSize counts them.
const (
	RowOverhead   = 24
	ValueOverhead = 16
)

// ValueSize is what one result value counts against a byte limit: its
// length as text plus ValueOverhead. Both engines count the same way, so
// that a limit means the same on either.
func ValueSize(v any) int64 {
	n := int64(ValueOverhead)
	switch x := v.(type) {
	case string:
		n += int64(len(x))
	case nil, bool:
		n += 4
	case int64, uint64, float64:
		n += 8
	case time.Time:
		n += 20
	case []any:
		for _, e := range x {
			n += ValueSize(e)
		}
	case map[string]any:
		for k, e := range x {
			n += int64(len(k)) + ValueSize(e)
		}
	default:
		n += 16
	}
	return n
}

// RowSize is ValueSize summed over a row, plus RowOverhead.
func RowSize(row []any) int64 {
	n := int64(RowOverhead)
	for _, v := range row {
		n += ValueSize(v)
	}
	return n
}

// TruncatedReason is Rows.Truncated for a result cut at maxBytes.
func TruncatedReason(maxBytes int64) string {
	return "result larger than " + FormatBytes(maxBytes) + ": showing the rows that fit (select fewer or narrower columns, or add a LIMIT)"
}

// FormatBytes is n in the largest binary unit that divides it evenly
// ("16 MiB", "1536 KiB", "100 bytes").
func FormatBytes(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Status describes a store's health for logs, /metrics, /config and the
// dashboard's empty states.
type Status struct {
	Engine    string `json:"engine"` // embedded | clickhouse | none
	Available bool   `json:"available"`
	Version   string `json:"version,omitempty"`
	Reason    string `json:"reason,omitempty"` // why it is unavailable
	Fix       string `json:"fix,omitempty"`    // what to do about it
	// Ephemeral is set when the store deletes its data at exit (asked for
	// explicitly: a demo, a test); Warning then says so, why, and how to
	// keep the data. Every analytics surface should show it.
	Ephemeral bool   `json:"ephemeral,omitempty"`
	Warning   string `json:"warning,omitempty"`
	// Content is what the stored events keep of message text
	// (storage.content: full, masked or metadata), set by whoever reports
	// the status to users; empty when unknown.
	Content string `json:"content,omitempty"`
	// Cluster is storage.clickhouse.cluster and Instance the
	// server.instance_id of the proxy reporting, set like Content: with
	// several proxies writing one cluster, every answer says which one
	// served it.
	Cluster  string `json:"cluster,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// ErrUnavailable is returned by stores that cannot run here (for example
// the embedded engine without libchdb); Status says why.
var ErrUnavailable = errors.New("analytics store unavailable")
