package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/sink"
)

// SQLRequest is POST /api/sql's body.
type SQLRequest struct {
	Query string `json:"query"`
	Limit int    `json:"limit"`
}

// SQLLimits are the explorer's bounds.
type SQLLimits struct {
	MaxRows             int     `json:"max_rows"`
	MaxExecutionSeconds float64 `json:"max_execution_seconds"`
}

// SQLResponse is POST /api/sql's answer.
type SQLResponse struct {
	Columns   []string `json:"columns"`
	Types     []string `json:"types"`
	Rows      [][]any  `json:"rows"`
	RowCount  int      `json:"row_count"`
	Truncated bool     `json:"truncated"`
	// TruncatedReason says why rows are missing: the row limit or the
	// result's size (empty when nothing was cut).
	TruncatedReason string    `json:"truncated_reason"`
	ElapsedMs       float64   `json:"elapsed_ms"`
	Limits          SQLLimits `json:"limits"`
	Envelope
}

func (s *Server) emptySQL(limit int) *SQLResponse {
	return &SQLResponse{Columns: []string{}, Types: []string{}, Rows: [][]any{},
		Limits: SQLLimits{MaxRows: limit, MaxExecutionSeconds: s.opts.SQLTimeout.Seconds()}}
}

const defaultSQLRows = 1000

func (s *Server) apiSQL(w http.ResponseWriter, r *http.Request) {
	st := s.status()
	now := s.opts.Now().UTC()
	var req SQLRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 128<<10))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		s.finish(w, st, now, nil, badParam("body", "want JSON {\"query\": \"SELECT …\", \"limit\": 1000}"), nil)
		return
	}
	v, err := s.runSQL(queryContext(r.Context()), st, req.Query, req.Limit)
	s.finish(w, st, now, v, err, func() enveloped { return s.emptySQL(s.sqlLimit(req.Limit)) })
}

func (s *Server) sqlLimit(n int) int {
	if n <= 0 {
		return min(defaultSQLRows, s.opts.SQLMaxRows)
	}
	return n
}

// runSQL checks and runs an explorer statement (the API's and MCP's).
func (s *Server) runSQL(ctx context.Context, st sink.Status, query string, limit int) (*SQLResponse, error) {
	if limit < 0 || limit > s.opts.SQLMaxRows {
		return nil, badParam("limit", "must be between 1 and %d", s.opts.SQLMaxRows)
	}
	limit = s.sqlLimit(limit)
	if s.opts.Store == nil || !st.Available && !s.probeDue() {
		return nil, errUnavailable
	}
	var ver sink.ServerVersion
	if v, ok := s.opts.Store.(interface{ Version() sink.ServerVersion }); ok {
		ver = v.Version()
	}
	wrapped, err := s.sqlGuard.prepare(ctx, s.opts.Store.Query, ver, s.database(), query, limit+1)
	if err != nil {
		var refused *sqlRefused
		switch {
		case errors.As(err, &refused):
			return nil, &apiError{status: 400, param: "query", msg: err.Error()}
		case errors.Is(err, errNoExplain):
			return nil, &apiError{status: 501, param: "query", msg: err.Error()}
		case errors.Is(err, sink.ErrUnavailable) || !s.opts.Store.Status().Available:
			return nil, errUnavailable
		default:
			// The engine's own parse refused it: its message says where.
			return nil, &apiError{status: 400, param: "query", msg: err.Error()}
		}
	}
	if st.Engine == configs.EngineEmbedded {
		// The embedded read connection is readonly=2, which allows
		// settings: the engine stops the query at the limit. A server
		// store runs every query with readonly=1, which refuses settings,
		// and its own max_execution_time (storage query timeout) stops it
		// there.
		wrapped += " SETTINGS max_execution_time = " + strconv.FormatFloat(s.opts.SQLTimeout.Seconds(), 'f', -1, 64)
	}
	start := time.Now()
	rows, err := s.explore(ctx, wrapped)
	elapsed := time.Since(start)
	switch {
	case err == nil:
	case errors.Is(err, sink.ErrUnavailable) || !s.opts.Store.Status().Available:
		return nil, errUnavailable
	default:
		return nil, &apiError{status: 400, param: "query", msg: err.Error()}
	}
	out := s.emptySQL(limit)
	out.ElapsedMs = round(float64(elapsed)/float64(time.Millisecond), 1)
	out.Columns, out.Types = rows.Columns, rows.Types
	if out.Columns == nil {
		out.Columns, out.Types = []string{}, []string{}
	}
	data := rows.Data
	if len(data) > limit {
		data, out.Truncated = data[:limit], true
		out.TruncatedReason = "more than " + strconv.Itoa(limit) + " rows: showing the first " + strconv.Itoa(limit)
	}
	if rows.Truncated != "" {
		out.Truncated, out.TruncatedReason = true, rows.Truncated
	}
	for _, r := range data {
		row := make([]any, len(r))
		for i, v := range r {
			row[i] = jsonValue(v)
		}
		out.Rows = append(out.Rows, row)
	}
	out.RowCount = len(out.Rows)
	return out, nil
}

// maxExactJSON is the largest integer every JSON reader keeps exact (a
// JavaScript number's 2^53).
const maxExactJSON = 1 << 53

// jsonValue makes a result value JSON-safe and exact: an integer beyond
// ±2^53, which JSON.parse would round, and a float that is not a number
// (nan, inf, -inf, as ClickHouse writes them) come as strings; only SQL
// NULL is null.
func jsonValue(v any) any {
	switch x := v.(type) {
	case int64:
		if x > maxExactJSON || x < -maxExactJSON {
			return strconv.FormatInt(x, 10)
		}
	case uint64:
		if x > maxExactJSON {
			return strconv.FormatUint(x, 10)
		}
	case float64:
		switch {
		case math.IsNaN(x):
			return "nan"
		case math.IsInf(x, 1):
			return "inf"
		case math.IsInf(x, -1):
			return "-inf"
		}
	case time.Time:
		return isoTime(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	}
	return v
}

// SchemaResponse is GET /api/sql/schema.
type SchemaResponse struct {
	Tables   []TableInfo `json:"tables"`
	Examples []Example   `json:"examples"`
	Envelope
}

// TableInfo is one queryable table.
type TableInfo struct {
	Name    string       `json:"name"`
	Columns []ColumnInfo `json:"columns"`
}

// ColumnInfo is one column.
type ColumnInfo struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Example is a ready-made explorer query.
type Example struct {
	Title string `json:"title"`
	Query string `json:"query"`
}

// database is Perimeter's database, the one the explorer reads.
func (s *Server) database() string {
	if s.opts.Schema.Database != "" {
		return s.opts.Schema.Database
	}
	return sink.DefaultDatabase
}

func emptySchema() *SchemaResponse {
	return &SchemaResponse{Tables: []TableInfo{}, Examples: []Example{}}
}

func (s *Server) examples() []Example {
	src := sink.EventsSource(s.opts.Schema)
	return []Example{
		{"Requests, tokens and p99 latency per agent", "SELECT agent_id, count() AS requests, sum(total_tokens) AS tokens,\n  round(quantile(0.99)(duration_ms)) AS p99_ms\nFROM " + src + "\nWHERE name = 'llm.call.finish'\nGROUP BY agent_id ORDER BY requests DESC"},
		{"Cost per model (calls without a price counted apart, never as $0)", "SELECT model, countIf(cost_status IN ('priced', 'partial')) AS priced_calls,\n  countIf(cost_status NOT IN ('priced', 'partial', 'no_usage')) AS unpriced_calls, sum(cost_usd) AS cost_usd\nFROM " + src + "\nWHERE name = 'llm.call.finish'\nGROUP BY model ORDER BY cost_usd DESC"},
		{"Tool calls by tool", "SELECT tool_name, count() AS calls\nFROM " + src + "\nWHERE name = 'tool.execution'\nGROUP BY tool_name ORDER BY calls DESC"},
		{"Findings by rule and severity", "SELECT visitParamExtractString(attributes, 'finding.rule') AS rule,\n  visitParamExtractString(attributes, 'finding.severity') AS severity, count() AS n\nFROM " + src + "\nWHERE name = 'security.finding'\nGROUP BY rule, severity ORDER BY n DESC"},
		{"Errors in the last hour", "SELECT ts, agent_id, session_id, status, error_type, error_message\nFROM " + src + "\nWHERE name = 'llm.call.error' AND ts > now() - 3600\nORDER BY ts DESC LIMIT 100"},
		{"Requests per minute", "SELECT toStartOfMinute(ts) AS minute, count() AS requests\nFROM " + src + "\nWHERE name = 'llm.call.finish'\nGROUP BY minute ORDER BY minute DESC LIMIT 60"},
	}
}

func (s *Server) apiSQLSchema(ctx context.Context, p params, q *querier) (enveloped, error) {
	out := emptySchema()
	out.Examples = s.examples()
	db := s.opts.Schema.Database
	if db == "" {
		db = sink.DefaultDatabase
	}
	res, err := q.run(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", db, sink.EventsTable)
	if err != nil {
		return nil, err
	}
	t := TableInfo{Name: db + "." + sink.EventsTable, Columns: []ColumnInfo{}}
	for i := range res.len() {
		r := res.row(i)
		t.Columns = append(t.Columns, ColumnInfo{Name: r.str("name"), Type: r.str("type")})
	}
	out.Tables = append(out.Tables, t)
	return out, nil
}
