// Package golden compares what a test renders with a file under the
// package's testdata/, and rewrites the file instead when the test runs
// with -update. A mismatch is reported as a line diff from the file to
// what the test rendered. CheckDiff pins a variant by its differences
// from a base output, so that a family of near-identical outputs needs
// one full golden file and short diff files, not a copy each. It
// registers the -update flag: a test package that uses it must not
// define its own. It is test infrastructure: the product never imports
// it.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Check compares got with testdata/name, or rewrites that file with
// -update.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the test rendered (go test -run %s -update to accept); from the file to the test:\n%s",
			path, t.Name(), Diff(want, got))
	}
}

// CheckDiff compares Diff(base, got) with testdata/name, or rewrites that
// file with -update. The base must be pinned by a golden file of its own:
// then any change of got fails one of the two checks.
func CheckDiff(t testing.TB, name string, base, got []byte) {
	t.Helper()
	Check(t, name, Diff(base, got))
}

// Diff returns the line diff that turns a into b in unified form without
// context lines: a "@@ -line,count +line,count @@" header per hunk, then
// the lines of a it removes ("-") and the lines of b it adds ("+"). Equal
// inputs give an empty diff. A last line without a newline is marked.
func Diff(a, b []byte) []byte {
	x, y := lines(a), lines(b)
	n, m := len(x), len(y)
	// lcs[i][j] is the length of the longest common subsequence of x[i:]
	// and y[j:]; the outputs it serves are a few hundred lines.
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out bytes.Buffer
	for i, j := 0, 0; i < n || j < m; {
		if i < n && j < m && x[i] == y[j] {
			i, j = i+1, j+1
			continue
		}
		i0, j0 := i, j
		for (i < n || j < m) && !(i < n && j < m && x[i] == y[j]) {
			if j == m || (i < n && lcs[i+1][j] >= lcs[i][j+1]) {
				i++
			} else {
				j++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", span(i0, i), span(j0, j))
		for _, l := range x[i0:i] {
			out.WriteString("-" + l + "\n")
		}
		for _, l := range y[j0:j] {
			out.WriteString("+" + l + "\n")
		}
	}
	return out.Bytes()
}

// span is a hunk's range in unified form: the first line and the count,
// or for an empty range the line after which it stands.
func span(from, to int) string {
	if from == to {
		return fmt.Sprintf("%d,0", from)
	}
	return fmt.Sprintf("%d,%d", from+1, to-from)
}

func lines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	ls := strings.Split(string(b), "\n")
	if ls[len(ls)-1] == "" {
		return ls[:len(ls)-1]
	}
	return append(ls, `\ no newline at end`)
}
