package behavior

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// sess is a session with typical defaults and the given tool calls.
func sess(id string, tools ...string) Session {
	return Session{ID: id, DurationSeconds: 60, Events: int64(2*len(tools) + 4), LLMRequests: 3, ToolCalls: int64(len(tools)),
		ToolSequence: tools, Models: []string{"gpt-4o-2024-08-06"}, InputTokens: 1200, OutputTokens: 300,
		MeanInputTokens: 400, MeanOutputTokens: 100, AvailableTools: []string{"search", "fetch"}}
}

func sessions(n int, tools ...string) []Session {
	out := make([]Session, n)
	for i := range out {
		out[i] = sess("s"+strconv.Itoa(i), tools...)
	}
	return out
}

func evaluate(t *testing.T, in *Input) *Report {
	t.Helper()
	if in.Now.IsZero() {
		in.Now = now
	}
	if in.AgentID == "" {
		in.AgentID = "agent"
	}
	r, a := Evaluate(in)
	if r == nil || a == nil {
		t.Fatal("no report")
	}
	return r
}

func check(t *testing.T, r *Report, id string) Check {
	t.Helper()
	c, ok := r.Check(id)
	if !ok {
		t.Fatalf("no check %s in %v", id, ids(r))
	}
	return c
}

func ids(r *Report) []string {
	var out []string
	for _, c := range r.Checks() {
		out = append(out, c.CheckID)
	}
	return out
}

func expect(t *testing.T, c Check, status, value string) {
	t.Helper()
	if c.Status != status || c.Value != value {
		t.Errorf("%s = %s %q, want %s %q (evidence %v)", c.CheckID, c.Status, c.Value, status, value, c.Evidence)
	}
}

func TestResourceBounds(t *testing.T) {
	ss := sessions(5, "search", "fetch")
	ss[2].ToolCalls = 60
	ss[3].InputTokens, ss[3].OutputTokens = 50000, 1
	r := evaluate(t, &Input{Sessions: ss})
	c := check(t, r, "RESOURCE_002_TOOL_CALL_BOUNDS")
	expect(t, c, StatusCritical, "1 violation(s)")
	if v := c.Evidence["violations"].([]violation); len(v) != 1 || v[0] != (violation{"s2", 60, 50}) {
		t.Errorf("violations = %v", v)
	}
	if c.CVSSScore != 9.0 || c.OWASPLLM != "LLM08" || c.CWE != "CWE-770" || c.MITRE != "T1499" {
		t.Errorf("mapping = %+v", c)
	}
	expect(t, check(t, r, "RESOURCE_001_TOKEN_BOUNDS"), StatusCritical, "1 violation(s)")

	// At the limits: passed, with the maximum.
	ss[2].ToolCalls = 50
	ss[3].InputTokens, ss[3].OutputTokens = 49999, 1
	r = evaluate(t, &Input{Sessions: ss})
	c = check(t, r, "RESOURCE_002_TOOL_CALL_BOUNDS")
	expect(t, c, StatusPassed, "50 max calls")
	if c.CVSSScore != 0 {
		t.Errorf("passed check has CVSS %v", c.CVSSScore)
	}
	expect(t, check(t, r, "RESOURCE_001_TOKEN_BOUNDS"), StatusPassed, "50,000 max tokens")
}

func TestVariance(t *testing.T) {
	ss := sessions(2, "search")
	ss[0].InputTokens, ss[0].OutputTokens = 100, 0
	ss[1].InputTokens, ss[1].OutputTokens = 300, 0 // CV √2/2 = 0.707 > 0.7
	ss[0].DurationSeconds, ss[1].DurationSeconds = 600, 720
	r := evaluate(t, &Input{Sessions: ss})
	c := check(t, r, "RESOURCE_004_TOKEN_VARIANCE")
	expect(t, c, StatusWarning, "CV: 71%")
	if c.Evidence["coefficient_of_variation"] != 0.71 || c.CVSSScore != 4.0 {
		t.Errorf("evidence %v, cvss %v", c.Evidence, c.CVSSScore)
	}
	// 10 and 12 minutes: CV = √2/11 = 0.1286.
	expect(t, check(t, r, "RESOURCE_006_DURATION_VARIANCE"), StatusPassed, "CV: 13%")
	expect(t, check(t, r, "RESOURCE_005_TOOL_VARIANCE"), StatusPassed, "CV: 0%")

	// Fewer than two positive values.
	ss[1].ToolCalls, ss[1].ToolSequence = 0, nil
	r = evaluate(t, &Input{Sessions: ss})
	expect(t, check(t, r, "RESOURCE_005_TOOL_VARIANCE"), StatusPassed, "Insufficient data")

	cat := r.Categories[CategoryResource]
	if got := ids(&Report{Categories: map[string]*CategoryReport{CategoryResource: cat}}); strings.Join(got, ",") !=
		"RESOURCE_006_DURATION_VARIANCE,RESOURCE_005_TOOL_VARIANCE,RESOURCE_004_TOKEN_VARIANCE,RESOURCE_001_TOKEN_BOUNDS,RESOURCE_002_TOOL_CALL_BOUNDS" {
		t.Errorf("resource check order = %v", got)
	}
	if cat.Metrics["avg_tokens"] != 200.0 || cat.Metrics["avg_duration_minutes"] != 11.0 {
		t.Errorf("metrics = %v", cat.Metrics)
	}
}

func TestPinned(t *testing.T) {
	for _, m := range []string{"gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo", "o3", "claude-3-5-sonnet-latest", "claude-3-5-haiku"} {
		if Pinned(m) {
			t.Errorf("%s pinned, want unpinned", m)
		}
	}
	for _, m := range []string{"gpt-4-0613", "claude-3-5-sonnet-20241022", "gpt-4", "gpt-4.1", "gpt-5", "claude-sonnet-4-5",
		"gpt-4o-2024-08-06", "model:20240229", "llama-v1.5"} {
		if !Pinned(m) {
			t.Errorf("%s unpinned, want pinned", m)
		}
	}
}

func TestEnvironment(t *testing.T) {
	ss := sessions(3, "search")
	ss[1].Models = []string{"gpt-4o", "claude-3-5-sonnet-20241022"}
	r := evaluate(t, &Input{Sessions: ss})
	c := check(t, r, "ENV_001_CONSISTENT_MODEL")
	expect(t, c, StatusCritical, "1 unpinned model(s)")
	if len(c.Recommendations) != 1 || c.Recommendations[0] != "Pin model versions: gpt-4o" || c.CVSSScore != 9.0 || c.OWASPLLM != "LLM05" {
		t.Errorf("ENV_001 = %+v", c)
	}
	if m := r.Categories[CategoryEnvironment].Metrics["model"]; m != "claude-3-5-sonnet-20241022, gpt-4o, gpt-4o-2024-08-06" {
		t.Errorf("model metric = %v", m)
	}
	// Offered search and fetch, used search: 50 %.
	expect(t, check(t, r, "ENV_002_AVG_TOOLS_COVERAGE"), StatusWarning, "50% coverage")
	expect(t, check(t, r, "ENV_003_UNUSED_TOOLS"), StatusWarning, "1 unused tool(s)")

	// 1 of 8 offered tools used: 12.5 % rounds half to even.
	offered := []string{"a", "b", "c", "d", "e", "f", "g", "search"}
	for i := range ss {
		ss[i].AvailableTools = offered
		ss[i].Models = []string{"gpt-4.1"}
	}
	r = evaluate(t, &Input{Sessions: ss})
	expect(t, check(t, r, "ENV_001_CONSISTENT_MODEL"), StatusPassed, "1 pinned model(s)")
	expect(t, check(t, r, "ENV_002_AVG_TOOLS_COVERAGE"), StatusWarning, "12% coverage")
	c = check(t, r, "ENV_003_UNUSED_TOOLS")
	expect(t, c, StatusWarning, "7 unused tool(s)")
	if c.Recommendations[0] != "Remove tools the agent never uses: a, b, c, d, e and 2 more" {
		t.Errorf("rec = %q", c.Recommendations[0])
	}

	for i := range ss {
		ss[i].AvailableTools = []string{"search"}
		ss[i].Models = nil
	}
	r = evaluate(t, &Input{Sessions: ss})
	expect(t, check(t, r, "ENV_001_CONSISTENT_MODEL"), StatusPassed, "No models detected")
	expect(t, check(t, r, "ENV_002_AVG_TOOLS_COVERAGE"), StatusPassed, "100% coverage")
	expect(t, check(t, r, "ENV_003_UNUSED_TOOLS"), StatusPassed, "All tools used")
	for i := range ss {
		ss[i].AvailableTools = nil
	}
	r = evaluate(t, &Input{Sessions: ss})
	expect(t, check(t, r, "ENV_002_AVG_TOOLS_COVERAGE"), StatusPassed, "No tools available")
	expect(t, check(t, r, "ENV_003_UNUSED_TOOLS"), StatusPassed, "No tools available")
}

// odd is a session unlike sess's: other tools, model and scale.
func odd(id string) Session {
	s := sess(id, "delete_user", "delete_user", "delete_user", "send_email", "wire_money", "wire_money")
	s.Models = []string{"gpt-4o"}
	s.DurationSeconds, s.Events, s.LLMRequests = 3600, 400, 40
	s.InputTokens, s.OutputTokens, s.MeanInputTokens, s.MeanOutputTokens = 40000, 9000, 1000, 225
	return s
}

func TestBehavioralChecks(t *testing.T) {
	ss := append(sessions(5, "search", "fetch", "search"), odd("weird"))
	r := evaluate(t, &Input{Sessions: ss})
	expect(t, check(t, r, "BEHAV_003_CLUSTER_FORMATION"), StatusPassed, "1 cluster(s)")
	expect(t, check(t, r, "BEHAV_001_STABILITY_SCORE"), StatusPassed, "83% score")
	expect(t, check(t, r, "BEHAV_002_OUTLIER_RATE"), StatusPassed, "16% outliers") // int(16.67)
	expect(t, check(t, r, "BEHAV_004_PREDICTABILITY"), StatusPassed, "83% predictability")
	expect(t, check(t, r, "BEHAV_005_UNCERTAINTY_THRESHOLD"), StatusPassed, "17% uncertainty")

	// 3 alike, 2 odd ones: stability 0.6, outliers 40 %.
	ss = append(sessions(3, "search", "fetch", "search"), odd("w1"), sess("w2", "translate", "translate", "summarize", "translate", "upload"))
	ss[4].Models = []string{"mistral-large"}
	r = evaluate(t, &Input{Sessions: ss})
	c := check(t, r, "BEHAV_001_STABILITY_SCORE")
	expect(t, c, StatusCritical, "60% score")
	if c.Evidence["shortfall"] != 0.2 || c.CVSSScore != 9.0 {
		t.Errorf("BEHAV_001 = %+v", c)
	}
	expect(t, check(t, r, "BEHAV_002_OUTLIER_RATE"), StatusCritical, "40% outliers")
	expect(t, check(t, r, "BEHAV_004_PREDICTABILITY"), StatusPassed, "60% predictability")
	expect(t, check(t, r, "BEHAV_005_UNCERTAINTY_THRESHOLD"), StatusWarning, "40% uncertainty")

	// No clusters: the category holds only BEHAV_003.
	r = evaluate(t, &Input{Sessions: []Session{sess("a", "search"), odd("b")}})
	cat := r.Categories[CategoryBehavioral]
	if len(cat.Checks) != 1 {
		t.Fatalf("behavioral checks = %v", ids(r))
	}
	expect(t, cat.Checks[0], StatusCritical, "0 clusters")
	if cat.HighestSeverity != StatusCritical {
		t.Errorf("highest severity = %s", cat.HighestSeverity)
	}

	// One session: insufficient data.
	rep, a := Evaluate(&Input{AgentID: "x", Sessions: sessions(1, "search"), ActiveSessions: 2, Now: now})
	if a.Error != "Insufficient completed sessions" ||
		a.Interpretation != "Insufficient completed sessions for analysis (have 1, need 2+). 2 sessions are still active." {
		t.Errorf("analysis = %+v", a)
	}
	expect(t, check(t, rep, "BEHAV_003_CLUSTER_FORMATION"), StatusCritical, "0 clusters")

	if r, a := Evaluate(&Input{AgentID: "x", Now: now}); r != nil || a != nil {
		t.Error("a report without sessions")
	}
}

func TestPrivacy(t *testing.T) {
	ss := sessions(3, "search")
	r := evaluate(t, &Input{Sessions: ss})
	if _, ok := r.Categories[CategoryPrivacy]; ok {
		t.Error("privacy category without a PII summary")
	}
	r = evaluate(t, &Input{Sessions: ss, PII: &PIISummary{ByType: map[string]int64{}}})
	expect(t, check(t, r, "PII_001_DETECTION"), StatusPassed, "No PII detected")
	expect(t, check(t, r, "PII_002_SYSTEM_PROMPT"), StatusPassed, "No PII in system prompts")
	expect(t, check(t, r, "PII_003_EXPOSURE_RATE"), StatusPassed, "No sessions with PII")

	ss[0].PIIFindings, ss[1].PIIFindings = 2, 1
	long := strings.Repeat("x", 60)
	p := &PIISummary{Total: 3, High: 1, Medium: 2, HighRisk: 1, ByType: map[string]int64{"pii.email": 2, "pii.credit_card": 1},
		Detailed:     []PIIFinding{{Type: "pii.credit_card", Text: long, Score: 0.95, SessionID: "s0", Location: "llm.call.start"}},
		SystemPrompt: []PIIFinding{{Type: "pii.email", Text: "j***@corp.com", Score: 0.9, Location: "system_prompt", Sessions: 3}}}
	r = evaluate(t, &Input{Sessions: ss, PII: p})
	c := check(t, r, "PII_001_DETECTION")
	expect(t, c, StatusCritical, "3 findings (1 high-confidence)")
	if d := c.Evidence["detailed_findings"].([]PIIFinding); d[0].Text != strings.Repeat("x", 50)+"..." || p.Detailed[0].Text != long {
		t.Errorf("evidence text %q (input changed: %v)", d[0].Text, p.Detailed[0].Text != long)
	}
	if c.CVSSScore != 9.5 || c.OWASPLLM != "LLM06" || c.MITRE != "T1530" {
		t.Errorf("PII_001 mapping = %+v", c)
	}
	expect(t, check(t, r, "PII_002_SYSTEM_PROMPT"), StatusWarning, "1 findings")
	expect(t, check(t, r, "PII_003_EXPOSURE_RATE"), StatusWarning, "66% sessions with PII") // int(66.67)
	m := r.Categories[CategoryPrivacy].Metrics
	if m["most_common_entities"] != "pii.email, pii.credit_card" || m["exposure_rate"] != 0.67 || m["sessions_with_pii"] != int64(2) {
		t.Errorf("metrics = %v", m)
	}

	p.HighRisk = 0 // high-confidence e-mail only
	expect(t, check(t, evaluate(t, &Input{Sessions: ss, PII: p}), "PII_001_DETECTION"), StatusWarning, "3 findings (1 high-confidence)")
	p.High, p.Medium, p.Total = 0, 11, 11
	expect(t, check(t, evaluate(t, &Input{Sessions: ss, PII: p}), "PII_001_DETECTION"), StatusWarning, "11 findings (0 high-confidence)")
	p.Medium, p.Total = 10, 10
	expect(t, check(t, evaluate(t, &Input{Sessions: ss, PII: p}), "PII_001_DETECTION"), StatusPassed, "10 low-confidence findings")

	ss[1].PIIFindings = 0 // 1 of 2... of 3
	ss = ss[:2]
	expect(t, check(t, evaluate(t, &Input{Sessions: ss, PII: p}), "PII_003_EXPOSURE_RATE"), StatusPassed, "50% sessions with PII")
}

func TestReportTotals(t *testing.T) {
	ss := append(sessions(5, "search", "fetch", "search"), odd("weird"))
	ss[0].ToolCalls = 51
	r := evaluate(t, &Input{AgentID: "agent-7", Sessions: ss, PII: &PIISummary{ByType: map[string]int64{}}})
	if r.TotalChecks != 16 || len(r.Checks()) != 16 {
		t.Fatalf("%d checks: %v", r.TotalChecks, ids(r))
	}
	crit, warn, pass := 0, 0, 0
	for _, c := range r.Checks() {
		switch c.Status {
		case StatusCritical:
			crit++
		case StatusWarning:
			warn++
		case StatusPassed:
			pass++
		default:
			t.Errorf("%s status %q", c.CheckID, c.Status)
		}
		if (c.Status == StatusPassed) != (c.CVSSScore == 0) {
			t.Errorf("%s: status %s, cvss %v", c.CheckID, c.Status, c.CVSSScore)
		}
	}
	// RESOURCE_002 and ENV_001 (gpt-4o in the odd session) are critical.
	if crit != 2 || r.CriticalIssues != crit || r.Warnings != warn || r.PassedChecks != pass || r.OverallStatus != StatusCritical {
		t.Errorf("totals %+v; counted %d/%d/%d", r.Summary, crit, warn, pass)
	}
	if r.ReportID != "dynamic_agent-7_20260501_120000" || r.SessionsAnalyzed != 6 {
		t.Errorf("report id %q, sessions %d", r.ReportID, r.SessionsAnalyzed)
	}
	res := r.Categories[CategoryResource]
	if res.CategoryName != "Resource Management" || res.Order != 1 || res.CriticalChecks != 1 || res.HighestSeverity != StatusCritical {
		t.Errorf("resource category = %+v", res)
	}
}
