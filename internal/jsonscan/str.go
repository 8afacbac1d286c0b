package jsonscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Str is a piece of text as it appears in a document: the bytes of a JSON
// string between its quotes, or plain text.
//
// Raw is nil when the value is absent (the member is missing, null, or not
// a string); a present empty string has a non-nil, empty Raw. When Escaped
// is false Raw is the text itself (UTF-8 as sent). When Escaped is true Raw
// holds JSON escape sequences (\n, \", \u00e9, surrogate pairs); Append
// decodes them. The concatenation of escaped strings is the escape of the
// concatenation, so a Str may also be several JSON strings' bodies joined.
//
// Raw aliases whatever the Str was read from.
type Str struct {
	Raw     []byte
	Escaped bool
}

// Present reports whether the value was there (Raw non-nil).
func (s Str) Present() bool { return s.Raw != nil }

// IsEmpty reports whether the text is empty (absent or "").
func (s Str) IsEmpty() bool { return len(s.Raw) == 0 }

// Append appends the decoded text to dst. Invalid escapes and lone
// surrogates decode to U+FFFD, as encoding/json does.
func (s Str) Append(dst []byte) []byte {
	if !s.Escaped {
		return append(dst, s.Raw...)
	}
	return AppendUnescaped(dst, s.Raw)
}

// String returns the decoded text. It allocates; hot paths use Append.
func (s Str) String() string {
	if !s.Escaped {
		return string(s.Raw)
	}
	return string(AppendUnescaped(make([]byte, 0, len(s.Raw)), s.Raw))
}

// Equal reports whether the decoded text equals t, without allocating.
func (s Str) Equal(t string) bool {
	if !s.Escaped {
		return string(s.Raw) == t
	}
	src := s.Raw
	var buf [utf8.UTFMax]byte
	for len(src) > 0 {
		if src[0] != '\\' {
			if len(t) == 0 || t[0] != src[0] {
				return false
			}
			src, t = src[1:], t[1:]
			continue
		}
		r, n := DecodeEscape(src)
		src = src[n:]
		m := utf8.EncodeRune(buf[:], r)
		if len(t) < m || t[:m] != string(buf[:m]) {
			return false
		}
		t = t[m:]
	}
	return len(t) == 0
}

// EqualStr reports whether two Strs hold the same decoded text.
func (s Str) EqualStr(o Str) bool {
	if !s.Escaped {
		return o.Equal(unsafe.String(unsafe.SliceData(s.Raw), len(s.Raw)))
	}
	if !o.Escaped {
		return s.Equal(unsafe.String(unsafe.SliceData(o.Raw), len(o.Raw)))
	}
	var b1, b2 [utf8.UTFMax]byte
	x, y := s.Raw, o.Raw
	for len(x) > 0 && len(y) > 0 {
		if x[0] != '\\' && y[0] != '\\' {
			if x[0] != y[0] {
				return false
			}
			x, y = x[1:], y[1:]
			continue
		}
		var p, q []byte
		p, x = nextUnit(b1[:], x)
		q, y = nextUnit(b2[:], y)
		if string(p) != string(q) {
			return false
		}
	}
	return len(x) == 0 && len(y) == 0
}

// nextUnit returns the UTF-8 bytes of the next escape or the next raw byte.
func nextUnit(buf []byte, src []byte) ([]byte, []byte) {
	if src[0] != '\\' {
		return src[:1], src[1:]
	}
	r, n := DecodeEscape(src)
	return buf[:utf8.EncodeRune(buf, r)], src[n:]
}

// AppendUnescaped decodes the JSON string body src (the bytes between the
// quotes) onto dst. Invalid escapes and lone surrogates decode to U+FFFD,
// as encoding/json does; other bytes are copied as they are.
func AppendUnescaped(dst, src []byte) []byte {
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\\')
		if i < 0 {
			return append(dst, src...)
		}
		dst = append(dst, src[:i]...)
		src = src[i:]
		if len(src) > 1 && simpleEscape[src[1]] != 0 {
			dst = append(dst, simpleEscape[src[1]])
			src = src[2:]
			continue
		}
		r, n := DecodeEscape(src)
		dst = utf8.AppendRune(dst, r)
		src = src[n:]
	}
	return dst
}

// AppendUnescapedPrefix decodes onto dst the first n code points of the
// JSON string body src, as AppendUnescaped would, and returns the bytes of
// src not consumed. Code points are counted as Python counts a str's
// characters: an escape sequence (a surrogate pair included) is one, and
// so is each byte of invalid UTF-8 (copied verbatim).
func AppendUnescapedPrefix(dst, src []byte, n int) (out, rest []byte) {
	for r := 0; r < n && len(src) > 0; {
		if src[0] != '\\' {
			// A plain ASCII run is copied whole, up to the next backslash.
			if k := PlainRun(src[:min(len(src), n-r)]); k > 0 {
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
		if len(src) > 1 && simpleEscape[src[1]] != 0 {
			dst = append(dst, simpleEscape[src[1]])
			src = src[2:]
			continue
		}
		c, size := DecodeEscape(src)
		dst = utf8.AppendRune(dst, c)
		src = src[size:]
	}
	return dst, src
}

// PlainRun returns the length of the longest prefix of b that is ASCII and
// holds no backslash, eight bytes at a time.
func PlainRun(b []byte) int {
	const bs = lsb * '\\'
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		y := x ^ bs
		// The lowest flagged byte is exact: the zero-byte test only errs
		// above a true zero byte.
		if m := x&msb | (y-lsb)&^y&msb; m != 0 {
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

// simpleEscape maps the byte after a backslash to what the two-byte escape
// stands for (0 for \u and for bytes that escape nothing): the common
// escapes decode without a call.
var simpleEscape = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// DecodeEscape decodes the escape sequence at the start of src (src[0] ==
// '\\'), joining a surrogate pair, and returns the code point and the
// number of bytes it took. A malformed sequence or a lone surrogate yields
// U+FFFD; a malformed one takes the backslash and the byte after it.
func DecodeEscape(src []byte) (rune, int) {
	if len(src) < 2 {
		return utf8.RuneError, len(src)
	}
	switch src[1] {
	case '"', '\\', '/':
		return rune(src[1]), 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r := hex4(src[2:])
		if r < 0 {
			return utf8.RuneError, 2
		}
		if utf16.IsSurrogate(r) {
			if len(src) >= 12 && src[6] == '\\' && src[7] == 'u' {
				if r2 := hex4(src[8:]); r2 >= 0 {
					if dr := utf16.DecodeRune(r, r2); dr != utf8.RuneError {
						return dr, 12
					}
				}
			}
			return utf8.RuneError, 6
		}
		return r, 6
	}
	return utf8.RuneError, 2
}

func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		v := unhex(c)
		if v < 0 {
			return -1
		}
		r = r<<4 | v
	}
	return r
}
