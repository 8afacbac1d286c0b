package workflow

import (
	"reflect"
	"testing"

	"github.com/cylestio/perimeter/detect/behavior"
)

// TestDynamicAnalysis records dynamic analyses over a workflow's runtime
// sessions: unanalysed sessions are counted per agent, failing checks
// become findings and recommendations that block the gate, a check that
// fails again supersedes its old recommendation, one that passes
// resolves it.
func TestDynamicAnalysis(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := ctxT(t)
		svc := runtimeService(t, ctx, engine)
		status, err := svc.DynamicAnalysisStatus(ctx, "wf-shop")
		if err != nil || !status.CanTrigger || status.TotalUnanalyzedSessions != 2 || status.AgentsWithNewSessions != 1 || status.LastAnalysis != nil {
			t.Fatalf("status before: %+v %v", status, err)
		}
		todo, err := svc.UnanalyzedSessions(ctx, "wf-shop", false)
		if err != nil || !reflect.DeepEqual(todo, map[string][]string{"agent-shop": {"s1", "s2"}}) {
			t.Fatalf("unanalysed %v %v", todo, err)
		}
		tokens := func(status string) behavior.Check {
			return behavior.Check{CheckID: "RESOURCE_001_TOKEN_BOUNDS", Category: behavior.CategoryResource, Name: "Token Usage Bounds",
				Status: status, Value: "61,000 tokens", OWASPLLM: "LLM08", OWASPLLMName: "Excessive Agency", CVSSScore: 9,
				Recommendations: []string{"Set max_tokens"}, SOC2Controls: []string{"CC6.1"}}
		}
		passed := behavior.Check{CheckID: "ENV_001_CONSISTENT_MODEL", Category: behavior.CategoryEnvironment, Name: "Pinned Model Versions", Status: "passed"}
		run := func(check behavior.Check) *DynamicResult {
			t.Helper()
			res, err := svc.RecordDynamicAnalysis(ctx, "wf-shop", []AgentRun{{AgentID: "agent-shop", SessionIDs: todo["agent-shop"], Checks: []behavior.Check{check, passed}}})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		res := run(tokens("critical"))
		if res.Status != "completed" || res.FindingsCreated != 1 || res.SessionsAnalyzed != 2 || res.AgentsAnalyzed != 1 {
			t.Fatalf("first analysis %+v", res)
		}
		recs, _ := svc.ListRecommendations(ctx, "wf-shop", RecFilter{})
		if len(recs.Recommendations) != 1 || len(recs.Recommendations[0].RecommendationID) != len("REC-DYN-12345678") ||
			deref(recs.Recommendations[0].OWASPLLM) != "LLM06" || recs.Recommendations[0].Severity != "CRITICAL" {
			t.Fatalf("dynamic recommendation %+v", recs.Recommendations)
		}
		first := recs.Recommendations[0].RecommendationID
		if g, _ := svc.GateStatus(ctx, "wf-shop"); g.GateState != "BLOCKED" || g.DynamicAnalysis.CriticalCount != 1 || g.DynamicAnalysis.Status != "completed" {
			t.Fatalf("gate after a critical check: %+v", g)
		}
		status, _ = svc.DynamicAnalysisStatus(ctx, "wf-shop")
		if status.CanTrigger || status.TotalUnanalyzedSessions != 0 || status.LastAnalysis == nil || status.LastAnalysis.SessionID != res.AnalysisSessionID {
			t.Fatalf("status after: %+v", status)
		}
		if r, _ := svc.RecordDynamicAnalysis(ctx, "wf-shop", nil); r.Status != "no_new_sessions" {
			t.Fatalf("empty run: %+v", r)
		}
		checks, err := svc.WorkflowSecurityChecks(ctx, "wf-shop", "", "", 0)
		if err != nil || len(checks.Agents) != 1 || checks.TotalSummary.Critical != 1 || checks.TotalSummary.Passed != 1 ||
			checks.Agents[0].Checks[0].CheckID != res.AnalysisSessionID+"_agent-shop_ENV_001_CONSISTENT_MODEL" {
			t.Fatalf("workflow checks %+v %v", checks, err)
		}

		// The same sessions again (force): the check still fails.
		if todo, err = svc.UnanalyzedSessions(ctx, "wf-shop", true); err != nil || len(todo["agent-shop"]) != 2 {
			t.Fatalf("forced %v %v", todo, err)
		}
		res = run(tokens("critical"))
		if res.IssuesSuperseded != 1 || res.IssuesAutoResolved != 0 || res.FindingsCreated != 1 {
			t.Fatalf("second analysis %+v", res)
		}
		if d, _ := svc.Recommendation(ctx, first); d.Recommendation.Status != "SUPERSEDED" || d.Finding.Status != "SUPERSEDED" {
			t.Fatalf("old recommendation %s / finding %s", d.Recommendation.Status, d.Finding.Status)
		}
		res = run(tokens("passed"))
		if res.IssuesAutoResolved != 1 || res.FindingsCreated != 0 {
			t.Fatalf("third analysis %+v", res)
		}
		if g, _ := svc.GateStatus(ctx, "wf-shop"); g.GateState != "OPEN" {
			t.Fatalf("gate after the check passed: %+v", g)
		}
		hist, err := svc.AnalysisHistoryOf(ctx, "wf-shop", "", 0)
		if err != nil || hist.TotalCount != 3 || hist.LatestID == nil || *hist.LatestID != res.AnalysisSessionID || *hist.Analyses[0].SessionsAnalyzed != 2 {
			t.Fatalf("history %+v %v", hist, err)
		}
		list, err := svc.SecurityChecks(ctx, CheckFilter{AgentID: "agent-shop", Status: "CRITICAL"})
		if err != nil || list.TotalCount != 2 {
			t.Fatalf("critical checks %+v %v", list, err)
		}
	})
}
