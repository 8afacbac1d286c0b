package detect

import (
	"flag"
	"fmt"
	"path/filepath"
	"testing"
)

var updateEval = flag.Bool("update-eval", false, "rewrite testdata/eval/{dev,holdout}_gen_*.jsonl")

// TestGenerateEvalSets writes the generated part of the evaluation sets.
// Dev and holdout come from different seeds and, where it matters, from
// different template pools (pick(dev, holdout)), so the holdout holds
// phrasings the detectors were never tuned on.
func TestGenerateEvalSets(t *testing.T) {
	if !*updateEval {
		t.Skip("run with -update-eval to regenerate testdata/eval/*_gen_*.jsonl")
	}
	for split, seed := range map[string]uint64{"dev": 7, "holdout": 1913} {
		g := &egen{rnd: newRnd(seed, 2026), holdout: split == "holdout", files: map[string][]evalSample{}}
		g.piiSet()
		g.secretSet()
		g.injectionSet()
		g.toolSet()
		g.longTailSecretSet(seed + 100)
		for name, ss := range g.files {
			writeJSONL(t, filepath.Join("testdata", "eval", split+"_gen_"+name+".jsonl"), ss)
		}
	}
}

type egen struct {
	rnd
	holdout bool
	files   map[string][]evalSample
}

// split returns dev's list in the dev set and holdout's in the holdout.
func (g *egen) split(dev, holdout []string) []string {
	if g.holdout {
		return holdout
	}
	return dev
}

const (
	alnumSet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	hexLower  = "0123456789abcdef"
	b64Set    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b64URLSet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	upperNum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerNum  = "abcdefghijklmnopqrstuvwxyz0123456789"
)

func (g *egen) add(file string, s evalSample) {
	pfx := "dev"
	if g.holdout {
		pfx = "ho"
	}
	s.ID = fmt.Sprintf("%s-%s-%04d", pfx, file, len(g.files[file])+1)
	if s.Detector == "" {
		s.Detector = file
	}
	g.files[file] = append(g.files[file], s)
}
