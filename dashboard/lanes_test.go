package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
)

func TestLane(t *testing.T) {
	l := newLane("test", LaneLimits{Concurrency: 1, Queue: 1, Wait: time.Hour}, 3*time.Second)
	ctx := context.Background()
	first, err := l.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		release, err := l.acquire(ctx)
		if err == nil {
			release()
		}
		second <- err
	}()
	testkit.WaitFor(t, 10*time.Second, "the second request to queue", func() bool { return l.queued.Load() == 1 })
	// Running one and queueing one, the lane refuses a third at once.
	_, err = l.acquire(ctx)
	var ae *apiError
	if !errors.As(err, &ae) || ae.status != 503 || ae.retryAfter != 3*time.Second || !strings.Contains(ae.msg, "1 running and 1 waiting") {
		t.Fatalf("third request: %v", err)
	}
	first()
	first() // a second release gives nothing back twice
	if err := <-second; err != nil {
		t.Fatalf("the queued request: %v", err)
	}
	if len(l.slots) != 0 || l.queued.Load() != 0 {
		t.Fatalf("%d slots taken, %d queued after all returned", len(l.slots), l.queued.Load())
	}

	// A queued request waits at most Wait, or until its context ends.
	l = newLane("test", LaneLimits{Concurrency: 1, Queue: 4, Wait: 20 * time.Millisecond}, time.Second)
	hold, _ := l.acquire(ctx)
	defer hold()
	if _, err := l.acquire(ctx); err == nil || !strings.Contains(err.Error(), "waited 20ms") {
		t.Fatalf("wait past the limit: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.acquire(cctx); err == nil {
		t.Fatal("a request whose context ended got a turn")
	}
}

func TestCallsQuerySQL(t *testing.T) {
	for body, want := range map[string]int{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query_sql","arguments":{"query":"SELECT 1"}}}`: 1,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_agents"}}`:                                0,
		`[{"method":"tools/call","params":{"name":"query_sql"}},{"method":"tools/call","params":{"name":"query_sql"}}]`: 2,
		`{"method":"initialize"}`: 0,
		`not json`:                0,
	} {
		if got := callsQuerySQL([]byte(body)); got != want {
			t.Errorf("callsQuerySQL(%s) = %d, want %d", body, got, want)
		}
	}
}

// exploreServer serves the dashboard with POST /x running sql through the
// explorer's gate and explore, as /api/sql does once its statement is
// checked, and answering as it does.
func exploreServer(t *testing.T, s *Server, sql string) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /x", s.gateSQL(func(w http.ResponseWriter, r *http.Request) {
		rows, err := s.explore(queryContext(r.Context()), sql)
		if err != nil {
			writeJSON(w, 400, map[string]string{"error": err.Error()})
			return
		}
		out := testSQLAnswer{SQLResponse: s.emptySQL(1000), Reason: rows.Truncated}
		out.Columns, out.Types, out.Truncated = rows.Columns, rows.Types, rows.Truncated != ""
		for _, r := range rows.Data {
			row := make([]any, len(r))
			for i, v := range r {
				row[i] = jsonValue(v)
			}
			out.Rows = append(out.Rows, row)
		}
		writeJSON(w, 200, out)
	}))
	mux.Handle("/", s.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs
}

type testSQLAnswer struct {
	*SQLResponse
	Reason string `json:"truncated_reason"`
}

type answer struct {
	code  int
	retry string
	body  string
	err   error
}

func post(url string) answer {
	resp, err := http.Post(url, "application/json", nil)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{code: resp.StatusCode, retry: resp.Header.Get("Retry-After"), body: string(b), err: err}
}

// Slow explorer queries fill the explorer's lane; the dashboard's pages
// keep answering meanwhile, and an explorer request past the lane's queue
// is a 503 with Retry-After.
func TestExplorerDoesNotStarvePages(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		st := openStore(t, engine)
		s := testServer(t, st, func(o *Options) { o.ExplorerLane = LaneLimits{Concurrency: 1, Queue: 1} })
		hs := exploreServer(t, s, "SELECT sleep(3)")
		slow := make(chan answer, 2)
		for range 2 {
			go func() { slow <- post(hs.URL + "/x") }()
		}
		testkit.WaitFor(t, 30*time.Second, "the explorer requests to fill the lane", func() bool {
			return len(s.explorer.slots) == 1 && s.explorer.queued.Load() == 1
		})
		full := post(hs.URL + "/x")
		if full.code != 503 || full.retry != "5" || !strings.Contains(full.body, "too many SQL explorer requests") {
			t.Fatalf("explorer request past a full lane: %+v", full)
		}
		for _, path := range []string{"/api/agents", "/api/dashboard", "/api/sessions/list"} {
			start := time.Now()
			resp, err := http.Get(hs.URL + path)
			t.Logf("GET %s with the explorer full: %v", path, time.Since(start).Round(time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s while the explorer is full: %d %s", path, resp.StatusCode, b)
			}
		}
		// The pages answered while the first explorer query was still
		// running (the second waits behind it).
		select {
		case a := <-slow:
			t.Fatalf("an explorer query ended before the pages answered: %+v", a)
		default:
		}
		for range 2 {
			if a := <-slow; a.code != 200 || a.err != nil {
				t.Fatalf("slow explorer query: %+v", a)
			}
		}
	})
}

// Non-reading clients of large explorer results cost at most the result
// budget: each result is cut at SQLMaxResultBytes, requests past
// SQLResultBudget are refused, and a client that does not read is cut off
// after SQLWriteTimeout, which frees its result.
func TestExplorerResultMemoryBounded(t *testing.T) {
	st := openStore(t, engineEmbedded)
	const maxResult, budgetBytes = 8 << 20, 16 << 20
	s := testServer(t, st, func(o *Options) {
		o.SQLMaxResultBytes, o.SQLResultBudget, o.SQLWriteTimeout = maxResult, budgetBytes, 2*time.Second
	})
	// 60 MB of text, over 70 MB as rows: far past the limit.
	hs := exploreServer(t, s, "SELECT number, repeat('x', 600) AS s FROM numbers(100000)")

	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	// HeapAlloc counts garbage too (this test's own reading client decodes
	// a result of ~10 MB): collect often so the peak reflects what is held.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	// Clients that send the request and never read, with a small window.
	const clients = 6
	for range clients {
		c, err := net.Dial("tcp", hs.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
		defer c.Close()
		fmt.Fprintf(c, "POST /x HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\n\r\n", hs.Listener.Addr())
	}
	// A reading client gets the first rows and says why there are no more.
	var got struct {
		Rows      [][]any `json:"rows"`
		Truncated bool    `json:"truncated"`
		Reason    string  `json:"truncated_reason"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Post(hs.URL+"/x", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			break
		}
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || time.Now().After(deadline) {
			t.Fatalf("reading client: %d %s", resp.StatusCode, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got.Rows) < 10000 || len(got.Rows) >= 100000 || !got.Truncated || !strings.Contains(got.Reason, "larger than 8 MiB") ||
		got.Rows[9999][0] != float64(9999) || len(got.Rows[9999][1].(string)) != 600 {
		t.Fatalf("reading client: %d rows, truncated %v %q", len(got.Rows), got.Truncated, got.Reason)
	}
	// The stalled writes time out and give their results back.
	var held int64
	if !testkit.Eventually(time.Until(deadline), 50*time.Millisecond, func() bool { held = s.results.inUse(); return held == 0 }) {
		t.Fatalf("%d bytes of results still held", held)
	}
	close(stop)
	<-sampled
	// MCP's query_sql gets a quarter of the limit.
	rows, err := s.explore(mcpCall(context.Background()), "SELECT number, repeat('x', 600) AS s FROM numbers(100000)")
	if err != nil || !strings.Contains(rows.Truncated, "larger than 2 MiB") || s.results.inUse() != 0 {
		t.Fatalf("MCP's limit: %v, %d rows, truncated %q, %d bytes held", err, len(rows.Data), rows.Truncated, s.results.inUse())
	}
	// Live: at most twice the budget (a result being decoded is held as
	// text and as rows), plus garbage not yet collected (GOGC=10 here)
	// and the reading client's own copy.
	bound := uint64(4 * budgetBytes)
	t.Logf("heap: base %d MiB, peak %d MiB (+%d MiB), bound +%d MiB", base>>20, peak>>20, (peak-base)>>20, bound>>20)
	if peak > base+bound {
		t.Fatalf("heap grew by %d MiB with %d non-reading clients, over the bound of %d MiB", (peak-base)>>20, clients, bound>>20)
	}
}

// The same gate stands before MCP's query_sql: with the explorer's lane
// full, query_sql is a 503 with Retry-After, and the other tools answer.
func TestMCPQuerySQLGate(t *testing.T) {
	s := testServer(t, nil, func(o *Options) { o.ExplorerLane = LaneLimits{Concurrency: 1, Queue: -1} })
	hold, err := s.explorer.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	hdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
	sqlCall := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query_sql","arguments":{"query":"SELECT 1"}}}`
	resp, m := rpc(t, s, hdr, sqlCall)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "5" || !strings.Contains(fmt.Sprint(m["error"]), "SQL explorer") {
		t.Fatalf("query_sql with the explorer full: %d %v", resp.StatusCode, m)
	}
	resp, m = rpc(t, s, hdr, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_agents","arguments":{}}}`)
	if resp.StatusCode != 200 || m["result"] == nil {
		t.Fatalf("list_agents with the explorer full: %d %v", resp.StatusCode, m)
	}
	if s.results.inUse() != 0 {
		t.Fatalf("a refused request holds %d bytes", s.results.inUse())
	}
	hold()
	resp, m = rpc(t, s, hdr, sqlCall)
	if resp.StatusCode != 200 || s.results.inUse() != 0 || len(s.explorer.slots) != 0 {
		t.Fatalf("query_sql with the explorer free: %d %v; %d bytes held, %d turns taken", resp.StatusCode, m, s.results.inUse(), len(s.explorer.slots))
	}
}

// A page past the pages' full lane is a 503 with Retry-After and a JSON
// error; the explorer's lane is not involved.
func TestPagesLaneFull(t *testing.T) {
	s := testServer(t, nil, func(o *Options) { o.PagesLane = LaneLimits{Concurrency: 1, Queue: -1} })
	hold, err := s.pages.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.URL() + "/api/agents")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" || body["retry_after_seconds"] != float64(2) ||
		!strings.Contains(fmt.Sprint(body["error"]), "too many dashboard requests at once (1 running and 0 waiting)") {
		t.Fatalf("page past a full lane: %d %v", resp.StatusCode, body)
	}
	hold()
	var agents AgentsResponse
	get(t, s, "/api/agents", &agents)
}

// An answer written a row at a time is the same JSON as one encoded whole.
func TestWriteRowsMatchesMarshal(t *testing.T) {
	v := &SQLResponse{Columns: []string{`"rows":[]`, "n"}, Types: []string{"String", "UInt64"},
		Rows:     [][]any{{`a"b<\n>`, uint64(1)}, {"ü", nil}, {[]any{"x", 2.5}, map[string]any{"k": "v"}}},
		RowCount: 3, Truncated: true}
	rec := httptest.NewRecorder()
	writeJSON(rec, 200, v)
	want, _ := json.Marshal(v)
	var got, exp any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, rec.Body.Bytes())
	}
	_ = json.Unmarshal(want, &exp)
	if fmt.Sprint(got) != fmt.Sprint(exp) || rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("streamed %s\nwant %s", rec.Body.Bytes(), want)
	}
}

// serialStore is a store that runs one explorer statement at a time.
type serialStore struct{ sink.Store }

func (serialStore) ExplorerConcurrency() int { return 1 }

// A store that runs explorer statements one at a time narrows the
// explorer's lane to one, so the rest wait in the lane, within its time
// limit, instead of in the store; other stores keep the configured lane.
func TestExplorerLaneFollowsTheStore(t *testing.T) {
	for _, c := range []struct {
		st   sink.Store
		want int
	}{{serialStore{}, 1}, {nil, 2}} {
		s, err := New(Options{Store: c.st})
		if err != nil {
			t.Fatal(err)
		}
		if got := cap(s.explorer.slots); got != c.want {
			t.Errorf("store %T: explorer lane runs %d at once, want %d", c.st, got, c.want)
		}
	}
}
