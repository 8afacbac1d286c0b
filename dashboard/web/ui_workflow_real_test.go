package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
)

// TestWorkflowUIAgainstRealServer walks the security workflow's pages on
// the perimeter binary with the embedded store: traffic through the
// proxy's /agent-workflow/{id}/ route, a static review stored over REST
// (as an IDE assistant does over MCP), then in the browser the workflows
// home, the scoped overview, a recommendation taken through its whole
// lifecycle until the gate opens, a report generated, saved, opened and
// deleted, the static and dynamic analysis pages and the dev connection.
func TestWorkflowUIAgainstRealServer(t *testing.T) {
	b := newBrowser(t)
	// Sessions complete one second after their last call, so the dynamic
	// analysis has something to analyse.
	inst := startWithStore(t, mockllm.Config{Chunks: 4}, ", session_completion_timeout: 1")

	const wf, agent = "shop-web", "shop-web-agent"
	inst.conversationAt(t, "/agent-workflow/"+wf, agent, "You are the shop's support agent.", "Where is my order?")
	inst.conversation(t, "loose-agent", "You are an agent without a workflow.", "Hello")
	inst.waitStored(t, "/api/agent-workflows", `"`+wf+`"`)

	// A static review, as the IDE assistant stores it.
	sess := inst.postJSON(t, "/api/sessions/analysis", map[string]any{"agent_workflow_id": wf, "session_type": "STATIC"})
	sid, _ := sess["session"].(map[string]any)["session_id"].(string)
	if sid == "" {
		t.Fatalf("no analysis session: %v", sess)
	}
	for _, f := range []map[string]any{
		{"session_id": sid, "file_path": "shop/prompt.py", "finding_type": "PROMPT_INJECTION", "severity": "CRITICAL", "title": xssTitle,
			"description": "User text is pasted into the system prompt.", "line_start": 12, "line_end": 18, "owasp_mapping": []string{"LLM01"}, "cwe": "CWE-77"},
		{"session_id": sid, "file_path": "shop/config.py", "finding_type": "SECRET_IN_CODE", "severity": "MEDIUM", "title": "API key in source",
			"line_start": 3, "owasp_mapping": []string{"LLM02"}},
	} {
		inst.postJSON(t, "/api/findings", f)
	}
	inst.postJSON(t, "/api/sessions/analysis/"+sid+"/complete", map[string]any{})
	inst.postJSON(t, "/api/ide/heartbeat", map[string]any{"agent_workflow_id": wf, "ide_type": "cursor", "workspace_path": "/home/ana/shop"})

	tb := b.tab(t, inst.dashboard)
	tb.step(t, "workflows home", func(t *testing.T) {
		tb.open("/workflows")
		tb.waitRow("#workflows", wf, 10*time.Second)
		row := fmt.Sprintf(`#workflows tr[data-key=%q]`, wf)
		tb.waitTexts(row, 5*time.Second, agent, "Blocked")
		tb.waitRow("#workflows", "unassigned", 5*time.Second)
		assertNoInjection(t, tb)
		assertClean(t, tb)
		tb.shot("real-workflows")
	})

	tb.step(t, "scoped overview", func(t *testing.T) {
		tb.open("/?workflow=" + wf)
		tb.waitText("#gate", "Blocked", 10*time.Second)
		tb.waitText("#agents", agent, 10*time.Second)
		if strings.Contains(tb.text("#agents"), "loose-agent") {
			t.Error("the scoped overview lists an agent of another workflow")
		}
		assertClean(t, tb)
		tb.goRoute("/findings?workflow=" + wf)
		tb.waitText("#workflow-findings", "API key in source", 10*time.Second)
		tb.waitVisible("#findings")
		if n := tb.count(".scope-note"); n != 0 {
			t.Error("the server's runtime detections are not scoped to the workflow")
		}
	})

	tb.step(t, "recommendation lifecycle", func(t *testing.T) {
		tb.open("/recommendations?workflow=" + wf)
		tb.waitText("#gate", "Blocked", 10*time.Second)
		tb.waitText(`#recommendations tbody tr:first-child`, "Critical", 5*time.Second)
		var rec string
		tb.evalInto(`document.querySelector('#recommendations tbody tr').dataset.key`, &rec)
		if !strings.HasPrefix(rec, "REC-") {
			t.Fatalf("first recommendation id %q", rec)
		}
		tb.goRoute("/recommendation/" + rec + "?workflow=" + wf)
		fixRecommendation(t, tb, map[string]string{"fix_notes": "User input no longer reaches the system prompt", "files_modified": "shop/prompt.py", "fix_commit": "cafe123", "by": "ana"},
			"Injection tests pass", [3]string{"Fix started for " + rec, "Fix completed for " + rec, "Fix verified for " + rec}, 10*time.Second)
		tb.shot("real-recommendation")

		tb.goRoute("/recommendations?workflow=" + wf)
		tb.waitText("#gate", "Open", 10*time.Second)
	})

	tb.step(t, "report", func(t *testing.T) {
		tb.goRoute("/reports?workflow=" + wf)
		generateReport(t, tb, 10*time.Second)
		link := saveReport(t, tb, 10*time.Second)
		page := inst.get(t, link)
		if !strings.Contains(page, "<!doctype html>") || !strings.Contains(page, wf) {
			t.Errorf("the standalone printable page at %s: %.300s", link, page)
		}
		assertClean(t, tb)
		tb.shot("real-report")
		tb.goRoute("/reports?workflow=" + wf)
		deleteReport(t, tb, 10*time.Second)
	})

	tb.step(t, "static analysis", func(t *testing.T) {
		tb.goRoute("/static-analysis?workflow=" + wf)
		tb.waitText("#static-checks [data-category=PROMPT]", "PASS", 10*time.Second)
		tb.waitText("#static-checks [data-category=DATA]", "INFO", 5*time.Second)
		tb.waitText("#scan-history", sid, 5*time.Second)
		tb.click("[data-testid=correlate]")
		tb.waitText("[data-testid=correlate-result]", "Correlated", 10*time.Second)
		assertClean(t, tb)
		tb.shot("real-static-analysis")
	})

	tb.step(t, "dynamic analysis", func(t *testing.T) {
		tb.goRoute("/dynamic-analysis?workflow=" + wf)
		tb.waitText("[data-kpi=unanalyzed] .kpi-value", "1", 10*time.Second)
		runDynamicAnalysis(t, tb, wf, agent, 20*time.Second)
		tb.shot("real-dynamic-analysis")
	})

	tb.step(t, "agent display name", func(t *testing.T) {
		tb.goRoute("/agent/" + agent)
		renameAgent(t, tb, agent, 10*time.Second)
	})

	tb.step(t, "dev connection", func(t *testing.T) {
		tb.goRoute("/dev-connection?workflow=" + wf)
		tb.waitText("[data-testid=ide-state]", "Connected", 10*time.Second)
		tb.waitText("[data-testid=ide-info]", "/home/ana/shop", 5*time.Second)
		tb.waitText("[data-testid=mcp-url]", inst.dashboard+"/mcp", 5*time.Second)
		assertClean(t, tb)
		tb.shot("real-dev-connection")
	})
}
