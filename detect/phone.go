package detect

import "github.com/nyaruka/phonenumbers"

// Phone validation with the numbering plans of libphonenumber
// (github.com/nyaruka/phonenumbers). Parsing costs about 20 µs and 70
// allocations per call, so a scan validates at most maxPhoneChecks
// candidates; beyond that the cheaper shape rules decide alone.

const maxPhoneChecks = 12

type phoneVerdict uint8

const (
	phoneUnchecked phoneVerdict = iota // the budget is spent
	phoneInvalid
	phoneWeak  // valid only in a permissive plan (DE accepts most digit runs)
	phoneValid // valid in a strict plan
)

// nationalRegions are tried, in order, for numbers written with a trunk
// prefix; DE last because its plan accepts most digit runs.
var nationalRegions = [...]string{"GB", "FR", "AU", "IL", "IN", "BR", "DE"}

// validPhone parses digits (with prefix, e.g. "+") in region and reports
// whether the number is valid.
func (c *scanCtx) validPhone(d []byte, region, prefix string) phoneVerdict {
	// The same number repeated in a text is validated once.
	key := phoneKey(d, region)
	for i := range c.sc.phoneSeen[:c.sc.phoneN] {
		if c.sc.phoneSeen[i].key == key {
			return c.sc.phoneSeen[i].v
		}
	}
	if c.sc.phoneChecks >= maxPhoneChecks {
		return phoneUnchecked
	}
	c.sc.phoneChecks++
	if region == "" {
		region = "ZZ"
	}
	v := phoneValid
	n, err := phonenumbers.Parse(prefix+string(d), region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		v = phoneInvalid
	}
	if c.sc.phoneN < len(c.sc.phoneSeen) {
		c.sc.phoneSeen[c.sc.phoneN] = phoneMemo{key, v}
		c.sc.phoneN++
	}
	return v
}

// phoneMemo remembers a validation within one scan.
type phoneMemo struct {
	key uint64
	v   phoneVerdict
}

// phoneKey packs up to 17 digits and the region into a number.
func phoneKey(d []byte, region string) uint64 {
	k := uint64(len(d))
	for _, ch := range d {
		k = k*10 + uint64(ch-'0')
	}
	if region != "" {
		k = k*677 + uint64(region[0])*26 + uint64(region[1])
	}
	return k
}

// validNational tries the national plans whose shape fits d (a number
// with its trunk 0).
func (c *scanCtx) validNational(d []byte) phoneVerdict {
	for _, r := range nationalRegions {
		if !nationalShape(r, d) {
			continue
		}
		switch c.validPhone(d, r, "") {
		case phoneValid:
			if r == "DE" {
				return phoneWeak
			}
			return phoneValid
		case phoneUnchecked:
			return phoneUnchecked
		}
	}
	return phoneInvalid
}

// nationalShape is a cheap length and prefix filter per region, so that a
// candidate is parsed only where it can be valid.
func nationalShape(region string, d []byte) bool {
	n := len(d)
	switch region {
	case "GB":
		return (n == 10 || n == 11) && (d[1] == '1' || d[1] == '2' || d[1] == '3' || d[1] == '7' || d[1] == '8')
	case "FR":
		return n == 10 && d[1] >= '1' && d[1] <= '9'
	case "AU":
		return n == 10 && (d[1] == '2' || d[1] == '3' || d[1] == '4' || d[1] == '7' || d[1] == '8')
	case "IL":
		return (n == 9 || n == 10) && d[1] >= '2'
	case "IN":
		return n == 11 && d[1] != '0'
	case "BR":
		return (n == 11 || n == 12) && d[1] != '0'
	case "DE":
		return n >= 9 && n <= 12 && d[1] != '0'
	}
	return false
}
