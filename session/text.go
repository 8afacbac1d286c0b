package session

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// ContentReadLimit is the most Resolve ever reads of one Content or System
// field. Callers that assemble a message's text from several blocks may stop
// copying at this many bytes without changing any result.
const ContentReadLimit = 4096

// maxEscapedRune is the longest JSON escape of one code point: a surrogate
// pair, `\ud83d\ude00`.
const maxEscapedRune = 12

// textPrefix returns the UTF-8 bytes of the first maxRunes code points of a
// text. src is the text itself, or, when escaped is true, the body of a JSON
// string (the bytes between the quotes, escape sequences intact). The result
// aliases src when no escape sequence lies in the window, else it is decoded
// into buf, which must hold maxRunes*4 bytes.
//
// Code points are counted as Python counts str characters: a surrogate pair
// is one, an invalid UTF-8 byte is one (and copied verbatim).
func textPrefix(buf []byte, src []byte, escaped bool, maxRunes int) []byte {
	if len(src) > ContentReadLimit {
		src = src[:ContentReadLimit]
	}
	if escaped && hasEscape(src, maxRunes) {
		return unescapePrefix(buf[:0], src, maxRunes)
	}
	return runePrefix(src, maxRunes)
}

// runePrefix returns the longest prefix of b holding at most n code points.
func runePrefix(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	if isASCII(b[:n]) {
		return b[:n]
	}
	i := 0
	for r := 0; r < n && i < len(b); r++ {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRune(b[i:])
		i += size
	}
	return b[:i]
}

// plainPrefix returns b[:min(n, len(b))] and true when those bytes are
// ASCII and, if escaped, hold no backslash: then they are the first
// code points of the text themselves, the common case that needs no
// decoding.
func plainPrefix(b []byte, n int, escaped bool) ([]byte, bool) {
	if len(b) <= n && !escaped {
		return b, true // n bytes hold at most n code points, whatever they are
	}
	if len(b) > n {
		b = b[:n]
	}
	const hi, ones, bs = 0x8080808080808080, 0x0101010101010101, 0x5c5c5c5c5c5c5c5c
	w := b
	var high, slash uint64
	for len(w) >= 32 {
		x0 := binary.LittleEndian.Uint64(w[0:8])
		x1 := binary.LittleEndian.Uint64(w[8:16])
		x2 := binary.LittleEndian.Uint64(w[16:24])
		x3 := binary.LittleEndian.Uint64(w[24:32])
		high |= x0 | x1 | x2 | x3
		y0, y1, y2, y3 := x0^bs, x1^bs, x2^bs, x3^bs
		slash |= (y0-ones)&^y0 | (y1-ones)&^y1 | (y2-ones)&^y2 | (y3-ones)&^y3
		w = w[32:]
	}
	for len(w) >= 8 {
		x := binary.LittleEndian.Uint64(w)
		high |= x
		y := x ^ bs
		slash |= (y - ones) &^ y
		w = w[8:]
	}
	for _, c := range w {
		high |= uint64(c)
		if c == '\\' {
			slash |= hi
		}
	}
	if high&hi != 0 && len(b) == n {
		return nil, false
	}
	if escaped && slash&hi != 0 {
		return nil, false
	}
	return b, true
}

func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// unescapePrefix appends to dst the decoded first n code points of the JSON
// string body src.
func unescapePrefix(dst, src []byte, n int) []byte {
	dst, _ = unescape(dst, src, n)
	return dst
}

// unescape appends to dst the decoded first n code points of the JSON
// string body src and returns the bytes of src not consumed. Runs without
// a backslash are copied whole. Malformed escapes are copied literally, as
// a lenient decoder would; a request holding them never reached the
// original's session detector, so no compatibility is at stake.
func unescape(dst, src []byte, n int) ([]byte, []byte) {
	for r := 0; r < n && len(src) > 0; {
		if c := src[0]; c != '\\' {
			// A plain ASCII run is copied whole, up to the next backslash.
			if k := plainRun(src[:min(len(src), n-r)]); k > 0 {
				dst = append(dst, src[:k]...)
				r += k
				src = src[k:]
				continue
			}
			_, size := utf8.DecodeRune(src) // not ASCII
			dst = append(dst, src[:size]...)
			src = src[size:]
			r++
			continue
		}
		r++
		if len(src) < 2 {
			dst = append(dst, src[0])
			src = src[1:]
			continue
		}
		switch src[1] {
		case '"', '\\', '/':
			dst = append(dst, src[1])
			src = src[2:]
		case 'b':
			dst = append(dst, '\b')
			src = src[2:]
		case 'f':
			dst = append(dst, '\f')
			src = src[2:]
		case 'n':
			dst = append(dst, '\n')
			src = src[2:]
		case 'r':
			dst = append(dst, '\r')
			src = src[2:]
		case 't':
			dst = append(dst, '\t')
			src = src[2:]
		case 'u':
			cp, ok := hex4(src[2:])
			if !ok {
				dst = append(dst, src[0])
				src = src[1:]
				continue
			}
			src = src[6:]
			if cp >= 0xD800 && cp < 0xDC00 && len(src) >= 6 && src[0] == '\\' && src[1] == 'u' {
				if lo, ok := hex4(src[2:]); ok && lo >= 0xDC00 && lo < 0xE000 {
					cp = 0x10000 + (cp-0xD800)<<10 + (lo - 0xDC00)
					src = src[6:]
				}
			}
			dst = utf8.AppendRune(dst, rune(cp)) // a lone surrogate becomes U+FFFD
		default:
			dst = append(dst, src[0])
			src = src[1:]
		}
	}
	return dst, src
}

// plainRun returns the length of the longest prefix of b that is ASCII
// and holds no backslash, eight bytes at a time.
func plainRun(b []byte) int {
	const hi, ones, bs = 0x8080808080808080, 0x0101010101010101, 0x5c5c5c5c5c5c5c5c
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		y := x ^ bs
		// The lowest flagged byte is exact: the zero-byte test only errs
		// above a true zero byte.
		if m := x&hi | (y-ones)&^y&hi; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf || b[i] == '\\' {
			return i
		}
	}
	return i
}

func hex4(b []byte) (uint32, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var v uint32
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint32(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint32(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint32(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// asciiSpace marks the ASCII characters isPySpace accepts.
var asciiSpace = [256]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, 0x1C: true, 0x1D: true, 0x1E: true, 0x1F: true, ' ': true}

// isPySpace reports whether Python's str.isspace holds for r: the
// characters str.strip() removes.
func isPySpace(r rune) bool {
	switch {
	case r <= ' ':
		return r == ' ' || (r >= '\t' && r <= '\r') || (r >= 0x1C && r <= 0x1F)
	case r < 0x85:
		return false
	}
	switch r {
	case 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// pyStrip trims what Python's str.strip() trims.
func pyStrip(b []byte) []byte {
	if len(b) == 0 || (b[0] > ' ' && b[0] < utf8.RuneSelf && b[len(b)-1] > ' ' && b[len(b)-1] < utf8.RuneSelf) {
		return b // nothing to trim: the common case, inlined
	}
	return pyStripSlow(b)
}

func pyStripSlow(b []byte) []byte {
	for len(b) > 0 {
		if c := b[0]; c < utf8.RuneSelf {
			if !asciiSpace[c] {
				break
			}
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if !isPySpace(r) {
			break
		}
		b = b[size:]
	}
	for len(b) > 0 {
		if c := b[len(b)-1]; c < utf8.RuneSelf {
			if !asciiSpace[c] {
				break
			}
			b = b[:len(b)-1]
			continue
		}
		r, size := utf8.DecodeLastRune(b)
		if !isPySpace(r) {
			break
		}
		b = b[:len(b)-size]
	}
	return b
}

// hasEscape reports whether a backslash lies where the first n code points
// of a JSON string body could be.
func hasEscape(b []byte, n int) bool {
	return bytes.IndexByte(b[:min(len(b), n*maxEscapedRune)], '\\') >= 0
}
