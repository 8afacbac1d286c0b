package session

import (
	"bytes"
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
	if escaped {
		w := src
		if lim := maxRunes * maxEscapedRune; len(w) > lim {
			w = w[:lim]
		}
		if bytes.IndexByte(w, '\\') >= 0 {
			return unescapePrefix(buf[:0], src, maxRunes)
		}
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

func isASCII(b []byte) bool {
	for len(b) >= 8 {
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if w&0x8080808080808080 != 0 {
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
// string body src and returns the bytes of src not consumed. Malformed
// escapes are copied literally, as a lenient decoder would; a request
// holding them never reached the original's session detector, so no
// compatibility is at stake.
func unescape(dst, src []byte, n int) ([]byte, []byte) {
	for r := 0; r < n && len(src) > 0; r++ {
		c := src[0]
		if c != '\\' {
			if c < utf8.RuneSelf {
				dst = append(dst, c)
				src = src[1:]
				continue
			}
			_, size := utf8.DecodeRune(src)
			dst = append(dst, src[:size]...)
			src = src[size:]
			continue
		}
		if len(src) < 2 {
			dst = append(dst, c)
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
				dst = append(dst, c)
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
			dst = append(dst, c)
			src = src[1:]
		}
	}
	return dst, src
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
	for len(b) > 0 {
		if c := b[0]; c < utf8.RuneSelf {
			if !isPySpace(rune(c)) {
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
			if !isPySpace(rune(c)) {
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
