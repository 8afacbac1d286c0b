package policy

// glob reports whether s matches pattern, where '*' matches any run of
// bytes and '?' any one byte. It allocates nothing.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

// globs is a list of patterns; an empty list matches everything.
type globs []string

func (g globs) match(s string) bool {
	if len(g) == 0 {
		return true
	}
	for _, p := range g {
		if glob(p, s) {
			return true
		}
	}
	return false
}

// matchBytes matches b without converting it to a string on the heap.
func (g globs) matchBytes(b []byte) bool {
	if len(g) == 0 {
		return true
	}
	return g.match(bstr(b))
}
