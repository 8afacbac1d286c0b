package workflow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// Store is what the workflow needs from an engine: queries (sink.Store),
// statements (INSERT … SELECT and DDL) and where the tables live. Both
// sink/chdb.Store and sink/clickhouse.Store satisfy it.
type Store interface {
	sink.Store
	Exec(ctx context.Context, sql string) error
	Schema() sink.SchemaOptions
}

// Options tune a Service. The zero value works.
type Options struct {
	// SessionTimeout is live_trace session_completion_timeout: a runtime
	// session without events for this long counts as completed. Default 30s.
	SessionTimeout time.Duration
	// DashboardURL is where links in answers point ("http://127.0.0.1:7100").
	DashboardURL string
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
	// WriteAttempts is how often a write is tried before its error is
	// returned (the store may be restarting). Default 3, 200 ms apart.
	WriteAttempts int
}

// Service is the security workflow over one store. REST handlers and MCP
// tools call its methods; each returns the value a client sees or an
// error: *NotFoundError, *BadParamError, *TransitionError, or a store
// error saying what could not be written or read. It is safe for
// concurrent use: changes are serialised, so a transition reads the state
// it replaces.
type Service struct {
	st   Store
	o    sink.SchemaOptions
	opts Options

	mu sync.Mutex // serialises every change (read, validate, write)

	schemaMu sync.Mutex
	schemaOK bool
	ver      sink.ServerVersion // set once the schema is ready

	clockMu   sync.Mutex
	lastVer   uint64 // last version handed out: versions strictly grow
	lastREC   int64  // highest REC-n handed out by this process
	lastAudit uint64 // last audit id handed out
}

// New returns a Service over st. It touches the store only when first used.
func New(st Store, opts Options) *Service {
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 30 * time.Second
	}
	if opts.DashboardURL == "" {
		opts.DashboardURL = "http://127.0.0.1:7100"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.WriteAttempts <= 0 {
		opts.WriteAttempts = 3
	}
	return &Service{st: st, o: st.Schema(), opts: opts}
}

// ready creates or migrates the workflow tables once; a failure is
// returned and retried on the next call.
func (s *Service) ready(ctx context.Context) error {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	if s.schemaOK {
		return nil
	}
	if st := s.st.Status(); !st.Available && st.Reason != "" {
		return &StoreError{Op: "open the workflow tables", Err: fmt.Errorf("%w: %s", sink.ErrUnavailable, st.Reason), Fix: st.Fix}
	}
	rows, err := s.st.Query(ctx, "SELECT version()")
	if err != nil {
		return &StoreError{Op: "open the workflow tables", Err: err}
	}
	var raw string
	if len(rows.Data) > 0 && len(rows.Data[0]) > 0 {
		raw, _ = rows.Data[0][0].(string)
	}
	v, err := sink.ParseServerVersion(raw)
	if err != nil {
		return &StoreError{Op: "open the workflow tables", Err: err}
	}
	if _, err := sink.MigrateHistory(ctx, s.st, v, s.o, MigrationsTable, migrations); err != nil {
		return &StoreError{Op: "create the workflow tables", Err: err}
	}
	s.schemaOK, s.ver = true, v
	return nil
}

// begin is the first step of a method that names a row or a workflow:
// the parameter must be set, then the tables must be ready.
func (s *Service) begin(ctx context.Context, param, v string) error {
	if err := required(param, v); err != nil {
		return err
	}
	return s.ready(ctx)
}

// lookup is get(ctx, id) once begin accepts id as the argument param.
func lookup[T any](ctx context.Context, s *Service, param, id string, get func(context.Context, string) (T, error)) (T, error) {
	if err := s.begin(ctx, param, id); err != nil {
		var zero T
		return zero, err
	}
	return get(ctx, id)
}

// update is a change of one row under s.mu: once begin accepts id as the
// argument param, the row read by get goes through change.
func update[T, R any](ctx context.Context, s *Service, param, id string, get func(context.Context, string) (T, error), change func(T) (R, error)) (R, error) {
	var zero R
	if err := s.begin(ctx, param, id); err != nil {
		return zero, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := get(ctx, id)
	if err != nil {
		return zero, err
	}
	return change(v)
}

// version is a strictly growing row version (Unix nanoseconds), so the
// last write of a row is the one FINAL keeps.
func (s *Service) version() uint64 {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	v := uint64(s.opts.Now().UnixNano())
	if v <= s.lastVer {
		v = s.lastVer + 1
	}
	s.lastVer = v
	return v
}

func (s *Service) nowUS() int64 { return s.opts.Now().UnixMicro() }

// insert writes rows (each the table's columns in order, without the
// version) as INSERT … SELECT: a 18.16 server answers INSERT … VALUES on
// the native protocol by waiting for data blocks. What cannot be written
// after WriteAttempts tries is returned, never dropped.
func (s *Service) insert(ctx context.Context, t table, what string, rows ...[]any) error {
	if len(rows) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(s.o.Table(t.name))
	b.WriteString(" (")
	b.WriteString(t.columnList())
	b.WriteString(")\n")
	if s.o.Cluster != "" && s.ver.AtLeast(20, 1) {
		// Read-your-writes through the Distributed table: the insert
		// returns once every shard has its rows. (18.16 cannot say so in
		// the statement; sink/clickhouse sets it for every statement of
		// a connection in cluster mode, which covers 18.16 too.)
		b.WriteString("SETTINGS insert_distributed_sync = 1\n")
	}
	for i, r := range rows {
		if len(r) != len(t.cols) {
			return fmt.Errorf("workflow: %s row has %d values for %d columns", t.name, len(r), len(t.cols))
		}
		if i > 0 {
			b.WriteString("\nUNION ALL\n")
		}
		b.WriteString("SELECT ")
		for j := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			// Literals typed as the column, so every branch of the
			// UNION has the same types.
			b.WriteString("CAST(?, '" + t.cols[j].typ + "')")
		}
		b.WriteString(", CAST(?, 'UInt64')")
	}
	args := make([]any, 0, len(rows)*(len(t.cols)+1))
	for _, r := range rows {
		args = append(args, r...)
		args = append(args, s.version())
	}
	q, err := sink.Bind(b.String(), args...)
	if err != nil {
		return fmt.Errorf("workflow: store %s: %w", what, err)
	}
	for attempt := 1; ; attempt++ {
		err = s.st.Exec(ctx, q)
		if err == nil {
			return nil
		}
		if attempt >= s.opts.WriteAttempts || ctx.Err() != nil {
			return &StoreError{Op: "store " + what, Err: err}
		}
		select {
		case <-ctx.Done():
			return &StoreError{Op: "store " + what, Err: ctx.Err()}
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// query runs a read and wraps its failure.
func (s *Service) query(ctx context.Context, what, q string, args ...any) (*sink.Rows, error) {
	rows, err := s.st.Query(ctx, q, args...)
	if err != nil {
		return nil, &StoreError{Op: "read " + what, Err: err}
	}
	return rows, nil
}

// selectRows reads the current version of t's rows matching where
// (conditions on columns that never change, so that filtering before or
// after FINAL's collapse gives the same rows).
func (s *Service) selectRows(ctx context.Context, t table, what, where string, args ...any) ([][]any, error) {
	q := "SELECT " + t.selectList() + " FROM " + s.o.Table(t.name) + " FINAL"
	if where != "" {
		q += " WHERE " + where
	}
	rows, err := s.query(ctx, what, q, args...)
	if err != nil {
		return nil, err
	}
	return rows.Data, nil
}

// byKey reads the row of t whose key is id, decoded by scan, or a
// *NotFoundError of kind.
func byKey[T any](ctx context.Context, s *Service, t table, kind, id string, scan func([]any) T) (T, error) {
	var zero T
	rows, err := s.selectRows(ctx, t, kind+" "+id, t.key+" = ?", id)
	if err != nil {
		return zero, err
	}
	if len(rows) == 0 {
		return zero, &NotFoundError{Kind: kind, ID: id}
	}
	return scan(rows[0]), nil
}

// selectSorted reads t's rows as selectRows does, decodes each with
// scan and orders them by cmp.
func selectSorted[T any](ctx context.Context, s *Service, t table, what string, scan func([]any) T, cmp func(a, b T) int, where string, args ...any) ([]T, error) {
	rows, err := s.selectRows(ctx, t, what, where, args...)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		out = append(out, scan(r))
	}
	slices.SortFunc(out, cmp)
	return out, nil
}

// reader decodes a row column by column, in table order.
type reader struct {
	r []any
	i int
}

func (d *reader) next() any {
	if d.i >= len(d.r) {
		return nil
	}
	v := d.r[d.i]
	d.i++
	return v
}

func (d *reader) str() string {
	switch x := d.next().(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

func (d *reader) i64() int64 {
	switch x := d.next().(type) {
	case int64:
		return x
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	case bool:
		if x {
			return 1
		}
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func (d *reader) f64() float64 {
	switch x := d.next().(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

func (d *reader) flag() bool { return d.i64() != 0 }

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// isoUS renders Unix microseconds as the original's ISO time
// ("2025-01-02T03:04:05.123456+00:00"); 0 is no time (null).
func isoUS(us int64) *string {
	if us <= 0 {
		return nil
	}
	s := time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000") + "+00:00"
	return &s
}

// Relative is the original's "just now" / "5m ago" / "3h ago" / "2d
// ago" of t seen at now; the zero time is "".
func Relative(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := int64(now.Sub(t) / time.Second)
	switch {
	case d < 60:
		return "just now"
	case d < 3600:
		return strconv.FormatInt(d/60, 10) + "m ago"
	case d < 86400:
		return strconv.FormatInt(d/3600, 10) + "h ago"
	}
	return strconv.FormatInt(d/86400, 10) + "d ago"
}
