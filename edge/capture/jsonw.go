package capture

import (
	"strconv"
	"unicode/utf8"

	"github.com/cylestio/perimeter/edge/provider"
)

// obj appends JSON object members without reflection or intermediate maps.
// Start with open, add members, finish with close.
type obj struct {
	b     []byte
	first bool
}

func (o *obj) open() { o.b = append(o.b, '{'); o.first = true }

func (o *obj) close() { o.b = append(o.b, '}') }

func (o *obj) key(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *obj) str(k, v string) {
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

func (o *obj) bytesStr(k string, v []byte) {
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

// pstr writes a provider string: escaped bodies are valid JSON already.
func (o *obj) pstr(k string, s provider.Str) {
	o.key(k)
	o.b = appendPStr(o.b, s)
}

func (o *obj) raw(k string, v []byte) {
	o.key(k)
	if len(v) == 0 {
		o.b = append(o.b, "null"...)
		return
	}
	o.b = append(o.b, v...)
}

func (o *obj) int(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *obj) float(k string, v float64) {
	o.key(k)
	o.b = strconv.AppendFloat(o.b, v, 'f', -1, 64)
}

func (o *obj) bool(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

func appendPStr(b []byte, s provider.Str) []byte {
	if s.Escaped {
		b = append(b, '"')
		b = append(b, s.Raw...)
		return append(b, '"')
	}
	return appendJSONString(b, s.Raw)
}

// AppendJSONString appends s as a JSON string, as capture writes the
// strings of events (the guard re-encodes the strings it redacts with it).
func AppendJSONString(dst, s []byte) []byte { return appendJSONString(dst, s) }

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString[T ~string | ~[]byte](b []byte, s T) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = appendEscape(b, c)
			i++
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

func decodeRune[T ~string | ~[]byte](s T) (rune, int) {
	switch v := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(v)
	case []byte:
		return utf8.DecodeRune(v)
	}
	return utf8.DecodeRuneInString(string(s))
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"':
		return append(b, '\\', '"')
	case '\\':
		return append(b, '\\', '\\')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
}
