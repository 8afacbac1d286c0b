package dashboard

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/sink"
)

// errUnavailable marks a query that failed because the store is down; the
// handlers turn it into an empty answer carrying the store's Status.
var errUnavailable = errors.New("analytics store unavailable")

// querier runs the dashboard's SQL against one store for one request. Every
// statement that counts reads events through sink.EventsSource (FINAL), so
// a batch the pipeline stored twice is counted once (only a question a
// duplicate cannot change, such as which sessions carry a tag, reads the
// table itself), and binds user values with sink.Bind placeholders.
type querier struct {
	store  sink.Store
	src    string // `db`.`events` FINAL
	table  string // `db`.`events`, duplicates and all
	schema sink.SchemaOptions
	f      findingExprs
	now    time.Time
	active uint64 // ts_us at or after which a session is ACTIVE

	noDetection bool // the pipeline runs no detection (Options.DetectionOff)
}

// first is the string value of a top-level key. ClickHouse 18.16 has only
// the visitParam* JSON functions, which find the first `"key":` anywhere in
// the text; they are exact for keys written before any raw nested JSON (the
// finding.* keys sink/inspect writes, tool.status), and used only for those.
// Keys that may follow raw request bodies (prompt, tools, tags) are parsed
// in Go instead, on every engine.
func first(col, key string) string {
	return "visitParamExtractString(" + col + ", " + sqlString(key) + ")"
}

func firstFloat(col, key string) string {
	return "visitParamExtractFloat(" + col + ", " + sqlString(key) + ")"
}

// sqlString quotes a constant of ours as a literal.
func sqlString(s string) string {
	q, err := sink.Bind("?", s)
	if err != nil {
		panic(err) // a string always binds
	}
	return q
}

// run executes one statement and indexes its columns by name.
func (q *querier) run(ctx context.Context, sql string, args ...any) (result, error) {
	if q.store == nil {
		return result{}, errUnavailable
	}
	rows, err := q.store.Query(ctx, sql, args...)
	if err != nil {
		// Engines say "down" differently: chDB with ErrUnavailable, a
		// server store by its Status after the failure.
		if errors.Is(err, sink.ErrUnavailable) || !q.store.Status().Available {
			return result{}, fmt.Errorf("%w: %w", errUnavailable, err)
		}
		return result{}, err
	}
	return newResult(rows), nil
}

// result is a query result with columns addressable by name.
type result struct {
	rows *sink.Rows
	idx  map[string]int
}

func newResult(rows *sink.Rows) result {
	r := result{rows: rows, idx: make(map[string]int, len(rows.Columns))}
	for i, c := range rows.Columns {
		r.idx[c] = i
	}
	return r
}

func (r result) len() int {
	if r.rows == nil {
		return 0
	}
	return len(r.rows.Data)
}

func (r result) row(i int) rec { return rec{r: r, data: r.rows.Data[i]} }

// rec is one row; a missing column reads as zero.
type rec struct {
	r    result
	data []any
}

func (x rec) v(name string) any {
	i, ok := x.r.idx[name]
	if !ok || i >= len(x.data) {
		return nil
	}
	return x.data[i]
}

func (x rec) int(name string) int64     { return toInt(x.v(name)) }
func (x rec) float(name string) float64 { return toFloat(x.v(name)) }
func (x rec) str(name string) string    { return str(x.v(name)) }

// time reads a microsecond timestamp column.
func (x rec) time(name string) time.Time { return fromMicros(x.int(name)) }

func fromMicros(us int64) time.Time {
	if us <= 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case uint64:
		if x > math.MaxInt64 {
			return math.MaxInt64
		}
		return int64(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0
		}
		return int64(x)
	case bool:
		if x {
			return 1
		}
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err == nil {
			return n
		}
		return toInt(toFloat(x))
	case time.Time:
		return x.Unix()
	}
	return 0
}

// toFloat never returns NaN or ±Inf (avg and quantile of nothing are NaN,
// which JSON cannot carry).
func toFloat(v any) float64 {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	case string:
		f, _ = strconv.ParseFloat(x, 64)
	case bool:
		if x {
			f = 1
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

// riskExpr is detect's session score over confidence sums per severity, as
// SQL: min(100, Σ weight·log2(1 + Σ confidence)). sev and conf name the
// severity and confidence expressions.
// only, when set, restricts the sums to rows where it holds.
func riskExpr(sev, conf, only string) string {
	var b strings.Builder
	b.WriteString("least(100, 0")
	if only != "" {
		only += " AND "
	}
	for s, w := range detect.SeverityWeights {
		if w == 0 {
			continue
		}
		fmt.Fprintf(&b, " + %g * log2(1 + sumIf(%s, %s%s = %s))", w, conf, only, sev, sqlString(detect.Severity(s).String()))
	}
	b.WriteString(")")
	return b.String()
}

// Event names as SQL literals.
var (
	qStart   = sqlString(sink.LLMCallStart)
	qFinish  = sqlString(sink.LLMCallFinish)
	qError   = sqlString(sink.LLMCallError)
	qToolExe = sqlString(sink.ToolExecution)
	qToolRes = sqlString(sink.ToolResult)
	qFinding = sqlString(sink.SecurityFinding)
	qSession = sqlString(sink.SessionStart)
)

// isError is the original's rule: any event whose name ends in ".error".
const isError = "endsWith(name, '.error')"

// findingExprs read a security.finding's severity, category, rule and
// confidence. Since schema migration 2 the first three are typed columns,
// and the confidence follows from the finding's own score: sink/inspect
// stores detect.EventScore of the finding alone in risk_score, that is
// weight(severity)·log2(1 + confidence), so confidence =
// exp2(risk_score / weight) − 1. Reading them costs no JSON and, above all,
// not the attributes column, which dominates the table's size. Findings
// stored before migration 2 have empty columns; while any exist, the
// expressions read the attributes (written by sink/inspect before any nested
// JSON, so visitParam is exact) instead.
type findingExprs struct{ sev, cat, rule, conf string }

var (
	typedFindings  = findingExprs{sev: "severity", cat: "category", rule: "rule", conf: confidenceFromScore()}
	legacyFindings = findingExprs{
		sev:  first("attributes", "finding.severity"),
		cat:  first("attributes", "finding.category"),
		rule: first("attributes", "finding.rule"),
		conf: firstFloat("attributes", "finding.confidence"),
	}
)

func confidenceFromScore() string {
	var b strings.Builder
	b.WriteString("(exp2(risk_score / multiIf(")
	for s, w := range detect.SeverityWeights {
		if w > 0 {
			fmt.Fprintf(&b, "severity = %s, %g, ", sqlString(detect.Severity(s).String()), w)
		}
	}
	b.WriteString("1)) - 1)")
	return b.String()
}

// legacyCheck remembers for a while whether findings without typed
// columns exist.
type legacyCheck struct {
	mu      sync.Mutex
	checked time.Time
	legacy  bool
}

const legacyRecheck = time.Minute

func (c *legacyCheck) get(ctx context.Context, st sink.Store, table string, now time.Time) findingExprs {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.checked.IsZero() || now.Sub(c.checked) >= legacyRecheck || now.Before(c.checked) {
		rows, err := st.Query(ctx, "SELECT count() FROM "+table+" WHERE name = "+qFinding+" AND severity = ''")
		c.legacy = err != nil || len(rows.Data) == 0 || toInt(rows.Data[0][0]) > 0
		if err == nil {
			c.checked = now
		}
	}
	if c.legacy {
		return legacyFindings
	}
	return typedFindings
}

// round rounds to n decimals.
func round(f float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(f*p) / p
}

func pct(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return round(float64(part)/float64(whole)*100, 1)
}

func ratio(part float64, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return part / float64(whole)
}

// day is t's UTC date for "date >= toDate(?)": the date column holds the
// UTC day, and a string literal keeps the server's time zone out of it.
func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

var sprintf = fmt.Sprintf

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
