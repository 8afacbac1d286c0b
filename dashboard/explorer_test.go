package dashboard

import (
	"strings"
	"testing"
)

func TestCheckSQL(t *testing.T) {
	denied := map[string]bool{}
	for _, n := range deniedFunctions {
		denied[n] = true
	}
	for _, c := range []struct {
		sql, want, err string
	}{
		{"SELECT 1", "SELECT 1", ""},
		{"  select 1 ;  ", "select 1", ""},
		{"WITH 1 AS x SELECT x", "WITH 1 AS x SELECT x", ""},
		{"(SELECT 1)", "(SELECT 1)", ""},
		{"SELECT 'a;b', \"c;d\", `e;f` -- ; comment\n", "SELECT 'a;b', \"c;d\", `e;f` -- ; comment", ""},
		{"SELECT 'it''s', 'it\\'s', format('{}', 1), formatDateTime(now(), '%F')", "", ""},
		{"SELECT /* file('x') */ 1", "SELECT /* file('x') */ 1", ""},
		{"SELECT 'file(1)'", "SELECT 'file(1)'", ""},
		{"SELECT count() FROM numbers(10)", "", ""},
		{"", "", "empty"},
		{"-- only a comment", "", "only SELECT"},
		{"INSERT INTO t VALUES (1)", "", "only SELECT"},
		{"SET readonly = 0", "", "only SELECT"},
		{"EXPLAIN SELECT 1", "", "only SELECT"},
		{"SELECT 1; DROP TABLE t", "", "one statement"},
		{"SELECT 1;;", "", "one statement"},
		{"SELECT 1 SETTINGS max_execution_time = 0", "", "SETTINGS"},
		{"SELECT * FROM (SELECT 1 settings readonly=0)", "", "SETTINGS"},
		{"SELECT 1 FORMAT JSON", "", "FORMAT"},
		{"SELECT 1 INTO OUTFILE 'x'", "", "OUTFILE"},
		{"SELECT * FROM file('/etc/passwd', 'LineAsString')", "", "file() is not allowed"},
		{"SELECT FILE ('/etc/passwd')", "", "not allowed"},
		{"SELECT `file`('/etc/passwd')", "", "not allowed"},
		{"SELECT \"url\"('http://x', 'CSV')", "", "not allowed"},
		{"SELECT * FROM remote('h', db.t)", "", "not allowed"},
		{"SELECT * FROM s3 /* gap */ ('u')", "", "not allowed"},
		{"SELECT * FROM executable('x', 'TSV', 'a String')", "", "not allowed"},
		{"SELECT '# not a comment'", "", "not allowed"},
		{"SELECT 1 # it's\n, file('/etc/passwd') -- '", "", "not allowed"},
		{"SELECT $$ it's $$, file('/etc/passwd') -- '", "", "not allowed"},
		{"SELECT 'unterminated", "", "unterminated"},
		{"SELECT /* open", "", "unterminated"},
		{"SELECT /* /* */ file('/etc/passwd') /* */ */", "", "not allowed"},
	} {
		got, err := checkSQL(c.sql, denied)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.sql, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.sql, err)
			continue
		}
		if c.want != "" && got != c.want {
			t.Errorf("%q: %q, want %q", c.sql, got, c.want)
		}
	}
}

// FuzzCheckSQL: the explorer's lexer never panics, and whatever it lets
// through starts with SELECT or WITH, has no statement separator left and
// calls no denied function by any spelling the engine would accept.
func FuzzCheckSQL(f *testing.F) {
	for _, s := range []string{"SELECT 1", "SELECT 'a''b' -- c\n", "WITH x AS (SELECT 1) SELECT * FROM x", "SELECT `f`(1) /* */",
		"SELECT file('x')", "SELECT 1; SELECT 2", "SELECT \"a\\\"b\""} {
		f.Add(s)
	}
	denied := map[string]bool{"file": true, "url": true}
	f.Fuzz(func(t *testing.T, sql string) {
		out, err := checkSQL(sql, denied)
		if err != nil {
			return
		}
		toks, lerr := lexSQL(out)
		if lerr != nil {
			t.Fatalf("accepted %q but it does not lex: %v", out, lerr)
		}
		for i, tk := range toks {
			if tk.kind == 'p' && tk.text == ";" {
				t.Fatalf("accepted %q with a ';'", out)
			}
			if (tk.kind == 'w' || tk.kind == 'q') && denied[strings.ToLower(tk.text)] && i+1 < len(toks) && toks[i+1].text == "(" {
				t.Fatalf("accepted %q calling %s", out, tk.text)
			}
		}
	})
}
