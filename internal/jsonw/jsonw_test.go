package jsonw

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// stdString is s as encoding/json writes it without HTML escaping, with
// U+2028 and U+2029 put back unescaped (jsonw leaves them as they are).
func stdString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return strings.NewReplacer(`\u2028`, "\u2028", `\u2029`, "\u2029").Replace(out)
}

// TestMatchesEncodingJSON: every string, valid UTF-8 or not, is written as
// encoding/json writes it, and reads back as encoding/json reads that.
func TestMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	alphabet := []string{"a", "Z", " ", "\"", "\\", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "é", "€", "😀", "\u2028", "\xff", "\xe2\x82", "<", "&"}
	cases := []string{"", "plain ascii", "quote \" and \\ backslash", "\x01\x02\x03"}
	for range 5000 {
		var sb strings.Builder
		for range r.IntN(12) {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		cases = append(cases, sb.String())
	}
	for _, s := range cases {
		want := stdString(s)
		if got := string(AppendString(nil, s)); got != want {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
		if got := string(AppendString([]byte("x"), []byte(s))); got != "x"+want {
			t.Fatalf("AppendString([]byte %q) = %s, want x%s", s, got, want)
		}
		if got := string(AppendEscaped(nil, s)); `"`+got+`"` != want {
			t.Fatalf("AppendEscaped(%q) = %s, want the inside of %s", s, got, want)
		}
	}
}

func TestAppendsWithoutAllocating(t *testing.T) {
	buf := make([]byte, 0, 256)
	s := "a line with \"quotes\", a tab\t and é"
	if n := testing.AllocsPerRun(100, func() { buf = AppendString(buf[:0], s) }); n != 0 {
		t.Fatalf("%v allocations per string", n)
	}
}
