package web_test

import (
	"strings"
	"testing"
	"time"
)

// The steps that the walkthroughs against the fixture (TestUIAgainstFixture,
// TestWorkflowUIAgainstFixture) and against the perimeter binary
// (TestUIAgainstRealServer, TestWorkflowUIAgainstRealServer) both take:
// the same UI, so the same checks. Each starts on the page it names;
// within bounds each wait.

// withoutReload runs show, which makes new traffic and waits until the
// page on screen shows it, and fails when the page was reloaded for it.
func withoutReload(t *testing.T, tb *tab, show func()) {
	t.Helper()
	tb.eval(`window.__noReload = 42`)
	show()
	var still int
	tb.evalInto(`window.__noReload || 0`, &still)
	if still != 42 {
		t.Fatal("the page reloaded to show new events")
	}
}

// checkTimeline checks the page of a session whose user sent xssMessage
// and whose model called get_weather: the timeline shows the call with
// args among its arguments, the turn flagged with rule, and the markup as
// text.
func checkTimeline(t *testing.T, tb *tab, args, rule string, within time.Duration) {
	t.Helper()
	tb.waitVisible("[data-testid=timeline]")
	tb.waitText("[data-testid=timeline]", "Tool call: get_weather", within)
	tb.waitText("[data-testid=tool-call]", args, within)
	tb.waitText(".tl-item.flagged [data-testid=finding]", rule, within)
	tb.waitText("[data-testid=timeline]", `<img src=x onerror="window.__xss=1">`, within)
	assertNoInjection(t, tb)
}

// fixRecommendation takes the recommendation on screen, a critical one
// titled xssTitle, from PENDING through start, complete (fix: the form's
// fix_notes, files_modified one a line, fix_commit and by) and verify to
// VERIFIED, checking the message each step answers (results, the server's
// words), the fix's details, the audit log and the finding's status.
func fixRecommendation(t *testing.T, tb *tab, fix map[string]string, verification string, results [3]string, within time.Duration) {
	t.Helper()
	tb.waitText("#rec-actions", "Start fix", within)
	tb.waitText(".page-head h1", `<img src=x onerror="window.__xss=3">`, within)
	assertNoInjection(t, tb)
	tb.click("[data-step=start]")
	tb.waitText("[data-testid=step-result]", results[0], within)
	tb.waitText(".page-head", "Fixing", within)
	tb.submit("[data-step=complete]", "form[data-form=complete]", fix)
	tb.waitText("[data-testid=step-result]", results[1], within)
	tb.waitText(".page-head", "Fixed", within)
	for _, file := range strings.Split(fix["files_modified"], "\n") {
		tb.waitText("#rec-detail", file, within)
	}
	tb.waitText("#rec-detail", fix["fix_commit"], within)
	tb.submit("[data-step=verify]", "form[data-form=verify]", map[string]string{"verification_result": verification})
	tb.waitText("[data-testid=step-result]", results[2], within)
	tb.waitText(".page-head", "Verified", within)
	tb.waitText("[data-testid=no-steps]", "nothing more to do", within)
	tb.waitTexts("[data-testid=audit]", within, "PENDING → FIXING", "FIXING → FIXED", "by "+fix["by"])
	if n := tb.count("[data-testid=audit] li"); n < 3 {
		t.Errorf("audit log shows %d entries after three steps", n)
	}
	tb.waitText("#rec-finding", "Fixed", within)
	assertNoInjection(t, tb)
	assertClean(t, tb)
}

// generateReport generates a report on the reports page of a workflow
// with no report saved and no blocking issue left, and checks its
// preview: a GO decision and the OWASP LLM Top 10 with LLM01 named.
func generateReport(t *testing.T, tb *tab, within time.Duration) {
	t.Helper()
	tb.waitText("#reports", "No saved reports", within)
	tb.click("[data-testid=generate] button[type=submit]")
	tb.waitText("#report-preview [data-decision]", "GO", within)
	tb.waitText("#report-preview", "OWASP Top 10 for LLM Applications", within)
	tb.waitText("#report-preview tr[data-control=LLM01]", "Prompt Injection", within)
	tb.waitText("#report-preview [data-testid=no-blocking]", "None", within)
	assertNoInjection(t, tb)
	assertClean(t, tb)
}

// saveReport saves the report previewed, checks the saved report's page
// and returns the link to its printable page.
func saveReport(t *testing.T, tb *tab, within time.Duration) string {
	t.Helper()
	tb.click("[data-testid=save-report]")
	tb.waitVisible("#saved-report")
	tb.waitText(".page-head h1", "Security Assessment - ", within)
	tb.waitText("#saved-report", "Cleared for production deployment", within)
	var link string
	tb.evalInto(`document.querySelector('[data-testid=printable-html]').getAttribute('href')`, &link)
	if !strings.HasPrefix(link, "/api/reports/RPT-") || !strings.HasSuffix(link, "/html") {
		t.Errorf("printable page link = %q", link)
	}
	assertClean(t, tb)
	return link
}

// deleteReport deletes the one report saved, from the reports page: the
// button asks for a confirmation first.
func deleteReport(t *testing.T, tb *tab, within time.Duration) {
	t.Helper()
	tb.waitText("#reports", "Security Assessment", within)
	if n := tb.count("#reports tbody tr"); n != 1 {
		t.Fatalf("%d saved reports listed, want 1", n)
	}
	tb.click("[data-testid=delete-report]")
	tb.waitText("[data-testid=delete-report]", "Confirm delete", within)
	tb.click("[data-testid=delete-report]")
	tb.waitText("#reports", "No saved reports", within)
}

// runDynamicAnalysis runs the analysis on the dynamic analysis page of wf,
// none run yet, and checks that agent's checks (among them its pinned
// models) and the history show it and that nothing is left to analyse.
func runDynamicAnalysis(t *testing.T, tb *tab, wf, agent string, within time.Duration) {
	t.Helper()
	tb.waitText("#dyn-history", "No analyses yet", within)
	tb.click("[data-testid=run-analysis]")
	tb.waitVisible("[data-testid=run-result]")
	tb.waitText("#dyn-checks [data-agent="+agent+"]", "unpinned model(s)", within)
	tb.waitTexts("#dyn-history", within, "dynamic_"+wf, "latest")
	tb.waitText("[data-kpi=unanalyzed] .kpi-value", "0", within)
	var disabled bool
	tb.evalInto(`document.querySelector('[data-testid=run-analysis]').disabled`, &disabled)
	if !disabled {
		t.Error("Run analysis is enabled with no new sessions")
	}
	assertClean(t, tb)
}

// renameAgent gives the agent on screen a display name with markup and a
// description through its form, and checks that both show, the markup as
// text, and were stored: a fresh load shows them.
func renameAgent(t *testing.T, tb *tab, agent string, within time.Duration) {
	t.Helper()
	tb.waitText("#agent-info", "No display name", within)
	tb.submit("[data-testid=edit-agent]", "#agent-info form", map[string]string{"display_name": "Shop support <i>bot</i>", "description": "Answers order questions"})
	tb.waitTexts("#agent-info", within, "Shop support <i>bot</i>", "Answers order questions")
	if n := tb.count("#agent-info i"); n != 0 {
		t.Error("a display name was parsed as HTML")
	}
	tb.open("/agent/" + agent)
	tb.waitTexts("#agent-info", within, "Shop support <i>bot</i>", "Answers order questions")
	assertClean(t, tb)
}

// checkStoreOffPages opens one report's, one recommendation's and one
// session's page on a dashboard whose store is off, where the API answers
// 200 with empty data: each shows the analytics-off banner and nothing
// made of that emptiness (no "undefined", no empty crumb, no status badge,
// no button to print or delete what does not exist).
func checkStoreOffPages(t *testing.T, tb *tab, within time.Duration) {
	t.Helper()
	for _, c := range []struct{ route, crumbs string }{
		{"/report/RPT-1", "Workflows / Reports"},
		{"/recommendation/REC-1", "Workflows / Recommendations"},
		{"/session/abc", "Sessions"},
	} {
		tb.open(c.route)
		tb.waitText("[data-testid=analytics-off]", "Analytics are off because", within)
		if got := strings.TrimSpace(tb.text(".page-head .crumbs")); got != c.crumbs {
			t.Errorf("%s: crumbs %q, want %q", c.route, got, c.crumbs)
		}
		if n := tb.count("#main .badge, #main button, #main .panel"); n != 0 {
			t.Errorf("%s shows %d badges, buttons or panels while the store is off: %.300s", c.route, n, tb.text("#main"))
		}
		assertClean(t, tb)
	}
}
