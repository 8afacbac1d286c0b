package clickhouse

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testEvent(i int) *sink.Event {
	e := &sink.Event{
		ID:           sink.NewID(),
		Time:         time.Date(2026, 2, 3, 4, 5, 6, 789123000, time.UTC).Add(time.Duration(i) * time.Millisecond),
		Name:         sink.LLMCallFinish,
		Level:        sink.LevelInfo,
		TraceID:      "0123456789abcdef0123456789abcdef",
		SpanID:       "0123456789abcdef",
		SessionID:    fmt.Sprintf("sess-%d", i%7),
		AgentID:      fmt.Sprintf("agent-%d", i%3),
		Vendor:       "openai",
		Model:        "gpt-4o",
		Status:       200,
		DurationMs:   12.5,
		InputTokens:  int64(i),
		OutputTokens: 2,
		TotalTokens:  int64(i) + 2,
		CachedTokens: 1,
		CacheWrite:   3,
		ToolName:     "search",
		FinishReason: "stop",
		RiskScore:    1.5,
		Attributes:   []byte(`{"llm.model":"gpt-4o","n":` + fmt.Sprint(i) + `}`),
	}
	e.CostStatus = sink.CostUnpriced
	if i%2 == 0 {
		e.CostStatus, e.CostUSD = sink.CostPriced, 0.1+float64(i)*1e-7
	}
	binary.BigEndian.PutUint64(e.ID[8:], uint64(i))
	return e
}

// events is testEvent from to from+n-1.
func events(from, n int) []*sink.Event { return eventsOf(testEvent, from, n) }

// eventsOf is mk(from) to mk(from+n-1).
func eventsOf(mk func(int) *sink.Event, from, n int) []*sink.Event {
	out := make([]*sink.Event, n)
	for i := range out {
		out[i] = mk(from + i)
	}
	return out
}

func scalar(t testing.TB, s *Store, q string, args ...any) any {
	t.Helper()
	r, err := s.Query(ctxT(t), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(r.Data) != 1 || len(r.Data[0]) != 1 {
		t.Fatalf("%s: %d rows", q, len(r.Data))
	}
	return r.Data[0][0]
}

func TestSchemaOnServer(t *testing.T) {
	s := testStore(t, nil)
	v := s.Version()
	t.Logf("server %s", v)
	// Connect again (a second proxy starting): nothing to do, no error.
	s2, err := Open(ctxT(t), Options{Addresses: s.opts.Addresses, Database: s.schema.Database})
	if err != nil || !s2.Status().Available {
		t.Fatalf("second open: %v %+v", err, s2.Status())
	}
	s2.Close()
	// Every DDL statement is idempotent on its own.
	for _, stmt := range sink.SchemaStatements(v, s.schema) {
		if err := s.Exec(ctxT(t), stmt); err != nil {
			t.Fatalf("re-running %q: %v", stmt, err)
		}
	}
	r, err := s.Query(ctxT(t), "SELECT name, type FROM system.columns WHERE database = ? AND table = ? ORDER BY position", s.schema.Database, sink.EventsTable)
	if err != nil {
		// 18.16's system.columns has no position; its order is the table's.
		r, err = s.Query(ctxT(t), "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", s.schema.Database, sink.EventsTable)
	}
	if err != nil {
		t.Fatal(err)
	}
	names, types := sink.InsertColumns(), sink.ColumnTypes(v)
	if len(r.Data) != len(names) {
		t.Fatalf("server has %d columns, schema %d", len(r.Data), len(names))
	}
	for i, row := range r.Data {
		if row[0] != names[i] || row[1] != types[i] {
			t.Errorf("column %d: server %v %v, schema %s %s", i, row[0], row[1], names[i], types[i])
		}
	}
	if got := scalar(t, s, "SELECT max(version) FROM "+s.schema.Table(sink.MigrationsTable)); got != uint64(sink.SchemaVersion()) {
		t.Fatalf("schema version %v", got)
	}
	if st := s.Status(); !st.Available || st.Version != v.String() || st.Engine != "clickhouse" {
		t.Fatalf("status %+v", st)
	}
}

func TestAddColumnMigrationIdempotent(t *testing.T) {
	s := testStore(t, nil)
	v := s.Version()
	addX := func(v sink.ServerVersion, o sink.SchemaOptions) []sink.Step {
		return []sink.Step{sink.AddColumnStep(v, o, sink.EventsTable, "extra_x", "String")}
	}
	first := append(sink.Migrations(), sink.NewMigration(1000, "add x", addX))
	if applied, err := sink.MigrateWith(ctxT(t), execer{s}, v, s.schema, first); err != nil || len(applied) != 1 {
		t.Fatalf("applied %v, %v", applied, err)
	}
	// A later migration that adds x again (e.g. a half-applied one being
	// redone) plus y: x is skipped (system.columns on 18.16, IF NOT EXISTS
	// on newer servers), y is added.
	second := append(first, sink.NewMigration(1001, "add x again and y", func(v sink.ServerVersion, o sink.SchemaOptions) []sink.Step {
		return append(addX(v, o), sink.AddColumnStep(v, o, sink.EventsTable, "extra_y", "UInt8"))
	}))
	if applied, err := sink.MigrateWith(ctxT(t), execer{s}, v, s.schema, second); err != nil || len(applied) != 1 || applied[0] != 1001 {
		t.Fatalf("applied %v, %v", applied, err)
	}
	n := scalar(t, s, "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name IN ?", s.schema.Database, sink.EventsTable, []string{"extra_x", "extra_y"})
	if n != uint64(2) {
		t.Fatalf("%v extra columns", n)
	}
	// Inserting with the explicit column list still works with extra columns.
	if err := s.WriteBatch(ctxT(t), events(0, 3)); err != nil {
		t.Fatal(err)
	}
}

func TestInsertAndQueryTypedColumns(t *testing.T) {
	s := testStore(t, nil)
	e := testEvent(5)
	e.Name = sink.LLMCallError
	e.Level = sink.LevelError
	e.Status = 429
	e.ErrorType = "rate_limit_error"
	e.ErrorMessage = `it's "quoted" \ and 'nested'` + "\n\x00end"
	e.RiskScore = 87.25
	e.Attributes = nil
	if err := s.WriteBatch(ctxT(t), []*sink.Event{e}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Query(ctxT(t), "SELECT toString(id), date, ts, ts_us, name, level, trace_id, span_id, session_id, agent_id, vendor, model, status, duration_ms, input_tokens, output_tokens, total_tokens, cached_tokens, cache_write_tokens, tool_name, finish_reason, error_type, error_message, risk_score, attributes FROM "+sink.EventsSource(s.schema)+" WHERE session_id = ?", e.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 1 {
		t.Fatalf("%d rows", len(r.Data))
	}
	row := r.Data[0]
	want := []any{
		string(sink.AppendUUID(nil, e.ID)), nil, nil, uint64(e.Time.UnixMicro()),
		e.Name, e.Level, e.TraceID, e.SpanID, e.SessionID, e.AgentID, e.Vendor, e.Model,
		uint64(429), 12.5, int64(5), int64(2), int64(7), int64(1), int64(3),
		"search", "stop", "rate_limit_error", e.ErrorMessage, float64(float32(87.25)), "{}",
	}
	for i, w := range want {
		if w == nil {
			continue
		}
		if row[i] != w {
			t.Errorf("%s = %#v (%T), want %#v (%T)", r.Columns[i], row[i], row[i], w, w)
		}
	}
	if d, ok := row[1].(time.Time); !ok || d.Format("2006-01-02") != "2026-02-03" {
		t.Errorf("date %v", row[1])
	}
	if ts, ok := row[2].(time.Time); !ok || ts.Unix() != e.Time.Unix() {
		t.Errorf("ts %v, want unix %d", row[2], e.Time.Unix())
	}
	if r.Types[12] != "UInt16" || r.Types[24] != "String" {
		t.Errorf("types %v", r.Types)
	}
}

// The heart of "nothing double-counts": the same batch stored twice, and
// regrouped as a replay would, counts once in every aggregate.
func TestRetriedBatchDoesNotDoubleCount(t *testing.T) {
	s := testStore(t, nil)
	batch := events(0, 500)
	for range 2 { // a retry after a lost acknowledgement
		if err := s.WriteBatch(ctxT(t), batch); err != nil {
			t.Fatal(err)
		}
	}
	// A replay that regroups records differently.
	if err := s.WriteBatch(ctxT(t), batch[100:350]); err != nil {
		t.Fatal(err)
	}
	raw := scalar(t, s, "SELECT count() FROM "+s.schema.Table(sink.EventsTable))
	if raw == uint64(500) {
		t.Log("server merged parts already")
	}
	var wantTokens int64
	for _, e := range batch {
		wantTokens += e.InputTokens
	}
	r, err := s.Query(ctxT(t), "SELECT count(), sum(input_tokens), uniqExact(id) FROM "+sink.EventsSource(s.schema))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Data[0]; got[0] != uint64(500) || got[1] != wantTokens || got[2] != uint64(500) {
		t.Fatalf("deduplicated count, tokens, ids = %v, want 500, %d, 500 (raw rows %v)", got, wantTokens, raw)
	}
	// Per-agent aggregates, the dashboard's shape.
	r, err = s.Query(ctxT(t), "SELECT agent_id, count(), sum(total_tokens) FROM "+sink.EventsSource(s.schema)+" GROUP BY agent_id ORDER BY agent_id")
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, row := range r.Data {
		total += row[1].(uint64)
	}
	if len(r.Data) != 3 || total != 500 {
		t.Fatalf("per agent %v", r.Data)
	}
	// And once parts merge, the table itself holds each event once.
	if err := s.Exec(ctxT(t), "OPTIMIZE TABLE "+s.schema.Table(sink.EventsTable)+" FINAL"); err != nil {
		t.Fatal(err)
	}
	if got := scalar(t, s, "SELECT count() FROM "+s.schema.Table(sink.EventsTable)); got != uint64(500) {
		t.Fatalf("after OPTIMIZE FINAL: %v rows", got)
	}
}

// The text path (sink.RenderInsert, used by the embedded engine) stores
// exactly what the native path stores.
func TestTextInsertMatchesNative(t *testing.T) {
	s := testStore(t, nil)
	native := events(0, 20)
	text := events(0, 20)
	for i, e := range text {
		e.ID[0] = 0xee
		e.SessionID = "text-" + e.SessionID
		native[i].SessionID = "native-" + native[i].SessionID
		e.ErrorMessage = "quote ' backslash \\ nul \x00 newline \n tab \t unicode ü"
		native[i].ErrorMessage = e.ErrorMessage
	}
	if err := s.WriteBatch(ctxT(t), native); err != nil {
		t.Fatal(err)
	}
	// A 18.16 server takes INSERT … VALUES over the native protocol only
	// from a client that parses the values itself: clickhouse-client.
	client, err := exec.LookPath("clickhouse-client")
	if err != nil {
		t.Skip("clickhouse-client not installed: cannot send SQL text inserts")
	}
	host, port, _ := net.SplitHostPort(needServer(t))
	cmd := exec.Command(client, "--host", host, "--port", port)
	cmd.Stdin = strings.NewReader(sink.RenderInsert(s.schema, text))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clickhouse-client: %v: %s", err, out)
	}
	cols := strings.Join(sink.InsertColumns()[1:], ", ")
	q := "SELECT " + cols + " FROM " + sink.EventsSource(s.schema) + " WHERE startsWith(session_id, ?) ORDER BY ts_us"
	a, err := s.Query(ctxT(t), q, "native-")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Query(ctxT(t), q, "text-")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Data) != 20 || len(b.Data) != 20 {
		t.Fatalf("%d native rows, %d text rows", len(a.Data), len(b.Data))
	}
	for i := range a.Data {
		for j := range a.Data[i] {
			x, y := a.Data[i][j], b.Data[i][j]
			if a.Columns[j] == "session_id" {
				x, y = strings.TrimPrefix(x.(string), "native-"), strings.TrimPrefix(y.(string), "text-")
			}
			if tx, ok := x.(time.Time); ok {
				if !tx.Equal(y.(time.Time)) {
					t.Fatalf("row %d %s: %v vs %v", i, a.Columns[j], x, y)
				}
				continue
			}
			if x != y {
				t.Fatalf("row %d %s: native %#v, text %#v", i, a.Columns[j], x, y)
			}
		}
	}
}

func TestQueryIsReadOnlyAndLimited(t *testing.T) {
	s := testStore(t, func(o *Options) { o.MaxResultRows = 1000; o.QueryTimeout = time.Second })
	if _, err := s.Query(ctxT(t), "CREATE TABLE "+s.schema.Table("nope")+" (x UInt8) ENGINE = Memory"); err == nil {
		t.Fatal("DDL through Query succeeded")
	}
	if _, err := s.Query(ctxT(t), "INSERT INTO "+s.schema.Table(sink.EventsTable)+" (session_id) VALUES ('x')"); err == nil {
		t.Fatal("INSERT through Query succeeded")
	}
	if _, err := s.Query(ctxT(t), "SELECT number FROM system.numbers LIMIT 5000"); err == nil {
		t.Fatal("5000 rows returned with max_result_rows 1000")
	}
	// The server enforces the time limit...
	start := time.Now()
	if _, err := s.Query(ctxT(t), "SELECT count() FROM system.numbers"); err == nil || !strings.Contains(err.Error(), "Timeout exceeded") {
		t.Fatalf("endless query: %v, want the server's timeout", err)
	} else if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("endless query stopped after %v with a 1s limit", el)
	}
	// ...and a caller that gives up takes the query down with it.
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := s.Query(short, "SELECT count() FROM system.numbers WHERE number != 42"); err == nil {
		t.Fatal("query outlived its caller")
	}
	waitGone := time.Now().Add(5 * time.Second)
	for {
		n := scalar(t, s, "SELECT count() FROM system.processes WHERE query LIKE '%number != 42%' AND query NOT LIKE '%system.processes%'")
		if n == uint64(0) {
			break
		}
		if time.Now().After(waitGone) {
			t.Fatal("abandoned query still running on the server")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Injection attempts stay values.
	got := scalar(t, s, "SELECT count() FROM "+sink.EventsSource(s.schema)+" WHERE session_id = ?", "x' OR 1=1 --")
	if got != uint64(0) {
		t.Fatal(got)
	}
	// The store still works after those errors.
	if st := s.Status(); !st.Available {
		t.Fatalf("status after user errors: %+v", st)
	}
}

func TestStatusWhenDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s, err := Open(ctxT(t), Options{Addresses: []string{addr}, DialTimeout: 500 * time.Millisecond, QueryTimeout: time.Second})
	if err != nil {
		t.Fatalf("Open must not fail when the server is down: %v", err)
	}
	defer s.Close()
	st := s.Status()
	if st.Available || st.Engine != "clickhouse" || st.Fix != Fix || !strings.Contains(st.Reason, addr) {
		t.Fatalf("status %+v", st)
	}
	if err := s.WriteBatch(ctxT(t), events(0, 1)); err == nil {
		t.Fatal("write to a down server succeeded")
	}
	if _, err := s.Query(ctxT(t), "SELECT 1"); err == nil {
		t.Fatal("query to a down server succeeded")
	}
}

func TestOptionsFromConfig(t *testing.T) {
	c := configs.Default().Storage
	c.ClickHouse.Cluster = "prod"
	c.RetentionDays = 30
	o := OptionsFromConfig(c)
	co, db, err := clientOptions(&o)
	if err != nil {
		t.Fatal(err)
	}
	if db != "perimeter" || co.Addr[0] != "127.0.0.1:9000" || co.Auth.Username != "default" || co.Auth.Database != "" || o.Cluster != "prod" || o.RetentionDays != 30 {
		t.Fatalf("%+v %s", co, db)
	}
	o = Options{DSN: "clickhouse://u:p@h1:9000,h2:9000/analytics?dial_timeout=3s"}
	co, db, err = clientOptions(&o)
	if err != nil {
		t.Fatal(err)
	}
	if db != "analytics" || len(co.Addr) != 2 || co.Auth.Username != "u" || co.Auth.Password != "p" || co.DialTimeout != 3*time.Second {
		t.Fatalf("dsn: %+v %s", co, db)
	}
	o = Options{DSN: "://bad"}
	if _, _, err := clientOptions(&o); err == nil || !strings.Contains(err.Error(), "storage.clickhouse.dsn") {
		t.Fatalf("bad dsn: %v", err)
	}
}

// flakyProxy forwards TCP to the server and can be cut: while down it
// closes every connection, as a restarting server does.
type flakyProxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newFlakyProxy(t *testing.T, target string) *flakyProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{l: l, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.setDown(true)
		p.wg.Wait()
	})
	return p
}

func (p *flakyProxy) addr() string { return p.l.Addr().String() }

func (p *flakyProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *flakyProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

func (p *flakyProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		p.conns = map[net.Conn]struct{}{}
	}
}

// End to end: the pipeline writes into ClickHouse, the server "dies" for
// a while (every connection cut), events spill, the server comes back,
// the spill is replayed, and every event is in the aggregates exactly once.
func TestPipelineSurvivesOutage(t *testing.T) {
	addr := needServer(t)
	proxy := newFlakyProxy(t, addr)
	s := testStore(t, func(o *Options) {
		o.Addresses = []string{proxy.addr()}
		o.DialTimeout = time.Second
		o.QueryTimeout = 5 * time.Second
	})
	const perPhase = 3000
	outageDrill(t, s, perPhase, testEvent, 3*time.Second, func(*sink.Pipeline) { proxy.setDown(true) }, func() { proxy.setDown(false) })
	// The pipeline closed the store; read through a fresh one.
	r, err := Open(ctxT(t), Options{Addresses: []string{addr}, Database: s.schema.Database})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	storedOnce(t, r, 3*perPhase)
}

// outageDrill runs a pipeline over s through an outage: it publishes
// perPhase events event(i) before down(p), as many while the store is
// down (until the pipeline has spilled some), then calls up() and
// publishes the last perPhase. Closing the pipeline must replay the spill
// and drop nothing; it closes s.
func outageDrill(t *testing.T, s *Store, perPhase int, event func(int) *sink.Event, writeTimeout time.Duration, down func(*sink.Pipeline), up func()) {
	t.Helper()
	p, err := sink.NewPipeline(sink.Options{
		MaxRows: 200, MaxDelay: 20 * time.Millisecond, QueueSize: 100000,
		SpillDir: t.TempDir(), SpillMaxBytes: 64 << 20,
		BackoffMin: 10 * time.Millisecond, BackoffMax: 200 * time.Millisecond, WriteTimeout: writeTimeout,
	}, s)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(from int) {
		for i := from; i < from+perPhase; i++ {
			if !p.Publish(event(i)) {
				t.Fatalf("publish %d dropped", i)
			}
			if i%500 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	publish(0)
	down(p)
	publish(perPhase)
	if !testkit.Eventually(30*time.Second, 10*time.Millisecond, func() bool { return p.Metrics().Writers[0].SpilledBytes != 0 }) {
		t.Fatalf("nothing spilled while the store was down: %+v", p.Metrics())
	}
	up()
	publish(2 * perPhase)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	m := p.Metrics()
	t.Logf("metrics: %+v", m.Writers[0])
	if m.Dropped != 0 || m.Writers[0].ReplayedBytes == 0 {
		t.Fatalf("dropped %d, replayed %d", m.Dropped, m.Writers[0].ReplayedBytes)
	}
}

// storedOnce checks that r holds the events 0 to n-1 of testEvent (or
// clusterEvent), each exactly once.
func storedOnce(t *testing.T, r *Store, n int) {
	t.Helper()
	got, err := r.Query(ctxT(t), "SELECT count(), uniqExact(id), sum(input_tokens) FROM "+sink.EventsSource(r.schema))
	if err != nil {
		t.Fatal(err)
	}
	if row := got.Data[0]; row[0] != uint64(n) || row[1] != uint64(n) || row[2] != int64(n*(n-1)/2) {
		t.Fatalf("count, ids, tokens = %v, want %d, %d, %d", row, n, n, n*(n-1)/2)
	}
}

func TestCallerGivingUpDoesNotMarkTheStoreDown(t *testing.T) {
	s := testStore(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Query(ctx, "SELECT count() FROM system.numbers LIMIT 1000000000"); err == nil {
		t.Fatal("a cancelled query succeeded")
	}
	if st := s.Status(); !st.Available {
		t.Fatalf("store marked down by a cancelled caller: %+v", st)
	}
}
