package detect

import (
	"net/netip"
	"strconv"
	"strings"
)

// PII rule ids.
const (
	ruleEmail  = "pii.email"
	rulePhone  = "pii.phone"
	ruleCard   = "pii.credit_card"
	ruleIBAN   = "pii.iban"
	ruleSSN    = "pii.us_ssn"
	ruleIP     = "pii.ip_address"
	ruleWallet = "pii.crypto_wallet"
)

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isAlpha(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
func isAlnum(b byte) bool { return isDigit(b) || isAlpha(b) }
func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

// pii runs the PII recognisers over c.t.
func (c *scanCtx) pii() {
	t := c.t
	// E-mail: anchored on '@'.
	for i := strings.IndexByte(t, '@'); i >= 0; {
		end := c.email(i)
		if end <= i {
			end = i + 1
		}
		j := strings.IndexByte(t[end:], '@')
		if j < 0 {
			break
		}
		i = end + j
	}
	// Digits: cards, SSNs, phones, IPv4, IBAN, base58 wallets.
	for i := 0; i < len(t); {
		if !isDigit(t[i]) {
			i++
			continue
		}
		i = c.digits(i)
	}
	// IPv6: anchored on "::" or hex groups around ':'.
	c.ipv6()
	// Bech32 and Ethereum wallets via keywords.
	rt := rules()
	for _, h := range c.hits {
		switch h.id {
		case rt.bech32KW[0]:
			c.bech32(int(h.end) - 3)
		case rt.ethKW[0]:
			c.eth(int(h.end) - 2)
		}
	}
}

// context reports whether any of words occurs (case-insensitively) within
// before bytes before s or after bytes after e.
func (c *scanCtx) context(s, e, before, after int, words *wordList) bool {
	t := c.t
	ws := max(0, s-before)
	we := min(len(t), e+after)
	return words.in(t[ws:s]) || words.in(t[e:we])
}

// ---- e-mail ----

func isLocalByte(b byte) bool {
	return isAlnum(b) || b == '.' || b == '_' || b == '%' || b == '+' || b == '-'
}

func isDomainByte(b byte) bool { return isAlnum(b) || b == '.' || b == '-' }

var fileExtTLDs = map[string]bool{"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true,
	"js": true, "ts": true, "css": true, "json": true, "html": true, "md": true, "txt": true, "py": true, "go": true,
	"rs": true, "java": true, "zip": true, "gz": true, "tar": true, "pdf": true, "yaml": true, "yml": true,
	"xml": true, "lock": true, "sh": true, "tsx": true, "jsx": true, "vue": true, "rb": true, "php": true, "ico": true,
	"mjs": true, "cjs": true, "map": true, "wasm": true, "bin": true, "exe": true, "dll": true, "so": true,
	"docx": true, "doc": true, "xlsx": true, "xls": true, "pptx": true, "csv": true, "log": true, "bak": true, "tmp": true,
	"jar": true, "war": true, "mp4": true, "mp3": true, "mov": true, "avi": true, "heic": true, "tiff": true, "bmp": true}

var emailWords = newWordList("email", "e-mail", "mail", "contact", "reach")

var exampleDomains = []string{"example.com", "example.org", "example.net", "example.edu", "test.com", "domain.com",
	"email.com", "company.com", "yourdomain.com", "acme.com", "foo.com", "bar.com", "mail.com"}

var roleLocals = map[string]bool{"noreply": true, "no-reply": true, "support": true, "info": true, "sales": true,
	"admin": true, "webmaster": true, "postmaster": true, "help": true, "team": true, "hello": true, "contact": true,
	"security": true, "abuse": true, "billing": true, "privacy": true}

// email checks the address around the '@' at i and returns where it ends.
func (c *scanCtx) email(at int) int {
	t := c.t
	s := at
	for s > 0 && at-s < 64 && isLocalByte(t[s-1]) {
		s--
	}
	for s < at && (t[s] == '.' || t[s] == '-') {
		s++
	}
	e := at + 1
	for e < len(t) && e-at < 255 && isDomainByte(t[e]) {
		e++
	}
	for e > at+1 && (t[e-1] == '.' || t[e-1] == '-') {
		e--
	}
	if s == at || e <= at+3 {
		return e
	}
	local, domain := t[s:at], t[at+1:e]
	if strings.Contains(local, "..") || strings.Contains(domain, "..") || local[len(local)-1] == '.' {
		return e
	}
	if s > 0 && (t[s-1] == ':' || t[s-1] == '/' || t[s-1] == '@') {
		return e // URL credentials or a path, not an address
	}
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 {
		return e
	}
	tld := domain[dot+1:]
	if len(tld) < 2 || len(tld) > 24 {
		return e
	}
	for i := 0; i < len(tld); i++ {
		if !isAlpha(tld[i]) {
			return e
		}
	}
	ltld := lowerString(tld)
	if fileExtTLDs[ltld] {
		return e
	}
	if local == "git" && e < len(t) && t[e] == ':' {
		return e
	}
	if domain[0] == '-' || isScaleSuffix(domain[:strings.IndexByte(domain, '.')]) {
		return e // "logo@2x.png"-style asset names
	}
	conf := float32(0.9)
	ldom := lowerString(domain)
	llocal := lowerString(local)
	switch {
	case ltld == "test" || ltld == "tld" || ltld == "invalid" || ltld == "example" || ltld == "localhost" || ltld == "local":
		conf = 0.2
	case roleLocals[llocal]:
		conf = 0.75
	}
	for _, d := range exampleDomains {
		if ldom == d || strings.HasSuffix(ldom, "."+d) {
			conf = 0.2
		}
	}
	if strings.HasPrefix(ldom, "your") || strings.HasPrefix(ldom, "my-company") || strings.HasPrefix(ldom, "mycompany") {
		conf = 0.2 // "you@yourcompany.com" placeholders
	}
	if conf > 0.5 && c.context(s, e, 40, 0, emailWords) {
		conf += 0.05
	}
	ev := local[:1] + "***@***" + domain[dot:]
	c.emit(CategoryPII, ruleEmail, SeverityLow, conf, s, e, ev)
	return e
}

// ---- digit runs ----

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

var cardWords = newWordList("card", "visa", "mastercard", "amex", "american express", "credit", "debit", "cc ", "cc#",
	"cc:", "payment", "pay with", "cvv", "cvc", "expir", "exp ", "discover", "jcb", "diners", "maestro", "unionpay",
	"pan\"", "pan:", "pan=", "pan ", "charge", "paid with", "billing", "rupay", "hipercard")
var idWords = newWordList("order", "row", "imei", "tracking", "invoice", "ticket", "id:", "id ", "#", "ref", "serial", "sku",
	"isbn", "account no", "transaction", "confirmation", "case", "build", "version", "timestamp", "epoch", "room",
	"coupon", "code", "lot", "part", "pn ", "model", "item", "routing", "session", "nonce", "batch", "trace", "request",
	"rack", "route", "span", "job", "run ")

var testCards = map[string]bool{"4111111111111111": true, "4242424242424242": true, "4000056655665556": true,
	"5555555555554444": true, "5200828282828210": true, "5105105105105100": true, "378282246310005": true,
	"371449635398431": true, "6011111111111117": true, "6011000990139424": true, "3056930009020004": true,
	"36227206271667": true, "3566002020360505": true, "6200000000000005": true, "4012888888881881": true,
	"4222222222222": true, "5500000000000004": true, "340000000000009": true, "30000000000004": true,
	"6011000000000004": true, "4000000000000002": true, "4000000000009995": true, "4000000000000077": true,
	"4000002500003155": true, "2223003122003222": true, "4917610000000000": true, "4000000000000010": true,
	"5454545454545454": true, "4444333322221111": true, "4462030000000000": true, "4917300800000000": true,
	"6759649826438453": true, "4035501000000008": true, "4000000000000341": true, "4012000033330026": true,
	"5424000000000015": true, "4007000000027": true, "4012888818888": true, "3530111333300000": true}

func (c *scanCtx) card(gs []group, nd int) bool {
	if nd < 12 {
		return false
	}
	if !uniformSep(gs, " -") {
		return false
	}
	grouped := len(gs) > 1
	if grouped {
		// Groups of four (the last one shorter), or Amex/Diners 4-6-5 / 4-6-4.
		ok := true
		for k, g := range gs {
			l := g.e - g.s
			if k < len(gs)-1 && l != 4 || k == len(gs)-1 && (l < 1 || l > 4) {
				ok = false
			}
		}
		if !ok && !(len(gs) == 3 && gs[0].e-gs[0].s == 4 && gs[1].e-gs[1].s == 6 && (gs[2].e-gs[2].s == 5 || gs[2].e-gs[2].s == 4)) {
			return false
		}
	}
	var buf [20]byte
	d := digitsOf(c.t, gs, buf[:0])
	if !luhn(d) || d[0] == '0' || d[0] == '7' {
		return false // ISO/IEC 7812: major industry identifier 0 and 7 issue no payment cards
	}
	brand := cardBrand(d)
	s, e := gs[0].s, gs[len(gs)-1].e
	// Confidence comes from the shape and the words around the number;
	// a known issuer range only adds to it. One Luhn-valid number in ten
	// is random, so an ungrouped number of an unknown range needs a card
	// word to be reported.
	var conf float32
	switch {
	case brand != "" && grouped:
		conf = 0.85
	case brand != "":
		conf = 0.75
	case grouped && nd >= 13:
		conf = 0.55
	default:
		conf = 0.3
		brand = "card"
	}
	if nd == 12 && brand == "card" {
		conf -= 0.1
	}
	hasCard := c.context(s, e, 48, 24, cardWords)
	switch {
	case c.context(s, e, 12, 0, idWords) && !c.context(s, e, 12, 0, cardWords):
		conf -= 0.4 // a label right before the number says what it is
	case hasCard:
		conf += 0.25
	case c.context(s, e, 32, 0, idWords):
		conf -= 0.35
	}
	if testCards[string(d)] || distinctDigits(d) <= 4 {
		conf = 0.2 // documented test numbers and placeholders such as 1111 2222 3333 4444
	}
	if c.reports(CategoryPII, conf) {
		c.emit(CategoryPII, ruleCard, SeverityMedium, conf, s, e, c.keepConcat(brand, " ****", string(d[len(d)-4:])))
	}
	return conf >= 0.5 || brand != "card"
}

// iinRange is an issuer identification number range of a card scheme
// (ISO/IEC 7812) and the lengths the scheme issues in it.
type iinRange struct {
	lo, hi         int // prefix range, inclusive, as numbers of the same digit count
	digits         int // prefix length
	minLen, maxLen int
	brand          string
}

// iinRanges lists the schemes in use; the first match wins, so narrower
// ranges come before the wider ones they sit in.
var iinRanges = []iinRange{
	{401178, 401179, 6, 16, 16, "elo"}, {431274, 431274, 6, 16, 16, "elo"}, {438935, 438935, 6, 16, 16, "elo"},
	{451416, 451416, 6, 16, 16, "elo"}, {457393, 457393, 6, 16, 16, "elo"}, {457631, 457632, 6, 16, 16, "elo"},
	{504175, 504175, 6, 16, 16, "elo"}, {506699, 506778, 6, 16, 16, "elo"}, {509000, 509999, 6, 16, 16, "elo"},
	{627780, 627780, 6, 16, 16, "elo"}, {636297, 636297, 6, 16, 16, "elo"}, {636368, 636368, 6, 16, 16, "elo"},
	{650031, 650033, 6, 16, 16, "elo"}, {650035, 650051, 6, 16, 16, "elo"}, {650405, 650439, 6, 16, 16, "elo"},
	{650485, 650538, 6, 16, 16, "elo"}, {650541, 650598, 6, 16, 16, "elo"}, {650700, 650718, 6, 16, 16, "elo"},
	{650720, 650727, 6, 16, 16, "elo"}, {650901, 650978, 6, 16, 16, "elo"}, {651652, 651679, 6, 16, 16, "elo"},
	{655000, 655019, 6, 16, 16, "elo"}, {655021, 655058, 6, 16, 16, "elo"},
	{606282, 606282, 6, 16, 19, "hipercard"}, {384100, 384100, 6, 16, 19, "hipercard"}, {384140, 384140, 6, 16, 19, "hipercard"},
	{384160, 384160, 6, 16, 19, "hipercard"},
	{506099, 506198, 6, 16, 19, "verve"}, {650002, 650027, 6, 16, 19, "verve"},
	{357111, 357111, 6, 16, 16, "lankapay"},
	{622126, 622925, 6, 16, 19, "unionpay"},
	{9792, 9792, 4, 16, 16, "troy"}, {9860, 9860, 4, 16, 16, "humo"}, {8600, 8600, 4, 16, 16, "uzcard"},
	{2200, 2204, 4, 16, 19, "mir"}, {2205, 2205, 4, 16, 16, "borica"},
	{2221, 2720, 4, 16, 16, "mastercard"}, {51, 55, 2, 16, 16, "mastercard"},
	{5019, 5019, 4, 16, 16, "dankort"},
	{5018, 5018, 4, 12, 19, "maestro"}, {5020, 5020, 4, 12, 19, "maestro"}, {5038, 5038, 4, 12, 19, "maestro"},
	{5893, 5893, 4, 12, 19, "maestro"}, {6304, 6304, 4, 12, 19, "maestro"}, {6759, 6759, 4, 12, 19, "maestro"},
	{6761, 6763, 4, 12, 19, "maestro"},
	{34, 34, 2, 15, 15, "amex"}, {37, 37, 2, 15, 15, "amex"},
	{1800, 1800, 4, 15, 15, "jcb"}, {2131, 2131, 4, 15, 15, "jcb"}, {3528, 3589, 4, 16, 19, "jcb"},
	{300, 305, 3, 14, 19, "diners"}, {3095, 3095, 4, 14, 19, "diners"}, {36, 36, 2, 14, 19, "diners"}, {38, 39, 2, 16, 19, "diners"},
	{353, 353, 3, 16, 16, "rupay"}, {356, 356, 3, 16, 16, "rupay"}, {508, 508, 3, 16, 16, "rupay"},
	{6011, 6011, 4, 16, 19, "discover"}, {644, 649, 3, 16, 19, "discover"},
	{652, 653, 3, 16, 16, "rupay"}, {60, 60, 2, 16, 16, "rupay"}, {65, 65, 2, 16, 19, "discover"},
	{62, 62, 2, 16, 19, "unionpay"}, {8100, 8171, 4, 16, 19, "unionpay"}, {81, 82, 2, 16, 16, "rupay"},
	{636, 636, 3, 16, 19, "interpayment"}, {637, 639, 3, 16, 16, "instapayment"},
	{4, 4, 1, 13, 19, "visa"},
	{50, 50, 2, 12, 19, "maestro"}, {56, 58, 2, 12, 19, "maestro"}, {67, 67, 2, 12, 19, "maestro"},
}

func distinctDigits(d []byte) int {
	var seen [10]bool
	n := 0
	for _, ch := range d {
		if !seen[ch-'0'] {
			seen[ch-'0'] = true
			n++
		}
	}
	return n
}

// cardBrand names the scheme whose range and lengths d falls in ("" if none).
func cardBrand(d []byte) string {
	n := len(d)
	for i := range iinRanges {
		r := &iinRanges[i]
		if n < r.minLen || n > r.maxLen || n < r.digits {
			continue
		}
		p := 0
		for _, ch := range d[:r.digits] {
			p = p*10 + int(ch-'0')
		}
		if p >= r.lo && p <= r.hi {
			return r.brand
		}
	}
	return ""
}

func luhn(d []byte) bool {
	sum := 0
	dbl := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
	}
	return sum%10 == 0
}

// ---- US SSN ----

var ssnWords = newWordList("ssn", "social security", "soc sec", "social sec", "ss#", "ss #", "taxpayer", "itin", "tin:",
	"tax form", "w-2", "w2", "1040", "employee record", "payroll", "social")
var fakeSSNs = map[string]bool{"078051120": true, "219099999": true, "123456789": true, "111111111": true,
	"987654320": true, "987654321": true}

func (c *scanCtx) ssn(gs []group, nd int) bool {
	if nd != 9 {
		return false
	}
	var buf [9]byte
	d := digitsOf(c.t, gs, buf[:0])
	s, e := gs[0].s, gs[len(gs)-1].e
	conf := float32(0)
	switch {
	case len(gs) == 3 && gs[0].e-gs[0].s == 3 && gs[1].e-gs[1].s == 2 && uniformSep(gs, "-"):
		// The 3-2-4 shape alone is weak (part numbers, racks, routes use
		// it): without an SSN word it stays below the default threshold.
		conf = 0.45
	case len(gs) == 3 && gs[0].e-gs[0].s == 3 && gs[1].e-gs[1].s == 2 && uniformSep(gs, " ."):
		conf = 0.45
	case len(gs) == 1:
		conf = 0.3
	default:
		return false
	}
	area, _ := strconv.Atoi(string(d[:3]))
	grp, _ := strconv.Atoi(string(d[3:5]))
	serial, _ := strconv.Atoi(string(d[5:]))
	if area == 0 || area == 666 || area >= 900 || grp == 0 || serial == 0 {
		return false
	}
	if c.context(s, e, 40, 48, ssnWords) {
		conf += 0.4
	} else if c.context(s, e, 32, 0, idWords) || c.context(s, e, 24, 0, phoneWords) {
		conf -= 0.3
	}
	if fakeSSNs[string(d)] {
		conf = 0.2
	}
	if conf <= 0.3 && len(gs) == 1 {
		return false // leave plain 9-digit numbers to the phone recogniser
	}
	if c.reports(CategoryPII, conf) {
		c.emit(CategoryPII, ruleSSN, SeverityMedium, conf, s, e, c.keepConcat("***-**-", string(d[5:])))
	}
	return true
}

// ---- phone numbers ----

var phoneWords = newWordList("phone", "tel", "call", "mobile", "cell", "whatsapp", "sms", "text me", "fax", "contact",
	"reach me", "reach", "number", "ring", "dial", "telefon", "tél", "landline", "hotline")

// strongPhoneWords are enough to call a bare run of digits a phone number.
var strongPhoneWords = newWordList("phone", "tel", "call", "mobile", "cell", "whatsapp", "sms", "text me", "fax",
	"telefon", "landline", "hotline")

// countryCodes are the assigned ITU-T E.164 country calling codes.
var countryCodes = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58
60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 211 212 213 216 218 220 221 222 223 224 225 226 227 228 229
230 231 232 233 234 235 236 237 238 239 240 241 242 243 244 245 246 248 249 250 251 252 253 254 255 256 257 258 260
261 262 263 264 265 266 267 268 269 290 291 297 298 299 350 351 352 353 354 355 356 357 358 359 370 371 372 373 374
375 376 377 378 380 381 382 383 385 386 387 389 420 421 423 500 501 502 503 504 505 506 507 508 509 590 591 592 593
594 595 596 597 598 599 670 672 673 674 675 676 677 678 679 680 681 682 683 685 686 687 688 689 690 691 692 850 852
853 855 856 880 886 960 961 962 963 964 965 966 967 968 970 971 972 973 974 975 976 977 992 993 994 995 996 998`) {
		m[c] = true
	}
	return m
}()

func (c *scanCtx) phone(gs []group, nd int, cs int) bool {
	t := c.t
	s, e := gs[0].s, gs[len(gs)-1].e
	plus := cs < s && t[cs] == '+'
	paren := cs < s && t[cs] == '('
	var buf [20]byte
	d := digitsOf(t, gs, buf[:0])
	// The words around the number are read only for a candidate that
	// passes the shape checks below (most digit runs do not).
	ctx, ctxRead := false, false
	phoneCtx := func() bool {
		if !ctxRead {
			ctxRead = true
			if len(gs) == 1 {
				ctx = c.context(cs, e, 40, 0, strongPhoneWords) && !sequential(d)
			} else {
				ctx = c.context(cs, e, 40, 0, phoneWords)
			}
		}
		return ctx
	}
	conf := float32(0)
	idp := intlPrefix(gs, d)
	switch {
	case plus:
		if nd < 7 || nd > 15 {
			return false
		}
		if d[0] == '1' {
			if nd != 11 || d[1] < '2' || d[4] < '2' {
				return false // NANP: +1 NXX NXX XXXX
			}
		} else if v := c.validPhone(d, "", "+"); v == phoneInvalid || v == phoneUnchecked && !countryCodes[string(d[:1])] && !countryCodes[string(d[:2])] && !countryCodes[string(d[:3])] {
			return false
		}
		conf = 0.85
		s = cs
	case idp > 0 && c.validPhone(d[idp:], "", "+") == phoneValid:
		// An international call prefix (00, 011, 0011) then a number that
		// is valid in its country.
		conf = 0.8
	case isNANP(gs, d, paren):
		conf = 0.7
		if paren {
			s = cs
		}
	case d[0] == '0' && nd >= 9 && nd <= 12 && (len(gs) >= 2 || phoneCtx()):
		// National format with a trunk prefix: valid in one of the
		// numbering plans of the regions we check, and spoken of as a
		// phone number unless the plan is strict and the grouping is a
		// phone's.
		switch c.validNational(d) {
		case phoneValid:
			conf = 0.35
			if len(gs) >= 2 && phoneGrouping(gs) {
				conf = 0.5
			}
		case phoneWeak:
			conf = 0.35
		default:
			return false
		}
		if paren {
			s = cs
		}
	case paren && d[0] != '0' && (nd == 10 || nd == 11) && gs[0].e-gs[0].s == 2 && c.validPhone(d, "BR", "") == phoneValid:
		conf = 0.5 // (DD) NNNNN-NNNN: a Brazilian area code in parentheses
		s = cs
	case len(gs) == 1 && (nd == 10 || nd == 11 && d[0] == '1'):
		conf = 0.3
	default:
		return false
	}
	if nanpFiction(d) {
		conf = 0.2 // 555-0100…0199 is reserved for fiction
	}
	if conf >= 0.3 {
		if phoneCtx() {
			conf += 0.25
		} else if c.context(cs, e, 32, 0, idWords) {
			conf -= 0.3
		}
	}
	if codeBefore(t, cs) {
		conf -= 0.2 // the tail of a tracking or serial code ("1Z 4E7 9W1 03 9421 8836")
	}
	if conf < 0.3 && len(gs) == 1 {
		return false
	}
	if c.reports(CategoryPII, conf) {
		c.emit(CategoryPII, rulePhone, SeverityLow, conf, s, e, c.mask(d, 2))
	}
	return true
}

// codeBefore reports a word mixing letters and digits right before s,
// separated by one space.
func codeBefore(t string, s int) bool {
	if s < 2 || t[s-1] != ' ' || !isAlnum(t[s-2]) {
		return false
	}
	letters, digits := false, false
	for i := s - 2; i >= 0 && isAlnum(t[i]); i-- {
		if isDigit(t[i]) {
			digits = true
		} else {
			letters = true
		}
	}
	return letters && digits
}

// nanpFiction reports a North American number in 555-0100…0199.
func nanpFiction(d []byte) bool {
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	return len(d) == 10 && string(d[3:6]) == "555" && d[6] == '0' && d[7] == '1'
}

// intlPrefix returns the length of an international call prefix that opens
// the cluster as its own group ("00 44 …", "0044 …", "011 44 …", "0011 61 …"),
// or 0.
func intlPrefix(gs []group, d []byte) int {
	if len(gs) < 2 || len(d) < 10 || d[0] != '0' {
		return 0
	}
	g0 := gs[0].e - gs[0].s
	switch {
	case g0 >= 4 && string(d[:4]) == "0011":
		return 4
	case g0 >= 3 && string(d[:3]) == "011":
		return 3
	case g0 >= 2 && d[1] == '0' && d[2] != '0':
		return 2
	}
	return 0
}

// phoneGrouping reports the spacing people give phone numbers: two to six
// groups, none longer than five digits except a last one of up to eight.
func phoneGrouping(gs []group) bool {
	if len(gs) < 2 || len(gs) > 6 {
		return false
	}
	for i, g := range gs {
		if l := g.e - g.s; l > 5 && !(i == len(gs)-1 && l <= 8) {
			return false
		}
	}
	return true
}

func isNANP(gs []group, d []byte, paren bool) bool {
	if len(d) == 11 {
		if d[0] != '1' || len(gs) != 4 {
			return false
		}
		gs = gs[1:]
		d = d[1:]
	}
	if len(d) != 10 || d[0] < '2' || d[3] < '2' {
		return false
	}
	if len(gs) == 1 {
		return false
	}
	if len(gs) != 3 || gs[0].e-gs[0].s != 3 || gs[1].e-gs[1].s != 3 || gs[2].e-gs[2].s != 4 {
		return false
	}
	if paren || gs[1].sep == ") " || gs[1].sep == ")" || gs[1].sep == ") -" {
		return gs[2].sep == "-" || gs[2].sep == " " || gs[2].sep == "."
	}
	return gs[1].sep == gs[2].sep && (gs[1].sep == "-" || gs[1].sep == "." || gs[1].sep == " ")
}

// ---- IPv4 ----

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

// ---- IPv6 ----

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

// ---- IBAN ----

// ibanLengths are the IBAN lengths per country (SWIFT IBAN registry).
var ibanLengths = map[string]int{"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
	"EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
	"LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27,
	"MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	"SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
	"TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20}

var exampleIBANs = map[string]bool{"DE89370400440532013000": true, "GB82WEST12345698765432": true,
	"GB29NWBK60161331926819": true, "FR1420041010050500013M02606": true, "NL91ABNA0417164300": true,
	"CH9300762011623852957": true, "ES9121000418450200051332": true, "IT60X0542811101000000123456": true,
	"BE68539007547034": true, "AT611904300234573201": true, "GB33BUKB20201555555555": true}

// iban checks an IBAN starting at s (two capitals, two digits, BBAN in
// optional groups of four) and returns its end (s if none).
func (c *scanCtx) iban(s int) int {
	t := c.t
	cc := t[s : s+2]
	want, ok := ibanLengths[cc]
	if !ok {
		return s
	}
	var buf [40]byte
	b := buf[:0]
	p := s
	end := s
	for p < len(t) && len(b) < want {
		ch := t[p]
		switch {
		case isDigit(ch) || isUpper(ch):
			b = append(b, ch)
			p++
			end = p
		case ch == ' ' && len(b)%4 == 0 && p+1 < len(t) && isAlnum(t[p+1]):
			p++
		default:
			p = len(t)
		}
	}
	if len(b) != want || end < len(t) && isAlnum(t[end]) {
		return s
	}
	for _, ch := range b[2:4] {
		if !isDigit(ch) {
			return s
		}
	}
	if !mod97(b) {
		return s
	}
	conf := float32(0.9)
	if exampleIBANs[string(b)] {
		conf = 0.2
	}
	c.emit(CategoryPII, ruleIBAN, SeverityMedium, conf, s, end, cc+"**…"+string(b[len(b)-4:]))
	return end
}

func mod97(b []byte) bool {
	r := 0
	add := func(ch byte) {
		if isDigit(ch) {
			r = (r*10 + int(ch-'0')) % 97
		} else {
			v := int(ch-'A') + 10
			r = (r*100 + v) % 97
		}
	}
	for _, ch := range b[4:] {
		add(ch)
	}
	for _, ch := range b[:4] {
		add(ch)
	}
	return r == 1
}

// sequential reports runs such as 1234567890 or 9876543210.
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
