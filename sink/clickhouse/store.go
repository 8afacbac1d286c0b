package clickhouse

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/internal/defaults"
	"github.com/cylestio/perimeter/sink"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
)

// Fix is what Status tells the user when the server can't be reached.
const Fix = "start clickhouse-server or set storage.clickhouse.dsn"

// fixFor is what Status tells the user for err: Fix, unless the server
// answered and refused the user.
func fixFor(err error) string {
	var ex *ch.Exception
	if !errors.As(err, &ex) {
		return Fix
	}
	switch ex.Code {
	case 192, 193, 194, 516: // UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, AUTHENTICATION_FAILED
		return "check storage.clickhouse.username and password (or the user in storage.clickhouse.dsn) against the server's users"
	case 164, 497: // READONLY, ACCESS_DENIED
		return "give the user CREATE, ALTER, INSERT and SELECT on the database, or use one that has them"
	}
	return Fix
}

// Options configure a Store. Zero values take the defaults noted.
type Options struct {
	// DSN ("clickhouse://user:pass@host:9000/db?dial_timeout=5s") wins
	// over Addresses, Database, Username, Password and TLS when set.
	DSN       string
	Addresses []string // host:port of the native protocol, default 127.0.0.1:9000
	Database  string   // default "perimeter"; created if missing
	Username  string   // default "default"
	Password  string
	TLS       bool
	// Cluster renders the schema ON CLUSTER with Replicated local tables
	// and a Distributed events table.
	Cluster       string
	RetentionDays int // TTL where the server supports it; 0 keeps forever

	DialTimeout   time.Duration // default 10s
	QueryTimeout  time.Duration // Query's deadline and max_execution_time, default 30s
	MaxResultRows int           // Query's max_result_rows, default 100000
	Compress      bool          // LZ4 on the wire (worth it for remote servers)

	Logger zerolog.Logger
}

// OptionsFromConfig maps storage.clickhouse and storage.retention_days.
func OptionsFromConfig(c configs.StorageConfig) Options {
	return Options{
		DSN:           c.ClickHouse.DSN,
		Addresses:     c.ClickHouse.Addresses,
		Database:      c.ClickHouse.Database,
		Username:      c.ClickHouse.Username,
		Password:      c.ClickHouse.Password,
		TLS:           c.ClickHouse.TLS,
		Cluster:       c.ClickHouse.Cluster,
		RetentionDays: c.RetentionDays,
		DialTimeout:   c.ClickHouse.DialTimeout.D(),
		Compress:      true,
	}
}

// Store is a ClickHouse server (or cluster) as a sink.Store.
type Store struct {
	opts   Options
	schema sink.SchemaOptions
	conn   driver.Conn
	log    zerolog.Logger
	insert string
	where  string // "host:port" or "cluster c via host:port", for messages

	// connectMu serialises connect/migrate and is held across their
	// network I/O (up to DialTimeout+QueryTimeout); mu guards the fields
	// below and is never held across I/O, so Status and Version answer at
	// once while a connect waits on a server that does not reply.
	connectMu sync.Mutex
	mu        sync.Mutex
	ready     bool
	version   sink.ServerVersion
	status    sink.Status

	colsMu sync.Mutex
	cols   sink.ColumnBatch
	ids    []uuid.UUID
}

var _ sink.Store = (*Store)(nil)

// Open prepares a store. It fails only on bad options; a server that is
// down is reported by Status and retried by the next write or query. Open
// makes one bounded attempt to connect and migrate so that Status is
// accurate from the start.
func Open(ctx context.Context, o Options) (*Store, error) {
	co, db, err := clientOptions(&o)
	if err != nil {
		return nil, err
	}
	conn, err := ch.Open(co)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	s := &Store{
		opts:   o,
		schema: sink.SchemaOptions{Database: db, Cluster: o.Cluster, RetentionDays: o.RetentionDays},
		conn:   conn,
		log:    o.Logger,
		where:  strings.Join(co.Addr, ","),
	}
	s.insert = sink.InsertPrefix(s.schema)
	s.status = sink.Status{Engine: configs.EngineClickHouse, Reason: "not connected yet", Fix: Fix}
	if err := s.Connect(ctx); err != nil {
		s.log.Warn().Err(err).Msg("clickhouse: not available yet; events spill to disk until it is (" + fixFor(err) + ")")
	}
	return s, nil
}

// clientOptions turns Options into clickhouse-go options and the schema's
// database. The connection itself uses the server's default database, so
// that connecting works before ours exists; every statement qualifies its
// tables.
func clientOptions(o *Options) (*ch.Options, string, error) {
	defaults.Set(&o.DialTimeout, 10*time.Second)
	defaults.Set(&o.QueryTimeout, 30*time.Second)
	defaults.Set(&o.MaxResultRows, 100000)
	var co *ch.Options
	db := o.Database
	if o.DSN != "" {
		p, err := ch.ParseDSN(o.DSN)
		if err != nil {
			return nil, "", fmt.Errorf("clickhouse: storage.clickhouse.dsn: %w", err)
		}
		co = p
		if co.Auth.Database != "" {
			db = co.Auth.Database
		}
		if co.DialTimeout <= 0 {
			co.DialTimeout = o.DialTimeout
		}
	} else {
		addrs := o.Addresses
		if len(addrs) == 0 {
			addrs = []string{"127.0.0.1:9000"}
		}
		user := o.Username
		if user == "" {
			user = "default"
		}
		co = &ch.Options{
			Addr:        addrs,
			Auth:        ch.Auth{Username: user, Password: o.Password},
			DialTimeout: o.DialTimeout,
		}
		if o.TLS {
			co.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		}
	}
	co.Auth.Database = ""
	co.Protocol = ch.Native
	if o.Cluster != "" {
		// An insert into the Distributed table returns once every shard
		// has its rows, or fails (and the pipeline spills and retries),
		// instead of queueing them on the node we talk to: a batch is
		// acknowledged only when it is readable, and a shard that is down
		// keeps the batch in our spill, not in a queue on another node
		// that may die with it. A retried batch lands on the shards again;
		// the table deduplicates by id.
		if co.Settings == nil {
			co.Settings = ch.Settings{}
		}
		co.Settings["insert_distributed_sync"] = 1
	}
	if o.Compress && co.Compression == nil {
		co.Compression = &ch.Compression{Method: ch.CompressionLZ4}
	}
	co.ClientInfo.Products = append(co.ClientInfo.Products, struct{ Name, Version string }{"perimeter", "1"})
	if db == "" {
		db = sink.DefaultDatabase
	}
	return co, db, nil
}

// Name is "clickhouse".
func (s *Store) Name() string { return configs.EngineClickHouse }

// Schema is where the tables live (for readers building SQL).
func (s *Store) Schema() sink.SchemaOptions { return s.schema }

// Version is the server version, once connected.
func (s *Store) Version() sink.ServerVersion {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// Connect checks the server, reads its version and brings the schema up to
// date. It is called lazily by WriteBatch and Query; callers may use it to
// wait for the server at start.
func (s *Store) Connect(ctx context.Context) error {
	if s.isReady() {
		return nil
	}
	s.connectMu.Lock()
	defer s.connectMu.Unlock()
	if s.isReady() { // connected while we waited for connectMu
		return nil
	}
	v, err := s.connect(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.status = sink.Status{Engine: configs.EngineClickHouse, Reason: err.Error(), Fix: fixFor(err)}
		return err
	}
	s.ready, s.version = true, v
	s.status = sink.Status{Engine: configs.EngineClickHouse, Available: true, Version: v.String()}
	return nil
}

func (s *Store) isReady() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// connect checks the server and migrates the schema; the caller holds
// connectMu (not mu: this waits on the network).
func (s *Store) connect(ctx context.Context) (sink.ServerVersion, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.DialTimeout+s.opts.QueryTimeout)
	defer cancel()
	var raw string
	if err := s.conn.QueryRow(ctx, "SELECT version()").Scan(&raw); err != nil {
		return sink.ServerVersion{}, fmt.Errorf("clickhouse at %s: %w", s.where, err)
	}
	v, err := sink.ParseServerVersion(raw)
	if err != nil {
		return v, fmt.Errorf("clickhouse at %s: %w", s.where, err)
	}
	applied, err := sink.Migrate(ctx, execer{s}, v, s.schema)
	if err != nil {
		return v, fmt.Errorf("clickhouse at %s (version %s): %w", s.where, v, err)
	}
	if len(applied) > 0 {
		s.log.Info().Ints("versions", applied).Str("server", v.String()).Str("database", s.schema.Database).
			Msg("clickhouse: schema migrated")
	}
	if s.schema.RetentionDays > 0 && !v.TTL() {
		s.log.Warn().Str("server", v.String()).Int("retention_days", s.schema.RetentionDays).
			Msg("clickhouse: this server has no TTL; storage.retention_days is not applied (drop old partitions by hand)")
	}
	return v, nil
}

// execer gives sink.Migrate the store's Exec and Query.
type execer struct{ s *Store }

func (e execer) Exec(ctx context.Context, sql string) error { return e.s.Exec(ctx, sql) }
func (e execer) Query(ctx context.Context, sql string, args ...any) (*sink.Rows, error) {
	return e.s.query(ctx, 0, sql, args...)
}

// Exec runs one statement with full rights (DDL, maintenance). It is not
// for user SQL: use Query. Write rows with WriteBatch or INSERT … SELECT:
// over the native protocol an 18.16 server answers INSERT … VALUES by
// waiting for data blocks, which Exec never sends.
func (s *Store) Exec(ctx context.Context, sql string) error {
	if err := s.conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	return nil
}

// WriteBatch inserts events with the native batch API. It may be called
// again with the same events after an error; the table deduplicates by id.
func (s *Store) WriteBatch(ctx context.Context, events []*sink.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := s.Connect(ctx); err != nil {
		return err
	}
	if err := s.insertBatch(ctx, events); err != nil {
		s.failed(err)
		return err
	}
	return nil
}

// insertBlockRows is how many rows go to the server per native block.
// One INSERT still makes one part (the server squashes its blocks), but
// the driver reuses a block's buffers after each flush, so memory per
// insert stays bounded and the server starts reading while we encode.
const insertBlockRows = 4096

func (s *Store) insertBatch(ctx context.Context, events []*sink.Event) error {
	s.colsMu.Lock()
	defer s.colsMu.Unlock()
	b, err := s.conn.PrepareBatch(ctx, s.insert)
	if err != nil {
		return fmt.Errorf("clickhouse: prepare insert: %w", err)
	}
	defer b.Close()
	for len(events) > 0 {
		chunk := events[:min(len(events), insertBlockRows)]
		events = events[len(chunk):]
		s.cols.Reset()
		s.ids = s.ids[:0]
		for _, e := range chunk {
			s.cols.Append(e)
			s.ids = append(s.ids, uuid.UUID(e.ID))
		}
		for i, col := range s.cols.Columns() {
			if i == 0 {
				col = s.ids
			}
			if err := b.Column(i).Append(col); err != nil {
				return fmt.Errorf("clickhouse: column %s: %w", sink.InsertColumns()[i], err)
			}
		}
		if len(events) > 0 {
			if err := b.Flush(); err != nil {
				return fmt.Errorf("clickhouse: insert: %w", err)
			}
		}
	}
	if err := b.Send(); err != nil {
		return s.shardError(fmt.Errorf("clickhouse: insert: %w", err))
	}
	return nil
}

// failed marks the store for a fresh Connect (which re-checks the schema)
// when the error suggests the server or the table went away.
func (s *Store) failed(err error) {
	var ex *ch.Exception
	if errors.As(err, &ex) && ex.Code != 60 && ex.Code != 81 { // 60 UNKNOWN_TABLE, 81 UNKNOWN_DATABASE
		return
	}
	s.mu.Lock()
	s.ready = false
	s.status = sink.Status{Engine: configs.EngineClickHouse, Reason: err.Error(), Fix: Fix}
	s.mu.Unlock()
}

// Query runs one read-only SELECT: arguments are bound by sink.Bind, the
// server enforces readonly=1 and max_result_rows, and the query is
// cancelled on the server after QueryTimeout (max_execution_time, set by
// the driver from the deadline, backs that up server-side).
func (s *Store) Query(ctx context.Context, query string, args ...any) (*sink.Rows, error) {
	return s.queryLimit(ctx, 0, query, args...)
}

var _ sink.ExplorerQuerier = (*Store)(nil)

// QueryExplorer implements sink.ExplorerQuerier: Query, on a connection of
// the pool (so beside the dashboard's reads), reading rows only while they
// fit in maxBytes.
func (s *Store) QueryExplorer(ctx context.Context, query string, maxBytes int64) (*sink.Rows, error) {
	return s.queryLimit(ctx, max(maxBytes, 0), query)
}

func (s *Store) queryLimit(ctx context.Context, maxBytes int64, query string, args ...any) (*sink.Rows, error) {
	if err := s.Connect(ctx); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, maxBytes, query, args...)
	if err != nil && ctx.Err() == nil {
		// A caller that gave up says nothing about the server.
		s.failed(err)
	}
	return rows, err
}

func (s *Store) query(ctx context.Context, maxBytes int64, query string, args ...any) (*sink.Rows, error) {
	bound, err := sink.Bind(query, args...)
	if err != nil {
		return nil, err
	}
	// The server enforces the time limit (max_execution_time). The query
	// context carries no deadline on purpose: the driver would replace
	// max_execution_time with "deadline + 5 s". Cancellation by the caller,
	// or a grace period past the limit, still ends it, and KILL QUERY then
	// stops it on the server, which does not notice a closed connection
	// by itself.
	id := queryID()
	qctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	grace := time.AfterFunc(s.opts.QueryTimeout+2*time.Second, cancel)
	defer grace.Stop()
	qctx = ch.Context(qctx, ch.WithQueryID(id), ch.WithSettings(ch.Settings{
		"readonly":           1,
		"max_execution_time": int(max(1, s.opts.QueryTimeout/time.Second)),
		"max_result_rows":    s.opts.MaxResultRows,
		// result_overflow_mode is "throw" by default; string settings
		// can't be sent to 18.16 over the native protocol anyway.
	}))
	out, err := s.runQuery(qctx, bound, maxBytes)
	if err != nil && qctx.Err() != nil {
		s.kill(id)
	}
	return out, s.shardError(err)
}

// Codes of a ClickHouse exception that a Distributed table raises when it
// cannot reach any replica of a shard.
const (
	codeNetwork            = 210 // NETWORK_ERROR (connection refused)
	codeAllConnectionTries = 279 // ALL_CONNECTION_TRIES_FAILED
	codeSocketTimeout      = 209
)

// ErrShardUnavailable wraps the error of a query or insert in cluster mode
// that failed because a shard had no live replica.
var ErrShardUnavailable = errors.New("part of the data is unavailable: a shard of the cluster has no live replica")

// shardError says, in cluster mode, that a failure to reach a shard means
// part of the data is unavailable. Perimeter does not read with
// skip_unavailable_shards: an answer that silently left a shard out would
// show lower totals as if they were true; the error names the server
// (ClickHouse's message lists the address it tried) and what to do.
func (s *Store) shardError(err error) error {
	var ex *ch.Exception
	if err == nil || s.opts.Cluster == "" || !errors.As(err, &ex) {
		return err
	}
	switch ex.Code {
	case codeNetwork, codeAllConnectionTries, codeSocketTimeout:
		return fmt.Errorf("clickhouse cluster %s (via %s): %w; no partial answer is given: restart that shard's servers (or one replica of it): %w",
			s.opts.Cluster, s.where, ErrShardUnavailable, err)
	}
	return err
}

func (s *Store) runQuery(ctx context.Context, bound string, maxBytes int64) (*sink.Rows, error) {
	rows, err := s.conn.Query(ctx, bound)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	defer rows.Close()
	out, err := readRows(rows, s.opts.MaxResultRows, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	return out, nil
}

// kill stops an abandoned query on the server.
func (s *Store) kill(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	q, err := sink.Bind("KILL QUERY WHERE query_id = ? ASYNC", id)
	if err == nil {
		err = s.conn.Exec(ctx, q)
	}
	if err != nil {
		s.log.Warn().Err(err).Str("query_id", id).Msg("clickhouse: could not kill an abandoned query")
	}
}

func queryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "perimeter-" + hex.EncodeToString(b[:])
}

// Status reports the last known state without touching the network.
func (s *Store) Status() sink.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Close releases the connections.
func (s *Store) Close() error { return s.conn.Close() }
