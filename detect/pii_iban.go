package detect

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
