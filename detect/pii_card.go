package detect

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
