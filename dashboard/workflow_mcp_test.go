package dashboard

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestWorkflowMCP calls every workflow tool with the Go SDK's client on
// both engines: answers in the original's shapes, argument errors as tool
// errors naming the argument, get_findings serving runtime detections and
// analysis findings, and REST answering what MCP wrote.
func TestWorkflowMCP(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		testWorkflowMCP(t, testServer(t, storeWith(t, engine, workflowEvents()), nil))
	})
}

func testWorkflowMCP(t *testing.T, s *Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs, tools := mcpSession(t, ctx, s, "")
	schemas := map[string]map[string]any{}
	for _, tl := range tools {
		b, _ := json.Marshal(tl.InputSchema)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		schemas[tl.Name] = m
	}
	if req := strs(schemas["store_finding"]["required"]); strings.Join(req, ",") != "session_id,file_path,finding_type,severity,title" {
		t.Errorf("store_finding required %v", req)
	}
	if req := strs(schemas["verify_fix"]["required"]); !contains(req, "recommendation_id") || !contains(req, "verification_result") || len(req) != 2 {
		t.Errorf("verify_fix required %v", req)
	}

	callRaw := func(name string, args map[string]any) (string, bool) {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return text(res), res.IsError
	}
	tool := func(name string, args map[string]any) map[string]any {
		t.Helper()
		txt, isErr := callRaw(name, args)
		var m map[string]any
		if isErr || json.Unmarshal([]byte(txt), &m) != nil {
			t.Fatalf("%s(%v): %s", name, args, txt)
		}
		return m
	}
	toolErr := func(name string, args map[string]any, want string) {
		t.Helper()
		txt, isErr := callRaw(name, args)
		if !isErr || !strings.Contains(txt, want) {
			t.Fatalf("%s(%v): want an error with %q, got %s", name, args, want, txt)
		}
	}

	// Knowledge base.
	if m := tool("get_security_patterns", map[string]any{"context": "prompt_injection"}); num(m, "total_count") < 1 {
		t.Errorf("patterns %v", m)
	}
	tool("get_owasp_control", map[string]any{"control_id": "LLM06"})
	toolErr("get_owasp_control", map[string]any{"control_id": "LLM42"}, "LLM10")
	tool("get_fix_template", map[string]any{"finding_type": "PROMPT_INJECTION"})

	// Static analysis and its validation.
	toolErr("create_analysis_session", map[string]any{}, "agent_workflow_id")
	toolErr("create_analysis_session", map[string]any{"agent_workflow_id": "wf-shop", "session_type": "LIVE"}, "STATIC, DYNAMIC, AUTOFIX")
	sid := tool("create_analysis_session", map[string]any{"agent_workflow_id": "wf-shop"})["session"].(map[string]any)["session_id"].(string)
	toolErr("store_finding", map[string]any{"session_id": sid, "file_path": "a.py", "finding_type": "X", "severity": "SEVERE", "title": "t"}, "CRITICAL, HIGH, MEDIUM, LOW")
	toolErr("store_finding", map[string]any{"session_id": "sess_missing", "file_path": "a.py", "finding_type": "X", "severity": "LOW", "title": "t"}, "not found")
	f := tool("store_finding", map[string]any{"session_id": sid, "file_path": "tools.py", "finding_type": "EXCESSIVE_AGENCY", "severity": "HIGH",
		"title": "refund tool callable without confirmation", "owasp_mapping": []string{"LLM06"}})
	rec, fid := f["recommendation_id"].(string), f["finding"].(map[string]any)["finding_id"].(string)
	tool("store_finding", map[string]any{"session_id": sid, "file_path": "notes.md", "finding_type": "OVERRELIANCE", "severity": "LOW",
		"title": "no human review", "auto_create_recommendation": false})
	if m := tool("complete_analysis_session", map[string]any{"session_id": sid, "calculate_risk": true}); num(m, "risk_score") != 16 {
		t.Errorf("risk = HIGH 15 + LOW 1: %v", m)
	}

	// get_findings: the workflow's (by workflow, status or analysis
	// session), and still the runtime detections without them.
	if m := tool("get_findings", map[string]any{"agent_workflow_id": "wf-shop"}); num(m, "total_count") != 2 || num(m, "summary", "by_severity", "HIGH") != 1 {
		t.Errorf("workflow findings %v", m)
	}
	if m := tool("get_findings", map[string]any{"session_id": sid, "severity": "HIGH"}); num(m, "total_count") != 1 {
		t.Errorf("analysis session findings %v", m)
	}
	toolErr("get_findings", map[string]any{"agent_workflow_id": "wf-shop", "severity": []any{"HIGH", "LOW"}}, "one severity")
	if m := tool("get_findings", map[string]any{"severity": "HIGH"}); m["filters"] == nil {
		t.Errorf("runtime findings with one severity string %v", m)
	}
	if m := tool("update_finding_status", map[string]any{"finding_id": fid, "status": "open", "notes": "still there"}); !strings.Contains(str(m["finding"].(map[string]any)["description"]), "Update: still there") {
		t.Errorf("finding status %v", m)
	}
	toolErr("update_finding_status", map[string]any{"finding_id": fid, "status": "GONE"}, "status")

	// Correlation, state, tool usage.
	tool("update_finding_correlation", map[string]any{"finding_id": fid, "correlation_state": "validated", "correlation_evidence": map[string]any{"session": "wf-s1"}})
	toolErr("update_finding_correlation", map[string]any{"finding_id": fid, "correlation_state": "MAYBE"}, "VALIDATED")
	tool("correlate_findings", map[string]any{"workflow_id": "wf-shop"})
	if m := tool("get_correlation_summary", map[string]any{"agent_workflow_id": "wf-shop"}); num(m, "validated") != 1 || num(m, "sessions_count") != 3 {
		t.Errorf("correlation %v", m)
	}
	if m := tool("get_agent_workflow_state", map[string]any{"agent_workflow_id": "wf-shop"}); m["state"] != "COMPLETE" || m["has_static_analysis"] != true {
		t.Errorf("state %v", m)
	}
	if m := tool("get_tool_usage_summary", map[string]any{"agent_workflow_id": "wf-shop"}); strings.Join(strs(m["tools_unused"]), ",") != "refund" {
		t.Errorf("tool usage %v", m)
	}
	if m := tool("get_agent_workflow_correlation", map[string]any{"agent_workflow_id": "wf-shop"}); m["has_dynamic_data"] != true {
		t.Errorf("raw correlation %v", m)
	}
	toolErr("get_gate_status", map[string]any{}, "workflow_id")

	// Agents and sessions.
	tool("update_agent_info", map[string]any{"agent_id": "agent-pay", "display_name": "Payments"})
	toolErr("update_agent_info", map[string]any{"agent_id": "agent-pay"}, "display_name")
	if m := tool("get_agents", map[string]any{"agent_workflow_id": "wf-shop"}); num(m, "total_count") != 2 {
		t.Errorf("agents %v", m)
	}
	if m := tool("get_agents", map[string]any{"agent_workflow_id": "unlinked", "include_stats": false}); num(m, "total_count") != 1 {
		t.Errorf("unlinked agents %v", m)
	}
	wa := tool("get_workflow_agents", map[string]any{"workflow_id": "wf-shop"})
	if num(wa, "total_count") != 2 || len(wa["recent_sessions"].([]any)) != 3 {
		t.Errorf("workflow agents %v", wa)
	}
	for _, a := range wa["agents"].([]any) {
		if a := a.(map[string]any); a["agent_id"] == "agent-pay" && (a["display_name"] != "Payments" || a["system_prompt"] != "You sell shoes") {
			t.Errorf("workflow agent %v", a)
		}
	}
	if m := tool("get_workflow_sessions", map[string]any{"workflow_id": "wf-shop", "limit": 2}); num(m, "total_count") != 3 || m["has_more"] != true {
		t.Errorf("workflow sessions %v", m)
	}

	// The IDE, in both of the original's styles.
	conn := tool("register_ide_connection", map[string]any{"ide_type": "claude-code", "agent_workflow_id": "wf-shop", "workspace_path": "/src/shop", "model": "opus"})
	cid := conn["connection"].(map[string]any)["connection_id"].(string)
	if m := tool("ide_heartbeat", map[string]any{"connection_id": cid, "is_developing": true}); m["status"] != "actively developing" || m["ide"].(map[string]any)["model"] != "opus" {
		t.Errorf("heartbeat %v", m)
	}
	tool("disconnect_ide", map[string]any{"connection_id": cid})
	if m := tool("get_ide_connection_status", map[string]any{"agent_workflow_id": "wf-shop"}); m["has_activity"] != true {
		t.Errorf("ide status %v", m)
	}

	// Recommendations: a dismissal, then the gate (MCP and REST agree).
	toolErr("verify_fix", map[string]any{"recommendation_id": rec, "verification_result": "ok"}, "needs status FIXED")
	if m := tool("get_recommendations", map[string]any{"workflow_id": "wf-shop", "blocking_only": true}); num(m, "total_count") != 1 {
		t.Errorf("blocking recommendations %v", m)
	}
	if m := tool("dismiss_recommendation", map[string]any{"recommendation_id": rec, "reason": "refunds need a second approval upstream", "dismiss_type": "DISMISSED"}); m["recommendation"].(map[string]any)["status"] != "DISMISSED" {
		t.Errorf("dismiss %v", m)
	}
	if m := tool("get_recommendation_detail", map[string]any{"recommendation_id": rec}); m["finding"].(map[string]any)["status"] != "DISMISSED" || len(m["audit_log"].([]any)) < 2 {
		t.Errorf("detail %v", m)
	}
	gate := tool("get_gate_status", map[string]any{"workflow_id": "wf-shop"})
	var rest map[string]any
	get(t, s, "/api/workflow/wf-shop/gate", &rest)
	if gate["gate_state"] != "OPEN" || rest["gate_state"] != gate["gate_state"] || rest["message"] != gate["message"] {
		t.Errorf("gate over MCP %v, REST %v", gate, rest)
	}

	// Dynamic analysis, history, reports, audit.
	if m := tool("get_dynamic_analysis_status", map[string]any{"workflow_id": "wf-shop"}); num(m, "total_unanalyzed_sessions") != 3 {
		t.Errorf("dynamic status %v", m)
	}
	if m := tool("trigger_dynamic_analysis", map[string]any{"workflow_id": "wf-shop"}); m["status"] != "completed" {
		t.Errorf("trigger %v", m)
	}
	if m := tool("get_analysis_history", map[string]any{"workflow_id": "wf-shop", "session_type": "STATIC"}); num(m, "total_count") != 1 {
		t.Errorf("history %v", m)
	}
	if m := tool("generate_compliance_report", map[string]any{"workflow_id": "wf-shop"}); m["report_id"] != nil || m["owasp_llm_coverage"] == nil {
		t.Errorf("unsaved report %v", m)
	}
	if m := tool("list_reports", map[string]any{"workflow_id": "wf-shop"}); len(m["reports"].([]any)) != 0 {
		t.Errorf("an unsaved report was listed: %v", m)
	}
	if m := tool("get_audit_log", map[string]any{"entity_id": rec}); num(m, "total_count") < 2 {
		t.Errorf("audit %v", m)
	}
}
