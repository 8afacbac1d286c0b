package sink

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestBind(t *testing.T) {
	tests := []struct {
		q    string
		args []any
		want string
		err  bool
	}{
		{"SELECT ?", []any{"a'b\\c"}, `SELECT 'a\'b\\c'`, false},
		{"WHERE x = ? AND y > ?", []any{int64(-3), 2.5}, "WHERE x = -3 AND y > 2.5", false},
		{"WHERE s IN ?", []any{[]string{"a", "b"}}, "WHERE s IN ('a', 'b')", false},
		{"WHERE s IN ?", []any{[]string{}}, "WHERE s IN (NULL)", false},
		{"WHERE name = '?' AND id = ?", []any{uint64(7)}, "WHERE name = '?' AND id = 7", false},
		{`WHERE a = 'it\'s ?' AND b = ?`, []any{true}, `WHERE a = 'it\'s ?' AND b = 1`, false},
		{"WHERE ts > ?", []any{time.Unix(1700000000, 0)}, "WHERE ts > toDateTime(1700000000)", false},
		{"SELECT ?, ?, ?, ?, ?", []any{-1, int8(-8), int16(-16), int32(-32), int64(-64)}, "SELECT -1, -8, -16, -32, -64", false},
		{"SELECT ?, ?, ?, ?, ?", []any{uint(1), uint8(8), uint16(16), uint32(32), uint64(1 << 63)}, "SELECT 1, 8, 16, 32, 9223372036854775808", false},
		{"SELECT ?, ?", []any{float32(0.5), -1e300}, "SELECT 0.5, -1e+300", false},
		{"SELECT ?", []any{float32(math.Inf(1))}, "", true},
		{"SELECT ?", nil, "", true},
		{"SELECT 1", []any{1}, "", true},
		{"SELECT ?", []any{struct{}{}}, "", true},
	}
	for _, tt := range tests {
		got, err := Bind(tt.q, tt.args...)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("Bind(%q, %v) = %q, %v; want %q", tt.q, tt.args, got, err, tt.want)
		}
	}
}

func FuzzBindStringStaysALiteral(f *testing.F) {
	f.Add("x' OR 1=1 --")
	f.Add(`\' ; DROP TABLE events`)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Bind("SELECT ?", s)
		if err != nil {
			t.Fatal(err)
		}
		lit := strings.TrimPrefix(got, "SELECT ")
		// Walk the literal: it must open, close exactly at the end, and
		// every quote or backslash inside must be escaped.
		if lit[0] != '\'' || lit[len(lit)-1] != '\'' {
			t.Fatalf("not a literal: %q", lit)
		}
		body := lit[1 : len(lit)-1]
		for i := 0; i < len(body); i++ {
			switch body[i] {
			case '\\':
				i++
				if i >= len(body) {
					t.Fatalf("dangling escape in %q", lit)
				}
			case '\'':
				t.Fatalf("unescaped quote in %q", lit)
			}
		}
	})
}
