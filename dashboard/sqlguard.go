package dashboard

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/cylestio/perimeter/sink"
)

// The SQL explorer judges a statement by the engine's own parse of it,
// never by a lexer of ours: ClickHouse renders the statement back
// (formatQuerySingleLine, which also refuses a second statement) and shows
// its syntax tree (EXPLAIN AST) before anything runs, and the tree is held
// against allowlists — of node kinds, of functions (sqlfuncs.txt), of table
// functions, and of databases (Perimeter's own only: no system.*, no other
// application's tables). What is not on a list is refused.

//go:embed sqlfuncs.txt
var sqlFuncsText string

// sqlFuncs maps the lower-cased name of every function the explorer may
// call to whether it is an aggregate (which may carry combinator suffixes).
var sqlFuncs = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(sqlFuncsText))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, kind, _ := strings.Cut(line, "\t")
		m[strings.ToLower(name)] = kind == "aggregate"
	}
	return m
}()

// sqlTableFuncs are the table functions the explorer may read from: they
// generate rows inside the engine (view's inner query is checked like any
// other).
var sqlTableFuncs = map[string]bool{
	"numbers": true, "numbers_mt": true, "zeros": true, "zeros_mt": true,
	"generate_series": true, "generateseries": true, "values": true, "view": true,
}

// sqlCombinators are the aggregate function combinators, longest first so
// that MergeState is not read as State.
var sqlCombinators = []string{
	"simplestate", "mergestate", "ordefault", "resample", "distinct", "foreach",
	"argmax", "argmin", "ornull", "state", "merge", "array", "tuple", "null", "map", "if",
}

// sqlNodes are the syntax tree nodes an explorer query may hold. Set
// (a SETTINGS clause), query parameters, INTO OUTFILE, FORMAT and every
// statement kind other than SELECT are not among them.
var sqlNodes = map[string]bool{
	"SelectWithUnionQuery": true, "SelectIntersectExceptQuery": true, "SelectQuery": true,
	"ExpressionList": true, "WithElement": true, "Subquery": true,
	"Literal": true, "Identifier": true, "Function": true,
	"TablesInSelectQuery": true, "TablesInSelectQueryElement": true, "TableExpression": true,
	"TableIdentifier": true, "TableJoin": true, "ArrayJoin": true, "SampleRatio": true,
	"OrderByElement": true, "InterpolateElement": true, "WindowDefinition": true, "WindowListElement": true,
	"Asterisk": true, "QualifiedAsterisk": true, "ColumnsRegexpMatcher": true, "ColumnsListMatcher": true,
	"QualifiedColumnsRegexpMatcher": true, "QualifiedColumnsListMatcher": true,
	"ColumnsTransformerList": true, "ColumnsApplyTransformer": true, "ColumnsExceptTransformer": true,
	"ColumnsReplaceTransformer": true, "ColumnsReplaceTransformer::Replacement": true,
}

// sqlInFunctions take a table name as their right-hand side (x IN t).
var sqlInFunctions = map[string]bool{
	"in": true, "notin": true, "globalin": true, "globalnotin": true,
	"nullin": true, "notnullin": true, "globalnullin": true, "globalnotnullin": true,
}

const maxSQLLen = 64 << 10

// sqlGuard prepares explorer statements. Its probes of the engine (can it
// canonicalise, which tables its current database holds) are cached per
// engine version.
type sqlGuard struct {
	mu        sync.Mutex
	version   string
	canonical bool // the engine has formatQuerySingleLine
}

// sqlQuery runs one of the guard's own probes or the explorer statement.
type sqlQuery func(ctx context.Context, query string, args ...any) (*sink.Rows, error)

// sqlRefused is a statement the explorer does not run; the message says
// why and what to write instead.
type sqlRefused struct{ msg string }

func (e *sqlRefused) Error() string { return e.msg }

func refuse(format string, args ...any) error { return &sqlRefused{fmt.Sprintf(format, args...)} }

// errNoExplain: the engine cannot show how it parses a statement, so the
// explorer cannot vet it and runs nothing.
var errNoExplain = errors.New("the SQL explorer needs ClickHouse 20.6 or newer (it asks the engine to parse each query with EXPLAIN AST before running it); this server is older: upgrade it, or use the embedded engine (storage.engine: embedded)")

// prepare turns the user's statement into the one to run: ClickHouse's
// own rendering of it, wrapped to return at most limit rows. engineVersion
// is the store's ClickHouse version (zero when unknown), db Perimeter's
// database, the only one the explorer reads.
func (g *sqlGuard) prepare(ctx context.Context, q sqlQuery, engineVersion sink.ServerVersion, db, user string, limit int) (string, error) {
	user = strings.TrimSpace(user)
	if user == "" {
		return "", refuse("empty query: write one SELECT statement")
	}
	if len(user) > maxSQLLen {
		return "", refuse("query longer than 64 KiB")
	}
	if engineVersion.Major != 0 && !engineVersion.AtLeast(20, 6) {
		return "", errNoExplain
	}
	stmt := user
	if g.canCanonicalise(ctx, q, engineVersion) {
		rows, err := q(ctx, "SELECT formatQuerySingleLine(?)", user)
		if err != nil {
			return "", err
		}
		if len(rows.Data) != 1 || len(rows.Data[0]) != 1 {
			return "", errors.New("formatQuerySingleLine returned no statement")
		}
		stmt, _ = rows.Data[0][0].(string)
	}
	// Without formatQuerySingleLine (servers before 23.x) the statement is
	// sent as written: the native protocol runs one statement per query,
	// so text after a ';' is a syntax error on the server, not a second
	// statement. A statement that parses alone parses the same as the
	// subquery it becomes below.
	if err := refuseSettings(ctx, q, stmt); err != nil {
		return "", err
	}
	rows, err := q(ctx, "EXPLAIN AST "+stmt)
	if err != nil {
		return "", err
	}
	lines := make([]string, 0, len(rows.Data))
	for _, r := range rows.Data {
		if len(r) > 0 {
			s, _ := r[0].(string)
			lines = append(lines, s)
		}
	}
	unqualified, err := checkAST(lines, db)
	if err != nil {
		return "", err
	}
	if len(unqualified) > 0 {
		if err := checkUnqualified(ctx, q, db, unqualified); err != nil {
			return "", err
		}
	}
	return "SELECT * FROM (\n" + stmt + "\n) LIMIT " + strconv.Itoa(limit), nil
}

// refuseSettings refuses a statement with a SETTINGS clause before the
// EXPLAIN AST that vets it: the engine applies a statement's own top-level
// settings to the EXPLAIN of it. Parsed as a subquery, the same clause is
// only parsed. A statement that does not parse as a subquery (FORMAT, INTO
// OUTFILE) is left to the EXPLAIN, which refuses it.
func refuseSettings(ctx context.Context, q sqlQuery, stmt string) error {
	rows, err := q(ctx, "EXPLAIN AST SELECT * FROM (\n"+stmt+"\n)")
	if err != nil {
		return nil
	}
	for _, r := range rows.Data {
		s, _ := r[0].(string)
		for _, part := range strings.Split(s, "\n") {
			if n, ok := parseASTLine(part); ok && n.kind == "Set" {
				return refuse("SETTINGS is not allowed: the explorer's limits are fixed")
			}
		}
	}
	return nil
}

func (g *sqlGuard) canCanonicalise(ctx context.Context, q sqlQuery, v sink.ServerVersion) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.version == v.Raw && g.version != "" {
		return g.canonical
	}
	_, err := q(ctx, "SELECT formatQuerySingleLine('SELECT 1')")
	g.canonical = err == nil
	if err == nil || strings.Contains(err.Error(), "Unknown function") || strings.Contains(err.Error(), "UNKNOWN_FUNCTION") {
		g.version = v.Raw
	}
	return g.canonical
}

// astNode is one line of EXPLAIN AST: "  Function countIf (children 1)".
type astNode struct {
	depth int
	kind  string
	name  string
}

func parseASTLine(line string) (astNode, bool) {
	d := 0
	for d < len(line) && line[d] == ' ' {
		d++
	}
	rest := line[d:]
	kind, rest, _ := strings.Cut(rest, " ")
	if kind == "" {
		return astNode{}, false
	}
	// What follows the kind is the node's name, then "(alias …)" and
	// "(children N)". Only names of Function, TableIdentifier and
	// Identifier nodes matter, and those never start with '('.
	name := rest
	if i := strings.Index(name, " ("); i >= 0 {
		name = name[:i]
	}
	if strings.HasPrefix(name, "(") {
		name = ""
	}
	return astNode{depth: d, kind: kind, name: strings.TrimSpace(name)}, true
}

// checkAST holds the syntax tree of the statement against the
// allowlists and returns the unqualified table names it reads (CTE names
// or tables of the connection's current database).
func checkAST(lines []string, db string) ([]string, error) {
	if len(lines) == 0 {
		return nil, errors.New("EXPLAIN AST returned nothing")
	}
	nodes := make([]astNode, 0, len(lines))
	for _, l := range lines {
		// An alias may hold a line break; every line must still be a
		// node the explorer knows, or the statement is refused.
		for _, part := range strings.Split(l, "\n") {
			n, ok := parseASTLine(part)
			if !ok {
				return nil, refuse("the explorer cannot read the engine's parse of this query")
			}
			nodes = append(nodes, n)
		}
	}
	if nodes[0].kind != "SelectWithUnionQuery" || nodes[0].depth != 0 {
		return nil, refuse("only SELECT (or WITH … SELECT) statements are allowed: the explorer is read-only")
	}
	var unqualified []string
	seen := map[string]bool{}
	// stack[i] is the ancestor at depth i.
	stack := make([]astNode, 0, 32)
	for i, n := range nodes {
		if n.depth > len(stack) {
			return nil, refuse("the explorer cannot read the engine's parse of this query")
		}
		stack = append(stack[:n.depth], n)
		if i > 0 && n.depth == 0 {
			return nil, refuse("only one statement is allowed")
		}
		if n.depth == 1 && n.kind != "ExpressionList" {
			// The root holds its list of selects and nothing else:
			// FORMAT, INTO OUTFILE and SETTINGS hang here.
			return nil, refuse("FORMAT, INTO OUTFILE and SETTINGS are not allowed: results come back as JSON within fixed limits")
		}
		if n.kind == "Set" {
			return nil, refuse("SETTINGS is not allowed: the explorer's limits are fixed")
		}
		if n.kind == "QueryParameter" {
			return nil, refuse("query parameters ({name:Type}) are not supported: write the value")
		}
		if !sqlNodes[n.kind] {
			return nil, refuse("%s is not allowed in the explorer: it runs plain SELECT queries over Perimeter's tables", n.kind)
		}
		parent := astNode{}
		if n.depth > 0 {
			parent = stack[n.depth-1]
		}
		switch n.kind {
		case "Function":
			lname := strings.ToLower(n.name)
			if parent.kind == "TableExpression" {
				if !sqlTableFuncs[lname] {
					return nil, refuse("%s() is not allowed: the explorer reads Perimeter's tables only (no files, URLs, other servers or programs); it may generate rows with numbers(), zeros(), generate_series(), values() or view()", n.name)
				}
				continue
			}
			if !functionAllowed(lname) {
				return nil, refuse("%s() is not allowed in the explorer (only functions that compute on their arguments: no files, URLs, dictionaries, settings or host information)", n.name)
			}
		case "TableIdentifier":
			if err := checkTable(n.name, db, seen, &unqualified); err != nil {
				return nil, err
			}
		case "Identifier":
			// The right side of IN may name a table: x IN db.t.
			if n.depth >= 2 && parent.kind == "ExpressionList" && stack[n.depth-2].kind == "Function" &&
				sqlInFunctions[strings.ToLower(stack[n.depth-2].name)] && isSecondChild(nodes, i) {
				if err := checkTable(n.name, db, seen, &unqualified); err != nil {
					return nil, err
				}
			}
		}
	}
	return unqualified, nil
}

// isSecondChild tells whether nodes[i] is the second child of its parent.
func isSecondChild(nodes []astNode, i int) bool {
	d := nodes[i].depth
	siblings := 0
	for j := i - 1; j >= 0 && nodes[j].depth >= d; j-- {
		if nodes[j].depth == d {
			siblings++
		}
	}
	return siblings == 1
}

func checkTable(name, db string, seen map[string]bool, unqualified *[]string) error {
	tdb, table, qualified := strings.Cut(name, ".")
	if !qualified {
		if !seen[name] {
			seen[name] = true
			*unqualified = append(*unqualified, name)
		}
		return nil
	}
	if tdb != db || strings.Contains(table, ".") {
		return refuse("table %s is not readable from the explorer: it reads Perimeter's own tables only (%s.*)", name, db)
	}
	return nil
}

// checkUnqualified: an unqualified name is a CTE of the statement or a
// table of the connection's current database. The latter is allowed only
// when that database is Perimeter's.
func checkUnqualified(ctx context.Context, q sqlQuery, db string, names []string) error {
	rows, err := q(ctx, "SELECT currentDatabase(), name FROM system.tables WHERE database = currentDatabase()")
	if err != nil {
		return err
	}
	current := ""
	tables := map[string]bool{}
	for _, r := range rows.Data {
		if len(r) == 2 {
			current, _ = r[0].(string)
			n, _ := r[1].(string)
			tables[n] = true
		}
	}
	if current == db {
		return nil
	}
	for _, n := range names {
		if tables[n] {
			return refuse("table %s is not readable from the explorer: name Perimeter's tables with their database (%s.%s)", n, db, sink.EventsTable)
		}
	}
	return nil
}

// functionAllowed: a listed function, or a listed aggregate with
// combinator suffixes (countIf, sumArrayIf, uniqMergeState, …).
func functionAllowed(lname string) bool {
	if _, ok := sqlFuncs[lname]; ok {
		return true
	}
	base := lname
	for range 4 {
		stripped := false
		for _, c := range sqlCombinators {
			if len(base) > len(c) && strings.HasSuffix(base, c) {
				base = base[:len(base)-len(c)]
				stripped = true
				break
			}
		}
		if !stripped {
			return false
		}
		if agg, ok := sqlFuncs[base]; ok {
			return agg
		}
	}
	return false
}
