package files

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/cylestio/perimeter/internal/cputime"
)

// mayHoldCredentialRef is the prefilter as it was before it looked up
// only every other byte pair: a bigram lookup at every position. The
// prefilter must decide exactly as it does.
func mayHoldCredentialRef(b []byte) bool {
	for i := 0; i+1 < len(b); i++ {
		k := uint16(b[i]|0x20)<<8 | uint16(b[i+1]|0x20)
		if needleBigrams[k>>6]&(1<<(k&63)) == 0 {
			continue
		}
		rest := b[i:]
		switch k {
		case 0xe2<<8 | 0xa4, 0xe5<<8 | 0xbf:
			if !bytes.HasPrefix(rest, kelvin) && !bytes.HasPrefix(rest, longS) {
				continue
			}
			s := unsafe.String(unsafe.SliceData(b), len(b))
			for _, n := range credentialNeedles {
				if containsFold(s, n) {
					return true
				}
			}
			return false
		case 't'<<8 | 'o':
			if hasPrefixFold(rest, "token") && len(rest) > 5 {
				switch rest[5] {
				case '"', ' ', '\t', '\n', '\r', '\f', '\v', ':', '=':
					return true
				}
			}
			continue
		}
		for _, n := range credentialNeedles {
			if n[0]|0x20 == rest[0]|0x20 && n[1]|0x20 == rest[1]|0x20 && hasPrefixFold(rest, n) {
				return true
			}
		}
	}
	return false
}

// prefilterCases are texts around every needle: each spelt in lower,
// upper and mixed case, with a byte changed, cut short, at even and odd
// offsets, at the end of the text, after the Kelvin sign or the long s,
// with the separators "token" needs and a few it does not.
func prefilterCases() [][]byte {
	words := append([]string{"token", "\u212a", "\u017f", "s\u212a-", "\u017fk-", "to\u212aen:"}, credentialNeedles...)
	var out [][]byte
	for _, w := range words {
		variants := []string{w, strings.ToUpper(w), w[:len(w)-1], w[1:]}
		mixed := []byte(w)
		for i := 0; i < len(mixed); i += 2 {
			if 'a' <= mixed[i] && mixed[i] <= 'z' {
				mixed[i] -= 'a' - 'A'
			}
		}
		variants = append(variants, string(mixed))
		for i := range len(w) { // one byte off: CR folds onto '-', '@' onto '`'
			v := []byte(w)
			v[i] ^= 0x20
			variants = append(variants, string(v))
			v[i] ^= 0x21
			variants = append(variants, string(v))
		}
		for _, v := range variants {
			for _, pre := range []string{"", "x", "xy", "\u212a", "\u017f", "\xc5", "\xe2\x84"} {
				for _, post := range []string{"", "\"", " ", ":", "=", "s", "\t", "\xbf", "\x84\xaa"} {
					out = append(out, []byte(pre+v+post), []byte(`{"content":"`+pre+v+post+`"}`))
				}
			}
		}
	}
	return out
}

func TestPrefilterDecidesAsBefore(t *testing.T) {
	cases := prefilterCases()
	yes := 0
	for _, c := range cases {
		want := mayHoldCredentialRef(c)
		if got := mayHoldCredential(c); got != want {
			t.Errorf("%q: %v, before %v", c, got, want)
		}
		if want {
			yes++
		}
	}
	if yes == 0 || yes == len(cases) {
		t.Fatalf("%d of %d cases hold a needle: the cases prove nothing", yes, len(cases))
	}
	attrs := realisticAttrs(t)
	if mayHoldCredential(attrs) || mayHoldCredentialRef(attrs) {
		t.Fatal("the benchmark's text holds a needle")
	}
}

func FuzzMayHoldCredential(f *testing.F) {
	for _, c := range prefilterCases()[:400] {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if got, want := mayHoldCredential(in), mayHoldCredentialRef(in); got != want {
			t.Fatalf("%q: %v, before %v", in, got, want)
		}
	})
}

// realisticAttrs is a call's attributes of about 4 KB of English prose (a
// part of the README with every word that holds a needle replaced): the
// common case, where the prefilter reads every byte and finds nothing.
func realisticAttrs(tb testing.TB) []byte {
	readme, err := os.ReadFile("../../README.md")
	if err != nil || len(readme) < 30000 {
		tb.Fatalf("README.md: %v", err)
	}
	alts := []string{"token", `\x{17f}`, `\x{212a}`}
	for _, n := range credentialNeedles {
		alts = append(alts, regexp.QuoteMeta(n))
	}
	re := regexp.MustCompile(`(?i)[a-z0-9_.-]*(` + strings.Join(alts, "|") + `)[a-z0-9_.-]*`)
	text := re.ReplaceAll(readme[20000:27000], []byte("word"))
	text = bytes.ReplaceAll(text, []byte(`\`), []byte(`\\`))
	text = bytes.ReplaceAll(text, []byte(`"`), []byte(`\"`))
	text = bytes.ReplaceAll(text, []byte("\n"), []byte(`\n`))
	var b bytes.Buffer
	b.WriteString(`{"llm.request.data":{"model":"gpt-4o-mini","messages":[`)
	for i := range 4 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"role":"user","content":"`)
		b.Write(text[i*1000 : (i+1)*1000])
		b.WriteString(`"}`)
	}
	b.WriteString(`]},"llm.usage.input_tokens":120}`)
	return b.Bytes()
}

// BenchmarkMayHoldCredential compares the prefilter with the one before
// (every byte pair looked up) on the common case, in the same run.
func BenchmarkMayHoldCredential(b *testing.B) {
	attrs := realisticAttrs(b)
	for _, c := range []struct {
		name string
		f    func([]byte) bool
	}{{"before", mayHoldCredentialRef}, {"now", mayHoldCredential}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(attrs)))
			cputime.Loop(b, func() { c.f(attrs) })
		})
	}
}

// Every pattern's needle is one the prefilter looks for ("token" is looked
// for apart), and every needle is at least three bytes long, which
// mayHoldCredential's probes rely on.
func TestPatternNeedlesArePrefiltered(t *testing.T) {
	for _, p := range credentialPatterns {
		for _, n := range p.needles {
			if n != "token" && !slices.Contains(credentialNeedles, n) {
				t.Errorf("pattern %s: needle %q is not in credentialNeedles", p.re, n)
			}
		}
	}
	for _, n := range credentialNeedles {
		if len(n) < 3 || strings.ToLower(n) != n {
			t.Errorf("needle %q: want at least three lower-case bytes", n)
		}
	}
}
