package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/sink"
)

// The SQL explorer runs users' SELECTs. The engine's read connection
// refuses writes (readonly), but a read-only ClickHouse can still read
// files and reach the network through table functions (file, url, s3,
// remote, …) and the file() function, and a SETTINGS clause could lift the
// time limit. So a statement must pass checkSQL first: one SELECT or WITH,
// no SETTINGS/FORMAT/INTO, no call to a function that leaves the database.
// The lexer follows ClickHouse's (strings with \ escapes and doubled
// quotes, quoted identifiers, -- and non-nesting /* */ comments); the two
// characters that start syntax it does not model, # (comments) and $
// (heredoc strings), are refused outright, wherever they appear.

// deniedFunctions are refused whatever the engine lists: everything that
// reads files, runs programs or opens connections.
var deniedFunctions = []string{
	"file", "filecluster", "filesystem", "url", "urlcluster", "s3", "s3cluster", "gcs", "oss", "cosn",
	"azureblobstorage", "azureblobstoragecluster", "hdfs", "hdfscluster", "hive", "remote", "remotesecure",
	"cluster", "clusterallreplicas", "executable", "executablepool", "input", "jdbc", "odbc", "mysql",
	"postgresql", "mongodb", "redis", "sqlite", "deltalake", "hudi", "iceberg", "eval", "loop", "dictionary",
	"arrowflight", "ytsaurus", "prometheusquery", "prometheusqueryrange",
}

// allowedTableFunctions generate or reshape data inside the engine.
var allowedTableFunctions = map[string]bool{
	"numbers": true, "numbers_mt": true, "zeros": true, "zeros_mt": true, "generate_series": true,
	"generateseries": true, "values": true, "null": true, "view": true, "format": true,
	"generaterandom": true, "merge": true, "primes": true, "sqlstandardvalues": true,
}

// sqlDeny is the set of refused function names for one engine: the static
// list plus every table function the engine has that is not known safe.
type sqlDeny struct {
	mu      sync.Mutex
	key     string
	names   map[string]bool
	dynamic bool
}

func (d *sqlDeny) get(ctx context.Context, st sink.Store, status sink.Status) map[string]bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.names != nil && d.dynamic && d.key == status.Version {
		return d.names
	}
	names := map[string]bool{}
	for _, n := range deniedFunctions {
		names[n] = true
	}
	dynamic := false
	if rows, err := st.Query(ctx, "SELECT name FROM system.table_functions"); err == nil {
		dynamic = true
		for _, r := range rows.Data {
			if n := strings.ToLower(str(r[0])); !allowedTableFunctions[n] {
				names[n] = true
			}
		}
	}
	d.names, d.dynamic, d.key = names, dynamic, status.Version
	return names
}

// sqlToken is one lexeme of a statement.
type sqlToken struct {
	kind byte // 'w' word, 'q' quoted identifier, 's' string, 'p' punctuation, 'n' number/other
	text string
	pos  int
}

// lexSQL splits a statement, dropping comments and whitespace.
func lexSQL(s string) ([]sqlToken, error) {
	var out []sqlToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, errors.New("unterminated /* comment")
			}
			i += 2 + end + 2
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			var b strings.Builder
			closed := false
			for j < len(s) {
				if s[j] == '\\' && j+1 < len(s) {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed {
				return nil, errors.New("unterminated quote " + string(c))
			}
			kind := byte('s')
			if c != '\'' {
				kind = 'q'
			}
			out = append(out, sqlToken{kind: kind, text: b.String(), pos: i})
			i = j
		case isWordByte(c) && !('0' <= c && c <= '9'):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, sqlToken{kind: 'w', text: s[i:j], pos: i})
			i = j
		case '0' <= c && c <= '9':
			j := i
			for j < len(s) && (isWordByte(s[j]) || s[j] == '.') {
				j++
			}
			out = append(out, sqlToken{kind: 'n', text: s[i:j], pos: i})
			i = j
		default:
			out = append(out, sqlToken{kind: 'p', text: s[i : i+1], pos: i})
			i++
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80
}

// checkSQL validates an explorer statement and returns it without a
// trailing semicolon.
func checkSQL(sql string, denied map[string]bool) (string, error) {
	sql = strings.TrimSpace(sql)
	if sql == "" {
		return "", errors.New("empty query: write one SELECT statement")
	}
	if len(sql) > 64<<10 {
		return "", errors.New("query longer than 64 KiB")
	}
	if i := strings.IndexAny(sql, "#$\x00"); i >= 0 {
		return "", errors.New("the characters # and $ are not allowed (they start comments and heredoc strings the explorer does not parse)")
	}
	toks, err := lexSQL(sql)
	if err != nil {
		return "", err
	}
	// One statement: a semicolon may only end it.
	for i, t := range toks {
		if t.kind == 'p' && t.text == ";" {
			if i != len(toks)-1 {
				return "", errors.New("only one statement is allowed (remove everything after ';')")
			}
			sql = strings.TrimSpace(sql[:t.pos])
			toks = toks[:i]
		}
	}
	firstWord := ""
	for _, t := range toks {
		if t.kind == 'p' && t.text == "(" {
			continue
		}
		if t.kind == 'w' {
			firstWord = strings.ToUpper(t.text)
		}
		break
	}
	if firstWord != "SELECT" && firstWord != "WITH" {
		return "", errors.New("only SELECT (or WITH … SELECT) statements are allowed: the explorer is read-only")
	}
	for i, t := range toks {
		next := ""
		if i+1 < len(toks) && toks[i+1].kind == 'p' {
			next = toks[i+1].text
		}
		if t.kind == 'w' {
			switch strings.ToUpper(t.text) {
			case "SETTINGS":
				return "", errors.New("SETTINGS is not allowed: the explorer's limits are fixed")
			case "INTO", "OUTFILE":
				return "", errors.New("INTO OUTFILE is not allowed")
			case "FORMAT":
				if next != "(" {
					return "", errors.New("FORMAT is not allowed: results come back as JSON")
				}
			}
		}
		if (t.kind == 'w' || t.kind == 'q') && next == "(" && denied[strings.ToLower(t.text)] {
			return "", errors.New(t.text + "() is not allowed: the explorer reads the analytics tables only (no files, URLs, other servers or programs)")
		}
	}
	return sql, nil
}

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
	Columns   []string  `json:"columns"`
	Types     []string  `json:"types"`
	Rows      [][]any   `json:"rows"`
	RowCount  int       `json:"row_count"`
	Truncated bool      `json:"truncated"`
	ElapsedMs float64   `json:"elapsed_ms"`
	Limits    SQLLimits `json:"limits"`
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
	denied := s.deny.get(ctx, s.opts.Store, st)
	stmt, err := checkSQL(query, denied)
	if err != nil {
		return nil, &apiError{status: 400, param: "query", msg: err.Error()}
	}
	wrapped := "SELECT * FROM (\n" + stmt + "\n) LIMIT " + strconv.Itoa(limit+1)
	if st.Engine == configs.EngineEmbedded {
		// The embedded read connection is readonly=2, which allows
		// settings: the engine stops the query at the limit. A server
		// store runs every query with readonly=1, which refuses settings,
		// and its own max_execution_time (storage query timeout) stops it
		// there.
		wrapped += " SETTINGS max_execution_time = " + strconv.FormatFloat(s.opts.SQLTimeout.Seconds(), 'f', -1, 64)
	}
	start := time.Now()
	rows, err := s.opts.Store.Query(ctx, wrapped)
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

// jsonValue makes a result value JSON-safe.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
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

func emptySchema() *SchemaResponse {
	return &SchemaResponse{Tables: []TableInfo{}, Examples: []Example{}}
}

func (s *Server) examples() []Example {
	src := sink.EventsSource(s.opts.Schema)
	return []Example{
		{"Requests, tokens and p99 latency per agent", "SELECT agent_id, count() AS requests, sum(total_tokens) AS tokens,\n  round(quantile(0.99)(duration_ms)) AS p99_ms\nFROM " + src + "\nWHERE name = 'llm.call.finish'\nGROUP BY agent_id ORDER BY requests DESC"},
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
