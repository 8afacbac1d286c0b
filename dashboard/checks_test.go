package dashboard

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/detect/behavior"
	"github.com/cylestio/perimeter/sink"
)

const checked = "agent-checked"

// checksWorld is an agent whose checks are known (t0 = now, sessions
// complete after 30 s of silence):
//
//	n0…n4  alike: offered search, fetch, delete_everything; gpt-4o; two calls of 400+100 tokens;
//	       search, fetch, search; 2 minutes; the system prompt names an e-mail address.
//	       n0 has a card number (confidence 0.95) and an injection finding, n1 an e-mail (0.6).
//	odd    offered scrape; 60 scrape calls; 25,000 tokens; 30 minutes
//	live   active (10 s ago): not evaluated
func checksWorld() []*sink.Event {
	s := &seed{}
	prompt := "You are a support bot. Escalate refunds to jane.doe@acme-corp.com."
	for i := range 5 {
		sid := fmt.Sprintf("n%d", i)
		at := t0.Add(-3*time.Hour + time.Duration(i)*10*time.Minute)
		s.start(checked, sid, at, prompt, nil, "search", "fetch", "delete_everything")
		c := s.call(checked, sid, at, "gpt-4o", "Where is my order?", nil)
		s.finish(checked, sid, at.Add(time.Second), "openai", "gpt-4o", 900, 400, 100)
		for k, tool := range []string{"search", "fetch", "search"} {
			s.tool(checked, sid, at.Add(time.Second+time.Duration(k)*time.Millisecond), tool, `{}`)
		}
		s.result(checked, sid, at.Add(20*time.Second), "search", "success", "found")
		s.call(checked, sid, at.Add(30*time.Second), "gpt-4o", "thanks", nil)
		s.finish(checked, sid, at.Add(2*time.Minute), "openai", "gpt-4o", 900, 400, 100)
		switch i {
		case 0:
			s.finding(c, "pii", "pii.credit_card", "medium", 0.95, "card ending 1111", "LLM02")
			s.finding(c, "prompt_injection", "llm01.instruction_override", "high", 0.9, "Ignore all previous", "LLM01")
		case 1:
			s.finding(c, "pii", "pii.email", "low", 0.6, "j***@corp.example", "LLM02")
		}
	}
	at := t0.Add(-2 * time.Hour)
	s.start(checked, "odd", at, "You scrape.", nil, "scrape")
	s.call(checked, "odd", at, "gpt-4o", "scrape everything", nil)
	s.finish(checked, "odd", at.Add(time.Second), "openai", "gpt-4o", 900, 24000, 1000)
	for k := range 60 {
		s.tool(checked, "odd", at.Add(time.Second+time.Duration(k)*time.Millisecond), "scrape", `{}`)
	}
	s.call(checked, "odd", at.Add(10*time.Minute), "gpt-4o", "more", nil)
	s.finish(checked, "odd", at.Add(30*time.Minute), "openai", "gpt-4o", 900, 0, 0)

	at = t0.Add(-10 * time.Second)
	s.start(checked, "live", at, "You scrape.", nil, "scrape", "nuke")
	s.call(checked, "live", at, "mystery-model", "hi", nil)
	for range 80 {
		s.tool(checked, "live", at, "nuke", `{}`)
	}
	return s.events
}

func TestAgentChecks(t *testing.T) {
	for _, engine := range engines {
		for _, legacy := range []bool{false, true} {
			name := engine
			if legacy {
				name += "/legacy findings"
			}
			t.Run(name, func(t *testing.T) {
				evs := checksWorld()
				if legacy {
					for _, e := range evs {
						if e.Name == sink.SecurityFinding {
							e.Category, e.Rule, e.Severity = "", "", ""
						}
					}
				}
				st := storeWith(t, engine, evs)
				s := testServer(t, st, nil)
				start := time.Now()
				var got ChecksResponse
				get(t, s, "/api/agent/"+checked+"/checks", &got)
				t.Logf("%s: checks of %d sessions in %v", engine, got.SessionsAnalyzed, time.Since(start))
				testCheckedAgent(t, &got)

				// The agent page carries the same report.
				var page struct {
					RiskAnalysis struct {
						FindingsCount      int64              `json:"findings_count"`
						SecurityReport     *behavior.Report   `json:"security_report"`
						BehavioralAnalysis *behavior.Analysis `json:"behavioral_analysis"`
					} `json:"risk_analysis"`
				}
				get(t, s, "/api/agent/"+checked, &page)
				ra := page.RiskAnalysis
				if ra.FindingsCount != 3 || ra.SecurityReport == nil || ra.BehavioralAnalysis == nil {
					t.Fatalf("agent page risk analysis: %+v", ra)
				}
				testCheckedAgent(t, &ChecksResponse{EvaluationStatus: "COMPLETE", AgentID: checked, TotalSessions: 7,
					CompletedSessions: 6, ActiveSessions: 1, SessionsAnalyzed: 6, MaxSessions: maxCheckSessions,
					SecurityReport: ra.SecurityReport, BehavioralAnalysis: ra.BehavioralAnalysis})

				if code, b := call(t, s, "GET", "/api/agent/nobody/checks", nil, nil); code != 404 || !strings.Contains(string(b), "agent not found") {
					t.Errorf("unknown agent: %d %s", code, b)
				}

				// With detection off there are no findings to judge by:
				// the privacy category is left out, with the reason.
				off := testServer(t, st, func(o *Options) { o.DetectionOff = true })
				var noPII ChecksResponse
				get(t, off, "/api/agent/"+checked+"/checks", &noPII)
				if r := noPII.SecurityReport; r == nil || r.Categories["PRIVACY_COMPLIANCE"] != nil || r.Categories["RESOURCE_MANAGEMENT"] == nil ||
					!r.Summary.PIIDisabled || !strings.Contains(r.Summary.PIIDisabledReason, "detect.enabled") {
					t.Errorf("detection off: %+v", r)
				}
			})
		}
	}
}

func testCheckedAgent(t *testing.T, got *ChecksResponse) {
	t.Helper()
	if got.AgentID != checked || got.EvaluationStatus != "COMPLETE" || got.TotalSessions != 7 || got.CompletedSessions != 6 ||
		got.ActiveSessions != 1 || got.SessionsAnalyzed != 6 || got.MaxSessions != maxCheckSessions {
		t.Fatalf("header: %+v", got)
	}
	r := got.SecurityReport
	if r == nil || got.BehavioralAnalysis == nil {
		t.Fatal("no report")
	}
	want := map[string][2]string{
		"RESOURCE_006_DURATION_VARIANCE":  {"warning", "CV: 171%"}, // 2 min ×5, 30 min
		"RESOURCE_005_TOOL_VARIANCE":      {"warning", "CV: 186%"}, // 3 ×5, 60
		"RESOURCE_004_TOKEN_VARIANCE":     {"warning", "CV: 196%"}, // 1,000 ×5, 25,000
		"RESOURCE_001_TOKEN_BOUNDS":       {"passed", "25,000 max tokens"},
		"RESOURCE_002_TOOL_CALL_BOUNDS":   {"critical", "1 violation(s)"},
		"ENV_001_CONSISTENT_MODEL":        {"critical", "1 unpinned model(s)"},
		"ENV_002_AVG_TOOLS_COVERAGE":      {"warning", "72% coverage"}, // (5 × 2/3 + 1) / 6
		"ENV_003_UNUSED_TOOLS":            {"warning", "1 unused tool(s)"},
		"BEHAV_003_CLUSTER_FORMATION":     {"passed", "1 cluster(s)"},
		"BEHAV_001_STABILITY_SCORE":       {"passed", "83% score"},
		"BEHAV_002_OUTLIER_RATE":          {"passed", "16% outliers"},
		"BEHAV_004_PREDICTABILITY":        {"passed", "83% predictability"},
		"BEHAV_005_UNCERTAINTY_THRESHOLD": {"passed", "17% uncertainty"},
		"PII_001_DETECTION":               {"critical", "2 findings (1 high-confidence)"},
		"PII_002_SYSTEM_PROMPT":           {"warning", "1 findings"},
		"PII_003_EXPOSURE_RATE":           {"passed", "33% sessions with PII"},
	}
	checks := r.Checks()
	if len(checks) != 16 || r.TotalChecks != 16 || r.CriticalIssues != 3 || r.Warnings != 6 || r.PassedChecks != 7 || r.OverallStatus != "critical" {
		t.Errorf("report totals: %d checks, %+v, overall %s", len(checks), r.Summary, r.OverallStatus)
	}
	for _, c := range checks {
		w, ok := want[c.CheckID]
		if !ok || c.Status != w[0] || c.Value != w[1] {
			t.Errorf("%s = %s %q, want %v (evidence %v)", c.CheckID, c.Status, c.Value, w, c.Evidence)
		}
	}
	c, _ := r.Check("RESOURCE_002_TOOL_CALL_BOUNDS")
	if v, _ := c.Evidence["violations"].([]any); len(v) != 1 || v[0].(map[string]any)["session_id"] != "odd" || v[0].(map[string]any)["value"] != 60.0 {
		t.Errorf("violations: %v", c.Evidence)
	}
	c, _ = r.Check("ENV_001_CONSISTENT_MODEL")
	if fmt.Sprint(c.Evidence["unpinned_models"]) != "[gpt-4o]" || c.CVSSScore != 9.0 {
		t.Errorf("ENV_001: %+v", c)
	}
	c, _ = r.Check("ENV_003_UNUSED_TOOLS")
	if fmt.Sprint(c.Evidence["unused_tools"]) != "[delete_everything]" {
		t.Errorf("ENV_003: %v", c.Evidence)
	}
	c, _ = r.Check("PII_001_DETECTION")
	d, _ := c.Evidence["detailed_findings"].([]any)
	if len(d) != 2 || d[0].(map[string]any)["entity_type"] != "pii.credit_card" || d[0].(map[string]any)["session_id"] != "n0" ||
		d[0].(map[string]any)["text"] != "card ending 1111" || c.Evidence["high_risk_high_confidence"] != 1.0 {
		t.Errorf("PII_001 evidence: %v", c.Evidence)
	}
	c, _ = r.Check("PII_002_SYSTEM_PROMPT")
	if f, _ := c.Evidence["findings"].([]any); len(f) != 1 || f[0].(map[string]any)["entity_type"] != "pii.email" ||
		f[0].(map[string]any)["sessions"] != 5.0 || strings.Contains(fmt.Sprint(f), "jane.doe") {
		t.Errorf("PII_002 evidence: %v", c.Evidence)
	}

	a := got.BehavioralAnalysis
	if a.TotalSessions != 6 || a.NumClusters != 1 || a.NumOutliers != 1 || len(a.Clusters) != 1 || len(a.Outliers) != 1 {
		t.Fatalf("analysis: %+v", a)
	}
	cl := a.Clusters[0]
	ids := slices.Clone(cl.SessionIDs)
	slices.Sort(ids)
	if cl.Size != 5 || strings.Join(ids, ",") != "n0,n1,n2,n3,n4" || cl.Characteristics.CommonToolSequence != "search → fetch → search" ||
		cl.Characteristics.DurationSeconds.Median != 120 {
		t.Errorf("cluster: %+v", cl)
	}
	o := a.Outliers[0]
	if o.SessionID != "odd" || o.NearestClusterID != "cluster_1" || !strings.Contains(strings.Join(o.PrimaryCauses, "|"), "scrape") {
		t.Errorf("outlier: %+v", o)
	}
}

// The seeded world: agent-alpha has two completed sessions (s-a3 is
// active), beta one; alpha's card finding has confidence 0.8 exactly,
// which must survive the float32 round trip as high-confidence.
func TestAgentChecksSeededWorld(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		st, _ := seededStore(t, engine)
		s := testServer(t, st, nil)
		var got ChecksResponse
		get(t, s, "/api/agent/"+alpha+"/checks", &got)
		if got.EvaluationStatus != "COMPLETE" || got.SessionsAnalyzed != 2 || got.ActiveSessions != 1 {
			t.Fatalf("alpha: %+v", got)
		}
		want := map[string][2]string{
			"ENV_001_CONSISTENT_MODEL":   {"critical", "1 unpinned model(s)"}, // gpt-4o-mini; gpt-4o only in the active session
			"ENV_002_AVG_TOOLS_COVERAGE": {"warning", "50% coverage"},         // s-a1 offered get_weather, search
			"ENV_003_UNUSED_TOOLS":       {"warning", "1 unused tool(s)"},
			"PII_001_DETECTION":          {"critical", "1 findings (1 high-confidence)"},
			"PII_002_SYSTEM_PROMPT":      {"passed", "No PII in system prompts"},
			"PII_003_EXPOSURE_RATE":      {"passed", "50% sessions with PII"},
			"RESOURCE_001_TOKEN_BOUNDS":  {"passed", "45 max tokens"},
		}
		for id, w := range want {
			c, ok := got.SecurityReport.Check(id)
			if !ok || c.Status != w[0] || c.Value != w[1] {
				t.Errorf("%s = %s %q, want %v", id, c.Status, c.Value, w)
			}
		}

		get(t, s, "/api/agent/"+beta+"/checks", &got)
		if got.EvaluationStatus != "PARTIAL" || got.SessionsAnalyzed != 1 || got.BehavioralAnalysis.Error == "" {
			t.Fatalf("beta: %+v", got)
		}
		cat := got.SecurityReport.Categories[behavior.CategoryBehavioral]
		if len(cat.Checks) != 1 || cat.Checks[0].CheckID != "BEHAV_003_CLUSTER_FORMATION" || cat.Checks[0].Status != "critical" {
			t.Errorf("beta behavioral: %+v", cat)
		}
		if c, _ := got.SecurityReport.Check("RESOURCE_002_TOOL_CALL_BOUNDS"); c.Value != "2 max calls" {
			t.Errorf("beta RESOURCE_002 = %q", c.Value)
		}
	})
}

// Only the most recent maxCheckSessions completed sessions are evaluated:
// the oldest session's 60 tool calls are outside the bound.
func TestAgentChecksBound(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 2,003 sessions")
	}
	eachEngine(t, func(t *testing.T, engine string) {
		s := &seed{}
		for i := range maxCheckSessions + 3 {
			sid := fmt.Sprintf("b%05d", i)
			at := t0.Add(-time.Hour + time.Duration(i)*time.Second)
			s.call(checked, sid, at, "gpt-4-0613", "hi", nil)
			n := 1
			if i == 0 {
				n = 60
			}
			for range n {
				s.tool(checked, sid, at, "search", `{}`)
			}
		}
		srv := testServer(t, storeWith(t, engine, s.events), nil)
		var got ChecksResponse
		get(t, srv, "/api/agent/"+checked+"/checks", &got)
		if got.CompletedSessions != maxCheckSessions+3 || got.SessionsAnalyzed != maxCheckSessions {
			t.Fatalf("completed %d, analysed %d", got.CompletedSessions, got.SessionsAnalyzed)
		}
		if c, _ := got.SecurityReport.Check("RESOURCE_002_TOOL_CALL_BOUNDS"); c.Status != "passed" || c.Value != "1 max calls" {
			t.Errorf("RESOURCE_002 = %s %q: the oldest session was evaluated", c.Status, c.Value)
		}
		if c, _ := got.SecurityReport.Check("ENV_001_CONSISTENT_MODEL"); c.Value != "1 pinned model(s)" {
			t.Errorf("ENV_001 = %q", c.Value)
		}
	})
}

// With analytics off the checks answer the empty state, and a bad id is
// still a 400.
func TestAgentChecksEmptyState(t *testing.T) {
	s := testServer(t, nil, nil)
	var got ChecksResponse
	get(t, s, "/api/agent/a/checks", &got)
	if got.Storage.Available || got.Storage.Reason == "" || got.EvaluationStatus != "INSUFFICIENT_DATA" ||
		got.SecurityReport != nil || got.BehavioralAnalysis != nil || got.MaxSessions != maxCheckSessions {
		t.Errorf("empty state: %+v", got)
	}
	if code, b := call(t, s, "GET", "/api/agent/"+strings.Repeat("x", maxIDLen+1)+"/checks", nil, nil); code != 400 {
		t.Errorf("long id: %d %s", code, b)
	}
}
