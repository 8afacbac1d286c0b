package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/cylestio/perimeter/sink"
)

// The explorer's sandbox is tested against the engine that judges it:
// every statement goes through the running API, and what it returns must
// never hold the canaries planted outside Perimeter's tables — a file on
// disk and a table in another database.

const (
	canaryFile  = "CANARY-FILE-5f1c2a"
	canaryTable = "CANARY-TABLE-93be07"
)

type sandbox struct {
	srv  *Server
	path string // the canary file
}

var (
	sandboxOnce sync.Once
	sandboxEnv  *sandbox
	sandboxErr  error
)

// sandboxServer is one embedded store with both canaries and a dashboard
// over it, shared by the sandbox tests and the fuzz target's iterations.
func sandboxServer(t *testing.T) *sandbox {
	t.Helper()
	sandboxOnce.Do(func() {
		st := openStore(&keep{T: t}, engineEmbedded) // skips loudly without libchdb
		dir, err := os.MkdirTemp("", "explorer-canary-")
		if err != nil {
			sandboxErr = err
			return
		}
		sharedCleanups.add(func() { os.RemoveAll(dir) })
		path := filepath.Join(dir, "canary.txt")
		if sandboxErr = os.WriteFile(path, []byte(canaryFile+"\n"), 0o600); sandboxErr != nil {
			return
		}
		ex, ok := st.(interface {
			Exec(context.Context, string) error
		})
		if !ok {
			sandboxErr = errNoExec
			return
		}
		ctx := context.Background()
		for _, q := range []string{
			"CREATE DATABASE IF NOT EXISTS canarydb",
			"CREATE TABLE IF NOT EXISTS canarydb.secret (v String) ENGINE = MergeTree ORDER BY v",
			"INSERT INTO canarydb.secret VALUES ('" + canaryTable + "')",
			"CREATE TABLE IF NOT EXISTS default.secret (v String) ENGINE = MergeTree ORDER BY v",
			"INSERT INTO default.secret VALUES ('" + canaryTable + "')",
		} {
			if sandboxErr = ex.Exec(ctx, q); sandboxErr != nil {
				return
			}
		}
		o := Options{Store: st, Host: "127.0.0.1", Schema: schemaOf(st)}
		srv, err := New(o)
		if err != nil {
			sandboxErr = err
			return
		}
		sandboxEnv = &sandbox{srv: srv, path: path}
	})
	if sandboxErr != nil {
		t.Fatal(sandboxErr)
	}
	if sandboxEnv == nil {
		t.Skip("the embedded engine is not available (see the first skip message)")
	}
	return sandboxEnv
}

var errNoExec = &sqlRefused{"store cannot Exec"}

// explore runs one statement through POST /api/sql in process.
func (sb *sandbox) explore(t *testing.T, q string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(SQLRequest{Query: q})
	req, _ := http.NewRequest("POST", "/api/sql", strings.NewReader(string(body)))
	req.Host = "127.0.0.1"
	rec := httptest.NewRecorder()
	sb.srv.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func (sb *sandbox) attacks() []string {
	p := sb.path
	return []string{
		// Table functions and functions that leave the database, by any
		// spelling the engine accepts.
		"SELECT * FROM file('" + p + "', 'LineAsString')",
		"SELECT file('" + p + "')",
		"SELECT FILE('" + p + "')",
		"SELECT `file`('" + p + "')",
		"SELECT \"file\"('" + p + "')",
		"SELECT “file”('" + p + "')",
		"SELECT * FROM `file`('" + p + "', LineAsString)",
		"SELECT /* /* */ file('" + p + "') /* */ */",
		"SELECT /* /* */ */ file('" + p + "')",
		"SELECT 1 # it's\n, file('" + p + "') -- '",
		"SELECT $$ it's $$, file('" + p + "') -- '",
		"SELECT ‘it’’s’, file('" + p + "')",
		"SELECT * FROM (SELECT * FROM file('" + p + "', 'LineAsString'))",
		"WITH (SELECT file('" + p + "')) AS x SELECT x",
		"SELECT arrayMap(x -> file(x), ['" + p + "'])",
		"SELECT * FROM view(SELECT file('" + p + "'))",
		"SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'a String')",
		"SELECT * FROM remote('127.0.0.1', canarydb.secret)",
		"SELECT * FROM merge('canarydb', '.*')",
		"SELECT * FROM executable('cat " + p + "', 'LineAsString', 'a String')",
		"SELECT * FROM s3('http://127.0.0.1:1/x', 'CSV')",
		"SELECT * FROM input('a String')",
		"SELECT dictGet('d', 'v', 1)",
		"SELECT getSetting('readonly'), hostName(), currentUser(), version()",
		"SELECT joinGet('canarydb.secret', 'v', 1)",
		"SELECT filesystemAvailable()",
		"SELECT hasColumnInTable('canarydb', 'secret', 'v')",
		// Other databases and system tables.
		"SELECT * FROM canarydb.secret",
		"SELECT * FROM `canarydb`.`secret`",
		"SELECT * FROM “canarydb”.“secret”",
		"SELECT * FROM secret",
		"SELECT * FROM default.secret",
		"SELECT name FROM system.tables",
		"SELECT * FROM system.query_log",
		"SELECT * FROM SYSTEM.TABLES",
		"SELECT * FROM INFORMATION_SCHEMA.TABLES",
		"SELECT * FROM information_schema.columns",
		"SELECT 1 WHERE 'x' IN canarydb.secret",
		"SELECT 1 WHERE 'x' GLOBAL IN system.tables",
		"SELECT * FROM (SELECT 1) AS a JOIN canarydb.secret AS b ON 1",
		"WITH s AS (SELECT * FROM canarydb.secret) SELECT * FROM s",
		// Statements other than one SELECT, and clauses that lift limits.
		"SELECT 1; SELECT * FROM file('" + p + "', 'LineAsString')",
		"SELECT 1) ; SELECT file('" + p + "') ; SELECT (1",
		"INSERT INTO canarydb.secret VALUES ('x')",
		"DROP TABLE canarydb.secret",
		"SET readonly = 0",
		"EXPLAIN SELECT 1",
		"SELECT 1 SETTINGS max_execution_time = 1000",
		"SELECT * FROM numbers(3) SETTINGS max_result_rows = 1",
		"SELECT 1 SETTINGS readonly = 0",
		"SELECT * FROM (SELECT 1 SETTINGS readonly = 0)",
		"SELECT 1 FORMAT JSON",
		"SELECT 1 INTO OUTFILE '/tmp/x'",
		"SELECT {p:String}",
	}
}

func TestExplorerSandbox(t *testing.T) {
	sb := sandboxServer(t)
	for _, q := range sb.attacks() {
		code, body := sb.explore(t, q)
		if strings.Contains(body, canaryFile) || strings.Contains(body, canaryTable) {
			t.Errorf("%q leaked a canary: %d %s", q, code, body)
		}
		if code != 400 || !strings.Contains(body, `"param":"query"`) {
			t.Errorf("%q: want 400 naming the query, got %d %s", q, code, body)
		}
		// Refused before the engine applies them, with the explorer's reason.
		if strings.Contains(q, " SETTINGS ") && !strings.Contains(body, "SETTINGS is not allowed") {
			t.Errorf("%q: want the explorer's refusal of SETTINGS, got %s", q, body)
		}
	}
	db := sb.srv.database()
	events := db + "." + sink.EventsTable
	for _, q := range []string{
		"SELECT 1",
		"  select 1 ;  ",
		"SELECT count() FROM " + events,
		"SELECT count() FROM " + events + " FINAL WHERE name = 'llm.call.finish'",
		"SELECT agent_id, countIf(status >= 400) AS errors, sumIf(total_tokens, name = 'llm.call.finish') FROM " + events + " GROUP BY agent_id",
		"WITH recent AS (SELECT * FROM " + events + " WHERE ts > now() - 3600) SELECT count() FROM recent",
		"SELECT number, toString(number) AS s FROM numbers(10) WHERE number IN (1, 2, 3) ORDER BY number",
		"SELECT 'a;b', \"number\" FROM numbers(1) -- ; comment",
		"SELECT 'file(1)', '# not a comment', $$heredoc$$",
		"SELECT /* file('x') */ 1",
		"SELECT arrayMap(x -> x * 2, [1, 2, 3]), uniqExactIf(number, number > 1), quantilesMerge(0.5)(s) FROM (SELECT number, quantilesState(0.5)(number) AS s FROM numbers(5) GROUP BY number) GROUP BY number",
		"SELECT row_number() OVER (ORDER BY number) FROM numbers(3)",
		"SELECT * FROM " + events + " AS e WHERE e.agent_id IN (SELECT agent_id FROM " + events + ") LIMIT 1",
		"SELECT 1 UNION ALL SELECT 2",
		"SELECT CAST(1 AS String), 1::UInt8, (1, 2).1, [1, 2][1], if(1, 'a', 'b'), multiIf(0, 1, 2)",
	} {
		code, body := sb.explore(t, q)
		if code != 200 {
			t.Errorf("%q: want 200, got %d %s", q, code, body)
		}
	}
}

// On a server too old to show its parse (CI's ClickHouse 18.16) the
// explorer runs nothing and says why; on a newer one the same attacks fail.
func TestExplorerOnServer(t *testing.T) {
	st := openStore(t, engineServer)
	s := testServer(t, st, nil)
	v := st.(interface{ Version() sink.ServerVersion }).Version()
	body, _ := json.Marshal(SQLRequest{Query: "SELECT count() FROM " + s.database() + ".events"})
	code, b := call(t, s, "POST", "/api/sql", body, nil)
	if !v.AtLeast(20, 6) {
		if code != 501 || !strings.Contains(string(b), "20.6 or newer") || !strings.Contains(string(b), `"param":"query"`) {
			t.Fatalf("server %s: want 501 saying the explorer needs 20.6, got %d %s", v, code, b)
		}
		return
	}
	if code != 200 {
		t.Fatalf("server %s: %d %s", v, code, b)
	}
	for _, q := range []string{"SELECT name FROM system.tables", "SELECT * FROM file('/etc/passwd', 'LineAsString')", "SELECT hostName()"} {
		body, _ := json.Marshal(SQLRequest{Query: q})
		if code, b := call(t, s, "POST", "/api/sql", body, nil); code != 400 {
			t.Errorf("server %s: %q: want 400, got %d %s", v, q, code, b)
		}
	}
}

func TestCheckASTLines(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines []string
		err   string
	}{
		{"plain", []string{"SelectWithUnionQuery (children 1)", " ExpressionList (children 1)", "  SelectQuery (children 1)", "   ExpressionList (children 1)", "    Literal UInt64_1"}, ""},
		{"format", []string{"SelectWithUnionQuery (children 2)", " ExpressionList (children 1)", "  SelectQuery (children 1)", "   ExpressionList (children 1)", "    Literal UInt64_1", " Identifier JSON"}, "FORMAT"},
		{"insert", []string{"InsertQuery   (children 2)", " Identifier t"}, "only SELECT"},
		{"alias breaks a line", []string{"SelectWithUnionQuery (children 1)", " ExpressionList (children 1)", "  SelectQuery (children 1)", "   ExpressionList (children 1)", "    Literal UInt64_1 (alias a\nFunction numbers)"}, "one statement"},
		{"unknown node", []string{"SelectWithUnionQuery (children 1)", " ExpressionList (children 1)", "  SelectQuery (children 1)", "   Dictionary x"}, "not allowed"},
		{"depth jump", []string{"SelectWithUnionQuery (children 1)", "   ExpressionList (children 1)"}, "cannot read"},
		{"table function", []string{"SelectWithUnionQuery (children 1)", " ExpressionList (children 1)", "  SelectQuery (children 1)", "   TablesInSelectQuery (children 1)", "    TablesInSelectQueryElement (children 1)", "     TableExpression (children 1)", "      Function numbers_mt (children 1)"}, ""},
		{"table function denied", []string{"SelectWithUnionQuery (children 1)", " ExpressionList (children 1)", "  SelectQuery (children 1)", "   TablesInSelectQuery (children 1)", "    TablesInSelectQueryElement (children 1)", "     TableExpression (children 1)", "      Function fileCluster (children 1)"}, "fileCluster() is not allowed"},
		{"other database", []string{"SelectWithUnionQuery (children 1)", " ExpressionList (children 1)", "  SelectQuery (children 1)", "   TablesInSelectQuery (children 1)", "    TablesInSelectQueryElement (children 1)", "     TableExpression (children 1)", "      TableIdentifier perimeterx.events (alias e)"}, "not readable"},
		{"own database", []string{"SelectWithUnionQuery (children 1)", " ExpressionList (children 1)", "  SelectQuery (children 1)", "   TablesInSelectQuery (children 1)", "    TablesInSelectQueryElement (children 1)", "     TableExpression (children 1)", "      TableIdentifier perimeter.events (alias e)"}, ""},
	} {
		_, err := checkAST(c.lines, "perimeter")
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.err)
		}
	}
	for name, want := range map[string]bool{
		"count": true, "countif": true, "sumarrayif": true, "uniqexactmergestate": true, "quantilesstate": true,
		"tostring": true, "file": false, "fileif": false, "hostname": false, "getsetting": false, "dictget": false,
		"tostringif": false, "url": false, "sleep": false, "generateserialid": false,
	} {
		if got := functionAllowed(name); got != want {
			t.Errorf("functionAllowed(%q) = %v", name, got)
		}
	}
}

// FuzzCheckSQL: whatever the explorer runs returns no canary, whichever
// way the statement is spelt. Its seeds (run by every go test) are the
// attacks; `make fuzz` mutates them against the engine.
func FuzzCheckSQL(f *testing.F) {
	seed := &sandbox{path: "/tmp/explorer-canary/canary.txt"}
	for _, q := range seed.attacks() {
		f.Add(q)
	}
	f.Add("SELECT count() FROM perimeter.events")
	f.Add("WITH x AS (SELECT 1) SELECT * FROM x")
	f.Fuzz(func(t *testing.T, q string) {
		sb := sandboxServer(t)
		q = strings.ReplaceAll(q, seed.path, sb.path)
		code, body := sb.explore(t, q)
		if strings.Contains(body, canaryFile) || strings.Contains(body, canaryTable) {
			t.Fatalf("%q leaked a canary: %d %s", q, code, body)
		}
		if code >= 500 && code != 503 {
			t.Fatalf("%q: %d %s", q, code, body)
		}
	})
}

// Every answer says what the stored events keep of message text
// (storage.content), REST and MCP alike.
func TestStorageContentIsReported(t *testing.T) {
	st := openStore(t, engineEmbedded)
	s := testServer(t, st, func(o *Options) { o.StorageContent = "masked" })
	code, b := call(t, s, "GET", "/api/dashboard", nil, nil)
	var m struct {
		Storage sink.Status `json:"storage"`
	}
	if code != 200 || json.Unmarshal(b, &m) != nil || m.Storage.Content != "masked" {
		t.Fatalf("/api/dashboard: %d %s", code, b)
	}
}

// Integers beyond ±2^53 and floats that are not numbers reach the client
// exact, as strings; SQL NULL alone is null.
func TestExplorerValuesStayExact(t *testing.T) {
	sb := sandboxServer(t)
	code, body := sb.explore(t, "SELECT toUInt64(18446744073709551615) AS big, toInt64(-9007199254740993) AS neg, 9007199254740992 AS edge, 0/0 AS n, 1/0 AS i, -1/0 AS ni, NULL AS z")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var r SQLResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil || len(r.Rows) != 1 {
		t.Fatalf("%v %s", err, body)
	}
	want := []any{"18446744073709551615", "-9007199254740993", 9007199254740992.0, "nan", "inf", "-inf", nil}
	if !reflect.DeepEqual(r.Rows[0], want) {
		t.Fatalf("row %#v, want %#v", r.Rows[0], want)
	}
}
