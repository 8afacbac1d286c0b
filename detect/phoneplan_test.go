package detect

import (
	"math/rand/v2"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// libraryValid is the reference: the library's Parse then IsValidNumber.
func libraryValid(d, region, prefix string) bool {
	if region == "" {
		region = "ZZ"
	}
	n, err := phonenumbers.Parse(prefix+d, region)
	return err == nil && phonenumbers.IsValidNumber(n)
}

// planCases are digit strings shaped like the candidates the recogniser
// validates: national numbers with a trunk 0 in each region it tries,
// numbers after "+" or an international call prefix, and Brazilian
// numbers with the area code in parentheses.
func planCases(r *rand.Rand, n int) (cases [][3]string) {
	digits := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	regions := append(nationalRegions[:], "US", "IT", "NL", "ES", "JE", "CC")
	for range n {
		reg := regions[r.IntN(len(regions))]
		cases = append(cases,
			[3]string{"0" + digits(8+r.IntN(4)), reg, ""},
			[3]string{digits(7 + r.IntN(9)), "", "+"},
			[3]string{digits(9 + r.IntN(4)), reg, ""},
		)
	}
	// Valid numbers of every region, national and international.
	for _, reg := range regions {
		for _, t := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE} {
			ex := phonenumbers.GetExampleNumberForType(reg, t)
			if ex == nil {
				continue
			}
			nat := phonenumbers.Format(ex, phonenumbers.NATIONAL)
			e164 := phonenumbers.Format(ex, phonenumbers.E164)
			cases = append(cases, [3]string{onlyDigits(nat), reg, ""}, [3]string{e164[1:], "", "+"})
		}
	}
	return cases
}

func onlyDigits(s string) string {
	b := []byte{}
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// The plans must give the library's verdict on every number.
func TestPlanMatchesLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 7))
	valid, fast := 0, 0
	cases := planCases(r, 4000)
	for _, c := range cases {
		want := libraryValid(c[0], c[1], c[2])
		if got := validByPlan([]byte(c[0]), c[1], c[2]); got != want {
			t.Errorf("validByPlan(%q, %q, %q) = %v, library says %v", c[0], c[1], c[2], got, want)
		}
		if want {
			valid++
		}
		var ok bool
		if c[2] == "+" {
			_, ok = planValidIntl([]byte(c[0]))
		} else {
			_, ok = planValidNational([]byte(c[0]), c[1])
		}
		if ok {
			fast++
		}
	}
	// Both verdicts must be well represented, and most numbers must not
	// need Parse, or the comparison proves little.
	if valid < len(cases)/20 || valid > len(cases)*19/20 || fast < len(cases)*9/10 {
		t.Fatalf("%d cases: %d valid, %d checked without Parse", len(cases), valid, fast)
	}
	t.Logf("%d cases: %d valid, %d checked without Parse", len(cases), valid, fast)
}

func FuzzPlanValid(f *testing.F) {
	for _, s := range []string{"01712345678", "0309012345", "447911123456", "4989123456", "0142685300", "11987654321"} {
		f.Add(s, uint8(0))
	}
	regions := append(nationalRegions[:], "")
	f.Fuzz(func(t *testing.T, d string, ri uint8) {
		d = onlyDigits(d)
		if len(d) == 0 || len(d) > 20 {
			return
		}
		reg := regions[int(ri)%len(regions)]
		prefix := ""
		if reg == "" {
			prefix = "+"
		}
		if got, want := validByPlan([]byte(d), reg, prefix), libraryValid(d, reg, prefix); got != want {
			t.Fatalf("validByPlan(%q, %q, %q) = %v, library says %v", d, reg, prefix, got, want)
		}
	})
}
