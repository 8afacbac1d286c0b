package detect

import (
	"net/netip"
	"strconv"
	"strings"
)

var versionWords = newWordList("version", "ver.", "ver ", "v.", "release", "build", "firmware", "sdk", "python", "node",
	"go ", "java", "chrome", "firefox", "ios ", "android", "macos", "windows", "kernel", "npm", "pip", "package",
	"upgrade", "update", "patch", "oid", "section", "chapter", "figure", "table", "step")
var ipWords = newWordList("ip", "address", "host", "server", "client", "from", "connect", "login", "logged", "source",
	"remote", "origin", "x-forwarded", "ssh", "ping")

// ipv4 reports a dotted quad starting at i and returns its end (i if none).
func (c *scanCtx) ipv4(i int) int {
	t := c.t
	p := i
	var oct [4]int
	for k := 0; k < 4; k++ {
		if k > 0 {
			if p >= len(t) || t[p] != '.' {
				return i
			}
			p++
		}
		q := p
		for q < len(t) && isDigit(t[q]) && q-p < 4 {
			q++
		}
		if q == p || q-p > 3 || t[p] == '0' && q-p > 1 {
			return i
		}
		oct[k], _ = strconv.Atoi(t[p:q])
		if oct[k] > 255 {
			return i
		}
		p = q
	}
	if p < len(t) && (isAlnum(t[p]) || t[p] == '.' && p+1 < len(t) && isDigit(t[p+1]) || t[p] == '-' && p+1 < len(t) && isAlnum(t[p+1])) {
		return skipToken(t, p)
	}
	if i > 0 && (t[i-1] == 'v' || t[i-1] == 'V' || t[i-1] == '-' || t[i-1] == '@') {
		return p
	}
	a, b := oct[0], oct[1]
	conf := float32(0.75)
	switch {
	case a == 10, a == 127, a == 0, a == 172 && b >= 16 && b <= 31, a == 192 && b == 168, a == 169 && b == 254,
		a == 100 && b >= 64 && b <= 127, a >= 224, oct == [4]int{255, 255, 255, 0}:
		conf = 0.3 // private, loopback, link-local, CGNAT, multicast, netmask: not a person's address
	case a == 192 && b == 0 && oct[2] == 2, a == 198 && b == 51 && oct[2] == 100, a == 203 && b == 0 && oct[2] == 113,
		a == 198 && (b == 18 || b == 19):
		conf = 0.2 // RFC 5737 documentation and RFC 2544 benchmark ranges
	}
	if conf > 0.5 {
		if c.context(i, p, 32, 24, versionWords) {
			conf -= 0.4
		} else if c.context(i, p, 32, 0, ipWords) {
			conf += 0.1
		}
	}
	c.emit(CategoryPII, ruleIP, SeverityLow, conf, i, p, strconv.Itoa(a)+".*.*.*")
	return p
}

func isHex(b byte) bool { return isDigit(b) || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' }

func (c *scanCtx) ipv6() {
	t := c.t
	for i := strings.IndexByte(t, ':'); i >= 0 && i < len(t); {
		s := i
		for s > 0 && (isHex(t[s-1]) || t[s-1] == ':') {
			s--
		}
		e := i
		for e < len(t) && (isHex(t[e]) || t[e] == ':' || t[e] == '.' && e+1 < len(t) && isDigit(t[e+1])) {
			e++
		}
		next := e + 1
		if s > 0 && (isAlnum(t[s-1]) || t[s-1] == '_') || e < len(t) && (isAlnum(t[e]) || t[e] == '_') {
			e = skipToken(t, e)
			next = e + 1
		} else if strings.Count(t[s:e], ":") >= 2 {
			c.ipv6At(s, e)
		}
		if next >= len(t) {
			break
		}
		j := strings.IndexByte(t[next:], ':')
		if j < 0 {
			break
		}
		i = next + j
	}
}

func (c *scanCtx) ipv6At(s, e int) {
	v := c.c6trim(s, e)
	if v == "" {
		return
	}
	// The shape of an address, checked before the parser (whose errors
	// allocate): groups of at most four hex digits, eight of them unless
	// "::" stands for some, the last may be a dotted IPv4 address.
	groups, parts, digits, dotted := 0, 0, false, false
	for p := 0; p <= len(v); {
		q := p + strings.IndexByte(v[p:], ':')
		if q < p {
			q = len(v)
		}
		g := v[p:q]
		parts++
		if g != "" {
			groups++
		}
		if strings.IndexByte(g, '.') >= 0 {
			dotted = q == len(v)
		} else if len(g) > 4 {
			return
		}
		for k := 0; k < len(g) && !digits; k++ {
			digits = isDigit(g[k])
		}
		p = q + 1
	}
	if groups < 3 || !digits || parts > 9 || !strings.Contains(v, "::") && parts != 8 && !(dotted && parts == 7) {
		return
	}
	addr, err := netip.ParseAddr(v)
	if err != nil || !addr.Is6() {
		return
	}
	conf := float32(0.8)
	doc := netip.MustParsePrefix("2001:db8::/32")
	switch {
	case addr.IsLoopback(), addr.IsPrivate(), addr.IsLinkLocalUnicast(), addr.IsMulticast(), addr.IsUnspecified():
		conf = 0.3
	case doc.Contains(addr):
		conf = 0.2
	}
	if conf > 0.5 && c.context(s, s+len(v), 32, 0, ipWords) {
		conf += 0.1
	}
	c.emit(CategoryPII, ruleIP, SeverityLow, conf, s, s+len(v), v[:strings.IndexByte(v, ':')]+":****")
}

func (c *scanCtx) c6trim(s, e int) string {
	v := c.t[s:e]
	for len(v) > 0 && v[len(v)-1] == ':' && !strings.HasSuffix(v, "::") {
		v = v[:len(v)-1]
	}
	return v
}
