package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestWorkflowLoopOverMCP drives the security workflow as an IDE assistant
// would, with the official MCP Go SDK client against a running perimeter,
// on both engines: agent traffic through /agent-workflow/wf-e2e/, a static
// analysis (session, findings, completion with its risk score), the
// recommendations it creates, the gate BLOCKED, fixes started, completed
// and verified (one failing verification first), the gate OPEN, a dynamic
// analysis of the runtime sessions, a saved compliance report listed over
// MCP and REST, and the audit log showing every step.
func TestWorkflowLoopOverMCP(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		lib := requireLibchdb(t)
		runWorkflowLoop(t, embeddedSection(t.TempDir()), "CHDB_LIB_PATH="+lib)
	})
	t.Run("clickhouse", func(t *testing.T) {
		addr := requireClickHouse(t)
		db := fmt.Sprintf("perimeter_wf_e2e_%d", time.Now().UnixNano())
		dropAtEnd(t, addr, db)
		runWorkflowLoop(t, clickhouseSection(addr, db))
	})
}

func runWorkflowLoop(t *testing.T, storage string, env ...string) {
	base := startMockLLM(t)
	dport := freePort(t)
	p := startConfig(t, llmSection(base)+storage+
		fmt.Sprintf("interceptors:\n  - type: live_trace\n    enabled: true\n    config: {server_port: %d, session_completion_timeout: 1}\n", dport), nil, env...)
	defer p.halt()
	proxy, dash := p.url, fmt.Sprintf("http://127.0.0.1:%d", dport)
	waitHTTP(t, dash+"/health", 10*time.Second)

	// One agent's traffic, through the workflow route: three conversations.
	for i := range 3 {
		body := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are the shop's order agent."},{"role":"user","content":"where is order %d"}]}`, i)
		postCall(t, proxy+"/agent-workflow/wf-e2e/v1/chat/completions", body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "ide-e2e", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: dash + "/mcp"}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-06-18"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range lt.Tools {
		names = append(names, tl.Name)
	}
	for _, want := range []string{"create_analysis_session", "store_finding", "complete_analysis_session", "get_recommendations", "start_fix",
		"complete_fix", "verify_fix", "get_gate_status", "generate_compliance_report", "get_audit_log", "trigger_dynamic_analysis", "query_sql"} {
		if !slices.Contains(names, want) {
			t.Fatalf("tools/list lacks %s: %v", want, names)
		}
	}

	tool := func(name string, args map[string]any) map[string]any {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		text := ""
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				text += tc.Text
			}
		}
		if res.IsError {
			t.Fatalf("%s(%v): tool error: %s", name, args, text)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			t.Fatalf("%s: %v in %s", name, err, text)
		}
		return m
	}
	get := func(m map[string]any, path ...string) any {
		var v any = m
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		return v
	}

	// Static analysis.
	sid := get(tool("create_analysis_session", map[string]any{"agent_workflow_id": "wf-e2e", "agent_workflow_name": "Shop"}), "session", "session_id").(string)
	crit := tool("store_finding", map[string]any{"session_id": sid, "file_path": "agent/prompt.py", "line_start": 12, "line_end": 14,
		"finding_type": "PROMPT_INJECTION", "severity": "CRITICAL", "title": "User input concatenated into the system prompt",
		"code_snippet": `system = "You are " + user_input`, "owasp_mapping": []string{"LLM01"}, "cwe": "CWE-77", "soc2_controls": []string{"CC6.1"}, "cvss_score": 9.1})
	high := tool("store_finding", map[string]any{"session_id": sid, "file_path": "agent/config.py", "finding_type": "DATA_EXPOSURE",
		"severity": "HIGH", "title": "API key in source", "owasp_mapping": []string{"LLM02"}})
	recs := []string{crit["recommendation_id"].(string), high["recommendation_id"].(string)}
	if !strings.HasPrefix(recs[0], "REC-") || recs[0] == recs[1] {
		t.Fatalf("recommendations %v", recs)
	}
	if done := tool("complete_analysis_session", map[string]any{"session_id": sid}); get(done, "risk_score") != 40.0 || get(done, "session", "findings_count") != 2.0 {
		t.Fatalf("completed session: %v (risk = 25 + 15)", done)
	}
	if l := tool("get_recommendations", map[string]any{"workflow_id": "wf-e2e"}); l["total_count"] != 2.0 {
		t.Fatalf("recommendations: %v", l)
	}
	if g := tool("get_gate_status", map[string]any{"workflow_id": "wf-e2e"}); g["gate_state"] != "BLOCKED" || g["blocking_critical"] != 1.0 || g["blocking_high"] != 1.0 {
		t.Fatalf("gate before fixes: %v", g)
	}

	// Fixes: the second one fails its first verification.
	for _, rec := range recs {
		if r := tool("start_fix", map[string]any{"recommendation_id": rec, "fixed_by": "ide"}); get(r, "recommendation", "status") != "FIXING" {
			t.Fatalf("start_fix: %v", r)
		}
		tool("complete_fix", map[string]any{"recommendation_id": rec, "fix_notes": "fixed", "files_modified": []string{"agent/prompt.py"}, "fix_commit": "abc123"})
	}
	if r := tool("verify_fix", map[string]any{"recommendation_id": recs[1], "verification_result": "key still in git history", "success": false}); get(r, "recommendation", "status") != "PENDING" {
		t.Fatalf("failed verification: %v", r)
	}
	if g := tool("get_gate_status", map[string]any{"agent_workflow_id": "wf-e2e"}); g["gate_state"] != "BLOCKED" || g["blocking_count"] != 1.0 {
		t.Fatalf("gate with one reopened: %v", g)
	}
	tool("complete_fix", map[string]any{"recommendation_id": recs[1], "fix_notes": "history rewritten, key rotated"})
	for _, rec := range recs {
		if r := tool("verify_fix", map[string]any{"recommendation_id": rec, "verification_result": "re-scanned: clean"}); get(r, "recommendation", "status") != "VERIFIED" {
			t.Fatalf("verify_fix: %v", r)
		}
	}
	if g := tool("get_gate_status", map[string]any{"workflow_id": "wf-e2e"}); g["gate_state"] != "OPEN" || g["is_blocked"] != false {
		t.Fatalf("gate after fixes: %v", g)
	}

	// Dynamic analysis of the runtime sessions (complete after 1 s idle).
	var st map[string]any
	if !testkit.Eventually(30*time.Second, 500*time.Millisecond, func() bool {
		st = tool("get_dynamic_analysis_status", map[string]any{"workflow_id": "wf-e2e"})
		return st["total_unanalyzed_sessions"] == 3.0
	}) {
		t.Fatalf("the workflow's 3 sessions never showed as unanalysed: %v", st)
	}
	dyn := tool("trigger_dynamic_analysis", map[string]any{"workflow_id": "wf-e2e"})
	if dyn["status"] != "completed" || dyn["sessions_analyzed"] != 3.0 || dyn["agents_analyzed"] != 1.0 {
		t.Fatalf("dynamic analysis: %v", dyn)
	}
	if again := tool("trigger_dynamic_analysis", map[string]any{"workflow_id": "wf-e2e"}); again["status"] != "no_new_sessions" {
		t.Fatalf("second dynamic analysis: %v", again)
	}

	// The report, saved and listed.
	rep := tool("generate_compliance_report", map[string]any{"workflow_id": "wf-e2e", "save": true})
	rid, _ := rep["report_id"].(string)
	if rid == "" || get(rep, "executive_summary", "total_findings").(float64) < 2 {
		t.Fatalf("report: %v", rep)
	}
	listed := tool("list_reports", map[string]any{"workflow_id": "wf-e2e"})
	if r := listed["reports"].([]any); len(r) != 1 || r[0].(map[string]any)["report_id"] != rid {
		t.Fatalf("list_reports: %v", listed)
	}
	var viaREST struct {
		Reports []struct {
			ReportID string `json:"report_id"`
		} `json:"reports"`
	}
	getJSON(t, dash+"/api/workflow/wf-e2e/reports", &viaREST)
	if len(viaREST.Reports) != 1 || viaREST.Reports[0].ReportID != rid {
		t.Fatalf("REST reports: %+v", viaREST)
	}

	// The audit log shows each step.
	for i, want := range [][]string{
		{"CREATED", "FIX_STARTED", "FIX_COMPLETED", "VERIFIED"},
		{"CREATED", "FIX_STARTED", "FIX_COMPLETED", "VERIFICATION_FAILED", "FIX_COMPLETED", "VERIFIED"},
	} {
		log := tool("get_audit_log", map[string]any{"entity_type": "recommendation", "entity_id": recs[i]})
		var got []string
		for _, e := range log["entries"].([]any) { // newest first
			got = append([]string{e.(map[string]any)["action"].(string)}, got...)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("audit log of %s: %v, want %v", recs[i], got, want)
		}
	}
	if log := tool("get_audit_log", map[string]any{"entity_type": "report", "entity_id": rid}); len(log["entries"].([]any)) != 1 {
		t.Errorf("report audit: %v", log)
	}
}
