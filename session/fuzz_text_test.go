package session

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cylestio/perimeter/internal/jsonscan"
	"golang.org/x/text/unicode/norm"
)

var textSeeds = []string{
	"", "plain", "  padded  ", "tab\tand\nnewline", "quote \" backslash \\ slash /",
	"é ü 中文 😀", "\u00a0nbsp\u3000ideographic", "ﬁ ligature ① ＦＵＬＬ", "zero\u200bwidth\ufeff",
	"\x1c\x1d sep", strings.Repeat("abc ", 40), strings.Repeat("é", 150), "\u2028line\u2029para",
	"e\u0301 combining", "\xff\xfe invalid", "a  b   c", " lead", "trail ", "\u0085x",
	"“curly” ‘quotes’ — “dash”", "**bold** _em_ `code`\r\n- item", "한국어 텍스트", "ǄǅǆİẞΣ", "½ ① ㍿ ﾊﾟ",
	`{"b": 1, "a": ["x", {"c": null}]}`, " [1, 2.5e3, true] ", `{"k": "v\"q"}`,
}

// refNormText is the normal form of docs/sessions.md written plainly: the oracle
// for normText's fast paths.
func refNormText(s string) string {
	if len(s) > ContentReadLimit {
		s = s[:ContentReadLimit]
	}
	r := []rune(s)
	if len(r) > normWindow {
		r = r[:normWindow]
	}
	var b []rune
	for _, c := range norm.NFKC.String(string(r)) {
		if !isInvisible(c) {
			b = append(b, c)
		}
	}
	out := []rune(strings.Join(strings.FieldsFunc(string(b), isPySpace), " "))
	if len(out) > normRunes {
		out = out[:normRunes]
	}
	return string(out)
}

// refSkeleton is the canonical form of docs/sessions.md written plainly: the oracle
// for skeleton's paths.
func refSkeleton(s string) string {
	if len(s) > ContentReadLimit {
		s = s[:ContentReadLimit]
	}
	var out []rune
	for _, r := range norm.NFKD.String(s) {
		if len(out) == canonRunes {
			break
		}
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			out = append(out, unicode.ToLower(r))
		}
	}
	return string(out)
}

// FuzzText checks the text paths against each other and against oracles:
// escaped and plain forms of a text give the same prefix, signature and
// fuzzy fingerprint; the fast paths give the reference normal form; the
// agent id of an escaped prompt is that of its text.
func FuzzText(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 3*ContentReadLimit {
			return
		}
		plain := []byte(s)
		naive := 0
		for naive < len(plain) && plain[naive] < utf8.RuneSelf && plain[naive] != '\\' {
			naive++
		}
		if got := jsonscan.PlainRun(plain); got != naive {
			t.Fatalf("PlainRun(%q) = %d, want %d", s, got, naive)
		}
		// Never panics, whatever the bytes, escaped or not.
		textPrefix(make([]byte, 0, signatureRunes*4), plain, true, signatureRunes)
		normText(nil, plain, true)
		PromptAgentID(nil, plain, true)

		if !utf8.ValidString(s) {
			return // a JSON body carries valid UTF-8 only
		}
		body := []byte(jsonBody(s))
		for _, n := range []int{1, signatureRunes, normWindow} {
			want := runePrefix(plain, n)
			if len(plain) > ContentReadLimit {
				want = runePrefix(plain[:ContentReadLimit], n)
				if len(body) > ContentReadLimit {
					continue // both cut at the byte limit, at different characters
				}
			}
			got := textPrefix(make([]byte, 0, n*4), body, true, n)
			if len(body) <= ContentReadLimit && !bytes.Equal(got, want) {
				t.Fatalf("escaped prefix %q of %q, want %q", got, s, want)
			}
		}
		if len(body) <= ContentReadLimit {
			mp := Message{Role: []byte("user"), Content: plain}
			me := Message{Role: []byte("user"), Content: body, Escaped: true}
			var gp, ge signature
			gp.reset()
			ge.reset()
			gp.message(&mp)
			ge.message(&me)
			if gp.sum() != ge.sum() {
				t.Fatalf("signature of %q differs when escaped", s)
			}
			if normHash(&mp) != normHash(&me) {
				t.Fatalf("fuzzy fingerprint of %q differs when escaped", s)
			}
			if !bytes.Equal(PromptAgentID(nil, plain, false), PromptAgentID(nil, body, true)) {
				t.Fatalf("agent id of %q differs when escaped", s)
			}
		}
		if got, want := string(normText(nil, plain, false)), refNormText(s); got != want {
			t.Fatalf("normText(%q) = %q, want %q", s, got, want)
		}
		if got, want := string(skeleton(nil, plain, false)), refSkeleton(s); got != want {
			t.Fatalf("skeleton(%q) = %q, want %q", s, got, want)
		}
		if len(body) <= ContentReadLimit {
			if got, want := string(skeleton(nil, body, true)), refSkeleton(s); got != want {
				t.Fatalf("skeleton(escaped %q) = %q, want %q", s, got, want)
			}
		}
		if got, want := string(pyStrip(plain)), strings.TrimFunc(s, isPySpace); got != want {
			t.Fatalf("pyStrip(%q) = %q, want %q", s, got, want)
		}
	})
}

// FuzzResolve feeds arbitrary conversations to a table: no panic, and the
// indexes it returns stay within the request.
func FuzzResolve(f *testing.F) {
	f.Add([]byte("u:hello|a:hi|u:more"), true)
	f.Add([]byte("s:sys|u:q|A:call_1|t:call_1|a:done|u:next"), false)
	f.Add([]byte("F:c1|O:c1|a:x"), true)
	tab := New(Config{Enabled: true, MaxSessions: 64, Fuzzy: true, MemoryMB: 1})
	exact := New(Config{Enabled: true, MaxSessions: 64, MemoryMB: 1})
	f.Fuzz(func(t *testing.T, spec []byte, escaped bool) {
		c := &Conversation{System: []byte("fuzz"), HasSystem: true}
		for _, part := range bytes.Split(spec, []byte{'|'}) {
			if len(part) < 2 || part[1] != ':' {
				continue
			}
			m := c.Add()
			text := part[2:]
			m.Content, m.Escaped = text, escaped
			switch part[0] {
			case 'u':
				m.Role = []byte("user")
			case 'a':
				m.Role = []byte("assistant")
			case 'A':
				m.Role, m.CallID, m.Content = []byte("assistant"), text, nil
			case 't':
				m.Role, m.CallID = []byte("tool"), text
			case 's':
				m.Role = []byte("system")
			case 'F':
				m.Type, m.CallID, m.Content = []byte("function_call"), text, nil
			case 'O':
				m.Type, m.CallID, m.Content = []byte("function_call_output"), text, nil
			default:
				m.Role = part[:1]
			}
		}
		for _, tb := range []*Table{tab, exact} {
			for round := 0; round < 2; round++ {
				r := tb.Resolve(c)
				if len(r.ID()) == 0 || r.FirstNew < 0 || r.FirstNew > len(c.Messages) || r.Processed < 0 {
					t.Fatalf("result %+v for %d messages", r, len(c.Messages))
				}
				tb.Reply(&r, &Message{Role: []byte("assistant"), Content: spec}, spec)
			}
		}
	})
}
