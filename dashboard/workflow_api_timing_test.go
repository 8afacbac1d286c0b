package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/dashboard/workflow"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/storetest"
)

// BenchmarkWorkflowAPI measures the workflow's REST reads, end to end over
// HTTP, on the embedded engine: a workflow of 2,000 completed sessions
// (five events each, seven agents; as many again in another workflow) and
// 500 findings with their recommendations. The budget is 100 ms a read.
// The dynamic analysis of those sessions (a write) is timed once.
func BenchmarkWorkflowAPI(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	st := openEmbedded(b)
	now := time.Now()
	storetest.Sessions(b, ctx, st, 4000, now.Add(-4000*time.Second-time.Hour), []string{"wf-bench", "wf-other"}, func(i int, wf string, ev func(name, attrs string) *sink.Event) {
		ev(sink.SessionStart, `{"tools":[{"name":"search"},{"name":"refund"}],"prompt":"You help customers with their orders."}`)
		ev(sink.LLMCallStart, `{"llm.model":"gpt-4o"}`)
		f := ev(sink.LLMCallFinish, `{"llm.usage.total_tokens":150,"agent_workflow.id":"`+wf+`"}`)
		f.Model, f.InputTokens, f.OutputTokens, f.TotalTokens, f.DurationMs = "gpt-4o", 100+int64(i%50), 50, 150+int64(i%50), 700
		ev(sink.ToolExecution, `{"tool.name":"search","agent_workflow.id":"`+wf+`"}`).ToolName = "search"
		ev(sink.ToolResult, `{"tool.name":"search","tool.status":"success"}`)
	})
	s, err := New(Options{Store: st, Schema: schemaOf(st), Host: "127.0.0.1", Version: "bench", Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	httpDo := func(b *testing.B, method, path string) (int, []byte) { return call(b, s, method, path, nil, nil) }
	svc := s.wf.service()
	start := time.Now()
	a, err := svc.CreateAnalysisSession(ctx, workflow.CreateSessionParams{WorkflowID: "wf-bench"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 500 {
		if _, err := svc.StoreFinding(ctx, workflow.FindingParams{SessionID: a.SessionID, FilePath: fmt.Sprintf("agent/mod%03d.py", i),
			FindingType: "PROMPT_INJECTION", Severity: workflow.Severities[i%4], Title: fmt.Sprintf("finding %d", i),
			OWASPMapping: []string{"LLM01"}}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := svc.CompleteAnalysisSession(ctx, a.SessionID, true); err != nil {
		b.Fatal(err)
	}
	b.Logf("500 findings stored one by one in %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	code, body := httpDo(b, "POST", "/api/workflow/wf-bench/trigger-dynamic-analysis")
	if code != http.StatusOK {
		b.Fatalf("trigger: %d %s", code, body)
	}
	b.Logf("dynamic analysis of 2,000 sessions (7 agents): %v: %.200s", time.Since(start).Round(time.Millisecond), body)

	for _, path := range []string{
		"/api/agent-workflows",
		"/api/dashboard?agent_workflow_id=wf-bench",
		"/api/sessions/list?agent_workflow_id=wf-bench",
		"/api/agents?agent_workflow_id=wf-bench",
		"/api/agent-workflow/wf-bench/findings",
		"/api/workflow/wf-bench/recommendations",
		"/api/workflow/wf-bench/production-readiness",
		"/api/workflow/wf-bench/gate",
		"/api/workflow/wf-bench/compliance-report",
		"/api/workflow/wf-bench/static-summary",
		"/api/workflow/wf-bench/correlation-summary",
		"/api/workflow/wf-bench/tool-usage",
		"/api/workflow/wf-bench/state",
		"/api/workflow/wf-bench/dynamic-analysis-status",
		"/api/workflow/wf-bench/analysis-history",
		"/api/agent-workflow/wf-bench/security-checks",
		"/api/workflow/wf-bench/agents",
		"/api/workflow/wf-bench/sessions",
		"/api/agents/info?agent_workflow_id=wf-bench",
		"/api/audit-log",
	} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				if code, body := httpDo(b, "GET", path); code != http.StatusOK {
					b.Fatalf("%d %s", code, body)
				}
			}
		})
	}
}
