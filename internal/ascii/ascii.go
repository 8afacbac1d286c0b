// Package ascii compares header names and other protocol tokens without
// allocating: ASCII case folding only, as HTTP field names need.
package ascii

// Lower is c in lower case when it is an ASCII upper-case letter.
func Lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// EqualFold reports whether b and s are equal, ignoring ASCII case.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if Lower(b[i]) != Lower(s[i]) {
			return false
		}
	}
	return true
}

// EqualFoldDash is EqualFold with "_" taken for "-" (header names a proxy
// or CGI gateway may spell either way).
func EqualFoldDash(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := Lower(b[i]), Lower(s[i])
		if x == '_' {
			x = '-'
		}
		if y == '_' {
			y = '-'
		}
		if x != y {
			return false
		}
	}
	return true
}
