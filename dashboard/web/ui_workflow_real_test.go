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
		tb.waitText(row, agent, 5*time.Second)
		tb.waitText(row, "Blocked", 5*time.Second)
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
		tb.waitText("#rec-actions", "Start fix", 10*time.Second)
		tb.click("[data-step=start]")
		tb.waitText(".page-head", "Fixing", 10*time.Second)
		tb.submit("[data-step=complete]", "form[data-form=complete]", map[string]string{"fix_notes": "User input no longer reaches the system prompt", "files_modified": "shop/prompt.py", "fix_commit": "cafe123"})
		tb.waitText(".page-head", "Fixed", 10*time.Second)
		tb.waitText("#rec-detail", "cafe123", 5*time.Second)
		tb.submit("[data-step=verify]", "form[data-form=verify]", map[string]string{"verification_result": "Injection tests pass"})
		tb.waitText(".page-head", "Verified", 10*time.Second)
		tb.waitText("[data-testid=no-steps]", "nothing more to do", 5*time.Second)
		if n := tb.count("[data-testid=audit] li"); n < 3 {
			t.Errorf("audit log shows %d entries after three steps", n)
		}
		assertNoInjection(t, tb)
		assertClean(t, tb)
		tb.shot("real-recommendation")

		tb.goRoute("/recommendations?workflow=" + wf)
		tb.waitText("#gate", "Open", 10*time.Second)
	})

	tb.step(t, "report", func(t *testing.T) {
		tb.goRoute("/reports?workflow=" + wf)
		tb.waitText("#reports", "No saved reports", 10*time.Second)
		tb.click("[data-testid=generate] button[type=submit]")
		tb.waitText("#report-preview [data-decision]", "GO", 10*time.Second)
		tb.waitText("#report-preview tr[data-control=LLM01]", "LLM01", 5*time.Second)
		assertClean(t, tb)
		tb.click("[data-testid=save-report]")
		tb.waitVisible("#saved-report")
		tb.waitText("#saved-report", "Cleared for production deployment", 10*time.Second)
		var link string
		tb.evalInto(`document.querySelector('[data-testid=printable-html]').getAttribute('href')`, &link)
		page := inst.get(t, link)
		if !strings.Contains(page, "<!doctype html>") || !strings.Contains(page, wf) {
			t.Errorf("the standalone printable page at %s: %.300s", link, page)
		}
		assertClean(t, tb)
		tb.shot("real-report")
		tb.goRoute("/reports?workflow=" + wf)
		tb.waitText("#reports", "Security Assessment", 10*time.Second)
		tb.click("[data-testid=delete-report]")
		tb.click("[data-testid=delete-report]")
		tb.waitText("#reports", "No saved reports", 10*time.Second)
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
		tb.waitText("#dyn-history", "No analyses yet", 5*time.Second)
		tb.click("[data-testid=run-analysis]")
		tb.waitVisible("[data-testid=run-result]")
		tb.waitText("#dyn-checks [data-agent="+agent+"]", agent, 20*time.Second)
		tb.waitText("#dyn-history", "dynamic_"+wf, 5*time.Second)
		tb.waitText("[data-kpi=unanalyzed] .kpi-value", "0", 5*time.Second)
		assertClean(t, tb)
		tb.shot("real-dynamic-analysis")
	})

	tb.step(t, "agent display name", func(t *testing.T) {
		tb.goRoute("/agent/" + agent)
		tb.waitText("#agent-info", "No display name", 10*time.Second)
		tb.submit("[data-testid=edit-agent]", "#agent-info form", map[string]string{"display_name": "Shop support", "description": "Answers order questions"})
		tb.waitText("#agent-info", "Shop support", 10*time.Second)
		tb.open("/agent/" + agent)
		tb.waitText("#agent-info", "Answers order questions", 10*time.Second)
		assertClean(t, tb)
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
