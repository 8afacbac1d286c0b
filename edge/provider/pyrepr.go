package provider

import (
	"strconv"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/cylestio/perimeter/internal/jsonscan"
)

// AppendPyStr appends Python's str() of the JSON value raw, as the
// original computes it after json.loads: a string is its text; null, true,
// false are None, True, False; a number is Python's int or float repr; a
// list or an object is its repr — single-quoted strings (double quotes when
// the text holds a ' and no "), ', ' and ': ' separators, \n, \t, \r, \\
// and \xhh/\uhhhh/\Uhhhhhhhh escapes for what Python deems unprintable.
//
// The original uses this text as the system prompt (and so the agent id)
// when system content is not a string, and as the content text of non-list,
// non-string message content. Known differences, all on inputs no client
// sends: an object with a duplicated key prints both members (Python keeps
// one, in the first one's place), a lone surrogate escape prints as
// U+FFFD, and NaN/Infinity literals are not JSON here.
func AppendPyStr(dst, raw []byte) ([]byte, error) {
	var d dec
	d.Reset(raw)
	if d.Peek() == '"' {
		s := d.Str()
		d.End()
		if d.Failed() {
			return dst, d.Err()
		}
		return s.Append(dst), nil
	}
	n := len(dst)
	dst = pyRepr(&d, dst)
	d.End()
	if d.Failed() {
		return dst[:n], d.Err()
	}
	return dst, nil
}

func pyRepr(d *dec, dst []byte) []byte {
	switch c := d.Peek(); {
	case c == '"':
		return appendPyQuoted(dst, d.Str())
	case c == 'n':
		d.Literal("null")
		return append(dst, "None"...)
	case c == 't':
		d.Literal("true")
		return append(dst, "True"...)
	case c == 'f':
		d.Literal("false")
		return append(dst, "False"...)
	case c == '[':
		dst = append(dst, '[')
		if d.EnterArr() {
			for {
				dst = pyRepr(d, dst)
				if !d.MoreArr() {
					break
				}
				dst = append(dst, ", "...)
			}
		}
		return append(dst, ']')
	case c == '{':
		dst = append(dst, '{')
		if d.EnterObj() {
			for {
				if d.Peek() != '"' {
					d.Fail(ErrInvalidJSON)
					break
				}
				dst = appendPyQuoted(dst, d.Str())
				if !d.Expect(':') {
					break
				}
				dst = append(dst, ": "...)
				dst = pyRepr(d, dst)
				if !d.MoreObj() {
					break
				}
				dst = append(dst, ", "...)
			}
		}
		return append(dst, '}')
	case c == '-' || (c >= '0' && c <= '9'):
		raw, ok := d.Number()
		if !ok {
			return dst
		}
		return appendPyNumber(dst, raw)
	}
	d.Fail(ErrInvalidJSON)
	return dst
}

// appendPyNumber appends Python's repr of the number json.loads makes of
// raw: an int when raw has no fraction or exponent, else a float.
func appendPyNumber(dst, raw []byte) []byte {
	isFloat := false
	for _, c := range raw {
		if c == '.' || c == 'e' || c == 'E' {
			isFloat = true
			break
		}
	}
	if !isFloat {
		if string(raw) == "-0" {
			return append(dst, '0')
		}
		return append(dst, raw...)
	}
	f, err := strconv.ParseFloat(unsafe.String(&raw[0], len(raw)), 64)
	if err != nil { // out of range: Python says inf
		if f < 0 {
			return append(dst, "-inf"...)
		}
		return append(dst, "inf"...)
	}
	return appendPyFloat(dst, f)
}

// appendPyFloat is Python's repr(float): the shortest digits that round
// trip, in exponent form when the decimal point would sit more than 16
// places right or 4 places left of the first digit.
func appendPyFloat(dst []byte, f float64) []byte {
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	exp := 0
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			x, _ := strconv.Atoi(string(e[i+1:]))
			exp = x
			break
		}
	}
	if decpt := exp + 1; decpt <= -4 || decpt > 16 {
		return append(dst, e...)
	}
	n := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	for _, c := range dst[n:] {
		if c == '.' {
			return dst
		}
	}
	return append(dst, ".0"...)
}

// appendPyQuoted appends Python's repr of the string s.
func appendPyQuoted(dst []byte, s Str) []byte {
	quote := byte('\'')
	hasSingle, hasDouble := false, false
	forEachRune(s, func(r rune) {
		switch r {
		case '\'':
			hasSingle = true
		case '"':
			hasDouble = true
		}
	})
	if hasSingle && !hasDouble {
		quote = '"'
	}
	dst = append(dst, quote)
	forEachRune(s, func(r rune) {
		switch {
		case r == rune(quote) || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\r':
			dst = append(dst, '\\', 'r')
		case r == '\t':
			dst = append(dst, '\\', 't')
		case r < 0x7f && r >= 0x20:
			dst = append(dst, byte(r))
		case pyPrintable(r):
			dst = utf8.AppendRune(dst, r)
		case r < 0x100:
			dst = append(dst, '\\', 'x', hexDigit[r>>4], hexDigit[r&0xf])
		case r < 0x10000:
			dst = append(dst, '\\', 'u')
			dst = appendHex(dst, uint32(r), 4)
		default:
			dst = append(dst, '\\', 'U')
			dst = appendHex(dst, uint32(r), 8)
		}
	})
	return append(dst, quote)
}

const hexDigit = "0123456789abcdef"

func appendHex(dst []byte, v uint32, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, hexDigit[(v>>(4*uint(i)))&0xf])
	}
	return dst
}

// pyPrintable approximates str.isprintable for one character: Go's
// unicode.IsPrint has the same definition (letters, marks, numbers,
// punctuation, symbols and the ASCII space; not other spaces, controls,
// format characters, surrogates, private use or unassigned code points),
// differing only where the two Unicode versions do.
func pyPrintable(r rune) bool {
	return unicode.IsPrint(r)
}

// forEachRune calls fn for every character of the decoded text of s;
// invalid UTF-8 bytes come as U+FFFD.
func forEachRune(s Str, fn func(rune)) {
	b := s.Raw
	for len(b) > 0 {
		c := b[0]
		switch {
		case c == '\\' && s.Escaped:
			var r rune
			r, n := jsonscan.DecodeEscape(b)
			b = b[n:]
			fn(r)
		case c < utf8.RuneSelf:
			fn(rune(c))
			b = b[1:]
		default:
			r, n := utf8.DecodeRune(b)
			fn(r)
			b = b[n:]
		}
	}
}

// pyTruthy reports Python's truthiness of the JSON value raw: null, false,
// zero, "", [] and {} are false.
func pyTruthy(raw []byte) bool {
	var d dec
	d.Reset(raw)
	switch c := d.Peek(); {
	case c == 0 || c == 'n' || c == 'f':
		return false
	case c == '"':
		return len(d.Str().Raw) > 0
	case c == '[':
		return d.EnterArr()
	case c == '{':
		return d.EnterObj()
	case c == '-' || (c >= '0' && c <= '9'):
		f, ok := d.Float()
		return !ok || f != 0
	}
	return true
}
