package session

import (
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"github.com/cylestio/perimeter/internal/jsonscan"
	"golang.org/x/text/unicode/norm"
)

// The canonical form of a message text, what its fuzzy fingerprint hashes
// (docs/sessions.md, "Canonical form"): the letters and digits of the text's first
// ContentReadLimit bytes, compatibility-decomposed (NFKD), lower-cased, the
// first canonRunes of them; everything else — white space, line endings,
// punctuation, quotes of any shape, Markdown markup, combining marks — is
// not part of it. A text that is a JSON object or array is hashed by its
// structure instead (canonJSON), so that key order and spacing do not
// count.

// canonRunes is how many letters and digits of a text its canonical form
// keeps.
const canonRunes = 100

// canonHash is the fingerprint of the canonical form of a text, plain or
// a JSON string body (escaped).
func canonHash(text []byte, escaped bool) uint64 {
	if len(text) > ContentReadLimit {
		text = text[:ContentReadLimit]
	}
	if startsJSON(text, escaped) {
		if h, ok := jsonHash(text, escaped); ok {
			return h
		}
	}
	var buf [canonRunes * 4]byte
	return xxhash.Sum64(skeleton(buf[:0], text, escaped))
}

// canonASCII maps an ASCII byte to itself lower-cased when it is a letter
// or a digit, else to 0.
var canonASCII = func() (t [utf8.RuneSelf]byte) {
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c)
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = byte(c)
		t[c-'a'+'A'] = byte(c)
	}
	return t
}()

// canonClass classifies a byte for skeleton's fast path: canonKeep (a
// letter or a digit), canonDrop, or canonStop (not ASCII, or a backslash
// of an escaped text: the general path takes over); canonLower maps it.
const (
	canonDrop = 0
	canonKeep = 1
	canonStop = 2
)

var canonClass, canonClassEscaped, canonLower = func() (plain, escaped, lower [256]byte) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= utf8.RuneSelf:
			plain[c], escaped[c] = canonStop, canonStop
		case canonASCII[c] != 0:
			plain[c], escaped[c] = canonKeep, canonKeep
			lower[c] = canonASCII[c]
		}
	}
	escaped['\\'] = canonStop
	return plain, escaped, lower
}()

// skeleton appends the canonical form of text to dst. Plain ASCII is
// filtered through tables, without a branch per kept or dropped byte; an
// escape or another code point is decoded and decomposed on its own, and
// the ASCII that follows it takes the tables again.
func skeleton(dst, text []byte, escaped bool) []byte {
	class := &canonClass
	if escaped {
		class = &canonClassEscaped
	}
	var out [canonRunes * utf8.UTFMax]byte
	w, n := 0, 0
	for i := 0; i < len(text) && n < canonRunes; {
		c := text[i]
		if v := class[c]; v != canonStop {
			out[w] = canonLower[c]
			w += int(v)
			n += int(v)
			i++
			continue
		}
		var r rune
		var size int
		if c == '\\' {
			r, size = jsonscan.DecodeEscape(text[i:])
		} else {
			r, size = utf8.DecodeRune(text[i:])
		}
		i += size
		var kept []byte
		kept, n = appendCanonRune(out[:w], r, n)
		w = len(kept)
	}
	return append(dst, out[:w]...)
}

// appendCanonRune appends the letters and digits of the compatibility
// decomposition of r, lower-cased, while fewer than canonRunes are kept.
func appendCanonRune(dst []byte, r rune, n int) ([]byte, int) {
	if r < utf8.RuneSelf {
		if k := canonASCII[r]; k != 0 {
			dst = append(dst, k)
			n++
		}
		return dst, n
	}
	if r >= hangulBase && r < hangulBase+hangulCount {
		// Hangul syllables decompose by arithmetic, not by table.
		s := r - hangulBase
		dst, n = appendCanonLetter(dst, 0x1100+s/(21*28), n)
		dst, n = appendCanonLetter(dst, 0x1161+(s%(21*28))/28, n)
		if t := s % 28; t != 0 {
			dst, n = appendCanonLetter(dst, 0x11A7+t, n)
		}
		return dst, n
	}
	var enc [utf8.UTFMax]byte
	d := norm.NFKD.Properties(enc[:utf8.EncodeRune(enc[:], r)]).Decomposition()
	if d == nil {
		return appendCanonLetter(dst, r, n)
	}
	for len(d) > 0 && n < canonRunes {
		dr, size := utf8.DecodeRune(d)
		d = d[size:]
		if dr < utf8.RuneSelf {
			if k := canonASCII[dr]; k != 0 {
				dst = append(dst, k)
				n++
			}
			continue
		}
		dst, n = appendCanonLetter(dst, dr, n)
	}
	return dst, n
}

const (
	hangulBase  = 0xAC00
	hangulCount = 11172
)

func appendCanonLetter(dst []byte, r rune, n int) ([]byte, int) {
	if n >= canonRunes || !(unicode.IsLetter(r) || unicode.IsNumber(r)) {
		return dst, n
	}
	return utf8.AppendRune(dst, unicode.ToLower(r)), n + 1
}

// startsJSON reports whether text, past white space, opens an object or an
// array.
func startsJSON(text []byte, escaped bool) bool {
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '\\':
			if escaped && i+1 < len(text) && (text[i+1] == 'n' || text[i+1] == 'r' || text[i+1] == 't') {
				i++
				continue
			}
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// jsonHash fingerprints a JSON text by its structure: an object is the sum
// of its members' fingerprints (so their order does not count), an array
// the chain of its elements', a string that of its canonical form, any
// other value its literal bytes; white space outside strings does not
// count. It reports false when text is not one complete JSON value (such
// as one cut at ContentReadLimit).
func jsonHash(text []byte, escaped bool) (uint64, bool) {
	var buf [ContentReadLimit]byte
	if escaped {
		text, _ = jsonscan.AppendUnescapedPrefix(buf[:0], text, ContentReadLimit)
	}
	d := jsonscan.NewDecoder(text)
	h, ok := jsonValueHash(&d, 0)
	d.End()
	return h, ok && !d.Failed()
}

// maxJSONDepth bounds the nesting jsonHash follows.
const maxJSONDepth = 32

func jsonValueHash(d *jsonscan.Decoder, depth int) (uint64, bool) {
	if depth > maxJSONDepth {
		return 0, false
	}
	switch d.Peek() {
	case '{':
		h := uint64(0x6f626a)
		if !d.EnterObj() {
			return h, !d.Failed()
		}
		for {
			key := d.Str()
			if !d.Expect(':') {
				return 0, false
			}
			v, ok := jsonValueHash(d, depth+1)
			if !ok {
				return 0, false
			}
			var kb [canonRunes * 4]byte
			h += chain(xxhash.Sum64(skeleton(kb[:0], key.Raw, key.Escaped)), v)
			if !d.MoreObj() {
				return chain(h, 0x7d), !d.Failed()
			}
		}
	case '[':
		h := uint64(0x617272)
		if !d.EnterArr() {
			return h, !d.Failed()
		}
		for {
			v, ok := jsonValueHash(d, depth+1)
			if !ok {
				return 0, false
			}
			h = chain(h, v)
			if !d.MoreArr() {
				return h, !d.Failed()
			}
		}
	case '"':
		s := d.Str()
		if d.Failed() {
			return 0, false
		}
		var sb [canonRunes * 4]byte
		return chain(0x737472, xxhash.Sum64(skeleton(sb[:0], s.Raw, s.Escaped))), true
	}
	start := d.Mark()
	d.Skip()
	lit := d.Since(start)
	if lit == nil {
		return 0, false
	}
	return chain(0x6c6974, xxhash.Sum64(lit)), true
}
