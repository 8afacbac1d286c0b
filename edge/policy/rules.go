package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/cylestio/perimeter/detect"
)

// RuleSpec is a custom rule as configured: exactly one of Literal and
// Regex (RE2).
type RuleSpec struct {
	ID         string
	Literal    string
	Regex      string
	IgnoreCase bool
	Severity   detect.Severity
	Category   detect.Category
	OWASP      string
}

// Rules are compiled custom rules. A literal is found with strings.Index
// (or, ignoring case, a compiled regular expression of the quoted
// literal); nothing is compiled per scan. Findings carry the evidence the
// built-in secret rules carry (detect.RedactEvidence): never the match.
type Rules struct {
	rules []rule
}

type rule struct {
	spec    RuleSpec
	literal string
	re      *regexp.Regexp
}

// maxRuleFindings bounds the findings of one rule in one text.
const maxRuleFindings = 64

// CompileRules compiles specs once.
func CompileRules(specs []RuleSpec) (*Rules, error) {
	rs := &Rules{}
	for _, s := range specs {
		r := rule{spec: s}
		switch {
		case s.Regex != "":
			expr := s.Regex
			if s.IgnoreCase {
				expr = "(?i)" + expr
			}
			re, err := regexp.Compile(expr)
			if err != nil {
				return nil, fmt.Errorf("custom rule %s: regex: %w", s.ID, err)
			}
			r.re = re
		case s.Literal != "" && s.IgnoreCase:
			r.re = regexp.MustCompile("(?i)" + regexp.QuoteMeta(s.Literal))
		case s.Literal != "":
			r.literal = s.Literal
		default:
			return nil, fmt.Errorf("custom rule %s: needs a literal or a regex", s.ID)
		}
		rs.rules = append(rs.rules, r)
	}
	return rs, nil
}

// Len is the number of rules.
func (rs *Rules) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.rules)
}

// AppendScan appends the findings of every rule in text to dst; src says
// which field of a detect.Input text is (spans are byte offsets in it).
func (rs *Rules) AppendScan(dst []detect.Finding, text string, src detect.Source) []detect.Finding {
	if rs == nil {
		return dst
	}
	for i := range rs.rules {
		r := &rs.rules[i]
		if r.re == nil {
			for off, n := 0, 0; n < maxRuleFindings; n++ {
				j := strings.Index(text[off:], r.literal)
				if j < 0 {
					break
				}
				start := off + j
				dst = append(dst, r.finding(text, start, start+len(r.literal), src))
				off = start + len(r.literal)
			}
			continue
		}
		for _, m := range r.re.FindAllStringIndex(text, maxRuleFindings) {
			if m[1] > m[0] {
				dst = append(dst, r.finding(text, m[0], m[1], src))
			}
		}
	}
	return dst
}

func (r *rule) finding(text string, start, end int, src detect.Source) detect.Finding {
	return detect.Finding{
		Category:   r.spec.Category,
		Rule:       r.spec.ID,
		Severity:   r.spec.Severity,
		Confidence: 1,
		Source:     src,
		Start:      start,
		End:        end,
		Evidence:   detect.RedactEvidence(text[start:end]),
		OWASP:      r.spec.OWASP,
	}
}
