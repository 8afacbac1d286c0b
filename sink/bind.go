package sink

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Bind replaces each "?" outside string literals in query with a ClickHouse
// literal for the matching argument. Strings are quoted with every quote and
// backslash escaped, so a value can never end its literal. Supported
// arguments: string, []byte, bool, all integer and float types, time.Time
// (as toDateTime of its Unix seconds), nil (NULL) and slices of those (as a
// tuple for IN). It is how both engines bind parameters: ClickHouse 18.16
// has no server-side query parameters and chDB takes only query text.
func Bind(query string, args ...any) (string, error) {
	var b strings.Builder
	b.Grow(len(query) + 16*len(args))
	n := 0
	inQuote := byte(0)
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case inQuote != 0:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(query) {
				i++
				b.WriteByte(query[i])
			} else if c == inQuote {
				inQuote = 0
			}
		case c == '\'' || c == '`' || c == '"':
			inQuote = c
			b.WriteByte(c)
		case c == '?':
			if n >= len(args) {
				return "", fmt.Errorf("bind: query has more placeholders than the %d arguments given", len(args))
			}
			if err := appendLiteral(&b, args[n]); err != nil {
				return "", fmt.Errorf("bind: argument %d: %w", n+1, err)
			}
			n++
		default:
			b.WriteByte(c)
		}
	}
	if n != len(args) {
		return "", fmt.Errorf("bind: %d arguments for %d placeholders", len(args), n)
	}
	return b.String(), nil
}

func appendLiteral(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("NULL")
	case string:
		quote(b, x)
	case []byte:
		quote(b, string(x))
	case bool:
		if x {
			b.WriteString("1")
		} else {
			b.WriteString("0")
		}
	case int, int8, int16, int32, int64:
		b.WriteString(strconv.FormatInt(reflect.ValueOf(x).Int(), 10))
	case uint, uint8, uint16, uint32, uint64:
		b.WriteString(strconv.FormatUint(reflect.ValueOf(x).Uint(), 10))
	case float32, float64:
		return appendFloat(b, reflect.ValueOf(x).Float())
	case time.Time:
		b.WriteString("toDateTime(")
		b.WriteString(strconv.FormatInt(x.Unix(), 10))
		b.WriteString(")")
	case []string:
		return appendTuple(b, len(x), func(i int) any { return x[i] })
	case []int64:
		return appendTuple(b, len(x), func(i int) any { return x[i] })
	case []any:
		return appendTuple(b, len(x), func(i int) any { return x[i] })
	default:
		return fmt.Errorf("unsupported type %T", v)
	}
	return nil
}

func appendFloat(b *strings.Builder, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("non-finite float %v", f)
	}
	b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	return nil
}

func appendTuple(b *strings.Builder, n int, at func(int) any) error {
	if n == 0 {
		// An empty IN list matches nothing; ClickHouse rejects "IN ()".
		b.WriteString("(NULL)")
		return nil
	}
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if err := appendLiteral(b, at(i)); err != nil {
			return err
		}
	}
	b.WriteByte(')')
	return nil
}

// quote writes s as a single-quoted ClickHouse string literal.
func quote(b *strings.Builder, s string) {
	var buf [64]byte
	b.Write(appendQuoted(buf[:0], s))
}
