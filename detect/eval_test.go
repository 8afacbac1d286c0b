package detect

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/internal/testkit"
)

// The evaluation sets under testdata/eval: dev_*.jsonl are the sets the
// detectors were tuned on, holdout_*.jsonl were written (or generated from
// their own templates and seed) at the same time and are only measured,
// never tuned on. TestEvalSets prints precision, recall and F1 per detector
// and per class on both and fails below the floors in evalFloors.
//
//	go test ./detect/ -run TestEvalSets -v          (or make detect-eval)
//	go test ./detect/ -run TestGenerateEvalSets -update-eval   (rewrite gen_ files)

// evalSample is one labelled text. PII samples list the entities they
// hold (entity-level scoring); the other detectors score per sample.
type evalSample struct {
	ID        string       `json:"id"`
	Detector  string       `json:"detector"` // pii, secret, injection, tool
	Class     string       `json:"class"`    // what the sample exercises ("jcb15", "gitlab", "persona", "neg:security_talk")
	Positive  bool         `json:"positive"`
	Text      string       `json:"text"`
	Role      string       `json:"role,omitempty"`
	Direction string       `json:"direction,omitempty"`
	ToolName  string       `json:"tool_name,omitempty"`
	ToolArgs  string       `json:"tool_args,omitempty"`
	Entities  []evalEntity `json:"entities,omitempty"`
}

type evalEntity struct {
	Type  string `json:"type"`  // email, phone, credit_card, iban, us_ssn, ip_address
	Class string `json:"class"` // e.g. "phone:uk_intl", "card:jcb15"
	Text  string `json:"text"`
}

func (s *evalSample) input() Input {
	in := Input{Text: s.Text, Role: Role(s.Role), ToolName: s.ToolName, ToolArgs: s.ToolArgs}
	if s.Direction == "response" {
		in.Direction = Response
	}
	return in
}

// evalFloors are the floors asserted per detector and split (precision,
// recall), set a little below what was measured (docs/detection.md); the
// secret detector also has a ceiling on its false-positive rate on the
// near-miss negatives.
var evalFloors = map[string]map[string][2]float64{
	"dev": {
		"pii":       {0.98, 0.98},
		"secret":    {0.98, 0.98},
		"injection": {0.97, 0.95},
		"tool":      {0.95, 0.95},
	},
	"holdout": {
		"pii":       {0.97, 0.97},
		"secret":    {0.97, 0.97},
		"injection": {0.95, 0.70},
		"tool":      {0.95, 0.80},
	},
}

// secretFPCeiling is the highest false-positive rate on near-miss secret
// negatives accepted per split.
var secretFPCeiling = map[string]float64{"dev": 0.03, "holdout": 0.05}

var evalDetectors = []string{"pii", "secret", "injection", "tool"}

func loadEval(t testing.TB, glob string) []evalSample {
	return testkit.ReadJSONL[evalSample](t, glob, "go test ./detect/ -run TestGenerateEvalSets -update-eval")
}

// evalCount is a confusion count; neg counts negative samples (for the
// false-positive rate of sample-level detectors).
type evalCount struct{ tp, fp, fn, neg, negFP int }

func (c *evalCount) p() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c *evalCount) r() float64 { return ratio(c.tp, c.tp+c.fn) }
func (c *evalCount) f1() float64 {
	p, r := c.p(), c.r()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

type evalResult struct {
	det     map[string]*evalCount // per detector
	class   map[string]*evalCount // per detector/class
	details []string
}

func (r *evalResult) cnt(m map[string]*evalCount, k string) *evalCount {
	c := m[k]
	if c == nil {
		c = &evalCount{}
		m[k] = c
	}
	return c
}

var piiEvalTypes = map[string]bool{"email": true, "phone": true, "credit_card": true, "iban": true, "us_ssn": true, "ip_address": true}

// detectorOf maps a finding to the evaluated detector ("" for others).
func detectorOf(f *Finding) string {
	switch {
	case f.Rule == ruleToolPoisoning || f.Rule == ruleToolShadowing:
		return "tool"
	case strings.HasPrefix(f.Rule, "pii."):
		if piiEvalTypes[strings.TrimPrefix(f.Rule, "pii.")] {
			return "pii"
		}
	case f.Category == CategorySecret:
		return "secret"
	case f.Category == CategoryInjection:
		return "injection"
	}
	return ""
}

func runEval(samples []evalSample) *evalResult {
	sc := NewScanner(Options{})
	res := &evalResult{det: map[string]*evalCount{}, class: map[string]*evalCount{}}
	for i := range samples {
		s := &samples[i]
		in := s.input()
		fs := sc.Scan(&in)
		if s.Detector == "pii" {
			res.pii(s, fs)
			continue
		}
		fired := false
		var rules []string
		for k := range fs {
			d := detectorOf(&fs[k])
			if d == s.Detector || s.Detector == "tool" && d == "injection" {
				fired = true
				rules = append(rules, fs[k].Rule)
			}
		}
		dc, cc := res.cnt(res.det, s.Detector), res.cnt(res.class, s.Detector+"/"+s.Class)
		switch {
		case s.Positive && fired:
			dc.tp++
			cc.tp++
		case s.Positive:
			dc.fn++
			cc.fn++
			res.details = append(res.details, "FN "+s.Detector+"/"+s.Class+" "+s.ID+": "+trunc(s.Text+" "+s.ToolArgs, 160))
		case fired:
			dc.fp++
			cc.fp++
			dc.negFP++
			cc.negFP++
			res.details = append(res.details, "FP "+s.Detector+"/"+s.Class+" "+s.ID+": "+trunc(s.Text+" "+s.ToolArgs, 160)+" → "+strings.Join(rules, ","))
		}
		if !s.Positive {
			dc.neg++
			cc.neg++
		}
	}
	return res
}

// pii scores a PII sample at entity level: an expected entity is found
// when a finding of its type overlaps it; a PII finding that overlaps no
// expected entity of its type is a false positive.
func (res *evalResult) pii(s *evalSample, fs []Finding) {
	type span struct{ s, e int }
	spans := make([]span, len(s.Entities))
	from := 0
	for i, e := range s.Entities {
		j := strings.Index(s.Text[from:], e.Text)
		if j < 0 {
			j = strings.Index(s.Text, e.Text) - from
		}
		spans[i] = span{from + j, from + j + len(e.Text)}
	}
	dc := res.cnt(res.det, "pii")
	matched := make([]bool, len(fs))
	for i, e := range s.Entities {
		hit := false
		for k := range fs {
			f := &fs[k]
			if f.Rule == "pii."+e.Type && f.Source == SourceText && f.Start < spans[i].e && spans[i].s < f.End {
				hit, matched[k] = true, true
			}
		}
		tc, cc := res.cnt(res.class, "pii/"+e.Type), res.cnt(res.class, "pii/"+e.Class)
		if hit {
			dc.tp++
			tc.tp++
			cc.tp++
		} else {
			dc.fn++
			tc.fn++
			cc.fn++
			res.details = append(res.details, "FN pii/"+e.Class+" "+s.ID+": "+e.Text+" in "+trunc(s.Text, 140))
		}
	}
	for k := range fs {
		f := &fs[k]
		if matched[k] || detectorOf(f) != "pii" {
			continue
		}
		typ := strings.TrimPrefix(f.Rule, "pii.")
		dc.fp++
		res.cnt(res.class, "pii/"+typ).fp++
		res.cnt(res.class, "pii/"+s.Class).fp++
		res.details = append(res.details, fmt.Sprintf("FP pii/%s %s: %q (%s@%.2f) in %s", typ, s.ID, s.Text[f.Start:f.End], f.Rule, f.Confidence, trunc(s.Text, 140)))
	}
	if !s.Positive {
		res.cnt(res.class, "pii/"+s.Class).neg++
	}
}

func (res *evalResult) table(split string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s — per detector\n\n| detector | TP | FP | FN | negatives | precision | recall | F1 | FP rate on negatives |\n|---|---|---|---|---|---|---|---|---|\n", split)
	for _, d := range evalDetectors {
		c := res.cnt(res.det, d)
		fpr := "—"
		if d != "pii" {
			fpr = ftoa(ratio(c.negFP, c.neg))
			if c.neg == 0 {
				fpr = "—"
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %s | %s | %s |\n", d, c.tp, c.fp, c.fn, c.neg, ftoa(c.p()), ftoa(c.r()), ftoa(c.f1()), fpr)
	}
	fmt.Fprintf(&b, "\n%s — per class (positives: recall; negative classes \"neg:…\": false positives)\n\n| detector/class | TP | FP | FN | precision | recall | F1 |\n|---|---|---|---|---|---|---|\n", split)
	keys := make([]string, 0, len(res.class))
	for k := range res.class {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := res.class[k]
		if strings.Contains(k, "/neg:") {
			fmt.Fprintf(&b, "| %s | — | %d of %d | — | — | — | — |\n", k, c.fp, c.neg)
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %s | %s | %s |\n", k, c.tp, c.fp, c.fn, ftoa(c.p()), ftoa(c.r()), ftoa(c.f1()))
	}
	return b.String()
}

// TestEvalSets measures the dev and holdout sets and asserts the floors.
func TestEvalSets(t *testing.T) {
	for _, split := range []string{"dev", "holdout"} {
		res := runEval(loadEval(t, "testdata/eval/"+split+"_*.jsonl"))
		t.Log(res.table(split))
		for _, d := range res.details {
			t.Log(split + " " + d)
		}
		for _, d := range evalDetectors {
			c := res.cnt(res.det, d)
			fl := evalFloors[split][d]
			if minPos := map[string]int{"tool": 12}[d]; c.tp+c.fn < max(minPos, 40*min(1, len(d)/5)) {
				t.Errorf("%s %s: only %d positives, want more", split, d, c.tp+c.fn)
			}
			if c.p() < fl[0] || c.r() < fl[1] {
				t.Errorf("%s %s: precision %.3f recall %.3f below floors %.2f/%.2f", split, d, c.p(), c.r(), fl[0], fl[1])
			}
			if d == "secret" {
				if fpr := ratio(c.negFP, c.neg); fpr > secretFPCeiling[split] {
					t.Errorf("%s secret: false-positive rate %.3f on near-miss negatives above %.2f", split, fpr, secretFPCeiling[split])
				}
			}
		}
	}
}
