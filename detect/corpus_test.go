package detect

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/internal/testkit"
)

// A corpus sample: a text with its context and the detector families that
// must fire on it (all others must stay quiet).
type sample struct {
	ID           string   `json:"id"`
	Family       string   `json:"family"` // the family the sample was written for
	Kind         string   `json:"kind"`   // "positive" or "hard_negative"
	Text         string   `json:"text"`
	Role         string   `json:"role,omitempty"`
	Direction    string   `json:"direction,omitempty"` // "request" (default) or "response"
	ToolName     string   `json:"tool_name,omitempty"`
	ToolArgs     string   `json:"tool_args,omitempty"`
	SystemPrompt string   `json:"system_prompt,omitempty"`
	Usage        *Usage   `json:"usage,omitempty"`
	Expect       []string `json:"expect"`         // families expected to fire
	Span         string   `json:"span,omitempty"` // text a finding of Family must cover
	Note         string   `json:"note,omitempty"`
}

func (s *sample) input() Input {
	in := Input{Text: s.Text, Role: Role(s.Role), ToolName: s.ToolName, ToolArgs: s.ToolArgs,
		SystemPrompt: s.SystemPrompt, Usage: s.Usage}
	if s.Direction == "response" {
		in.Direction = Response
	}
	return in
}

// families are the detector families the corpus measures, in table order.
var families = []string{"email", "phone", "credit_card", "iban", "us_ssn", "ip_address", "crypto_wallet",
	"secret", "injection", "output", "agency", "leakage", "consumption"}

// familyOf maps a rule id to its family.
func familyOf(rule string) string {
	switch {
	case strings.HasPrefix(rule, "pii."):
		return strings.TrimPrefix(rule, "pii.")
	case strings.HasPrefix(rule, "secret."):
		return "secret"
	case strings.HasPrefix(rule, "llm01."):
		return "injection"
	case strings.HasPrefix(rule, "llm05."):
		return "output"
	case strings.HasPrefix(rule, "llm06."):
		return "agency"
	case strings.HasPrefix(rule, "llm07."):
		return "leakage"
	case strings.HasPrefix(rule, "llm10."):
		return "consumption"
	}
	return rule
}

func loadCorpus(t testing.TB) []sample { return loadSamples(t, "testdata/corpus/*.jsonl") }

func loadSamples(t testing.TB, glob string) []sample {
	return testkit.ReadJSONL[sample](t, glob, "go test ./detect/ -run TestGenerateCorpus -update")
}

type prCounts struct{ tp, fp, fn, pos, neg int }

// Floors the evaluation asserts, per family: precision, recall.
var floors = map[string][2]float64{
	"email":         {0.95, 0.95},
	"phone":         {0.90, 0.85},
	"credit_card":   {0.95, 0.95},
	"iban":          {0.95, 0.95},
	"us_ssn":        {0.95, 0.90},
	"ip_address":    {0.90, 0.90},
	"crypto_wallet": {0.95, 0.95},
	"secret":        {0.95, 0.95},
	"injection":     {0.90, 0.85},
	"output":        {0.90, 0.85},
	"agency":        {0.90, 0.90},
	"leakage":       {0.95, 0.90},
	"consumption":   {0.95, 0.95},
}

// TestCorpusQuality scans every corpus sample and reports precision and
// recall per family (sample level: a family "fires" on a sample when at
// least one finding of it is reported with the default options). It
// asserts the floors above and that every positive's finding covers its
// expected span.
func TestCorpusQuality(t *testing.T) {
	counts := evaluate(t, loadCorpus(t))
	t.Log(qualityTable(counts))
	for _, fam := range families {
		c := counts[fam]
		p, r := ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn)
		fl := floors[fam]
		if c.pos < 40 || c.neg < 40 {
			t.Errorf("%s: corpus has %d positives and %d hard negatives, want ≥ 40 each", fam, c.pos, c.neg)
		}
		if p < fl[0] || r < fl[1] {
			t.Errorf("%s: precision %.3f recall %.3f below floors %.2f/%.2f", fam, p, r, fl[0], fl[1])
		}
	}
}

// TestHoldoutQuality measures testdata/holdout: samples written after the
// rules were tuned on the corpus and not used to tune them. Its floors are
// the overall ones, per family the sample is too small to assert.
func TestHoldoutQuality(t *testing.T) {
	counts := evaluate(t, loadSamples(t, "testdata/holdout/*.jsonl"))
	t.Log(qualityTable(counts))
	var tp, fp, fn int
	for _, c := range counts {
		tp, fp, fn = tp+c.tp, fp+c.fp, fn+c.fn
	}
	if p, r := ratio(tp, tp+fp), ratio(tp, tp+fn); p < 0.85 || r < 0.8 {
		t.Errorf("held-out precision %.3f recall %.3f below 0.85/0.80", p, r)
	}
}

func qualityTable(counts map[string]*prCounts) string {
	var b strings.Builder
	b.WriteString("\n| family | positives | hard negatives | TP | FP | FN | precision | recall |\n|---|---|---|---|---|---|---|---|\n")
	for _, fam := range families {
		c := counts[fam]
		p, r := ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn)
		b.WriteString("| " + fam + " | " + itoa(c.pos) + " | " + itoa(c.neg) + " | " + itoa(c.tp) + " | " + itoa(c.fp) + " | " + itoa(c.fn) +
			" | " + ftoa(p) + " | " + ftoa(r) + " |\n")
	}
	return b.String()
}

func evaluate(t *testing.T, samples []sample) map[string]*prCounts {
	sc := NewScanner(Options{})
	counts := map[string]*prCounts{}
	for _, f := range families {
		counts[f] = &prCounts{}
	}
	var misses []string
	for i := range samples {
		s := &samples[i]
		in := s.input()
		fs := sc.Scan(&in)
		got := map[string]bool{}
		for _, f := range fs {
			got[familyOf(f.Rule)] = true
		}
		want := map[string]bool{}
		for _, e := range s.Expect {
			want[e] = true
		}
		if s.Kind == "positive" {
			counts[s.Family].pos++
		} else {
			counts[s.Family].neg++
		}
		for _, fam := range families {
			c := counts[fam]
			switch {
			case want[fam] && got[fam]:
				c.tp++
			case want[fam]:
				c.fn++
				misses = append(misses, "FN "+fam+" "+s.ID+": "+trunc(s.Text+" "+s.ToolArgs, 140))
			case got[fam]:
				c.fp++
				misses = append(misses, "FP "+fam+" "+s.ID+": "+trunc(s.Text+" "+s.ToolArgs, 140)+" → "+rulesOf(fs, fam))
			}
		}
		if s.Span != "" && want[s.Family] && got[s.Family] && !spanCovered(s, fs) {
			t.Errorf("%s: no %s finding covers %q: %v", s.ID, s.Family, s.Span, fs)
		}
		for _, f := range fs {
			if f.Start < 0 || f.End < f.Start || f.Source == SourceText && f.End > len(s.Text) || f.Source == SourceToolArgs && f.End > len(s.ToolArgs) {
				t.Errorf("%s: span out of bounds: %+v", s.ID, f)
			}
		}
	}
	for _, m := range misses {
		t.Log(m)
	}
	return counts
}

func spanCovered(s *sample, fs []Finding) bool {
	for _, f := range fs {
		if familyOf(f.Rule) != s.Family {
			continue
		}
		src := s.Text
		if f.Source == SourceToolArgs {
			src = s.ToolArgs
		} else if f.Source == SourceUsage {
			return true
		}
		if f.Decoded != "" {
			return true
		}
		if strings.Contains(src[f.Start:f.End], s.Span) {
			return true
		}
	}
	return false
}

func rulesOf(fs []Finding, fam string) string {
	var out []string
	for _, f := range fs {
		if familyOf(f.Rule) == fam {
			out = append(out, f.Rule+"@"+ftoa(float64(f.Confidence)))
		}
	}
	return strings.Join(out, ",")
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func itoa(i int) string     { return strconv.Itoa(i) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }
