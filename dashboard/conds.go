package dashboard

import (
	"strings"
	"time"
)

// conds builds a query's filter: conditions joined with AND and their
// arguments, in order. The methods for optional filters add nothing when
// the value is unset.
type conds struct {
	list []string
	args []any
}

// add appends a condition and its arguments.
func (c *conds) add(cond string, args ...any) {
	c.list = append(c.list, cond)
	c.args = append(c.args, args...)
}

// eq keeps rows whose col is v, when v is set.
func (c *conds) eq(col, v string) {
	if v != "" {
		c.add(col+" = ?", v)
	}
}

// window keeps events in [from, to), each bound when set; the date
// conditions let the engine skip partitions.
func (c *conds) window(from, to time.Time) {
	if !from.IsZero() {
		c.add("date >= toDate(?) AND ts_us >= ?", day(from), from.UnixMicro())
	}
	if !to.IsZero() {
		c.add("date <= toDate(?) AND ts_us < ?", day(to), to.UnixMicro())
	}
}

// workflow keeps the sessions of agent workflow wf, when set.
func (c *conds) workflow(q *querier, wf string) {
	if wf != "" {
		cond, args := q.workflowSessions(wf)
		c.add(cond, args...)
	}
}

// and is the conditions joined with AND ("" for none).
func (c *conds) and() string { return strings.Join(c.list, " AND ") }

// where is " WHERE " and the conditions, or "" for none.
func (c *conds) where() string {
	if len(c.list) == 0 {
		return ""
	}
	return " WHERE " + c.and()
}
