package detect

import (
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// Phone validation with the numbering plans of libphonenumber
// (github.com/nyaruka/phonenumbers), compiled once per calling code
// (phoneplan.go): about 2 µs and at most one allocation per number, where
// Parse cost about 10 µs and 30 to 40 allocations. A scan validates at most
// maxPhoneChecks candidates; beyond that the cheaper shape rules decide
// alone. Verdicts are remembered across scans (phoneVerdicts): an agent's
// conversation repeats its history on every call, so the same numbers
// come back.

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
	// A verdict remembered from an earlier scan still counts against the
	// budget, so that what a scan reports never depends on the scans
	// before it.
	if c.sc.phoneChecks >= maxPhoneChecks {
		return phoneUnchecked
	}
	c.sc.phoneChecks++
	v, ok := recalledPhone(key)
	if !ok {
		v = phoneInvalid
		if validByPlan(append(c.sc.phoneDigits[:0], d...), region, prefix) {
			v = phoneValid
		}
		rememberPhone(key, v)
	}
	if c.sc.phoneN < len(c.sc.phoneSeen) {
		c.sc.phoneSeen[c.sc.phoneN] = phoneMemo{key, v}
		c.sc.phoneN++
	}
	return v
}

// validByPlan checks d with the numbering plans read from the library's
// metadata, and with Parse and IsValidNumber where those take a branch the
// plans do not reproduce.
func validByPlan(d []byte, region, prefix string) bool {
	var valid, ok bool
	switch {
	case prefix == "+" && region == "":
		valid, ok = planValidIntl(d)
	case prefix == "" && region != "":
		valid, ok = planValidNational(d, region)
	}
	if ok {
		return valid
	}
	if region == "" {
		region = "ZZ"
	}
	n, err := phonenumbers.Parse(prefix+string(d), region)
	return err == nil && phonenumbers.IsValidNumber(n)
}

// phoneMemo remembers a validation within one scan.
type phoneMemo struct {
	key uint64
	v   phoneVerdict
}

// phoneKey hashes the digits and the region (FNV-1a).
func phoneKey(d []byte, region string) uint64 {
	h := uint64(14695981039346656037)
	for _, ch := range d {
		h = (h ^ uint64(ch)) * 1099511628211
	}
	for i := 0; i < len(region); i++ {
		h = (h ^ uint64(region[i])) * 1099511628211
	}
	return h
}

// phoneVerdicts is a two-way set-associative table of numbering-plan
// verdicts shared by all scanners: each slot holds a key's upper bits and
// its verdict in the two lowest bits (0: empty). A verdict is a pure
// function of the digits and the region, so a lost race or an evicted slot
// only costs a second validation.
var phoneVerdicts [1 << 12]atomic.Uint64

func recalledPhone(key uint64) (phoneVerdict, bool) {
	i := key >> 52 &^ 1
	for _, e := range [2]uint64{phoneVerdicts[i].Load(), phoneVerdicts[i+1].Load()} {
		if e&3 != 0 && e&^3 == key&^3 {
			return phoneVerdict(e & 3), true
		}
	}
	return 0, false
}

// rememberPhone fills the empty slot of the key's set, or the one the
// key's bit 2 picks.
func rememberPhone(key uint64, v phoneVerdict) {
	i := key >> 52 &^ 1
	if phoneVerdicts[i].Load() != 0 {
		i++
		if phoneVerdicts[i].Load() != 0 {
			i = i&^1 | key>>2&1
		}
	}
	phoneVerdicts[i].Store(key&^3 | uint64(v))
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
