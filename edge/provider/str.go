package provider

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Str is a piece of text as it appears in a body: the bytes of a JSON
// string between its quotes, or plain text.
//
// Raw is nil when the value is absent (the member is missing, null, or not a
// string); a present empty string has a non-nil, empty Raw. When Escaped is
// false Raw is the text itself (UTF-8 as sent). When Escaped is true Raw
// holds JSON escape sequences (\n, \", \u00e9, surrogate pairs); Append
// decodes them. The concatenation of escaped strings is the escape of the
// concatenation, so a Str may also be several JSON strings' bodies joined.
//
// Raw aliases whatever the Str was parsed from; see the package doc for how
// long that is.
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
	return appendUnescaped(dst, s.Raw)
}

// String returns the decoded text. It allocates; hot paths use Append.
func (s Str) String() string {
	if !s.Escaped {
		return string(s.Raw)
	}
	return string(appendUnescaped(make([]byte, 0, len(s.Raw)), s.Raw))
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
		var r rune
		r, src = decodeEscape(src)
		n := utf8.EncodeRune(buf[:], r)
		if len(t) < n || t[:n] != string(buf[:n]) {
			return false
		}
		t = t[n:]
	}
	return len(t) == 0
}

// EqualStr reports whether two Strs hold the same decoded text.
func (s Str) EqualStr(o Str) bool {
	if !s.Escaped {
		return o.Equal(bytesString(s.Raw))
	}
	if !o.Escaped {
		return s.Equal(bytesString(o.Raw))
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
	r, rest := decodeEscape(src)
	n := utf8.EncodeRune(buf, r)
	return buf[:n], rest
}

// appendUnescaped decodes the JSON string body src onto dst.
func appendUnescaped(dst, src []byte) []byte {
	for len(src) > 0 {
		i := 0
		for i < len(src) && src[i] != '\\' {
			i++
		}
		dst = append(dst, src[:i]...)
		src = src[i:]
		if len(src) == 0 {
			break
		}
		var r rune
		r, src = decodeEscape(src)
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// decodeEscape decodes the escape sequence at the start of src (src[0] ==
// '\\'), joining a surrogate pair, and returns the rest. Malformed
// sequences yield U+FFFD and consume the backslash and one byte.
func decodeEscape(src []byte) (rune, []byte) {
	if len(src) < 2 {
		return utf8.RuneError, src[len(src):]
	}
	switch src[1] {
	case '"', '\\', '/':
		return rune(src[1]), src[2:]
	case 'b':
		return '\b', src[2:]
	case 'f':
		return '\f', src[2:]
	case 'n':
		return '\n', src[2:]
	case 'r':
		return '\r', src[2:]
	case 't':
		return '\t', src[2:]
	case 'u':
		r := hex4(src[2:])
		if r < 0 {
			return utf8.RuneError, src[2:]
		}
		if utf16.IsSurrogate(r) {
			if len(src) >= 12 && src[6] == '\\' && src[7] == 'u' {
				if r2 := hex4(src[8:]); r2 >= 0 {
					if dr := utf16.DecodeRune(r, r2); dr != utf8.RuneError {
						return dr, src[12:]
					}
				}
			}
			return utf8.RuneError, src[6:]
		}
		return r, src[6:]
	}
	return utf8.RuneError, src[2:]
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
