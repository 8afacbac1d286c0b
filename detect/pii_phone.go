package detect

import "strings"

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
