package mockllm

// A tiny allocation-free JSON scanner: just enough to pull the few request
// fields the mock reacts to (model, stream, tools, the last message) without
// decoding the body. Values are returned as raw spans of the input.

const maxJSONDepth = 64

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"',
// or -1 when the string is unterminated or holds a raw control character.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			i++
		case c < 0x20:
			return -1
		}
	}
	return -1
}

// skipValue returns the index just past the JSON value that starts at or
// after b[i], or -1 when the bytes are not a JSON value.
func skipValue(b []byte, i, depth int) int {
	i = skipWS(b, i)
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; c {
	case '"':
		return skipString(b, i)
	case '{', '[':
		if depth >= maxJSONDepth {
			return -1
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1
		}
		for {
			if c == '{' {
				i = skipWS(b, i)
				if i >= len(b) || b[i] != '"' {
					return -1
				}
				if i = skipString(b, i); i < 0 {
					return -1
				}
				i = skipWS(b, i)
				if i >= len(b) || b[i] != ':' {
					return -1
				}
				i++
			}
			if i = skipValue(b, i, depth+1); i < 0 {
				return -1
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return -1
			}
			if b[i] == ',' {
				i++
				continue
			}
			if b[i] == closer {
				return i + 1
			}
			return -1
		}
	case 't':
		return skipLiteral(b, i, "true")
	case 'f':
		return skipLiteral(b, i, "false")
	case 'n':
		return skipLiteral(b, i, "null")
	default:
		start := i
		for i < len(b) && isNumberByte(b[i]) {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
}

func isNumberByte(c byte) bool {
	return ('0' <= c && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func skipLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// jsonIter walks the members of one object or the elements of one array.
// Once done without error, i is just past the closing bracket.
type jsonIter struct {
	b      []byte
	i      int
	object bool
	bad    bool
	done   bool
}

// iterate starts a walk over v, a raw object or array. A v of any other kind
// yields nothing and marks the iterator bad.
func iterate(v []byte) jsonIter {
	i := skipWS(v, 0)
	if i >= len(v) || (v[i] != '{' && v[i] != '[') {
		return jsonIter{bad: true, done: true}
	}
	it := jsonIter{b: v, i: i + 1, object: v[i] == '{'}
	closer := byte(']')
	if it.object {
		closer = '}'
	}
	if j := skipWS(v, it.i); j < len(v) && v[j] == closer {
		it.done, it.i = true, j+1
	}
	return it
}

// next returns the next member: key is the raw key without quotes (nil for
// arrays) and val the raw value. ok is false at the end or on malformed input
// (then it.bad is set).
func (it *jsonIter) next() (key, val []byte, ok bool) {
	if it.done {
		return nil, nil, false
	}
	b, i := it.b, skipWS(it.b, it.i)
	if it.object {
		if i >= len(b) || b[i] != '"' {
			return it.fail()
		}
		end := skipString(b, i)
		if end < 0 {
			return it.fail()
		}
		key = b[i+1 : end-1]
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return it.fail()
		}
		i = skipWS(b, i+1)
	}
	end := skipValue(b, i, 1)
	if end < 0 {
		return it.fail()
	}
	val = b[i:end]
	i = skipWS(b, end)
	switch {
	case i < len(b) && b[i] == ',':
		it.i = i + 1
	case i < len(b) && ((it.object && b[i] == '}') || (!it.object && b[i] == ']')):
		it.done, it.i = true, i+1
	default:
		return it.fail()
	}
	return key, val, true
}

func (it *jsonIter) fail() ([]byte, []byte, bool) {
	it.bad, it.done = true, true
	return nil, nil, false
}

// field returns the raw value of key in the raw object obj, or nil.
func field(obj []byte, key string) []byte {
	it := iterate(obj)
	if !it.object {
		return nil
	}
	for k, v, ok := it.next(); ok; k, v, ok = it.next() {
		if string(k) == key {
			return v
		}
	}
	return nil
}

// firstElem and lastElem return the first and last raw elements of the raw
// array arr, or nil.
func firstElem(arr []byte) []byte {
	it := iterate(arr)
	if it.object {
		return nil
	}
	_, v, _ := it.next()
	return v
}

func lastElem(arr []byte) []byte {
	it := iterate(arr)
	if it.object {
		return nil
	}
	var last []byte
	for _, v, ok := it.next(); ok; _, v, ok = it.next() {
		last = v
	}
	return last
}

// validDocument reports whether b holds exactly one JSON value.
func validDocument(b []byte) bool {
	end := skipValue(b, 0, 0)
	return end >= 0 && skipWS(b, end) == len(b)
}

func isString(v []byte) bool { return len(v) >= 2 && v[0] == '"' }

func isTrue(v []byte) bool { return string(v) == "true" }

// containsFold reports whether b contains the ASCII word w, ignoring case.
func containsFold(b []byte, w string) bool {
	for i := 0; i+len(w) <= len(b); i++ {
		if equalFoldASCII(b[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c, d := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}
