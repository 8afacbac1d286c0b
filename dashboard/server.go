package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/internal/defaults"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/pricing"
)

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	// Store answers every query; nil means analytics are off
	// (storage.engine none) and every answer is the empty state.
	Store sink.Store
	// Schema says where the events table lives (default database
	// "perimeter").
	Schema sink.SchemaOptions
	// Host and Port to listen on (live_trace server_host, server_port;
	// defaults 127.0.0.1 and 7100; Port 0 picks a free port).
	Host string
	Port int
	// Token, when set, is required on /api/* and /mcp. New refuses a
	// non-loopback Host without one.
	Token string
	// RefreshInterval is echoed to the UI (default 2s).
	RefreshInterval time.Duration
	// SessionTimeout is live_trace session_completion_timeout: a session
	// idle longer is COMPLETED (default 30s).
	SessionTimeout time.Duration
	// OpenBrowser opens the dashboard in the desktop's browser 2 s after
	// start (best effort).
	OpenBrowser bool
	// Proxy describes the proxy for /api/config.
	Proxy ProxyInfo
	// ConfigView is the proxy's redacted config (its GET /config view).
	ConfigView func() any
	// DetectionOff says the pipeline runs no detection (detect.enabled:
	// false): the agent checks then leave out their PII category and say
	// why, instead of passing it for lack of findings.
	DetectionOff bool
	// UI serves "/"; nil serves the embedded web UI (package web).
	UI http.Handler
	// Pricer is the price table /api/models shows and /api/cost checks
	// unpriced models against (the pipeline's, which priced the stored
	// calls); nil: the built-in table.
	Pricer *pricing.Pricer
	// Replay is the upstream POST /api/replay re-sends captured calls to;
	// without a BaseURL replay is off.
	Replay ReplayOptions
	// SQLTimeout and SQLMaxRows bound the SQL explorer (defaults 10s and
	// 10000 rows at most per request).
	SQLTimeout time.Duration
	SQLMaxRows int
	// SQLMaxResultBytes bounds one explorer result by size as well
	// (sink.RowSize summed: each value's text plus 16 bytes, each row 24):
	// the rows past it are left out and the answer says truncated, with
	// the reason. MCP's query_sql gets a quarter of it. Default 16 MiB.
	SQLMaxResultBytes int64
	// SQLResultBudget bounds the explorer results held at once across
	// requests, from the start of the query until the client has read the
	// answer (a running query holds SQLMaxResultBytes, an MCP result four
	// times its size); a request that would pass it is answered 503. The
	// live memory this costs is at most about twice the budget (a result
	// being decoded is held as text and as rows). Default 64 MiB; at least
	// SQLMaxResultBytes times two.
	SQLResultBudget int64
	// SQLWriteTimeout bounds writing one explorer answer: a client that
	// does not read it is cut off then and its result freed. Default 30s.
	SQLWriteTimeout time.Duration
	// PagesLane bounds the dashboard's pages and MCP's other tools,
	// ExplorerLane the SQL explorer (POST /api/sql and MCP query_sql), each
	// on its own: explorer queries never queue a page. A request past a
	// full queue, or waiting longer than Wait, is answered 503 with
	// Retry-After. Defaults: pages 4 at once, 64 waiting up to 30s;
	// explorer 2 at once, 8 waiting up to SQLTimeout.
	PagesLane, ExplorerLane LaneLimits
	// PollInterval is how often the live stream looks for writes it was
	// not told about (default 1s).
	PollInterval time.Duration
	Version      string
	// Instance is the server.instance_id of the proxy serving the
	// dashboard (/api/stats served_by); the events of every instance
	// writing the same store are shown whichever serves.
	Instance string
	Logger   zerolog.Logger
	// Now is the clock (tests).
	Now func() time.Time
	// StorageContent is storage.content (full, masked or metadata): what
	// the stored events keep of message text, reported in every answer's
	// storage status (REST and MCP) and shown by the UI.
	StorageContent string
	// WrapListener, when set, wraps the dashboard's listener (the wiring
	// caps its connections with it, so that the dashboard's clients cannot
	// take the descriptors the proxy needs).
	WrapListener func(net.Listener) net.Listener
}

// ProxyInfo is the original's /api/config fields.
type ProxyInfo struct {
	ProviderType    string `json:"provider_type"`
	ProviderBaseURL string `json:"provider_base_url"`
	ProxyHost       string `json:"proxy_host"`
	ProxyPort       int    `json:"proxy_port"`
	StorageMode     string `json:"storage_mode"`
	DBPath          string `json:"db_path"`
}

func (o *Options) defaults() {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	defaults.Set(&o.RefreshInterval, 2*time.Second)
	defaults.Set(&o.SessionTimeout, 30*time.Second)
	defaults.Set(&o.SQLTimeout, 10*time.Second)
	defaults.Set(&o.SQLMaxRows, 10000)
	defaults.Set(&o.SQLMaxResultBytes, 16<<20)
	defaults.Set(&o.SQLResultBudget, 64<<20)
	o.SQLResultBudget = max(o.SQLResultBudget, 2*o.SQLMaxResultBytes)
	defaults.Set(&o.SQLWriteTimeout, 30*time.Second)
	o.PagesLane.defaults(4, 64, 30*time.Second)
	o.ExplorerLane.defaults(2, 8, o.SQLTimeout)
	defaults.Set(&o.PollInterval, time.Second)
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Server is the dashboard: JSON API, live stream, MCP and the web UI on one
// port. It only reads the store.
type Server struct {
	opts      Options
	log       zerolog.Logger
	started   time.Time
	sqlGuard  sqlGuard
	legacy    legacyCheck
	lastProbe atomic.Int64 // unix nanoseconds of the last query tried on a store that said it was down
	hub       *hub
	handler   http.Handler
	pages     *lane   // the pages' and MCP's other tools' turns
	explorer  *lane   // the SQL explorer's turns
	results   *budget // bytes of explorer results held, across requests
	wf        *workflowAPI
	prices    *pricing.Pricer
	replay    *replayer

	mu     sync.Mutex
	srv    *http.Server
	ln     net.Listener
	cancel context.CancelFunc
	done   chan struct{}
}

// New builds a server; Start listens.
func New(opts Options) (*Server, error) {
	opts.defaults()
	if !isLoopbackHost(opts.Host) && opts.Token == "" {
		return nil, fmt.Errorf("dashboard on %s: a token is required when listening beyond loopback (set the live_trace token)", opts.Host)
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("dashboard port %d: must be 0..65535", opts.Port)
	}
	explorerLane := opts.ExplorerLane
	if c, ok := opts.Store.(sink.ExplorerConcurrency); ok && c.ExplorerConcurrency() > 0 {
		explorerLane.Concurrency = min(explorerLane.Concurrency, c.ExplorerConcurrency())
	}
	s := &Server{opts: opts, log: opts.Logger, started: opts.Now(),
		pages:    newLane("dashboard", opts.PagesLane, 2*time.Second),
		explorer: newLane("SQL explorer", explorerLane, explorerRetry),
		results:  &budget{max: opts.SQLResultBudget}, prices: opts.Pricer}
	if s.prices == nil {
		var err error
		if s.prices, err = pricing.New(pricing.Options{}); err != nil {
			return nil, fmt.Errorf("dashboard: built-in price table: %w", err)
		}
	}
	replay, err := newReplayer(opts.Replay, s.prices)
	if err != nil {
		return nil, err
	}
	s.replay = replay
	s.hub = newHub(s)
	mux := http.NewServeMux()
	s.routes(mux)
	s.handler = newGuard(opts.Host, opts.Port, opts.Token).wrap(jsonMisses(mux))
	return s, nil
}

// Handler is the whole dashboard (guard included), for tests and for
// serving on a listener of one's own.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens and serves in the background; it fails only when the
// address cannot be bound. The live stream's poller and, when asked, the
// browser start with it.
func (s *Server) Start() error {
	addr := net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("dashboard: listen on %s: %w (is the port taken? set live_trace server_port or --dashboard-port)", addr, err)
	}
	if s.opts.WrapListener != nil {
		ln = s.opts.WrapListener(ln)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          nil,
	}
	s.mu.Lock()
	s.srv, s.ln, s.cancel, s.done = srv, ln, cancel, make(chan struct{})
	s.mu.Unlock()
	go s.hub.run(ctx)
	go func() {
		defer close(s.done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Msg("dashboard stopped serving")
		}
	}()
	if s.opts.OpenBrowser {
		go openBrowser(ctx, s.log, s.BrowserURL(), 2*time.Second)
	}
	return nil
}

// Addr is the bound address once started.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port))
	}
	return s.ln.Addr().String()
}

// URL is the dashboard's address for people (without the token).
func (s *Server) URL() string {
	host, port, _ := net.SplitHostPort(s.Addr())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// BrowserURL is URL with the token, for opening in a browser.
func (s *Server) BrowserURL() string {
	if s.opts.Token == "" {
		return s.URL() + "/"
	}
	return s.URL() + "/?token=" + url.QueryEscape(s.opts.Token)
}

// Notify tells live clients that events were written; the wiring calls it
// after each successful store write. It never blocks.
func (s *Server) Notify() { s.hub.notify() }

// Shutdown ends live streams, stops accepting connections and waits for
// the requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, cancel, done := s.srv, s.cancel, s.done
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	cancel() // ends SSE streams and the poller
	err := srv.Shutdown(ctx)
	select {
	case <-done:
	case <-ctx.Done():
	}
	return err
}

// status is the store's health, or why there is no store.
func (s *Server) status() sink.Status {
	if s.opts.Store == nil {
		return sink.Status{Engine: "none", Reason: "analytics are off: storage.engine is none, so events are not stored",
			Fix: "set storage.engine to embedded (needs libchdb: make chdb) or clickhouse"}
	}
	st := s.opts.Store.Status()
	st.Content, st.Cluster, st.Instance = s.opts.StorageContent, s.opts.Schema.Cluster, s.opts.Instance
	return st
}

// querier prepares one request's queries.
func (s *Server) querier(ctx context.Context, st sink.Status) *querier {
	now := s.opts.Now().UTC()
	q := &querier{store: s.opts.Store, src: sink.EventsSource(s.opts.Schema), table: s.opts.Schema.Table(sink.EventsTable), schema: s.opts.Schema, now: now, noDetection: s.opts.DetectionOff}
	q.active = uint64(max(0, now.Add(-s.opts.SessionTimeout).UnixMicro()))
	if s.opts.Store == nil || !st.Available && !s.probeDue() {
		q.store = nil
		return q
	}
	// A store that says it is down still gets a query every probeEvery: a
	// server store reconnects when queried, and an idle proxy writes
	// nothing that would make it try.
	q.f = s.legacy.get(ctx, s.opts.Store, s.opts.Schema.Table(sink.EventsTable), now)
	return q
}

// probeEvery is how often requests try a store that reports itself down;
// the others get the empty state at once.
const probeEvery = 5 * time.Second

func (s *Server) probeDue() bool {
	now := time.Now().UnixNano()
	last := s.lastProbe.Load()
	return now-last >= int64(probeEvery) && s.lastProbe.CompareAndSwap(last, now)
}

// writeJSON writes v with status. An answer with many rows (rowsAnswer)
// is written a row at a time.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if ra, ok := v.(rowsAnswer); ok && len(*ra.streamRows()) > 0 {
		writeRows(w, status, ra)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]string{"error": "encode answer: " + err.Error()})
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// answer runs fn and writes its answer: 200 with the envelope filled in,
// the empty state when the store is down, 400/404 for apiErrors and 500
// for anything else.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, empty func() enveloped, fn func(ctx context.Context, p params, q *querier) (enveloped, error)) {
	release, err := s.pages.acquire(r.Context())
	if err != nil {
		s.refuse(w, err.(*apiError))
		return
	}
	defer release()
	ctx := queryContext(r.Context())
	st := s.status()
	q := s.querier(ctx, st)
	v, err := fn(ctx, params{q: r.URL.Query(), now: q.now, id: r.PathValue("id")}, q)
	s.finish(w, st, q.now, v, err, empty)
}

func (s *Server) finish(w http.ResponseWriter, st sink.Status, now time.Time, v enveloped, err error, empty func() enveloped) {
	var ae *apiError
	switch {
	case err == nil:
	case errors.As(err, &ae):
		ae.write(w)
		return
	case errors.Is(err, errUnavailable):
		if st = s.status(); st.Available {
			st.Available, st.Reason, st.Fix = false, unavailableReason(err), "wait a moment: the store is restarting; the proxy is unaffected"
		}
		v = empty()
	default:
		s.log.Warn().Err(err).Msg("dashboard query failed")
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error(), "storage": st})
		return
	}
	if err == nil && !st.Available {
		st = s.status() // it came back on this request's query
	}
	e := v.envelope()
	e.Storage, e.LastUpdated = st, Time(now)
	writeJSON(w, http.StatusOK, v)
}

func unavailableReason(err error) string {
	return "the analytics store stopped answering (" + err.Error() + ")"
}

// queryContext is ctx without its cancellation: a browser that navigates
// away aborts its fetches, and a server store takes a cancelled query for
// a lost connection and reports itself down. Queries are bounded by the
// engines' own timeouts instead.
func queryContext(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
