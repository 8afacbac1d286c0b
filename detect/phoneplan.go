package detect

import (
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// A numbering-plan check without phonenumbers.Parse, whose string
// building costs 30 to 40 allocations per number. The regions' metadata is
// read once per country calling code into compiled patterns, and a number
// is checked the way Parse then IsValidNumber would check it: the national
// prefix stripped under the same conditions, the region picked from the
// calling code's regions, then the number-type patterns. Inputs whose
// parse takes a branch not reproduced here (an international call prefix
// or the country code written without "+", a national prefix transform, a
// non-geographic calling code) return ok=false and go to Parse.
// TestPlanMatchesLibrary and FuzzPlanValid compare the two.

// planDesc is one number description: a pattern and its possible lengths.
type planDesc struct {
	re      *regexp.Regexp
	anyLen  bool   // no possible lengths listed: the general ones apply
	lengths uint32 // bit n: length n is possible
}

func (p *planDesc) matches(nsn []byte) bool {
	if p.re == nil {
		return false
	}
	if !p.anyLen && (len(nsn) > 31 || p.lengths&(1<<len(nsn)) == 0) {
		return false
	}
	return p.re.Match(nsn)
}

// regionPlan is what validity needs of one region's metadata.
type regionPlan struct {
	idd, ccPrefix, natPrefix *regexp.Regexp // anchored at the start
	cc                       string
	transform                bool
	general                  planDesc
	possible, localOnly      []int32 // the general description's lengths, as listed
	types                    []planDesc
	leading                  *regexp.Regexp // nil: the region is picked by validity
}

// ccPlan holds the regions of one calling code, the main one first; nil
// regions means the code has no geographic plan.
type ccPlan struct {
	names   []string
	regions []*regionPlan
}

var (
	ccPlans      [1000]atomic.Pointer[ccPlan]
	ccPlansMu    sync.Mutex
	regionByID   map[string]*phonenumbers.PhoneMetadata
	regionByIDMu sync.Once
)

func descOf(d *phonenumbers.PhoneNumberDesc) planDesc {
	if d.GetNationalNumberPattern() == "" {
		return planDesc{}
	}
	p := planDesc{re: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$"), anyLen: len(d.PossibleLength) == 0}
	for _, l := range d.PossibleLength {
		if l > 0 && l < 32 {
			p.lengths |= 1 << l
		}
	}
	return p
}

func prefixRe(p string) *regexp.Regexp {
	if p == "" {
		return nil
	}
	return regexp.MustCompile("^(?:" + p + ")")
}

func newRegionPlan(m *phonenumbers.PhoneMetadata) *regionPlan {
	p := &regionPlan{
		idd:       prefixRe(m.GetInternationalPrefix()),
		cc:        strconv.Itoa(int(m.GetCountryCode())),
		natPrefix: prefixRe(m.GetNationalPrefixForParsing()),
		transform: m.GetNationalPrefixTransformRule() != "",
		general:   descOf(m.GetGeneralDesc()),
		possible:  m.GetGeneralDesc().PossibleLength,
		localOnly: m.GetGeneralDesc().PossibleLengthLocalOnly,
		leading:   prefixRe(m.GetLeadingDigits()),
	}
	p.ccPrefix = regexp.MustCompile("^" + p.cc)
	// The order of getNumberTypeHelper does not matter for validity: any
	// match makes the number valid, except that mobile counts only when
	// its pattern differs from the fixed-line one.
	for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(), m.GetVoip(),
		m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail(), m.GetFixedLine()} {
		if pd := descOf(d); pd.re != nil {
			p.types = append(p.types, pd)
		}
	}
	if !m.GetSameMobileAndFixedLinePattern() {
		if pd := descOf(m.GetMobile()); pd.re != nil {
			p.types = append(p.types, pd)
		}
	}
	return p
}

// plansFor returns the plan of a calling code, reading its regions'
// metadata on first use.
func plansFor(cc int) *ccPlan {
	if cc <= 0 || cc >= len(ccPlans) {
		return nil
	}
	if p := ccPlans[cc].Load(); p != nil {
		return p
	}
	regionByIDMu.Do(func() {
		regionByID = map[string]*phonenumbers.PhoneMetadata{}
		if coll, err := phonenumbers.MetadataCollection(); err == nil {
			for _, m := range coll.GetMetadata() {
				regionByID[m.GetId()] = m
			}
		}
	})
	ccPlansMu.Lock()
	defer ccPlansMu.Unlock()
	if p := ccPlans[cc].Load(); p != nil {
		return p
	}
	p := &ccPlan{}
	for _, r := range phonenumbers.GetRegionCodesForCountryCode(cc) {
		m := regionByID[r]
		if m == nil || r == "001" {
			p.regions = nil
			break
		}
		p.names = append(p.names, r)
		p.regions = append(p.regions, newRegionPlan(m))
	}
	ccPlans[cc].Store(p)
	return p
}

// planValidNational reports whether d, written without "+" in region, is
// a valid number; ok is false when Parse would take a branch this does not
// reproduce.
func planValidNational(d []byte, region string) (valid, ok bool) {
	cc := phonenumbers.GetCountryCodeForRegion(region)
	cp := plansFor(cc)
	if cp == nil || len(cp.regions) == 0 {
		return false, false
	}
	var rp *regionPlan
	for i, r := range cp.names {
		if r == region {
			rp = cp.regions[i]
		}
	}
	if rp == nil {
		return false, false
	}
	if rp.idd != nil && rp.idd.Match(d) || rp.ccPrefix.Match(d) {
		return false, false
	}
	return cp.valid(rp, d)
}

// planValidIntl is planValidNational for a number written with "+".
func planValidIntl(d []byte) (valid, ok bool) {
	if len(d) <= 2 || d[0] == '0' {
		return false, true // too short after "+", or no calling code
	}
	cc := 0
	for i := 1; i <= 3 && i <= len(d); i++ {
		cc = cc*10 + int(d[i-1]-'0')
		if len(phonenumbers.GetRegionCodesForCountryCode(cc)) == 0 {
			continue
		}
		cp := plansFor(cc)
		if cp == nil || len(cp.regions) == 0 {
			return false, false
		}
		return cp.valid(cp.regions[0], d[i:])
	}
	return false, true // no calling code
}

// valid strips the national prefix of rp from n as Parse does, then picks
// the region and checks the number types as IsValidNumber does.
func (cp *ccPlan) valid(rp *regionPlan, n []byte) (valid, ok bool) {
	if len(n) < 2 {
		return false, false
	}
	nsn := n
	if rp.natPrefix != nil {
		if loc := rp.natPrefix.FindSubmatchIndex(n); loc != nil {
			if rp.transform && loc[len(loc)-2] >= 0 {
				return false, false
			}
			viable := rp.general.matches(n)
			if !viable || rp.general.matches(n[loc[1]:]) {
				nsn = n[loc[1]:]
			}
		}
	}
	// Parse keeps the unstripped number when the stripped one has no
	// possible length (testNumberLength).
	if len(rp.possible) == 0 || rp.possible[0] == -1 {
		return false, false
	}
	l := int32(len(nsn))
	keep := false
	for _, x := range rp.localOnly {
		if x == l {
			keep = true
		}
	}
	if !keep && l < rp.possible[0] {
		keep = true
	} else if !keep && l <= rp.possible[len(rp.possible)-1] {
		keep = true
		for _, x := range rp.possible {
			if x == l {
				keep = false
			}
		}
	}
	if keep {
		nsn = n
	}
	if len(nsn) < 2 || len(nsn) > 17 {
		return false, true
	}
	if nsn[0] == '0' {
		// Parse stores leading zeros apart from the number; all zeros
		// keep one digit, which GetNationalSignificantNumber drops.
		allZero := true
		for _, c := range nsn {
			allZero = allZero && c == '0'
		}
		if allZero {
			return false, false
		}
	}
	// IsValidNumber: the region of the number, then its types.
	region := cp.regions[0]
	if len(cp.regions) > 1 {
		region = nil
		for _, r := range cp.regions {
			if r.leading != nil {
				if r.leading.Match(nsn) {
					region = r
					break
				}
			} else if r.typed(nsn) {
				region = r
				break
			}
		}
		if region == nil {
			return false, true
		}
	}
	return region.typed(nsn), true
}

// typed reports whether nsn matches the general description and a type.
func (r *regionPlan) typed(nsn []byte) bool {
	if !r.general.matches(nsn) {
		return false
	}
	for i := range r.types {
		if r.types[i].matches(nsn) {
			return true
		}
	}
	return false
}
