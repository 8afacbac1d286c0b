package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/dashboard/workflow"
	"github.com/cylestio/perimeter/sink"
)

// workflowEvents is traffic of two agents through /agent-workflow/wf-shop/
// (three sessions, completed long before t0) and one agent without a
// workflow. The edge writes agent_workflow.id as the last attribute of
// finishes, errors and tool calls.
func workflowEvents() []*sink.Event {
	var sd seed
	ev := sd.raw
	for i, s := range []struct{ agent, session, wf string }{
		{"agent-shop", "wf-s1", "wf-shop"}, {"agent-shop", "wf-s2", "wf-shop"}, {"agent-pay", "wf-s3", "wf-shop"}, {"agent-solo", "solo-1", ""},
	} {
		at := t0.Add(-time.Hour + time.Duration(i)*time.Minute)
		tail := ""
		if s.wf != "" {
			tail = `,"agent_workflow.id":"` + s.wf + `"`
		}
		ev(sink.SessionStart, s.agent, s.session, at, `{"tools":[{"type":"function","function":{"name":"search_orders"}},{"name":"refund"}],"prompt":"You sell shoes"}`)
		ev(sink.LLMCallStart, s.agent, s.session, at.Add(time.Second), `{"llm.model":"gpt-4o"}`)
		f := ev(sink.LLMCallFinish, s.agent, s.session, at.Add(2*time.Second), `{"llm.usage.total_tokens":150`+tail+`}`)
		f.Model, f.InputTokens, f.OutputTokens, f.TotalTokens, f.DurationMs = "gpt-4o", 100, 50, 150, 800
		tl := ev(sink.ToolExecution, s.agent, s.session, at.Add(3*time.Second), `{"tool.name":"search_orders"`+tail+`}`)
		tl.ToolName = "search_orders"
		if i == 0 || i == 3 {
			fd := ev(sink.SecurityFinding, s.agent, s.session, at.Add(4*time.Second), `{"finding.rule":"pii.email","finding.severity":"medium"}`)
			fd.Category, fd.Rule, fd.Severity = "pii", "pii.email", "medium"
		}
	}
	return sd.events
}

type apiCase struct {
	method, path, body string
	hdr                map[string]string
	status             int
	check              func(m map[string]any) bool
}

func doCase(t *testing.T, s *Server, c apiCase) map[string]any {
	t.Helper()
	hdr := c.hdr
	if c.body != "" && hdr == nil {
		hdr = map[string]string{"Content-Type": "application/json"}
	}
	var body []byte
	if c.body != "" {
		body = []byte(c.body)
	}
	code, raw := call(t, s, c.method, c.path, body, hdr)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if code != c.status || (c.check != nil && !c.check(m)) {
		t.Fatalf("%s %s: %d %s", c.method, c.path, code, raw)
	}
	return m
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m, _ = m[p].(map[string]any)
	}
	return m
}

// TestWorkflowAPI drives the workflow over REST on both engines: workflow
// scoping of the existing pages, the validation errors (400 naming the
// parameter and its valid values, 404, 409), the guard on writes, the
// lifecycle with its gate, the printable report and a dynamic analysis.
func TestWorkflowAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		st := storeWith(t, engine, workflowEvents())
		testWorkflowAPI(t, testServer(t, st, nil))
	})
}

func testWorkflowAPI(t *testing.T, s *Server) {
	// Workflows home and the pages scoped to a workflow.
	doCase(t, s, apiCase{method: "GET", path: "/api/agent-workflows", status: 200, check: func(m map[string]any) bool {
		wfs := m["agent_workflows"].([]any)
		if len(wfs) != 2 {
			return false
		}
		shop, un := wfs[0].(map[string]any), wfs[1].(map[string]any)
		return shop["id"] == "wf-shop" && num(shop, "agent_count") == 2 && num(shop, "session_count") == 3 &&
			un["id"] == nil && un["name"] == "Unassigned" && obj(m, "storage")["available"] == true
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/sessions/list?agent_workflow_id=wf-shop", status: 200, check: func(m map[string]any) bool {
		ss := m["sessions"].([]any)
		return num(m, "total_count") == 3 && ss[0].(map[string]any)["agent_workflow_id"] == "wf-shop" && obj(m, "filters")["agent_workflow_id"] == "wf-shop"
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/sessions/list?agent_workflow_id=unassigned", status: 200, check: func(m map[string]any) bool {
		return num(m, "total_count") == 1 && m["sessions"].([]any)[0].(map[string]any)["id"] == "solo-1"
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/agents?agent_workflow_id=wf-shop", status: 200, check: func(m map[string]any) bool {
		return num(m, "total_count") == 2
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/dashboard?agent_workflow_id=wf-shop", status: 200, check: func(m map[string]any) bool {
		return num(m, "kpis", "total_sessions") == 3 && num(m, "kpis", "total_agents") == 2 && m["agent_workflow_id"] == "wf-shop"
	}})
	requests := func(m map[string]any) (n float64) {
		for _, p := range m["points"].([]any) {
			n += num(p.(map[string]any), "requests")
		}
		return n
	}
	doCase(t, s, apiCase{method: "GET", path: "/api/timeseries?range=2h&agent_workflow_id=wf-shop", status: 200, check: func(m map[string]any) bool {
		return requests(m) == 3
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/timeseries?range=2h&agent_workflow_id=unassigned", status: 200, check: func(m map[string]any) bool {
		return requests(m) == 1
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/findings", status: 200, check: func(m map[string]any) bool { return num(m, "total_count") == 2 }})
	doCase(t, s, apiCase{method: "GET", path: "/api/findings?rule=pii.*", status: 200, check: func(m map[string]any) bool { return num(m, "total_count") == 2 }})
	doCase(t, s, apiCase{method: "GET", path: "/api/findings?rule=pii.e*", status: 200, check: func(m map[string]any) bool { return num(m, "total_count") == 2 }})
	doCase(t, s, apiCase{method: "GET", path: "/api/findings?rule=llm01.tool_*", status: 200, check: func(m map[string]any) bool { return num(m, "total_count") == 0 }})
	doCase(t, s, apiCase{method: "GET", path: "/api/findings?agent_workflow_id=wf-shop", status: 200, check: func(m map[string]any) bool {
		f := m["findings"].([]any)
		return num(m, "total_count") == 1 && len(f) == 1 && f[0].(map[string]any)["session_id"] == "wf-s1" && obj(m, "filters")["agent_workflow_id"] == "wf-shop"
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/sessions?agent_id=agent-shop", status: 200, check: func(m map[string]any) bool {
		return num(m, "total_count") == 2 && num(m, "count") == 2
	}})

	// Validation: 400s name the parameter (and the valid values), unknown
	// ids are 404s, steps the status does not allow 409s.
	doCase(t, s, apiCase{method: "POST", path: "/api/sessions/analysis", body: `{}`, status: 400, check: func(m map[string]any) bool {
		return m["param"] == "agent_workflow_id"
	}})
	doCase(t, s, apiCase{method: "POST", path: "/api/sessions/analysis", body: `{"agent_workflow_id":"wf-shop","session_type":"NOPE"}`, status: 400,
		check: func(m map[string]any) bool {
			return m["param"] == "session_type" && strings.Join(strs(m["valid"]), ",") == "STATIC,DYNAMIC,AUTOFIX"
		}})
	sess := doCase(t, s, apiCase{method: "POST", path: "/api/sessions/analysis", body: `{"agent_workflow_id":"wf-shop","agent_workflow_name":"Shop"}`, status: 200})
	sid := obj(sess, "session")["session_id"].(string)
	doCase(t, s, apiCase{method: "POST", path: "/api/findings", body: `{"session_id":"` + sid + `"}`, status: 400, check: func(m map[string]any) bool {
		return strings.Join(strs(m["required"]), ",") == "file_path,finding_type,severity,title"
	}})
	doCase(t, s, apiCase{method: "POST", path: "/api/findings", body: `{"session_id":"` + sid + `","file_path":"a.py","finding_type":"PROMPT_INJECTION","severity":"huge","title":"x"}`,
		status: 400, check: func(m map[string]any) bool { return m["param"] == "severity" && contains(strs(m["valid"]), "CRITICAL") }})
	doCase(t, s, apiCase{method: "POST", path: "/api/findings", body: `{"session_id":"sess_nope","file_path":"a.py","finding_type":"X","severity":"LOW","title":"x"}`,
		status: 404, check: func(m map[string]any) bool { return m["id"] == "sess_nope" }})
	doCase(t, s, apiCase{method: "POST", path: "/api/findings", body: `not json`, status: 400, check: func(m map[string]any) bool { return m["param"] == "body" }})
	f := doCase(t, s, apiCase{method: "POST", path: "/api/findings", status: 200,
		body: `{"session_id":"` + sid + `","file_path":"agent/prompt.py","line_start":10,"line_end":12,"finding_type":"PROMPT_INJECTION","severity":"CRITICAL",` +
			`"title":"User text in the system prompt","code_snippet":"prompt = f\"{user}\"","owasp_mapping":["LLM01"],"cwe":"CWE-77","soc2_controls":["CC6.1"],"cvss_score":9.1}`})
	rec := f["recommendation_id"].(string)
	fid := obj(f, "finding")["finding_id"].(string)
	if !strings.HasPrefix(rec, "REC-") {
		t.Fatalf("finding %v", f)
	}
	doCase(t, s, apiCase{method: "POST", path: "/api/recommendations/" + rec + "/verify", body: `{"verification_result":"tests pass"}`, status: 409,
		check: func(m map[string]any) bool { return m["status"] == "PENDING" && contains(strs(m["allowed"]), "FIXED") }})
	doCase(t, s, apiCase{method: "POST", path: "/api/recommendations/REC-99999/start-fix", status: 404})
	doCase(t, s, apiCase{method: "POST", path: "/api/recommendations/" + rec + "/dismiss", body: `{}`, status: 400, check: func(m map[string]any) bool { return m["param"] == "reason" }})
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/recommendations?status=NOPE", status: 400, check: func(m map[string]any) bool {
		return m["param"] == "status" && contains(strs(m["valid"]), "VERIFIED")
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/recommendations?blocking_only=maybe", status: 400})
	doCase(t, s, apiCase{method: "PATCH", path: "/api/finding/" + fid, body: `{"status":"WHATEVER"}`, status: 400})
	doCase(t, s, apiCase{method: "PATCH", path: "/api/finding/FND-nope", body: `{"status":"OPEN"}`, status: 404})
	doCase(t, s, apiCase{method: "GET", path: "/api/reports/RPT-nope", status: 404})
	doCase(t, s, apiCase{method: "GET", path: "/api/security/owasp/LLM99", status: 404, check: func(m map[string]any) bool { return len(strs(m["available_controls"])) == 10 }})
	doCase(t, s, apiCase{method: "GET", path: "/api/security/owasp/LLM01", status: 200, check: func(m map[string]any) bool { return obj(m, "control")["name"] != "" }})
	doCase(t, s, apiCase{method: "GET", path: "/api/security/fix-template/NOPE_NOPE", status: 404})
	doCase(t, s, apiCase{method: "GET", path: "/api/security/patterns?context=prompt_injection", status: 200, check: func(m map[string]any) bool { return num(m, "total_count") >= 1 }})

	// Writes are POST/PATCH/DELETE only, JSON only, and behind the guard.
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/compliance-report?save=true", status: 400, check: func(m map[string]any) bool { return m["param"] == "save" }})
	doCase(t, s, apiCase{method: "POST", path: "/api/recommendations/" + rec + "/start-fix", body: `fixed_by=x`,
		hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 415})
	doCase(t, s, apiCase{method: "POST", path: "/api/recommendations/" + rec + "/start-fix", body: `{}`,
		hdr: map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, status: 403})
	doCase(t, s, apiCase{method: "GET", path: "/api/recommendations/" + rec, status: 200, check: func(m map[string]any) bool {
		return obj(m, "recommendation")["status"] == "PENDING" // none of the refused requests changed it
	}})

	// The lifecycle and the gate.
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/production-readiness", status: 200, check: func(m map[string]any) bool {
		return obj(m, "gate")["state"] == "BLOCKED" && num(m, "gate", "blocking_count") == 1
	}})
	doCase(t, s, apiCase{method: "POST", path: "/api/sessions/analysis/" + sid + "/complete", status: 200, check: func(m map[string]any) bool {
		return num(m, "risk_score") == 25 && obj(m, "session")["status"] == "COMPLETED"
	}})
	doCase(t, s, apiCase{method: "POST", path: "/api/recommendations/" + rec + "/start-fix", body: `{"fixed_by":"dev"}`, status: 200,
		check: func(m map[string]any) bool { return obj(m, "recommendation")["status"] == "FIXING" }})
	doCase(t, s, apiCase{method: "POST", path: "/api/recommendations/" + rec + "/complete-fix", status: 200,
		body:  `{"fix_notes":"escaped","files_modified":["agent/prompt.py"],"fix_commit":"abc123","fixed_by":"dev"}`,
		check: func(m map[string]any) bool { return obj(m, "recommendation")["status"] == "FIXED" }})
	doCase(t, s, apiCase{method: "POST", path: "/api/recommendations/" + rec + "/verify", body: `{"verification_result":"tests pass","verified_by":"qa"}`,
		status: 200, check: func(m map[string]any) bool { return obj(m, "recommendation")["status"] == "VERIFIED" }})
	doCase(t, s, apiCase{method: "POST", path: "/api/recommendations/" + rec + "/start-fix", body: `{}`, status: 409})
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/gate", status: 200, check: func(m map[string]any) bool {
		return m["gate_state"] == "OPEN" && m["is_blocked"] == false
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/finding/" + fid, status: 200, check: func(m map[string]any) bool { return obj(m, "finding")["status"] == "FIXED" }})
	doCase(t, s, apiCase{method: "GET", path: "/api/audit-log?entity_id=" + rec, status: 200, check: func(m map[string]any) bool {
		var actions []string
		for _, e := range m["entries"].([]any) {
			actions = append(actions, e.(map[string]any)["action"].(string))
		}
		return len(actions) >= 4 // created, started, completed, verified
	}})

	// Reports: generate (GET reads), save (POST), list, print, delete.
	rep := doCase(t, s, apiCase{method: "POST", path: "/api/workflow/wf-shop/compliance-report", body: `{"report_type":"SECURITY_ASSESSMENT"}`, status: 200,
		check: func(m map[string]any) bool { return obj(m, "executive_summary")["decision"] == "GO" }})
	rid := rep["report_id"].(string)
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/reports", status: 200, check: func(m map[string]any) bool {
		r := m["reports"].([]any)
		return len(r) == 1 && r[0].(map[string]any)["report_id"] == rid && r[0].(map[string]any)["report_data"] == nil
	}})
	code, page := call(t, s, "GET", "/api/reports/"+rid+"/html", nil, nil)
	if code != 200 || !strings.Contains(string(page), "<table>") || !strings.Contains(string(page), "Cleared for production") {
		t.Fatalf("printable report: %d %.300s", code, page)
	}
	doCase(t, s, apiCase{method: "DELETE", path: "/api/reports/" + rid, status: 200, check: func(m map[string]any) bool { return m["success"] == true }})
	doCase(t, s, apiCase{method: "GET", path: "/api/reports/" + rid, status: 404})

	// Dynamic analysis: the 16 checks over the three completed sessions,
	// once; the next trigger finds nothing new.
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/dynamic-analysis-status", status: 200, check: func(m map[string]any) bool {
		return num(m, "total_unanalyzed_sessions") == 3 && m["can_trigger"] == true && num(m, "agents_with_new_sessions") == 2
	}})
	doCase(t, s, apiCase{method: "POST", path: "/api/workflow/wf-shop/trigger-dynamic-analysis", status: 200, check: func(m map[string]any) bool {
		return m["status"] == "completed" && num(m, "sessions_analyzed") == 3 && num(m, "agents_analyzed") == 2
	}})
	doCase(t, s, apiCase{method: "POST", path: "/api/workflow/wf-shop/trigger-dynamic-analysis", status: 200, check: func(m map[string]any) bool {
		return m["status"] == "no_new_sessions" && obj(m, "last_analysis")["session_type"] == "DYNAMIC"
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/agent-workflow/wf-shop/security-checks", status: 200, check: func(m map[string]any) bool {
		agents := m["agents"].([]any)
		return len(agents) == 2 && num(agents[0].(map[string]any), "summary", "total") >= 12
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/agent/agent-shop/security-checks", status: 200, check: func(m map[string]any) bool {
		return len(m["checks"].([]any)) >= 12
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/analysis-history", status: 200, check: func(m map[string]any) bool {
		return num(m, "total_count") == 1 && m["latest_id"] != nil
	}})
	doCase(t, s, apiCase{method: "POST", path: "/api/workflow/wf-shop/trigger-dynamic-analysis?force=maybe", status: 400})
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/dynamic-summary", status: 200, check: func(m map[string]any) bool {
		return num(m, "agents_count") == 2 && num(m, "total_sessions") == 3 && num(m, "total_tool_calls") == 3 && num(m, "tool_coverage") == 50 &&
			obj(m, "latest_session")["session_type"] == "DYNAMIC"
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/security-check-definitions", status: 200, check: func(m map[string]any) bool {
		return obj(m, "dynamic_checks", "RESOURCE_001_TOKEN_BOUNDS")["name"] == "Token Usage Bounds" && len(obj(m, "dynamic_categories")) == 4
	}})

	// Agents, IDE, the connection page.
	doCase(t, s, apiCase{method: "PATCH", path: "/api/agent/agent-shop/info", body: `{"display_name":"Shop bot","description":"sells shoes"}`, status: 200})
	doCase(t, s, apiCase{method: "PATCH", path: "/api/agent/agent-shop/info", body: `{}`, status: 400})
	doCase(t, s, apiCase{method: "GET", path: "/api/agents/info?agent_workflow_id=wf-shop", status: 200, check: func(m map[string]any) bool {
		for _, a := range m["agents"].([]any) {
			if a := a.(map[string]any); a["agent_id"] == "agent-shop" {
				return a["display_name"] == "Shop bot" && num(a, "total_sessions") == 2 && num(m, "total_count") == 2
			}
		}
		return false
	}})
	doCase(t, s, apiCase{method: "POST", path: "/api/ide/heartbeat", body: `{"agent_workflow_id":"wf-shop","ide_type":"cursor","model":"claude"}`, status: 200})
	doCase(t, s, apiCase{method: "GET", path: "/api/ide/status?agent_workflow_id=wf-shop", status: 200, check: func(m map[string]any) bool {
		return m["has_activity"] == true && obj(m, "ide")["ide_type"] == "cursor"
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/dev-connection?agent_workflow_id=wf-shop", status: 200, check: func(m map[string]any) bool {
		return m["mcp_url"] == s.URL()+"/mcp" && len(m["instructions"].([]any)) >= 4 && strings.HasSuffix(m["agent_base_url"].(string), "/agent-workflow/wf-shop")
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/state", status: 200, check: func(m map[string]any) bool { return m["state"] == "COMPLETE" }})
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf-shop/tool-usage", status: 200, check: func(m map[string]any) bool {
		return num(m, "tool_usage", "search_orders", "count") == 3
	}})
}

// With the store down, reads answer their usual shape, empty, with the
// store's reason; writes say nothing was changed (503).
func TestWorkflowAPIStoreDown(t *testing.T) {
	s := testServer(t, nil, nil)
	doCase(t, s, apiCase{method: "GET", path: "/api/workflow/wf/recommendations", status: 200, check: func(m map[string]any) bool {
		return obj(m, "storage")["available"] == false && len(m["recommendations"].([]any)) == 0 && m["workflow_id"] == "wf"
	}})
	doCase(t, s, apiCase{method: "GET", path: "/api/agent-workflows", status: 200, check: func(m map[string]any) bool {
		return m["agent_workflows"] != nil && obj(m, "storage")["reason"] != ""
	}})
	m := doCase(t, s, apiCase{method: "POST", path: "/api/recommendations/REC-1/start-fix", body: `{}`, status: http.StatusServiceUnavailable})
	if !strings.Contains(fmt.Sprint(m["error"]), "nothing was changed") {
		t.Fatalf("%v", m)
	}
	// The knowledge base needs no store.
	doCase(t, s, apiCase{method: "GET", path: "/api/security/fix-template/PROMPT_INJECTION", status: 200})
}

// A token guards the workflow's writes like every other /api/ call.
func TestWorkflowAPIToken(t *testing.T) {
	s := testServer(t, nil, func(o *Options) { o.Token = "s3cret-token" })
	doCase(t, s, apiCase{method: "POST", path: "/api/sessions/analysis", body: `{"agent_workflow_id":"wf"}`, status: 401})
	doCase(t, s, apiCase{method: "POST", path: "/api/sessions/analysis", body: `{"agent_workflow_id":"wf"}`,
		hdr: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer s3cret-token"}, status: 503})
	code, body := call(t, s, "GET", "/api/dev-connection", nil, map[string]string{"Authorization": "Bearer s3cret-token"})
	var dc DevConnection
	_ = json.Unmarshal(body, &dc)
	if code != 200 || strings.Contains(string(body), "s3cret-token") || len(dc.Instructions) == 0 ||
		!strings.Contains(dc.Instructions[0].Config, "Bearer <token>") || !dc.TokenRequired {
		t.Fatalf("dev connection leaks or lacks the token hint: %d %s", code, body)
	}
}

// A wrong method on a workflow path is a JSON 405 naming the methods the
// path takes (the writes' PATCH and DELETE included).
func TestWorkflowAPIMethods(t *testing.T) {
	s := testServer(t, nil, nil)
	code, body := call(t, s, "PUT", "/api/finding/FND-1", nil, nil)
	if code != http.StatusMethodNotAllowed || !strings.Contains(string(body), "PATCH") {
		t.Fatalf("%d %s", code, body)
	}
	code, body = call(t, s, "GET", "/api/recommendations/REC-1/start-fix", nil, nil)
	if code != http.StatusMethodNotAllowed || !strings.Contains(string(body), "POST") {
		t.Fatalf("%d %s", code, body)
	}
	code, _ = call(t, s, "OPTIONS", "/api/finding/FND-1", nil, map[string]string{"Origin": "http://localhost:5173", "Access-Control-Request-Method": "PATCH"})
	if code != http.StatusNoContent {
		t.Fatalf("preflight %d", code)
	}
}

func TestAbandonedAnalysis(t *testing.T) {
	at := func(d time.Duration) *string {
		s := t0.Add(-d).Format("2006-01-02T15:04:05.000000") + "+00:00"
		return &s
	}
	for _, c := range []struct {
		created *string
		want    bool
	}{{at(time.Minute), false}, {at(11 * time.Minute), true}, {nil, true}} {
		if got := abandoned(&workflow.AnalysisSession{CreatedAt: c.created}, t0); got != c.want {
			t.Errorf("created %v: abandoned %v", c.created, got)
		}
	}
}
