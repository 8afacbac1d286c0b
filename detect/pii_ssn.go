package detect

import "strconv"

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
