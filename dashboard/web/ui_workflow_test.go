package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// xssTitle is a finding an IDE assistant could store from code it read:
// markup in it must stay text on every page that shows it.
const xssTitle = `Prompt built from raw user input <img src=x onerror="window.__xss=3"><b id="xss-bold">x</b>`

// TestWorkflowUIAgainstFixture walks the security workflow's pages with
// data in them: the workflows home, the picker scoping the overview,
// agents, sessions and findings, recommendations and their lifecycle
// (start, complete with notes/files/commit, verify, dismiss) until the
// gate opens, a report generated, saved, opened and deleted, static and
// dynamic analysis (a run through the UI), the dev connection and the
// connect page.
func TestWorkflowUIAgainstFixture(t *testing.T) {
	b := newBrowser(t)
	now := time.Now()
	fx := newFixture(true)
	fx.addConversation("support-bot", "sess-shop-0001", "gpt-4o-mini", "Where is my order? "+xssMessage, true, now.Add(-30*time.Minute))
	fx.addConversation("support-bot", "sess-shop-0002", "gpt-4o-mini", "Refund order 42", false, now.Add(-20*time.Minute))
	fx.addConversation("research-agent", "sess-research-0101", "gpt-4o", "Summarise the papers", false, now.Add(-10*time.Minute))
	fx.addError("research-agent", "sess-research-0101", "gpt-4o", now.Add(-9*time.Minute))
	fx.assign("shop-assistant", "sess-shop-0001", "sess-shop-0002")
	fx.seedStatic("shop-assistant", []fxFinding{
		{Severity: "CRITICAL", Category: "PROMPT", Type: "PROMPT_INJECTION", Title: xssTitle, Desc: "User text is pasted into the system prompt. " + xssMessage,
			File: "agent/prompt.py", Line: 12, OWASP: "LLM01", CWE: "CWE-77"},
		{Severity: "HIGH", Category: "TOOL", Type: "TOOL_PERMISSION", Title: "Shell tool runs any command", Desc: "run_shell has no allow-list.",
			File: "agent/tools.py", Line: 40, OWASP: "LLM06", CWE: "CWE-78"},
		{Severity: "MEDIUM", Category: "DATA", Type: "SECRET_IN_CODE", Title: "API key in source", Desc: "The key is a literal.",
			File: "agent/config.py", Line: 3, OWASP: "LLM02", CWE: "CWE-798"},
	}, now.Add(-15*time.Minute))
	fx.setUnanalysed("shop-assistant", "support-bot", 2)
	fx.ideHeartbeat("shop-assistant", "cursor", "/home/ana/shop-assistant")
	srv := fx.start(t)
	tb := b.tab(t, srv.URL)
	const wf = "shop-assistant"

	tb.step(t, "workflows home", func(t *testing.T) {
		tb.open("/workflows")
		tb.waitRow("#workflows", wf, 5*time.Second)
		row := fmt.Sprintf(`#workflows tr[data-key=%q]`, wf)
		tb.waitTexts(row, time.Second, "support-bot", "Blocked")
		if got := tb.text(row + " td:nth-child(5)"); strings.TrimSpace(got) != "3" {
			t.Errorf("open findings cell = %q, want 3", got)
		}
		tb.waitRow("#workflows", "unassigned", time.Second)
		tb.waitText(`#workflows tr[data-key="unassigned"]`, "research-agent", time.Second)
		assertNoInjection(t, tb)
		assertClean(t, tb)
		tb.shot("workflows")
	})

	tb.step(t, "picker scopes the pages", func(t *testing.T) {
		tb.open("/")
		tb.waitText("#agents", "research-agent", 5*time.Second)
		tb.waitText("#workflow-picker", wf, 5*time.Second)
		tb.eval(fmt.Sprintf(`(() => { const s = document.getElementById('workflow-picker'); s.value = %q; s.dispatchEvent(new Event('change')); })()`, wf))
		tb.waitText(".page-head h1", "Workflow "+wf, 5*time.Second)
		tb.waitText("#gate", "Blocked", 5*time.Second)
		tb.waitText("#agents", "support-bot", time.Second)
		if strings.Contains(tb.text("#agents"), "research-agent") {
			t.Error("the scoped overview lists an agent of another workflow")
		}
		tb.waitRow("#recent-sessions", "sess-shop-0002", time.Second)
		tb.waitText("#scoped-requests", "Requests and errors", time.Second)
		if n := tb.count("#scoped-requests svg"); n == 0 {
			t.Error("the scoped overview draws no requests chart")
		}
		assertClean(t, tb)
		tb.shot("workflow-overview")

		// The sidebar's links keep the workflow.
		var href string
		tb.evalInto(`document.querySelector('a[data-nav=sessions]').getAttribute('href')`, &href)
		if href != "#/sessions?workflow="+wf {
			t.Fatalf("sessions link = %q", href)
		}
		tb.click("a[data-nav=sessions]")
		tb.waitRow("#sessions", "sess-shop-0001", 5*time.Second)
		if n := tb.count(`#sessions tr[data-key^="sess-research"]`); n != 0 {
			t.Error("the scoped sessions page lists another workflow's session")
		}
		tb.click("a[data-nav=agents]")
		tb.waitText("#agents-table", "support-bot", 5*time.Second)
		if strings.Contains(tb.text("#agents-table"), "research-agent") {
			t.Error("the scoped agents page lists an agent of another workflow")
		}
		tb.click("a[data-nav=findings]")
		tb.waitTexts("#workflow-findings", 5*time.Second, "Shell tool runs any command", `<img src=x onerror="window.__xss=3">`)
		tb.waitText("#findings", "llm01.instruction_override", 5*time.Second)
		if n := tb.count(".scope-note"); n != 0 {
			t.Error("the scoped findings page says runtime detections are not scoped")
		}
		assertNoInjection(t, tb)
		assertClean(t, tb)
		tb.shot("workflow-findings")
	})

	tb.step(t, "recommendations and their lifecycle", func(t *testing.T) {
		tb.open("/recommendations?workflow=" + wf)
		tb.waitTexts("#gate", 5*time.Second, "Blocked", "2 blocking issues")
		if n := tb.count("#recommendations tbody tr"); n != 3 {
			t.Fatalf("%d open recommendations listed, want 3", n)
		}
		// Most severe first.
		var first string
		tb.evalInto(`document.querySelector('#recommendations tbody tr').dataset.key`, &first)
		tb.waitText(`#recommendations tbody tr:first-child`, "Critical", time.Second)
		assertClean(t, tb)
		tb.shot("recommendations")

		// Critical: start → complete (notes, files, commit) → verify.
		tb.eval(fmt.Sprintf(`document.querySelector('#recommendations tr[data-key=%q] a').click()`, first))
		fixRecommendation(t, tb, map[string]string{"fix_notes": "Escaped user input and moved it out of the system prompt", "files_modified": "agent/prompt.py\nagent/tests/test_prompt.py", "fix_commit": "a1b2c3d", "by": "ana"},
			"Injection test suite passes", [3]string{"PENDING → FIXING", "FIXING → FIXED", "FIXED → VERIFIED"}, 5*time.Second)
		tb.waitText("[data-testid=audit]", "start fix", time.Second)
		tb.shot("recommendation")

		// High: dismiss with a reason; an empty reason is refused in the form.
		tb.open("/recommendations?workflow=" + wf)
		tb.waitText("#gate", "1 blocking issue", 5*time.Second)
		var high string
		tb.evalInto(`document.querySelector('#recommendations tbody tr').dataset.key`, &high)
		tb.eval(fmt.Sprintf(`document.querySelector('#recommendations tr[data-key=%q] a').click()`, high))
		tb.waitText("#rec-actions", "Dismiss", 5*time.Second)
		tb.submit("[data-step=dismiss]", "form[data-form=dismiss]", map[string]string{"reason": "run_shell only runs in the sandbox image"})
		tb.waitText("[data-testid=step-result]", "PENDING → DISMISSED", 5*time.Second)
		tb.waitText("#rec-detail", "run_shell only runs in the sandbox image", time.Second)

		tb.open("/recommendations?workflow=" + wf)
		tb.waitTexts("#gate", 5*time.Second, "Open", "cleared for production")
		tb.click("[data-tab=resolved]")
		tb.waitTexts("#recommendations", 5*time.Second, "Verified", "Dismissed")
	})

	tb.step(t, "reports", func(t *testing.T) {
		tb.open("/reports?workflow=" + wf)
		generateReport(t, tb, 5*time.Second)
		tb.waitText("#report-preview [data-testid=report-risk]", "5", time.Second)
		tb.shot("report-preview")
		saveReport(t, tb, 5*time.Second)
		// The printout leaves the sidebar and the buttons out.
		var hidden bool
		tb.evalInto(`(() => { for (const r of document.styleSheets[0].cssRules) if (r.media && r.media.mediaText === 'print' && r.cssText.includes('.side')) return true; return false; })()`, &hidden)
		if !hidden {
			t.Error("no print rule hides the sidebar")
		}
		assertClean(t, tb)
		tb.shot("report")

		tb.open("/reports?workflow=" + wf)
		deleteReport(t, tb, 5*time.Second)
	})

	tb.step(t, "static analysis", func(t *testing.T) {
		tb.open("/static-analysis?workflow=" + wf)
		tb.waitText(`#static-checks [data-category=PROMPT]`, "Prompt Security", 5*time.Second)
		// After the fixes only the medium secret finding is open.
		tb.waitText(`#static-checks [data-category=DATA]`, "INFO", time.Second)
		tb.waitText(`#static-checks [data-category=PROMPT]`, "PASS", time.Second)
		tb.waitText("#scan-history", "static_shop-assistant_", time.Second)
		tb.waitText(`#correlation [data-corr=uncorrelated]`, "1", time.Second)
		tb.click("[data-testid=correlate]")
		tb.waitText("[data-testid=correlate-result]", "1 finding updated", 5*time.Second)
		tb.waitText(`#correlation [data-corr=theoretical]`, "1", time.Second)
		assertNoInjection(t, tb)
		assertClean(t, tb)
		tb.shot("static-analysis")
	})

	tb.step(t, "dynamic analysis", func(t *testing.T) {
		tb.open("/dynamic-analysis?workflow=" + wf)
		tb.waitText("[data-kpi=unanalyzed] .kpi-value", "2", 5*time.Second)
		tb.waitText("#dyn-agents", "2 new", time.Second)
		runDynamicAnalysis(t, tb, wf, "support-bot", 5*time.Second)
		tb.waitText("[data-testid=run-result]", "Analysed 2 session(s)", time.Second)
		tb.waitText("#dyn-checks [data-agent=support-bot]", "Pinned model versions", time.Second)
		tb.waitText("#dyn-checks", "1 unpinned model(s)", time.Second)
		tb.shot("dynamic-analysis")
	})

	tb.step(t, "dev connection", func(t *testing.T) {
		tb.open("/dev-connection?workflow=" + wf)
		tb.waitText("[data-testid=ide-state]", "Connected", 5*time.Second)
		tb.waitText("[data-testid=ide-info]", "/home/ana/shop-assistant", time.Second)
		tb.waitText("[data-testid=mcp-url]", "http://127.0.0.1:7100/mcp", time.Second)
		tb.waitText("[data-testid=mcp-config]", "claude mcp add", time.Second)
		tb.click("[data-assistant=cursor]")
		tb.waitText("[data-testid=mcp-config]", `"mcpServers"`, 2*time.Second)
		tb.waitText("[data-testid=first-steps]", "/agent-workflow/"+wf, time.Second)
		assertClean(t, tb)
		tb.shot("dev-connection")
		tb.open("/dev-connection?workflow=no-ide-here")
		tb.waitText("[data-testid=ide-state]", "No activity yet", 5*time.Second)
	})

	tb.step(t, "connect", func(t *testing.T) {
		tb.open("/connect")
		tb.waitText("[data-testid=base-url]", "http://127.0.0.1:4000/agent-workflow/my-agent", 5*time.Second)
		tb.waitText("[data-testid=openai]", "OPENAI_BASE_URL=http://127.0.0.1:4000/agent-workflow/my-agent/v1", time.Second)
		tb.eval(`(() => { const i = document.querySelector('[name=workflow-id]'); i.value = 'billing'; i.dispatchEvent(new Event('input')); })()`)
		tb.waitText("[data-testid=anthropic]", "ANTHROPIC_BASE_URL=http://127.0.0.1:4000/agent-workflow/billing", time.Second)
		tb.waitText("#connect-ide [data-testid=mcp-url]", "/mcp", time.Second)
		tb.eval(`(() => { const i = document.querySelector('[name=workflow-id]'); i.value = 'bad/id'; i.dispatchEvent(new Event('input')); })()`)
		tb.waitText("#connect-agent", "Pick a workflow id", time.Second)
		assertClean(t, tb)
		tb.shot("connect")
	})

	tb.step(t, "agent display name", func(t *testing.T) {
		tb.open("/agent/support-bot")
		renameAgent(t, tb, "support-bot", 5*time.Second)
	})

	tb.step(t, "store down", func(t *testing.T) {
		off := newFixture(false)
		off.seedStatic(wf, []fxFinding{{Severity: "HIGH", Category: "TOOL", Type: "TOOL_PERMISSION", Title: "t", File: "a.py", Line: 1, OWASP: "LLM06"}}, now)
		ot := b.tab(t, off.start(t).URL)
		for _, page := range []string{"/recommendations", "/static-analysis", "/dynamic-analysis"} {
			ot.open(page + "?workflow=" + wf)
			ot.waitText("[data-testid=analytics-off]", "Analytics are off because", 5*time.Second)
			if n := ot.count("#gate, #static-checks, #dyn-agents"); n != 0 {
				t.Errorf("%s shows workflow data while the store is down", page)
			}
		}
	})

	tb.step(t, "workflow pages without a workflow", func(t *testing.T) {
		tb.eval(`(() => { const s = document.getElementById('workflow-picker'); s.value = ''; s.dispatchEvent(new Event('change')); })()`)
		tb.open("/recommendations")
		tb.waitText("#choose-workflow", wf, 5*time.Second)
		tb.click("#choose-workflow a")
		tb.waitText("#gate", "Open", 5*time.Second)
	})
}

// assertClean fails when a page shows a JavaScript value that leaked into
// the text (null, undefined, NaN, [object Object]).
func assertClean(t *testing.T, tb *tab) {
	t.Helper()
	var leak string
	tb.evalInto(`(() => { const m = document.getElementById('main').innerText.match(/\b(null|undefined|NaN)\b|\[object Object\]/); return m ? m[0] + ' in: ' + m.input.slice(Math.max(0, m.index - 80), m.index + 40) : ''; })()`, &leak)
	if leak != "" {
		t.Errorf("the page shows %s", leak)
	}
}
