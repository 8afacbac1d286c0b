package detect

import "strings"

// group is a run of digits inside a digit cluster and the separator
// before it.
type group struct {
	s, e int    // offsets in c.t
	sep  string // separator text before the group ("" for the first)
}

func isClusterSep(b byte) bool {
	return b == ' ' || b == '-' || b == '.' || b == '(' || b == ')' || b == '/'
}

// digits handles the digit run starting at i and returns where scanning
// resumes.
func (c *scanCtx) digits(i int) int {
	t := c.t
	prev := byte(' ')
	if i > 0 {
		prev = t[i-1]
	}
	// Base58 wallet (starts with 1 or 3) and IBAN (two capitals then
	// digits) start at token boundaries next to letters.
	if (t[i] == '1' || t[i] == '3') && !isAlnum(prev) {
		if e := c.base58(i); e > i {
			return e
		}
	}
	if i >= 2 && isUpper(t[i-2]) && isUpper(t[i-1]) && (i == 2 || !isAlnum(t[i-3])) {
		if e := c.iban(i - 2); e > i {
			return e
		}
	}
	if isAlpha(prev) || prev == '_' || prev == '.' && i >= 2 && isDigit(t[i-2]) {
		return skipToken(t, i)
	}
	if prev == '.' || prev == ',' && i >= 2 && isDigit(t[i-2]) {
		return skipDigits(t, i)
	}
	if e := c.ipv4(i); e > i {
		return e
	}
	// Build the cluster: digit groups separated by at most two separator
	// bytes.
	gs := &c.sc.groups // in scratch: zeroing 24 groups per digit run would cost more than reading them
	n := 0
	start := i
	if i > 0 && t[i-1] == '+' {
		start = i - 1
	} else if i > 0 && t[i-1] == '(' {
		start = i - 1
	}
	p := i
	sepStart := i
	for p < len(t) && n < len(gs) {
		if isDigit(t[p]) {
			q := p
			for q < len(t) && isDigit(t[q]) {
				q++
			}
			gs[n] = group{s: p, e: q, sep: t[sepStart:p]}
			n++
			p = q
			sepStart = p
			k := p
			for k < len(t) && k-p < 3 && isClusterSep(t[k]) {
				k++
			}
			if k == p || k >= len(t) || !isDigit(t[k]) || k-p > 2 && t[p:k] != ") -" {
				break
			}
			p = k
			continue
		}
		break
	}
	end := gs[n-1].e
	if end < len(t) && (isAlpha(t[end]) || t[end] == '_') {
		return skipToken(t, end)
	}
	if end < len(t) && (t[end] == '.' || t[end] == ',') && end+1 < len(t) && isDigit(t[end+1]) {
		return skipDigits(t, end+1) // a decimal number
	}
	if n >= 2 && gs[0].e-gs[0].s == 1 && t[gs[0].s] == '0' && (gs[1].sep == "." || gs[1].sep == ",") {
		return end // a decimal fraction ("0.49999999"), not a number with a trunk 0
	}
	c.classify(gs[:n], start)
	return end
}

func skipToken(t string, i int) int {
	for i < len(t) && (isAlnum(t[i]) || t[i] == '_' || t[i] == '-' || t[i] == '.') {
		i++
	}
	return i
}

func skipDigits(t string, i int) int {
	for i < len(t) && (isDigit(t[i]) || t[i] == '.' || t[i] == ',') {
		i++
	}
	return i
}

// classify looks for a card, an SSN or a phone number in the groups of a
// cluster, longest match first from each group on.
func (c *scanCtx) classify(gs []group, clusterStart int) {
	for a := 0; a < len(gs); {
		matched := 0
		for b := len(gs); b > a && matched == 0; b-- {
			nd := 0
			for k := a; k < b; k++ {
				nd += gs[k].e - gs[k].s
			}
			if nd > 19 || nd < 7 {
				continue
			}
			cs := gs[a].s
			if a == 0 {
				cs = clusterStart
			}
			// A phone number is a whole cluster, never carved out of a
			// longer grouped number ("4532 0150 0000 0000").
			whole := a == 0 && b == len(gs)
			// A grouped card number is a whole cluster too; an ungrouped
			// one may sit inside it.
			cardOK := whole || b-a == 1
			if cardOK && c.card(gs[a:b], nd) || c.ssn(gs[a:b], nd) || whole && c.phone(gs[a:b], nd, cs) {
				matched = b - a
			}
		}
		if matched == 0 {
			a++
		} else {
			a += matched
		}
	}
}

func digitsOf(t string, gs []group, buf []byte) []byte {
	for _, g := range gs {
		buf = append(buf, t[g.s:g.e]...)
	}
	return buf
}

// uniformSep reports whether all groups after the first are separated by
// the same single byte from the set seps.
func uniformSep(gs []group, seps string) bool {
	if len(gs) == 1 {
		return true
	}
	s := gs[1].sep
	if len(s) != 1 || !strings.Contains(seps, s) {
		return false
	}
	for _, g := range gs[2:] {
		if g.sep != s {
			return false
		}
	}
	return true
}

func sequential(d []byte) bool {
	up, down := true, true
	for i := 1; i < len(d); i++ {
		if (d[i-1]-'0'+1)%10 != d[i]-'0' {
			up = false
		}
		if (d[i]-'0'+1)%10 != d[i-1]-'0' {
			down = false
		}
	}
	return up || down
}

// isScaleSuffix reports image scale suffixes such as "2x" or "1.5x".
func isScaleSuffix(s string) bool {
	if len(s) < 2 || s[len(s)-1] != 'x' && s[len(s)-1] != 'X' {
		return false
	}
	for i := 0; i < len(s)-1; i++ {
		if !isDigit(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}
