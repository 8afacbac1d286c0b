package detect

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// Normalized is the detection view of a text: what the detectors match
// against. Build it with Normalize; map spans back with Original.
type Normalized struct {
	// Text is the normalised text. It is the input itself (no copy) when
	// the input is ASCII without Unicode tag characters.
	Text string
	orig string
	// m[i] is the offset in the original of the normalisation segment that
	// produced byte i of Text; m[len(Text)] == len(orig). nil means
	// identity.
	m []int32
	// tags lists the runs of Unicode tag characters (U+E0020–U+E007E) that
	// were decoded to ASCII, as spans in Text.
	tags []span
	// seg is scratch memory for a segment NFKC changes (appendSegment's
	// tmp, which escapes), kept with the view so that a pooled view
	// allocates it once.
	seg []byte
}

type span struct{ start, end int }

// Normalize returns the detection view of s:
//
//  1. Unicode compatibility folding (NFKC: full-width letters, ligatures,
//     mathematical alphanumerics, non-breaking and typographic spaces);
//  2. removal of invisible format characters: zero-width space/joiners,
//     word joiner, BOM, soft hyphen, bidi embeddings/overrides/isolates,
//     variation selectors, the combining grapheme joiner;
//  3. Unicode tag characters (U+E0020–U+E007E, "ASCII smuggling") decoded to
//     the ASCII they shadow;
//  4. diacritics stripped from Latin, Greek and Cyrillic letters
//     ("ïgnörè" → "ignore");
//  5. homoglyph folding: Cyrillic and Greek look-alikes of Latin letters
//     (and a few Latin variants such as dotless ı) become the Latin letter.
//
// Case is kept (checksums such as EIP-55 and base58 depend on it).
// Normalisation works segment by segment (a starter and its combining
// marks, norm.NextBoundary), so every normalised byte maps back to the
// original segment it came from: spans are exact at character granularity
// for everything but a multi-rune segment, where they widen to the whole
// segment. Bytes that are not valid UTF-8 are kept as they are.
func Normalize(s string) Normalized {
	var n Normalized
	normalizeInto(&n, s, nil, nil)
	return n // buf was allocated for n alone
}

// Original maps the span [start, end) of n.Text to a span of the original
// text. It never returns a span outside the original.
func (n *Normalized) Original(start, end int) (int, int) {
	if start < 0 {
		start = 0
	}
	if end > len(n.Text) {
		end = len(n.Text)
	}
	if start > end {
		start = end
	}
	if n.m == nil {
		return start, end
	}
	os := int(n.m[start])
	if end == start {
		return os, os
	}
	// End: the end of the segment that produced byte end-1, i.e. the first
	// later byte that maps to a later segment.
	last := n.m[end-1]
	j := end
	for j < len(n.Text) && n.m[j] == last {
		j++
	}
	return os, int(n.m[j])
}

// Identity reports whether Text is the original text unchanged.
func (n *Normalized) Identity() bool { return n.m == nil }

func isASCIINoTags(s string) bool {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= 0x80 {
			return false
		}
	}
	return true
}

// nextNonASCII returns the index of the first byte of s at or after i that
// is not ASCII, or len(s).
func nextNonASCII(s string, i int) int {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	for ; i+8 <= len(b); i += 8 {
		if w := binary.LittleEndian.Uint64(b[i:]) & 0x8080808080808080; w != 0 {
			return i + bits.TrailingZeros64(w)/8
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return i
		}
	}
	return len(b)
}

// normalizeInto fills n, reusing buf and m for the normalised bytes and the
// offset map (both may be nil). n.Text may share buf's memory: it is valid
// until buf is reused.
func normalizeInto(n *Normalized, s string, buf []byte, m []int32) ([]byte, []int32) {
	return normalizeWith(n, s, buf, m, true)
}

// normalizeWith is normalizeInto; fast false turns the rune-by-rune path
// off, for tests comparing the two.
func normalizeWith(n *Normalized, s string, buf []byte, m []int32, fast bool) ([]byte, []int32) {
	n.orig = s
	n.tags = n.tags[:0]
	if isASCIINoTags(s) {
		n.Text = s
		n.m = nil
		return buf, m
	}
	buf = buf[:0]
	m = m[:0]
	inTag := -1
	// tag runs: open one at a decoded tag byte, close it at the first
	// other output.
	mark := func(start int, isTag bool) {
		switch {
		case isTag:
			if inTag < 0 {
				inTag = start
			}
		case inTag >= 0 && len(buf) > start:
			n.tags = append(n.tags, span{inTag, start})
			inTag = -1
		}
	}
	quick := 0 // s[p:quick] is known to be NFKC already
	for p := 0; p < len(s); {
		c := s[p]
		if c < utf8.RuneSelf && (p+1 == len(s) || s[p+1] < utf8.RuneSelf) {
			// A run of ASCII (but for its last byte when non-ASCII
			// follows: it may combine with what follows) is copied as is.
			k := len(s)
			if j := nextNonASCII(s, p+1); j < len(s) {
				k = j - 1 // s[p+1] is ASCII, so j ≥ p+2
			}
			mark(len(buf), false)
			buf = append(buf, s[p:k]...)
			n := len(m)
			m = slices.Grow(m, k-p)[:n+k-p]
			for j := range m[n:] {
				m[n+j] = int32(p + j)
			}
			p = k
			continue
		}
		start := len(buf)
		if fast && p >= quick {
			// Ask NFKC's quick check about the run up to the next ASCII
			// byte: a boundary, since no composition ends in ASCII.
			j := p + 1
			for j < len(s) && s[j] >= utf8.RuneSelf {
				j++
			}
			quick = p + nfkcSpan(s[p:j])
		}
		if p < quick {
			// Text NFKC leaves alone (most prose: accents, dashes, curly
			// quotes, emoji) is folded rune by rune, each rune its own
			// segment, from tables where there are tables.
			r, size := utf8.DecodeRuneInString(s[p:])
			switch {
			case r == utf8.RuneError && size <= 1:
				buf = append(buf, c)
				mark(start, false)
				// The quick check may have judged the bytes after an
				// invalid one as part of it: ask again from the next.
				quick = p + 1
			case r >= 0xE0020 && r <= 0xE007E:
				buf = append(buf, byte(r-0xE0000))
				mark(start, true)
			default:
				buf = foldRune(buf, r)
				mark(start, false)
			}
			for i := start; i < len(buf); i++ {
				m = append(m, int32(p))
			}
			p += size
			continue
		}
		l := norm.NFKC.NextBoundaryInString(s[p:], true)
		if l <= 0 {
			l = 1
		}
		isTag := false
		if r, size := utf8.DecodeRuneInString(s[p:]); fast && size == l && hasFoldTable(r) {
			buf = append(buf, foldTable(r)...) // a one-rune segment NFKC changes, e.g. … or full-width letters
		} else {
			if n.seg == nil {
				n.seg = make([]byte, 0, 64)
			}
			buf, isTag = appendSegment(buf, s[p:p+l], n.seg[:0])
		}
		mark(start, isTag)
		for i := start; i < len(buf); i++ {
			m = append(m, int32(p))
		}
		p += l
	}
	if inTag >= 0 {
		n.tags = append(n.tags, span{inTag, len(buf)})
	}
	m = append(m, int32(len(s)))
	n.Text = unsafe.String(unsafe.SliceData(buf), len(buf))
	n.m = m
	return buf, m
}

// appendSegment appends the normalised form of one segment to dst. It
// reports whether the segment was a decoded tag character.
func appendSegment(dst []byte, seg string, tmp []byte) ([]byte, bool) {
	// Pass 1: drop invisibles, decode tags, keep invalid bytes raw.
	for i := 0; i < len(seg); {
		r, size := utf8.DecodeRuneInString(seg[i:])
		if r == utf8.RuneError && size <= 1 {
			if len(tmp) == 0 && i+1 == len(seg) {
				return append(dst, seg[i]), false
			}
			tmp = append(tmp, seg[i])
			i++
			continue
		}
		i += size
		if r >= 0xE0020 && r <= 0xE007E {
			if len(seg) == size {
				return append(dst, byte(r-0xE0000)), true
			}
			tmp = append(tmp, byte(r-0xE0000))
			continue
		}
		if isInvisible(r) {
			continue
		}
		tmp = utf8.AppendRune(tmp, r)
	}
	if len(tmp) == 0 {
		return dst, false
	}
	// Pass 2: compatibility-fold, then strip marks and fold look-alikes.
	var kbuf [64]byte
	k := norm.NFKC.Append(kbuf[:0], tmp...)
	for i := 0; i < len(k); {
		r, size := utf8.DecodeRune(k[i:])
		if r == utf8.RuneError && size <= 1 {
			dst = append(dst, k[i])
			i++
			continue
		}
		i += size
		if r < utf8.RuneSelf {
			dst = append(dst, byte(r))
			continue
		}
		if f, ok := homoglyph(r); ok {
			dst = append(dst, f)
			continue
		}
		if isInvisible(r) {
			continue
		}
		if r < 0x0530 && !unicode.Is(unicode.Mn, r) {
			// Latin, Greek, Cyrillic: decompose and drop the marks.
			var one [4]byte
			var dbuf [16]byte
			d := norm.NFD.Append(dbuf[:0], one[:utf8.EncodeRune(one[:], r)]...)
			for j := 0; j < len(d); {
				dr, ds := utf8.DecodeRune(d[j:])
				j += ds
				if unicode.Is(unicode.Mn, dr) {
					continue
				}
				if f, ok := homoglyph(dr); ok {
					dst = append(dst, f)
				} else {
					dst = utf8.AppendRune(dst, dr)
				}
			}
			continue
		}
		if r < 0x0370 && unicode.Is(unicode.Mn, r) {
			continue // a combining mark left after folding
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst, false
}

// foldRune appends what pass 2 of appendSegment makes of a rune that NFKC
// leaves unchanged; invisible runes and stray marks vanish.
func foldRune(dst []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		return append(dst, byte(r))
	}
	if hasFoldTable(r) {
		return append(dst, foldTable(r)...)
	}
	if f, ok := homoglyph(r); ok {
		return append(dst, f)
	}
	if isInvisible(r) {
		return dst
	}
	return utf8.AppendRune(dst, r)
}

// Fold tables hold appendSegment's own result for each rune of the ranges
// everyday text is made of — Latin, Greek, Cyrillic and their marks
// (below U+0530), general punctuation (U+2000–U+206F: dashes, quotes,
// ellipsis, invisible spaces) and the half- and full-width forms
// (U+FF00–U+FFEF) — so the fast paths cannot disagree with it.
var (
	latinFolds = foldRange(0, 0x0530)
	punctFolds = foldRange(0x2000, 0x2070)
	widthFolds = foldRange(0xFF00, 0xFFF0)
)

func foldRange(lo, hi rune) []string {
	t := make([]string, hi-lo)
	for r := lo; r < hi; r++ {
		var one [4]byte
		out, _ := appendSegment(nil, string(one[:utf8.EncodeRune(one[:], r)]), nil)
		t[r-lo] = string(out)
	}
	return t
}

func hasFoldTable(r rune) bool {
	return r < 0x0530 || (r >= 0x2000 && r < 0x2070) || (r >= 0xFF00 && r < 0xFFF0)
}

// foldTable is the table entry of r; hasFoldTable(r) must hold.
func foldTable(r rune) string {
	switch {
	case r < 0x0530:
		return latinFolds[r]
	case r < 0x2070:
		return punctFolds[r-0x2000]
	default:
		return widthFolds[r-0xFF00]
	}
}

// isInvisible reports format characters used to hide or split text.
func isInvisible(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x061C, r == 0x115F, r == 0x1160, r == 0x17B4, r == 0x17B5, r == 0x180E:
		return true
	case r >= 0x200B && r <= 0x200F: // ZWSP, ZWNJ, ZWJ, LRM, RLM
		return true
	case r >= 0x202A && r <= 0x202E: // bidi embeddings and overrides
		return true
	case r >= 0x2060 && r <= 0x2064, r >= 0x2066 && r <= 0x206F: // word joiner, invisible operators, isolates
		return true
	case r == 0x3164, r == 0xFEFF, r == 0xFFA0:
		return true
	case r >= 0xFE00 && r <= 0xFE0F: // variation selectors
		return true
	case r == 0xE0001, r == 0xE007F, r >= 0xE0000 && r <= 0xE001F: // tag controls
		return true
	case r >= 0xE0100 && r <= 0xE01EF: // variation selectors supplement
		return true
	}
	return false
}

// homoglyph folds a Cyrillic, Greek or Latin-variant look-alike to the
// ASCII letter it imitates.
func homoglyph(r rune) (byte, bool) {
	if r < 0x0180 || r > 0x1EFF {
		if r == 0x0131 { // dotless i
			return 'i', true
		}
		if r == 0x017F { // long s
			return 's', true
		}
		return 0, false
	}
	b, ok := homoglyphs[r]
	return b, ok
}

var homoglyphs = map[rune]byte{
	// Cyrillic lower case
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w',
	'ү': 'y', 'һ': 'h', 'ӏ': 'l', 'ɡ': 'g', 'ь': 'b', 'п': 'n', 'г': 'r',
	// Cyrillic upper case
	'А': 'A', 'В': 'B', 'Е': 'E', 'Ё': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C',
	'Т': 'T', 'У': 'Y', 'Х': 'X', 'Ѕ': 'S', 'І': 'I', 'Ї': 'I', 'Ј': 'J', 'Ԁ': 'D', 'Ԛ': 'Q', 'Ԝ': 'W',
	'Ү': 'Y', 'Һ': 'H', 'Ӏ': 'I', 'Ь': 'b',
	// Greek lower case
	'α': 'a', 'β': 'b', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u',
	'χ': 'x', 'γ': 'y', 'ϲ': 'c', 'ϳ': 'j',
	// Greek upper case
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O',
	'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X', 'Ϲ': 'C',
	// Armenian and Latin variants
	'օ': 'o', 'ս': 'u', 'հ': 'h', 'ɑ': 'a', 'ɩ': 'i', 'ʏ': 'y', 'ᴠ': 'v', 'ᴡ': 'w', 'ᴢ': 'z',
}

// nfkcSpan is norm.NFKC.QuickSpanString(s) for a run of non-ASCII text
// (and the ASCII byte before it), from a table where it can: the runes that NFKC keeps and that combine with
// nothing before them (most accented letters, punctuation, symbols,
// emoji) are skipped, and a rune that NFKC replaces and that combines with
// nothing ends the span; the quick check itself runs only from any other
// rune, backing up one rune when that one may combine with what follows.
// Text full of curly quotes and dashes would otherwise pay a call per rune.
func nfkcSpan(s string) int {
	t := nfkcTable()
	q, last := 0, 0 // last: start of the rune before q
	stop := false
	for q < len(s) {
		r, size := utf8.DecodeRuneInString(s[q:])
		c := runeNFKC(t, r)
		if c == nfkcOther || r == utf8.RuneError && size <= 1 {
			break
		}
		if c == nfkcReplaced {
			stop = true
			break
		}
		last = q
		q += size
	}
	if q == len(s) {
		return q
	}
	if q > 0 {
		if r, _ := utf8.DecodeRuneInString(s[last:]); runeNFKC(t, r) != nfkcAlone {
			return last + norm.NFKC.QuickSpanString(s[last:])
		}
	}
	if stop {
		return q
	}
	return q + norm.NFKC.QuickSpanString(s[q:])
}

// How NFKC treats a rune, for nfkcSpan.
const (
	nfkcOther    = iota // ask the quick check
	nfkcKept            // kept, combines with nothing before it
	nfkcAlone           // kept, combines with nothing before or after it
	nfkcReplaced        // replaced, combines with nothing before or after it
)

// runeNFKC classifies r by t, the nfkcTable (runes below U+10000 and the emoji planes
// U+1F000–U+1FFFF; others are nfkcOther).
func runeNFKC(t *[(0x10000 + 0x1000) / 4]uint8, r rune) uint8 {
	var i int
	switch {
	case r < 0x10000:
		i = int(r)
	case r >= 0x1F000 && r < 0x20000:
		i = int(r-0x1F000) + 0x10000
	default:
		return nfkcOther
	}
	return t[i/4] >> (i % 4 * 2) & 3
}

// nfkcTable packs two bits per rune: U+0000–U+FFFF, then U+1F000–U+1FFFF.
var nfkcTable = sync.OnceValue(func() *[(0x10000 + 0x1000) / 4]uint8 {
	var t [(0x10000 + 0x1000) / 4]uint8
	var b [4]byte
	set := func(i int, r rune) {
		if r >= 0xD800 && r <= 0xDFFF {
			return
		}
		n := utf8.EncodeRune(b[:], r)
		p := norm.NFKC.Properties(b[:n])
		if !p.BoundaryBefore() || p.CCC() != 0 {
			return
		}
		c := uint8(nfkcOther)
		switch q := norm.NFKC.QuickSpan(b[:n]); {
		case q == n && p.BoundaryAfter():
			c = nfkcAlone
		case q == n:
			c = nfkcKept
		case q == 0 && p.BoundaryAfter():
			c = nfkcReplaced
		}
		t[i/4] |= c << (i % 4 * 2)
	}
	for r := rune(0); r < 0x10000; r++ {
		set(int(r), r)
	}
	for r := rune(0x1F000); r < 0x20000; r++ {
		set(int(r-0x1F000)+0x10000, r)
	}
	return &t
})
