package session

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"

	"github.com/cylestio/perimeter/internal/jsonscan"
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
	dst, _ = jsonscan.AppendUnescapedPrefix(dst, src, n)
	return dst
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
