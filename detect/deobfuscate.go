package detect

import (
	"encoding/binary"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Obfuscations that survive normalisation: leetspeak ("1gn0r3 pr3v10u5
// 1n57ruc710n5"), letters spaced apart ("i g n o r e", "i.g.n.o.r.e") and
// symbols between words ("ignore 👏 all 👏 previous"). When a text shows
// one of them, the injection detectors also read a rewritten copy (a layer
// named "leetspeak", "spaced_letters" or "separators", spanning the whole
// field). Each check is one pass over the text (the last only over text
// that is not ASCII); text without the pattern costs nothing more.

// leetMap maps the digits and symbols of leetspeak to letters.
var leetMap = func() (m [256]byte) {
	for _, p := range []string{"0o", "1i", "3e", "4a", "5s", "7t", "8b", "9g", "@a", "$s"} {
		m[p[0]] = p[1]
	}
	return
}()

// leetInc sorts the bytes of leetTokens' words: a byte outside words adds
// nothing, a letter or digit adds one to its class's 16-bit counter
// (lower case, upper case, leet digit or symbol, other digit), so a word is
// counted by additions in a register.
const (
	leetLower = 1 << (16 * iota)
	leetUpper
	leetDigit // a leet digit or symbol
	leetOther // a digit leetspeak does not use
)

var leetInc = func() (t [256]uint64) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = leetLower, leetUpper
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = leetOther
	}
	for c := range 256 {
		if leetMap[c] != 0 {
			t[c] = leetDigit
		}
	}
	return
}()

// leetTokens counts words that mix letters with leet digits ("pr3v10u5",
// "4ll"; not "mp3", "ipv4", "sha256", nor the mixed-case runs of keys and
// hashes), and all words.
func leetTokens(t string) (mixed, words int) {
	for i := 0; i < len(t); {
		if leetInc[t[i]] == 0 {
			i++
			continue
		}
		var n uint64
		j := i
		for ; j < len(t); j++ {
			inc := leetInc[t[j]]
			if inc == 0 {
				break
			}
			n += inc
		}
		words++
		// The counters of a word longer than 16 bits may carry into each
		// other; such a word is too long to count anyway.
		lower, upper, leet, other := int(n&0xffff), int(n>>16&0xffff), int(n>>32&0xffff), int(n>>48)
		if l := j - i; leet > 0 && other == 0 && l >= 3 && l <= 16 && (lower == 0 || upper <= 1) &&
			(lower+upper > 0 && leet*4 >= l || lower+upper == 0 && leet == l && l <= 5) {
			mixed++
		}
		i = j
	}
	return
}

// leetMixedAtLeast reports whether t has at least n words leetTokens
// counts as mixed. Only a word holding a leet digit or symbol can be one,
// so it visits only those words, finding their leet bytes eight bytes at a
// time (fullPath: it answers true and leetTokens decides).
func leetMixedAtLeast(t string, n int) bool {
	if fullPath {
		return true
	}
	b := unsafe.Slice(unsafe.StringData(t), len(t))
	mixed := 0
	for i := 0; i < len(b); {
		if i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			d := x ^ 0x3030303030303030 // digits become bytes below 10
			a := x ^ 0x4040404040404040 // '@' becomes 0
			s := x ^ 0x2424242424242424 // '$' becomes 0
			const lo, hi = 0x0101010101010101, 0x8080808080808080
			if ((d-10*lo)&^d|(a-lo)&^a|(s-lo)&^s)&hi == 0 {
				i += 8
				continue
			}
		}
		if leetInc[b[i]] != leetDigit {
			i++
			continue
		}
		ws := i
		for ws > 0 && leetInc[b[ws-1]] != 0 {
			ws--
		}
		we := i + 1
		for we < len(b) && leetInc[b[we]] != 0 {
			we++
		}
		if m, _ := leetTokens(t[ws:we]); m > 0 {
			if mixed++; mixed >= n {
				return true
			}
		}
		i = we
	}
	return false
}

// deleet rewrites leet digits inside words as letters, with one for "1"
// ("i" or "l", both are common; '?' picks by the letter before it).
func deleet(t string, one byte, buf []byte) []byte {
	buf = buf[:0]
	for i := 0; i < len(t); {
		if !isAlnum(t[i]) && t[i] != '@' && t[i] != '$' {
			buf = append(buf, t[i])
			i++
			continue
		}
		j := i
		for j < len(t) && (isAlnum(t[j]) || t[j] == '@' || t[j] == '$') {
			j++
		}
		for k := i; k < j; k++ {
			ch := t[k]
			switch {
			case ch == '1' && one == '?':
				// "l" after a vowel ("ru13s", "h3110"), "i" elsewhere
				// ("1gn0r3", "pr3v10u5").
				ch = 'i'
				if k > i {
					if p := buf[len(buf)-1]; p == 'a' || p == 'e' || p == 'i' || p == 'o' || p == 'u' || p == 'l' {
						ch = 'l'
					}
				}
			case ch == '1':
				ch = one
			case leetMap[ch] != 0:
				ch = leetMap[ch]
			}
			buf = append(buf, lowerASCII(ch))
		}
		i = j
	}
	return buf
}

// unspace joins runs of four or more single letters separated by one
// space, dot, dash or underscore ("i g n o r e" → "ignore"); it returns
// nil when the text has no such run.
func unspace(t string, buf []byte) []byte {
	first := -1
	for k := 0; k+6 < len(t); k++ {
		if spacer[t[k+1]] && spacer[t[k+3]] && spacer[t[k+5]] && isAlpha(t[k]) && isAlpha(t[k+2]) && isAlpha(t[k+4]) && isAlpha(t[k+6]) {
			if _, end := singleRun(t, k); end > 0 {
				first = k
				break
			}
		}
	}
	if first < 0 {
		return nil
	}
	buf = append(buf[:0], t[:first]...)
	for i := first; i < len(t); {
		if n, end := singleRun(t, i); n >= 4 {
			for k := i; k < end; k++ {
				if isAlpha(t[k]) {
					buf = append(buf, t[k])
				}
			}
			i = end
			continue
		}
		buf = append(buf, t[i])
		i++
	}
	return buf
}

// singleRun measures a run of single letters joined by one spacer starting
// at i: the number of letters and where the run ends (0 if fewer than 4).
func singleRun(t string, i int) (n, end int) {
	for j := i; j < len(t) && isAlpha(t[j]) && (j+1 == len(t) || !isAlpha(t[j+1])) && (j == 0 || !isAlpha(t[j-1])); {
		n++
		end = j + 1
		if j+2 < len(t) && isSpacer(t[j+1]) && isAlpha(t[j+2]) {
			j += 2
			continue
		}
		break
	}
	if n < 4 {
		return n, 0
	}
	return n, end
}

func isSpacer(b byte) bool { return spacer[b] }

var spacer = [256]bool{' ': true, '.': true, '-': true, '_': true}

// deobfuscate runs the injection detectors on the rewritten views of c.t.
func (c *scanCtx) deobfuscate() {
	if c.layer != "" || len(c.t) > 64<<10 {
		return
	}
	t := c.t
	var dec []byte
	if leetMixedAtLeast(t, 3) {
		if mixed, words := leetTokens(t); mixed >= 3 && mixed*5 >= words {
			for _, one := range []byte{'i', 'l', '?'} {
				dec = deleet(t, one, c.sc.dec[:0])
				c.sc.dec = dec
				c.injectionLayer("leetspeak", unsafe.String(unsafe.SliceData(dec), len(dec)))
			}
		}
	}
	if dec = unspace(t, c.sc.dec[:0]); dec != nil {
		c.sc.dec = dec
		c.injectionLayer("spaced_letters", unsafe.String(unsafe.SliceData(dec), len(dec)))
	}
	if !c.n.Identity() {
		if dec = unseparate(t, c.sc.dec[:0]); dec != nil {
			c.sc.dec = dec
			c.injectionLayer("separators", unsafe.String(unsafe.SliceData(dec), len(dec)))
		}
	}
}

// unseparate drops symbols standing between words ("ignore 👏 all 👏
// previous") when at least three do; nil when the text has fewer.
func unseparate(t string, buf []byte) []byte {
	n := 0
	for i, r := range t {
		if r >= 0x2000 && !unicode.IsLetter(r) && !unicode.IsDigit(r) && i > 0 && t[i-1] == ' ' {
			if e := i + utf8.RuneLen(r); e < len(t) && t[e] == ' ' {
				n++
			}
		}
	}
	if n < 3 {
		return nil
	}
	buf = buf[:0]
	for i, r := range t {
		if r >= 0x2000 && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		if r == ' ' && len(buf) > 0 && buf[len(buf)-1] == ' ' {
			continue
		}
		buf = append(buf, t[i:i+utf8.RuneLen(r)]...)
	}
	return buf
}

// injectionLayer runs the injection detectors on text, a rewritten view of
// the whole field held in scratch memory (findings copy what they keep).
func (c *scanCtx) injectionLayer(name, text string) {
	saveT, saveHits, saveLayer, saveSpan := c.t, c.hits, c.layer, c.lspan
	c.lspan.start, c.lspan.end = c.n.Original(0, len(c.t))
	c.layer = name
	c.t = text
	start := len(c.sc.hits)
	c.sc.hits = rules().kw.scan(text, c.sc.hits)
	c.hits = c.sc.hits[start:]
	c.injection()
	c.sc.hits = c.sc.hits[:start]
	c.t, c.hits, c.layer, c.lspan = saveT, saveHits, saveLayer, saveSpan
}
