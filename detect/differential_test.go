package detect

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
)

// variedInputs builds the inputs the differential tests scan: every sample
// of the corpus, holdout and evaluation sets, the generators' output from
// seeds other than the committed files', the benchmark texts, and variants
// of all of them (as a response under a system prompt, as a tool result,
// as tool arguments, wrapped in prose, concatenated, hidden in base64, hex
// and URL-encoded layers, with a prefix of a system prompt copied).
func variedInputs(tb testing.TB) []Input {
	var texts []string
	var ins []Input
	for _, glob := range []string{"testdata/corpus/*.jsonl", "testdata/holdout/*.jsonl"} {
		for _, s := range loadSamples(tb, glob) {
			ins = append(ins, s.input())
			texts = append(texts, s.Text)
		}
	}
	for _, s := range loadEval(tb, "testdata/eval/*.jsonl") {
		ins = append(ins, s.input())
		texts = append(texts, s.Text)
	}
	for seed := uint64(1); seed <= 2; seed++ {
		g := generate(seed, 99)
		for _, name := range slices.Sorted(maps.Keys(g.files)) {
			ss := g.files[name]
			for i := range ss {
				ins = append(ins, ss[i].input())
				texts = append(texts, ss[i].Text)
			}
		}
		e := &egen{rnd: newRnd(seed, 77), holdout: seed == 2, files: map[string][]evalSample{}}
		e.piiSet()
		e.secretSet()
		e.injectionSet()
		e.toolSet()
		e.longTailSecretSet(seed + 500)
		for _, name := range slices.Sorted(maps.Keys(e.files)) {
			ss := e.files[name]
			for i := range ss {
				ins = append(ins, ss[i].input())
				texts = append(texts, ss[i].Text)
			}
		}
	}
	texts = append(texts, benignParagraph, benign8K, findings1K, code8K, digits8K, phones1K, transcript100K[:20000],
		cleanRequest, cleanAnswer, benignCode, benignDigits)
	r := rand.New(rand.NewPCG(5, 5))
	for i, t := range texts {
		sp := systemPrompts[i%len(systemPrompts)]
		ins = append(ins,
			Input{Text: t, Role: RoleUser},
			Input{Text: t, Role: RoleAssistant, Direction: Response, SystemPrompt: sp, Usage: &cleanUsage},
			Input{Text: t, Role: RoleTool, ToolName: "fetch"},
			Input{ToolName: "run_shell", ToolArgs: t, Role: RoleAssistant, Direction: Response},
			Input{Text: benignParagraph[:r.IntN(200)] + t + " " + benignParagraph[r.IntN(200):], Role: RoleUser},
			Input{Text: t + "\n" + texts[r.IntN(len(texts))], Role: RoleTool},
		)
		if i%3 == 0 && len(t) < 4000 {
			ins = append(ins,
				Input{Text: "see " + base64.StdEncoding.EncodeToString([]byte(t)) + " thanks", Role: RoleUser},
				Input{Text: "payload=" + url.QueryEscape(t), Role: RoleTool},
				Input{Text: "blob " + hex.EncodeToString([]byte(t)), Role: RoleUser},
			)
		}
		if i%5 == 0 {
			w := strings.Fields(sp)
			k := 6 + r.IntN(len(w)-6)
			ins = append(ins, Input{Text: t + " " + strings.Join(w[:k], " ") + ". " + t, Role: RoleAssistant,
				Direction: Response, SystemPrompt: sp})
		}
	}
	return ins
}

// diffOptions are the scanner options the differential tests run with:
// the defaults, everything shown, no decoding, single categories.
var diffOptions = []Options{
	{},
	{MinConfidence: 0.01},
	{MinConfidence: 0.01, Decode: DecodeLimits{MaxDepth: -1}},
	{Categories: CategoriesOf(CategorySecret)},
	{Categories: CategoriesOf(CategoryInjection, CategoryPromptLeak)},
	{MinConfidence: 0.01, LeakMinWords: 8},
}

// findingsDigest scans every varied input with every option set and
// returns one line per finding, keyed by the option set and a hash of the
// input, sorted (some generators range over maps, so the order of the
// inputs varies between runs).
func findingsDigest(ins []Input) (string, int) {
	var lines []string
	for oi, o := range diffOptions {
		sc := NewScanner(o)
		var dst []Finding
		for i := range ins {
			in := &ins[i]
			dst = sc.AppendScan(dst[:0], in)
			if len(dst) == 0 {
				continue
			}
			key := sha256.Sum256([]byte(fmt.Sprintf("%q %q %d %q %q %q %v", in.Text, in.Role, in.Direction, in.ToolName, in.ToolArgs, in.SystemPrompt, in.Usage != nil)))
			for _, f := range dst {
				lines = append(lines, fmt.Sprintf("%d %x %s %s %v %.4f %v %d %d %q %s %s", oi, key[:8], f.Category, f.Rule, f.Severity,
					f.Confidence, f.Source, f.Start, f.End, f.Evidence, f.OWASP, f.Decoded))
			}
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n"), len(lines)
}

// TestDumpFindings writes the findings of the varied inputs to the file
// named by DETECT_DUMP: speed work diffs the file before and after. Some
// generators range over maps, so the inputs differ from run to run; they
// are kept in DETECT_DUMP.inputs.json and reused when it exists.
func TestDumpFindings(t *testing.T) {
	path := os.Getenv("DETECT_DUMP")
	if path == "" {
		t.Skip("set DETECT_DUMP=file to write the findings of the varied inputs")
	}
	var ins []Input
	if data, err := os.ReadFile(path + ".inputs.json"); err == nil {
		if err := json.Unmarshal(data, &ins); err != nil {
			t.Fatal(err)
		}
	} else {
		ins = variedInputs(t)
		data, err := json.Marshal(ins)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".inputs.json", data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, n := findingsDigest(ins)
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d inputs, %d findings, sha256 %x", len(ins), n, sha256.Sum256([]byte(s)))
}

// TestFastPathMatchesFullPath scans the varied inputs with every option
// set with the prefilters on and off (fullPath) and wants the same
// findings: every seventh input (all of them with DETECT_DIFF_ALL=1, about
// 30 s).
func TestFastPathMatchesFullPath(t *testing.T) {
	ins := variedInputs(t)
	if os.Getenv("DETECT_DIFF_ALL") == "" {
		var some []Input
		for i := 0; i < len(ins); i += 7 {
			some = append(some, ins[i])
		}
		ins = some
	}
	fast, n := findingsDigest(ins)
	fullPath = true
	defer func() { fullPath = false }()
	full, m := findingsDigest(ins)
	if n == 0 || n != m || fast != full {
		fl, gl := strings.Split(full, "\n"), strings.Split(fast, "\n")
		shown := 0
		for _, l := range fl {
			if !slices.Contains(gl, l) && shown < 10 {
				t.Errorf("full path only: %s", l)
				shown++
			}
		}
		for _, l := range gl {
			if !slices.Contains(fl, l) && shown < 20 {
				t.Errorf("fast path only: %s", l)
				shown++
			}
		}
		t.Fatalf("fast path: %d findings, full path: %d", n, m)
	}
	t.Logf("%d inputs × %d option sets: %d findings, the same on both paths", len(ins), len(diffOptions), n)
}
