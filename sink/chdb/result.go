package chdb

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// resultFormat is the output format the worker asks chDB for: compact,
// self-describing (names and types in the first two lines) and cheap to
// parse. The parent parses it, so that the worker stays a dumb pipe.
const resultFormat = "TabSeparatedWithNamesAndTypes"

// parseResult turns TabSeparatedWithNamesAndTypes output into typed rows.
// The bytes come from a child process, so they are untrusted: any malformed
// input is an error, never a panic. Values are typed by the column's
// ClickHouse type: integers as int64 or uint64, floats and decimals as
// float64, Bool as bool, Date/DateTime/DateTime64 as time.Time (UTC unless
// the type names a zone), NULL as nil, everything else (String, UUID, Enum,
// Array, Tuple, Map, 128/256-bit integers …) as its unescaped text.
func parseResult(b []byte) (*sink.Rows, error) {
	rows, _, err := parseResultLimit(b, 0)
	return rows, err
}

// parseResultLimit is parseResult that stops before the first row that
// would take the rows past maxBytes (sink.RowSize summed; 0 = no limit)
// and then reports cut.
func parseResultLimit(b []byte, maxBytes int64) (rows *sink.Rows, cut bool, err error) {
	rows = &sink.Rows{}
	if len(b) == 0 {
		// Statements without a result set (and chDB for some empty
		// results) print nothing at all.
		return rows, false, nil
	}
	if b[len(b)-1] != '\n' {
		return nil, false, fmt.Errorf("result does not end in a newline")
	}
	line := 0
	next := func() []byte {
		i := bytes.IndexByte(b, '\n')
		l := b[:i]
		b = b[i+1:]
		line++
		return l
	}
	names := next()
	if len(b) == 0 {
		return nil, false, fmt.Errorf("result has column names but no type line")
	}
	types := next()
	for _, f := range bytes.Split(names, []byte{'\t'}) {
		s, err := unescape(f)
		if err != nil {
			return nil, false, fmt.Errorf("line 1: %w", err)
		}
		rows.Columns = append(rows.Columns, s)
	}
	cols := make([]column, 0, len(rows.Columns))
	for _, f := range bytes.Split(types, []byte{'\t'}) {
		s, err := unescape(f)
		if err != nil {
			return nil, false, fmt.Errorf("line 2: %w", err)
		}
		rows.Types = append(rows.Types, s)
		cols = append(cols, parseType(s))
	}
	if len(rows.Types) != len(rows.Columns) {
		return nil, false, fmt.Errorf("%d column names but %d types", len(rows.Columns), len(rows.Types))
	}
	var size int64
	for len(b) > 0 {
		l := next()
		row := make([]any, 0, len(cols))
		for len(row) < len(cols) {
			var f []byte
			if i := bytes.IndexByte(l, '\t'); i >= 0 {
				f, l = l[:i], l[i+1:]
			} else {
				f, l = l, nil
			}
			if len(row) == len(cols)-1 && l != nil {
				return nil, false, fmt.Errorf("line %d: more than %d fields", line, len(cols))
			}
			v, err := cols[len(row)].value(f)
			if err != nil {
				return nil, false, fmt.Errorf("line %d, column %q: %w", line, rows.Columns[len(row)], err)
			}
			row = append(row, v)
			if l == nil && len(row) < len(cols) {
				return nil, false, fmt.Errorf("line %d: %d fields, want %d", line, len(row), len(cols))
			}
		}
		if maxBytes > 0 {
			if size += sink.RowSize(row); size > maxBytes {
				return rows, true, nil
			}
		}
		rows.Data = append(rows.Data, row)
	}
	return rows, false, nil
}

type kind uint8

const (
	kindString kind = iota
	kindInt
	kindUint
	kindFloat
	kindBool
	kindDate
	kindDateTime
)

type column struct {
	kind     kind
	nullable bool
	loc      *time.Location
}

// parseType reads the parts of a ClickHouse type name that decide how a
// value is typed; anything unrecognised is kept as text.
func parseType(t string) column {
	var c column
	for {
		switch {
		case strings.HasPrefix(t, "Nullable(") && strings.HasSuffix(t, ")"):
			c.nullable = true
			t = t[len("Nullable(") : len(t)-1]
			continue
		case strings.HasPrefix(t, "LowCardinality(") && strings.HasSuffix(t, ")"):
			t = t[len("LowCardinality(") : len(t)-1]
			continue
		}
		break
	}
	c.loc = time.UTC
	switch {
	case t == "UInt8" || t == "UInt16" || t == "UInt32" || t == "UInt64":
		c.kind = kindUint
	case t == "Int8" || t == "Int16" || t == "Int32" || t == "Int64":
		c.kind = kindInt
	case t == "Float32" || t == "Float64" || t == "BFloat16" || strings.HasPrefix(t, "Decimal"):
		c.kind = kindFloat
	case t == "Bool":
		c.kind = kindBool
	case t == "Date" || t == "Date32":
		c.kind = kindDate
	case t == "DateTime" || strings.HasPrefix(t, "DateTime(") || strings.HasPrefix(t, "DateTime64("):
		c.kind = kindDateTime
		if i := strings.IndexByte(t, '\''); i >= 0 {
			if j := strings.LastIndexByte(t, '\''); j > i {
				if loc, err := time.LoadLocation(t[i+1 : j]); err == nil {
					c.loc = loc
				}
			}
		}
	}
	return c
}

func (c column) value(f []byte) (any, error) {
	if c.nullable && string(f) == `\N` {
		return nil, nil
	}
	switch c.kind {
	case kindUint:
		return strconv.ParseUint(string(f), 10, 64)
	case kindInt:
		return strconv.ParseInt(string(f), 10, 64)
	case kindFloat:
		return strconv.ParseFloat(string(f), 64)
	case kindBool:
		switch string(f) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, fmt.Errorf("bad Bool %q", f)
	case kindDate:
		return time.ParseInLocation(time.DateOnly, string(f), time.UTC)
	case kindDateTime:
		// DateTime64 adds a fraction, which this layout accepts too.
		t, err := time.ParseInLocation(time.DateTime, string(f), c.loc)
		if err != nil {
			return nil, err
		}
		return t.UTC(), nil
	}
	return unescape(f)
}

// unescape undoes ClickHouse's TabSeparated escaping.
func unescape(f []byte) (string, error) {
	i := bytes.IndexByte(f, '\\')
	if i < 0 {
		return string(f), nil
	}
	out := make([]byte, 0, len(f))
	out = append(out, f[:i]...)
	for ; i < len(f); i++ {
		c := f[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(f) {
			return "", fmt.Errorf("dangling backslash")
		}
		switch c = f[i]; c {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case '0':
			out = append(out, 0)
		case 'a':
			out = append(out, '\a')
		case 'v':
			out = append(out, '\v')
		case 'x':
			if i+2 >= len(f) {
				return "", fmt.Errorf("short \\x escape")
			}
			v, err := strconv.ParseUint(string(f[i+1:i+3]), 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad \\x escape")
			}
			out = append(out, byte(v))
			i += 2
		default:
			// \\, \', \" and any other escaped character stand for
			// themselves.
			out = append(out, c)
		}
	}
	return string(out), nil
}
