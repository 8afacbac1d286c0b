package golden

import (
	"fmt"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct{ name, a, b, want string }{
		{"equal", "x\ny\n", "x\ny\n", ""},
		{"empty", "", "", ""},
		{"changed line", "a\nb\nc\n", "a\nB\nc\n", "@@ -2,1 +2,1 @@\n-b\n+B\n"},
		{"added at end", "a\n", "a\nb\nc\n", "@@ -1,0 +2,2 @@\n+b\n+c\n"},
		{"removed at start", "a\nb\n", "b\n", "@@ -1,1 +0,0 @@\n-a\n"},
		{"two hunks", "a\nb\nc\nd\ne\n", "A\nb\nc\nd\nE\nf\n",
			"@@ -1,1 +1,1 @@\n-a\n+A\n@@ -5,1 +5,2 @@\n-e\n+E\n+f\n"},
		{"from nothing", "", "a\n", "@@ -0,0 +1,1 @@\n+a\n"},
		{"lost newline", "a\n", "a", "@@ -1,0 +2,1 @@\n+\\ no newline at end\n"},
	} {
		if got := string(Diff([]byte(tc.a), []byte(tc.b))); got != tc.want {
			t.Errorf("%s: Diff(%q, %q) =\n%s\nwant\n%s", tc.name, tc.a, tc.b, got, tc.want)
		}
	}
}

// TestDiffRebuilds checks that a diff holds all it needs to turn a into
// b: applying its hunks to a gives b back.
func TestDiffRebuilds(t *testing.T) {
	a := "CREATE\n(\n  x String,\n  y String\n)\nENGINE = M()\nORDER BY x\n"
	b := "CREATE ON CLUSTER\n(\n  x LowCardinality(String),\n  y String\n)\nENGINE = R('p', 'r')\nORDER BY x\nTTL d\n\nCREATE D\n"
	if got := apply(t, a, string(Diff([]byte(a), []byte(b)))); got != b {
		t.Fatalf("applying the diff gave\n%s\nwant\n%s", got, b)
	}
}

// apply applies a diff of Diff's form to a.
func apply(t *testing.T, a, diff string) string {
	t.Helper()
	src := lines([]byte(a))
	var out []string
	next := 0 // the next line of src not yet copied
	for _, l := range lines([]byte(diff)) {
		switch l[0] {
		case '@':
			var from, n, to, m int
			if _, err := fmt.Sscanf(l, "@@ -%d,%d +%d,%d @@", &from, &n, &to, &m); err != nil {
				t.Fatalf("hunk header %q: %v", l, err)
			}
			if n > 0 {
				from--
			}
			out = append(out, src[next:from]...)
			next = from
		case '-':
			if src[next] != l[1:] {
				t.Fatalf("diff removes %q where a has %q", l[1:], src[next])
			}
			next++
		case '+':
			out = append(out, l[1:])
		}
	}
	out = append(out, src[next:]...)
	return strings.Join(out, "\n") + "\n"
}
