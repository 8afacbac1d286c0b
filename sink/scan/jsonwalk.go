package scan

import "github.com/cylestio/perimeter/edge/provider"

// A small reader for the attribute objects capture writes: it finds members
// and array elements by walking the bytes, and decodes only the strings
// detection reads, into a reused buffer. encoding/json decoded every
// attribute object into maps first, which cost four times the detection
// itself on a typical call. Malformed input yields "absent", never a panic.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just after the string starting at b[i] ('"')
// and whether it holds escapes; -1 when unterminated.
func stringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, escaped
}

// valueEnd returns the index just after the value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := stringEnd(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && !isSpace(b[j]) {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

// members calls fn with each member's raw key (quotes included) and raw
// value of the object obj, until fn returns false.
func members(obj []byte, fn func(key, val []byte) bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		kend, _ := stringEnd(obj, i)
		if kend < 0 {
			return
		}
		key := obj[i:kend]
		i = skipSpace(obj, kend)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		i = skipSpace(obj, i+1)
		vend := valueEnd(obj, i)
		if vend < 0 {
			return
		}
		if !fn(key, obj[i:vend]) {
			return
		}
		i = skipSpace(obj, vend)
		if i >= len(obj) || obj[i] != ',' {
			return
		}
		i = skipSpace(obj, i+1)
	}
}

// member returns the raw value of obj's member name, nil when absent.
func member(obj []byte, name string) []byte {
	var out []byte
	members(obj, func(key, val []byte) bool {
		if keyIs(key, name) {
			out = val
			return false
		}
		return true
	})
	return out
}

// keyIs compares a raw key with name; keys with escapes are decoded first.
func keyIs(raw []byte, name string) bool {
	inner := raw[1 : len(raw)-1]
	if len(inner) == len(name) && string(inner) == name {
		return true
	}
	for _, c := range inner {
		if c == '\\' {
			var buf [64]byte
			dec, ok := appendString(buf[:0], raw)
			return ok && string(dec) == name
		}
	}
	return false
}

// elements calls fn with each element of the array arr.
func elements(arr []byte, fn func(val []byte)) {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return
	}
	i = skipSpace(arr, i+1)
	for i < len(arr) && arr[i] != ']' {
		end := valueEnd(arr, i)
		if end < 0 {
			return
		}
		fn(arr[i:end])
		i = skipSpace(arr, end)
		if i >= len(arr) || arr[i] != ',' {
			return
		}
		i = skipSpace(arr, i+1)
	}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// isString reports whether raw is a JSON string.
func isString(raw []byte) bool { return len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' }

// appendString appends the text of the JSON string raw to dst, decoded by
// the proxy's own JSON string decoder (edge/provider, a leaf package of
// wire-format parsers): invalid escapes and lone surrogates become U+FFFD,
// as with encoding/json.
func appendString(dst, raw []byte) ([]byte, bool) {
	raw = trimSpace(raw)
	if !isString(raw) {
		return dst, false
	}
	return provider.Str{Raw: raw[1 : len(raw)-1], Escaped: true}.Append(dst), true
}

// appendContent appends the text of a content value: a string, or the text
// parts of a list of blocks ({"text": ...} or nested {"content": ...}),
// joined by newlines. It reports whether anything was appended.
func appendContent(dst, raw []byte) ([]byte, bool) {
	raw = trimSpace(raw)
	if len(raw) == 0 {
		return dst, false
	}
	if isString(raw) {
		n := len(dst)
		dst, _ = appendString(dst, raw)
		return dst, len(dst) > n
	}
	start := len(dst)
	elements(raw, func(block []byte) {
		var text, content []byte
		members(block, func(key, val []byte) bool {
			switch {
			case keyIs(key, "text"):
				text = val
			case keyIs(key, "content"):
				content = val
			}
			return true
		})
		mark := len(dst)
		if len(dst) > start {
			dst = append(dst, '\n')
		}
		var ok bool
		if isString(text) {
			before := len(dst)
			dst, _ = appendString(dst, text)
			ok = len(dst) > before
		}
		if !ok {
			dst, ok = appendContent(dst, content)
		}
		if !ok {
			dst = dst[:mark]
		}
	})
	return dst, len(dst) > start
}
