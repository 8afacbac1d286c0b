package chdb

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseResult(t *testing.T) {
	ts := time.Date(2026, 3, 1, 12, 30, 45, 0, time.UTC)
	tests := []struct {
		name  string
		in    string
		cols  []string
		types []string
		data  [][]any
	}{
		{name: "empty", in: ""},
		{name: "no rows", in: "a\tb\nUInt64\tString\n", cols: []string{"a", "b"}, types: []string{"UInt64", "String"}},
		{
			name:  "scalars",
			in:    "n\ti\tf\tb\ts\nUInt64\tInt32\tFloat64\tBool\tString\n18446744073709551615\t-5\t2.5\ttrue\thello\n",
			cols:  []string{"n", "i", "f", "b", "s"},
			types: []string{"UInt64", "Int32", "Float64", "Bool", "String"},
			data:  [][]any{{uint64(18446744073709551615), int64(-5), 2.5, true, "hello"}},
		},
		{
			name:  "escapes and empty last field",
			in:    "s\tt\nString\tString\na\\tb\\nc\\\\d\\'e\\0\\x41\t\n",
			cols:  []string{"s", "t"},
			types: []string{"String", "String"},
			data:  [][]any{{"a\tb\nc\\d'e\x00A", ""}},
		},
		{
			name:  "time types",
			in:    "d\tt\tt64\ttz\nDate\tDateTime\tDateTime64(6)\tDateTime('Asia/Tokyo')\n2026-03-01\t2026-03-01 12:30:45\t2026-03-01 12:30:45.123456\t2026-03-01 21:30:45\n",
			cols:  []string{"d", "t", "t64", "tz"},
			types: []string{"Date", "DateTime", "DateTime64(6)", "DateTime('Asia/Tokyo')"},
			data:  [][]any{{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), ts, ts.Add(123456 * time.Microsecond), ts}},
		},
		{
			name:  "nullable, low cardinality, decimals, nan and text kinds",
			in:    "a\tb\tc\td\te\tf\nNullable(UInt8)\tLowCardinality(Nullable(String))\tDecimal(10, 2)\tFloat32\tArray(String)\tUUID\n\\N\t\\N\t12.34\tnan\t['x','y']\t61f0c404-5cb3-11e7-907b-a6006ad3dba0\n7\tk\t-1\tinf\t[]\t00000000-0000-0000-0000-000000000000\n",
			cols:  []string{"a", "b", "c", "d", "e", "f"},
			types: []string{"Nullable(UInt8)", "LowCardinality(Nullable(String))", "Decimal(10, 2)", "Float32", "Array(String)", "UUID"},
		},
	}
	for _, tt := range tests {
		got, err := parseResult([]byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got.Columns, tt.cols) || !reflect.DeepEqual(got.Types, tt.types) {
			t.Errorf("%s: columns %q types %q", tt.name, got.Columns, got.Types)
		}
		if tt.data != nil && !reflect.DeepEqual(got.Data, tt.data) {
			t.Errorf("%s: data %#v, want %#v", tt.name, got.Data, tt.data)
		}
	}

	// Spot checks of the last case, where NaN defeats DeepEqual.
	got, _ := parseResult([]byte(tests[len(tests)-1].in))
	if got.Data[0][0] != nil || got.Data[0][1] != nil || got.Data[0][2] != 12.34 || got.Data[0][4] != "['x','y']" ||
		got.Data[1][0] != uint64(7) || got.Data[1][1] != "k" {
		t.Errorf("nullable row: %#v %#v", got.Data[0], got.Data[1])
	}
}

func TestParseResultRejects(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\nUInt8\n1", "newline"},
		{"a\n", "no type line"},
		{"a\tb\nUInt8\n", "2 column names but 1 types"},
		{"a\tb\nUInt8\tUInt8\n1\n", "1 fields, want 2"},
		{"a\nUInt8\n1\t2\n", "more than 1 fields"},
		{"a\nUInt8\n-1\n", `column "a"`},
		{"a\nInt64\nx\n", "invalid syntax"},
		{"a\nBool\nmaybe\n", "bad Bool"},
		{"a\nDateTime\n2026-13-01 00:00:00\n", "month out of range"},
		{"a\nString\nab\\\n", "dangling backslash"},
		{"a\nString\n\\x4\n", "short \\x escape"},
		{"a\nString\n\\xzz\n", "bad \\x escape"},
	}
	for _, tt := range tests {
		_, err := parseResult([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseResult(%q) = %v, want error containing %q", tt.in, err, tt.want)
		}
	}
}

// FuzzParseResult: result bytes come from the worker process and are
// untrusted. Parsing must never panic, and what it accepts has one value
// per column in every row.
func FuzzParseResult(f *testing.F) {
	f.Add([]byte("n\ts\nUInt64\tNullable(String)\n1\t\\N\n2\ta\\tb\n"))
	f.Add([]byte("t\nDateTime('Europe/Paris')\n2026-01-01 00:00:00\n"))
	f.Add([]byte("x\nDecimal(9,2)\n1.5\n"))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := parseResult(b)
		if err != nil {
			return
		}
		if len(rows.Columns) != len(rows.Types) {
			t.Fatalf("%d columns, %d types", len(rows.Columns), len(rows.Types))
		}
		for i, r := range rows.Data {
			if len(r) != len(rows.Columns) {
				t.Fatalf("row %d has %d values for %d columns", i, len(r), len(rows.Columns))
			}
		}
	})
}
