package edge

import (
	"strings"
	"testing"
)

// FuzzHasDotSegment checks hasDotSegment against a plain reading of the
// rule: decode %2e, %2f and %5c, take "\" for "/", and look for a segment
// "." or "..".
func FuzzHasDotSegment(f *testing.F) {
	for _, s := range []string{"/v1/chat/completions", "/../x", "/%2e%2E/x", "/a%2f..%5cb", "/a.b/.c", "/%", "/%2", "/.%2e", "/x/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		var b strings.Builder
		for i := 0; i < len(path); i++ {
			c := path[i]
			if c == '%' && i+2 < len(path) {
				if v, ok := unhex(path[i+1], path[i+2]); ok {
					c = v
					i += 2
				}
			}
			if c == '\\' {
				c = '/'
			}
			b.WriteByte(c)
		}
		want := false
		for _, seg := range strings.Split(b.String(), "/") {
			if seg == "." || seg == ".." {
				want = true
			}
		}
		if got := hasDotSegment([]byte(path)); got != want {
			t.Fatalf("hasDotSegment(%q) = %v, want %v", path, got, want)
		}
	})
}
