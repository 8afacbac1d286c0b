package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/storetest"
)

// BenchmarkWorkflowQueries measures the workflow's reads on the embedded
// engine for a workflow with 2,000 runtime sessions (five events each,
// plus as many sessions of another workflow) and 500 findings with their
// recommendations. The budget is 100 ms per query.
func BenchmarkWorkflowQueries(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	st := openEmbedded(b)
	svc := New(st, Options{})
	if err := svc.ready(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	storetest.Sessions(b, ctx, st, 4000, now.Add(-4000*time.Second), []string{"wf-bench", "wf-other"}, func(_ int, wf string, ev func(name, attrs string) *sink.Event) {
		ev(sink.SessionStart, `{"tools":[{"name":"search"},{"name":"refund"},{"name":"delete"}],"prompt":"You help customers with their orders."}`)
		ev(sink.LLMCallStart, `{"llm.model":"gpt-4o","llm.request.data":{"messages":[{"role":"user","content":"where is my order 12345?"}]}}`)
		ev(sink.LLMCallFinish, `{"llm.response.content":[{"type":"text","text":"Let me check that for you, it shipped yesterday."}],"agent_workflow.id":"`+wf+`"}`)
		ev(sink.ToolExecution, `{"tool.name":"search","tool.params":{"q":"12345"},"agent_workflow.id":"`+wf+`"}`).ToolName = "search"
		ev(sink.ToolResult, `{"tool.name":"search","tool.status":"success"}`)
	})
	a, err := svc.CreateAnalysisSession(ctx, CreateSessionParams{WorkflowID: "wf-bench"})
	if err != nil {
		b.Fatal(err)
	}
	var frows, rrows [][]any
	for i := range 500 {
		p := FindingParams{FilePath: fmt.Sprintf("agent/mod%03d.py", i), FindingType: "PROMPT_INJECTION", Title: fmt.Sprintf("finding %d", i),
			Description: "user input reaches the system prompt", CodeSnippet: "prompt = f'{x}'", OWASPMapping: []string{"LLM01"}}
		f := &Finding{FindingID: fmt.Sprintf("find_%012d", i), SessionID: a.SessionID, AgentWorkflowID: "wf-bench", SourceType: "STATIC",
			Category: ptr("PROMPT"), FilePath: p.FilePath, FindingType: p.FindingType, Severity: Severities[i%4], Title: p.Title,
			Description: &p.Description, Evidence: json.RawMessage(`{"code_snippet":"prompt = f'{x}'"}`), OWASPMapping: p.OWASPMapping,
			Status: "OPEN", createdUS: now.UnixMicro() + int64(i), updatedUS: now.UnixMicro() + int64(i)}
		id := fmt.Sprintf("REC-%03d", i+1)
		f.RecommendationID = &id
		frows = append(frows, f.row())
		rrows = append(rrows, recFor(f, id, p).row())
	}
	for i := 0; i < len(frows); i += 100 { // statements stay under max_query_size
		if err := svc.insert(ctx, findingsT, "findings", frows[i:i+100]...); err != nil {
			b.Fatal(err)
		}
		if err := svc.insert(ctx, recsT, "recommendations", rrows[i:i+100]...); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := svc.CompleteAnalysisSession(ctx, a.SessionID, true); err != nil {
		b.Fatal(err)
	}
	if l, err := svc.ListFindings(ctx, FindingFilter{WorkflowID: "wf-bench", Limit: 1000}); err != nil || l.TotalCount != 500 {
		b.Fatalf("setup: %d findings, %v", l.TotalCount, err)
	}
	for _, op := range []struct {
		name string
		run  func() error
	}{
		{"ListFindings", func() error { _, err := svc.ListFindings(ctx, FindingFilter{WorkflowID: "wf-bench"}); return err }},
		{"ListRecommendations", func() error { _, err := svc.ListRecommendations(ctx, "wf-bench", RecFilter{}); return err }},
		{"GateStatus", func() error { _, err := svc.GateStatus(ctx, "wf-bench"); return err }},
		{"ComplianceReport", func() error { _, err := svc.ComplianceReport(ctx, "wf-bench", "", false, ""); return err }},
		{"CorrelationSummary", func() error { _, err := svc.CorrelationSummary(ctx, "wf-bench"); return err }},
		{"ToolUsageSummary", func() error { _, err := svc.ToolUsageSummary(ctx, "wf-bench"); return err }},
		{"WorkflowState", func() error { _, err := svc.WorkflowStateOf(ctx, "wf-bench"); return err }},
		{"Workflows", func() error { _, err := svc.Workflows(ctx); return err }},
		{"AuditLog", func() error { _, err := svc.AuditLog(ctx, AuditFilter{}); return err }},
	} {
		b.Run(op.name, func(b *testing.B) {
			for b.Loop() {
				if err := op.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
