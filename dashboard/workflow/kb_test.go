package workflow

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/detect"
)

func TestKnowledgeBaseHasAllTenControls(t *testing.T) {
	p, err := SecurityPatterns("all", "")
	if err != nil || p.TotalCount != 10 {
		t.Fatalf("all controls: %d, %v", p.TotalCount, err)
	}
	for i := 1; i <= 10; i++ {
		id := "LLM" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		c, err := OWASPControl(strings.ToLower(id) + ":2025")
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if c.Name == "" || len(c.WhatToLookFor) == 0 || len(c.CodeIndicators.Dangerous) == 0 || len(c.Remediation.Steps) == 0 {
			t.Errorf("%s is incomplete: %+v", id, c)
		}
		tpl, ok := templates[c.Remediation.FixTemplateRef]
		if !ok || tpl.OWASPControl != id {
			t.Errorf("%s refers to fix template %q (control %v)", id, c.Remediation.FixTemplateRef, tpl)
		}
	}
	if _, err := OWASPControl("LLM11"); !IsNotFound(err) {
		t.Fatalf("LLM11: %v", err)
	}
	high, _ := SecurityPatterns("all", "HIGH")
	for id, c := range high.Patterns {
		if c.Severity != "HIGH" && c.Severity != "CRITICAL" {
			t.Errorf("min_severity HIGH returned %s (%s)", id, c.Severity)
		}
	}
	if high.TotalCount == 0 || high.TotalCount == 10 {
		t.Fatalf("min_severity HIGH kept %d of 10", high.TotalCount)
	}
	inj, _ := SecurityPatterns("prompt_injection", "LOW")
	if len(inj.Patterns) != 1 || inj.Patterns["LLM01"] == nil {
		t.Fatalf("prompt_injection context: %v", inj.Patterns)
	}
	if _, err := SecurityPatterns("all", "URGENT"); !IsBadParam(err) {
		t.Fatalf("bad min_severity: %v", err)
	}
}

// TestFixTemplateForEveryRule runs Perimeter's own detectors over their
// corpus and checks that every rule they raise resolves to a template of
// its OWASP control, and that every dynamic check and category does too.
func TestFixTemplateForEveryRule(t *testing.T) {
	files, _ := filepath.Glob("../../detect/testdata/corpus/*.jsonl")
	eval, _ := filepath.Glob("../../detect/testdata/eval/*.jsonl")
	files = append(files, eval...)
	if len(files) == 0 {
		t.Fatal("detect's corpus not found")
	}
	rules := map[string]string{} // rule → OWASP id
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var c struct {
				Text         string        `json:"text"`
				Direction    string        `json:"direction"`
				Role         string        `json:"role"`
				ToolName     string        `json:"tool_name"`
				ToolArgs     string        `json:"tool_args"`
				SystemPrompt string        `json:"system_prompt"`
				Usage        *detect.Usage `json:"usage"`
			}
			if json.Unmarshal(sc.Bytes(), &c) != nil {
				continue
			}
			in := &detect.Input{Text: c.Text, Role: detect.Role(c.Role), ToolName: c.ToolName, ToolArgs: c.ToolArgs,
				SystemPrompt: c.SystemPrompt, Usage: c.Usage}
			if c.Direction == "response" {
				in.Direction = detect.Response
			}
			for _, x := range detect.Scan(in) {
				rules[x.Rule] = x.OWASP
			}
		}
		f.Close()
	}
	if len(rules) < 15 {
		t.Fatalf("only %d rules raised by the corpus: %v", len(rules), rules)
	}
	for rule, owasp := range rules {
		tpl, err := FixTemplateFor(rule)
		if err != nil {
			t.Errorf("%s: %v", rule, err)
			continue
		}
		if want := controlID(owasp); want != "" && tpl.OWASPControl != want && !(want == "LLM07" && strings.HasPrefix(rule, "llm01.")) {
			t.Errorf("%s (%s) resolves to a %s template", rule, owasp, tpl.OWASPControl)
		}
	}
	ids := make([]string, 0, len(rules))
	for r := range rules {
		ids = append(ids, r)
	}
	sort.Strings(ids)
	t.Logf("%d rules covered: %s", len(ids), strings.Join(ids, " "))

	for _, typ := range []string{"RESOURCE_001_TOKEN_BOUNDS", "RESOURCE_002_TOOL_CALL_BOUNDS", "ENV_001_CONSISTENT_MODEL", "ENV_003_UNUSED_TOOLS",
		"BEHAV_001_STABILITY_SCORE", "PII_002_SYSTEM_PROMPT", "pii", "secret", "prompt_injection", "improper_output", "excessive_agency",
		"system_prompt_leakage", "unbounded_consumption", "PROMPT_INJECTION", "DATA_EXPOSURE", "EXCESSIVE_AGENCY", "RATE_LIMIT",
		"llm10.tool_loop", "llm06.tool_call_storm", "secret.private-key"} {
		if _, err := FixTemplateFor(typ); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	if _, err := FixTemplateFor("SOMETHING_ELSE"); !IsNotFound(err) {
		t.Fatalf("unknown finding type: %v", err)
	}
	if tpl, _ := FixTemplateFor("llm05.sql_injection"); tpl != templates["SQL_INJECTION"] {
		t.Fatal("llm05.sql_injection does not get the SQL template")
	}
}
