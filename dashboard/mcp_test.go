package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cylestio/perimeter/sink"
)

var wantTools = []string{
	// Perimeter's analytics tools.
	"get_agent", "get_agent_checks", "get_cost_summary", "get_dashboard_summary", "get_event", "get_findings", "get_risk_summary",
	"get_session_events", "list_agents", "list_sessions", "query_sql",
	// The security workflow: the original's tools (get_findings,
	// get_session_events and get_event above serve both) and Perimeter's.
	"complete_analysis_session", "complete_fix", "correlate_findings", "create_analysis_session", "disconnect_ide",
	"dismiss_recommendation", "generate_compliance_report", "get_agent_workflow_correlation", "get_agent_workflow_state",
	"get_agents", "get_analysis_history", "get_audit_log", "get_correlation_summary", "get_dynamic_analysis_status",
	"get_fix_template", "get_gate_status", "get_ide_connection_status", "get_owasp_control", "get_recommendation_detail",
	"get_recommendations", "get_security_patterns", "get_tool_usage_summary", "get_workflow_agents", "get_workflow_sessions",
	"ide_heartbeat", "list_reports", "register_ide_connection", "start_fix", "store_finding", "trigger_dynamic_analysis",
	"update_agent_info", "update_finding_correlation", "update_finding_status", "verify_fix",
}

// writeTools change state: their annotations must not say read-only.
var writeTools = map[string]bool{
	"complete_analysis_session": true, "complete_fix": true, "correlate_findings": true, "create_analysis_session": true,
	"disconnect_ide": true, "dismiss_recommendation": true, "generate_compliance_report": true, "ide_heartbeat": true,
	"register_ide_connection": true, "start_fix": true, "store_finding": true, "trigger_dynamic_analysis": true,
	"update_agent_info": true, "update_finding_correlation": true, "update_finding_status": true, "verify_fix": true,
}

func init() { sort.Strings(wantTools) }

// TestMCP connects the Go SDK's client in both protocol eras and calls
// every tool against the seeded store.
func TestMCP(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		st, w := seededStore(t, engine)
		s := testServer(t, st, nil)
		for _, era := range []struct{ ask, want string }{
			{"", "2026-07-28"},           // server/discover, per-request _meta
			{"2025-11-25", "2025-11-25"}, // initialize handshake
			{"2025-03-26", "2025-03-26"},
		} {
			t.Run("protocol "+era.want, func(t *testing.T) { testMCPClient(t, s, w, era.ask, era.want) })
		}
	})
}

// mcpSession connects the Go SDK's client to s's /mcp, asking for the
// protocol version ask (the SDK's default when empty), and lists its
// tools. The session closes with the test.
func mcpSession(t *testing.T, ctx context.Context, s *Server, ask string) (*mcp.ClientSession, []*mcp.Tool) {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "dashboard-test", Version: "1"}, nil)
	var opts *mcp.ClientSessionOptions
	if ask != "" {
		opts = &mcp.ClientSessionOptions{ProtocolVersion: ask}
	}
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: s.URL() + "/mcp"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cs, lt.Tools
}

func testMCPClient(t *testing.T, s *Server, w *world, ask, want string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs, tools := mcpSession(t, ctx, s, ask)
	if got := cs.InitializeResult().ProtocolVersion; got != want {
		t.Fatalf("negotiated %s, want %s", got, want)
	}
	if ask != "" && cs.ID() == "" {
		t.Errorf("legacy session without Mcp-Session-Id")
	}
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
		if tl.InputSchema == nil || tl.Description == "" || tl.Annotations == nil || tl.Annotations.ReadOnlyHint == writeTools[tl.Name] ||
			writeTools[tl.Name] && (tl.Annotations.DestructiveHint == nil || *tl.Annotations.DestructiveHint) {
			t.Errorf("tool %s: schema %v, annotations %+v", tl.Name, tl.InputSchema, tl.Annotations)
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != strings.Join(wantTools, ",") {
		t.Fatalf("tools %v", names)
	}

	risky := w.byName["risky"]
	type call struct {
		tool  string
		args  map[string]any
		check func(map[string]any) bool
	}
	calls := []call{
		{"get_dashboard_summary", nil, func(m map[string]any) bool { return num(m, "kpis", "total_sessions") == 4 }},
		{"get_dashboard_summary", map[string]any{"agent_id": beta}, func(m map[string]any) bool { return num(m, "kpis", "total_sessions") == 1 }},
		{"list_agents", nil, func(m map[string]any) bool { return num(m, "total_count") == 2 }},
		{"get_agent", map[string]any{"agent_id": alpha}, func(m map[string]any) bool {
			return num(m, "agent", "total_sessions") == 3 && num(m, "risk_analysis", "findings_count") == 2
		}},
		{"get_agent_checks", map[string]any{"agent_id": alpha}, func(m map[string]any) bool {
			return num(m, "sessions_analyzed") == 2 && num(m, "security_report", "total_checks") == 12 && m["behavioral_analysis"] != nil
		}},
		{"list_sessions", map[string]any{"agent_id": alpha, "status": "COMPLETED", "tags": []any{"env:prod"}}, func(m map[string]any) bool {
			return num(m, "total_count") == 1
		}},
		{"list_sessions", map[string]any{"range": "30m", "limit": 1}, func(m map[string]any) bool {
			return num(m, "total_count") == 2 && m["has_more"] == true
		}},
		{"get_session_events", map[string]any{"session_id": "s-a2", "event_types": []any{"security.finding"}}, func(m map[string]any) bool {
			return num(m, "events_total") == 2 && num(m, "session", "findings_count") == 2
		}},
		{"get_session_events", map[string]any{"session_id": "s-a1", "limit": 2, "offset": 1}, func(m map[string]any) bool {
			return len(m["events"].([]any)) == 2 && m["has_more"] == true
		}},
		{"get_event", map[string]any{"event_id": risky.IDString()}, func(m map[string]any) bool {
			return str(m["event"].(map[string]any)["name"]) == "llm.call.start"
		}},
		{"get_findings", map[string]any{"min_severity": "high"}, func(m map[string]any) bool { return num(m, "total_count") == 2 }},
		{"get_findings", map[string]any{"severity": []any{"medium"}, "category": []any{"pii"}}, func(m map[string]any) bool { return num(m, "total_count") == 1 }},
		{"get_risk_summary", map[string]any{"range": "24h"}, func(m map[string]any) bool {
			agents := m["agents"].([]any)
			return len(agents) == 2 && str(agents[0].(map[string]any)["agent_id"]) == beta && num(agents[0].(map[string]any), "risky_sessions") == 1
		}},
	}
	if explorerRuns(s) {
		calls = append(calls, call{"query_sql", map[string]any{"query": "SELECT count() AS n FROM " + s.opts.Schema.Table("events") + " FINAL"}, func(m map[string]any) bool {
			return num(m, "row_count") == 1 && len(m["rows"].([]any)) == 1
		}})
	}
	for _, c := range calls {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			t.Errorf("%s %v: %v", c.tool, c.args, err)
			continue
		}
		if res.IsError {
			t.Errorf("%s %v: tool error %s", c.tool, c.args, text(res))
			continue
		}
		var m map[string]any
		b, _ := json.Marshal(res.StructuredContent)
		if json.Unmarshal(b, &m) != nil || !c.check(m) {
			t.Errorf("%s %v: unexpected %s", c.tool, c.args, b)
		}
		if len(res.Content) == 0 || !json.Valid([]byte(text(res))) {
			t.Errorf("%s: text content is not the JSON result", c.tool)
		}
	}

	// Bad input and unknown ids are tool errors, never protocol failures.
	for _, c := range []struct {
		tool string
		args map[string]any
		msg  string
	}{
		{"get_agent", map[string]any{}, "agent_id"},
		{"get_agent", map[string]any{"agent_id": "nobody"}, "agent not found"},
		{"get_agent_checks", map[string]any{"agent_id": "nobody"}, "agent not found"},
		{"get_session_events", map[string]any{"session_id": "nothing"}, "session not found"},
		{"get_session_events", map[string]any{"session_id": "s-a1", "limit": 5000}, "limit"},
		{"list_sessions", map[string]any{"status": "SLEEPING"}, "status"},
		{"list_sessions", map[string]any{"range": "forever"}, "range"},
		{"list_sessions", map[string]any{"no_such_argument": 1}, "no_such_argument"},
		{"get_findings", map[string]any{"severity": []any{"urgent"}}, "severity"},
		{"get_event", map[string]any{"event_id": "x"}, "event_id"},
		{"query_sql", map[string]any{"query": "DROP TABLE perimeter.events"}, explorerSays(s, "read-only")},
		{"query_sql", map[string]any{"query": "SELECT file('/etc/passwd')"}, explorerSays(s, "not allowed")},
		{"query_sql", map[string]any{"query": 42}, "query"},
	} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			t.Errorf("%s %v: protocol error %v", c.tool, c.args, err)
			continue
		}
		if !res.IsError || !strings.Contains(text(res), c.msg) {
			t.Errorf("%s %v: isError %v %q, want %q", c.tool, c.args, res.IsError, text(res), c.msg)
		}
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "no_such_tool"}); err == nil {
		t.Errorf("unknown tool: no error")
	}
}

func num(m map[string]any, path ...string) float64 {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return -1
		}
		v = mm[p]
	}
	f, ok := v.(float64)
	if !ok {
		return -1
	}
	return f
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// rpc posts one raw JSON-RPC message.
func rpc(t *testing.T, s *Server, hdr map[string]string, msg string) (*http.Response, map[string]any) {
	t.Helper()
	resp, b := send(t, s, "POST", "/mcp", []byte(msg), hdr)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

// TestMCPRawJSONRPC speaks both eras by hand, as a client without an SDK
// (or curl) would: no Accept or Content-Type headers needed.
func TestMCPRawJSONRPC(t *testing.T) {
	s := testServer(t, nil, nil)

	// 2025-era handshake: a session id is issued, then used, then deleted.
	resp, m := rpc(t, s, nil, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`)
	sid := resp.Header.Get("Mcp-Session-Id")
	if r, _ := m["result"].(map[string]any); resp.StatusCode != 200 || sid == "" || r == nil || r["protocolVersion"] != "2025-06-18" {
		t.Fatalf("initialize: %d %v %v", resp.StatusCode, resp.Header, m)
	}
	h := map[string]string{"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-06-18"}
	if resp, _ := rpc(t, s, h, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("initialized: %d", resp.StatusCode)
	}
	_, m = rpc(t, s, h, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if tools, _ := m["result"].(map[string]any)["tools"].([]any); len(tools) != len(wantTools) {
		t.Fatalf("tools/list: %v", m)
	}
	_, m = rpc(t, s, h, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_agents","arguments":{}}}`)
	if r, _ := m["result"].(map[string]any); r == nil || r["isError"] == true {
		t.Fatalf("tools/call: %v", m)
	}
	req, _ := http.NewRequest("DELETE", s.URL()+"/mcp", nil)
	req.Header.Set("Mcp-Session-Id", sid)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	if resp, _ := rpc(t, s, h, `{"jsonrpc":"2.0","id":4,"method":"tools/list"}`); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("after DELETE: %d", resp.StatusCode)
	}

	// A legacy client that never initialized still gets answers.
	_, m = rpc(t, s, nil, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_risk_summary","arguments":{"range":"24h"}}}`)
	if r, _ := m["result"].(map[string]any); r == nil || r["isError"] == true {
		t.Fatalf("sessionless call: %v", m)
	}

	// 2026-07-28: no handshake; version and capabilities in _meta, mirrored
	// in headers.
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"}}`
	h = map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28"}
	h["Mcp-Method"] = "server/discover"
	resp, m = rpc(t, s, h, `{"jsonrpc":"2.0","id":6,"method":"server/discover","params":{`+meta+`}}`)
	r, _ := m["result"].(map[string]any)
	if resp.StatusCode != 200 || r == nil || !strings.Contains(strings.Join(strs(r["supportedVersions"]), ","), "2026-07-28") || resp.Header.Get("Mcp-Session-Id") != "" {
		t.Fatalf("server/discover: %d %v", resp.StatusCode, m)
	}
	h["Mcp-Method"], h["Mcp-Name"] = "tools/call", "get_dashboard_summary"
	_, m = rpc(t, s, h, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_dashboard_summary","arguments":{},`+meta+`}}`)
	if r, _ := m["result"].(map[string]any); r == nil || r["isError"] == true || r["structuredContent"] == nil {
		t.Fatalf("2026 tools/call: %v", m)
	}
	h["Mcp-Name"] = "list_agents" // does not match the body
	_, m = rpc(t, s, h, `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"get_dashboard_summary","arguments":{},`+meta+`}}`)
	if m["error"] == nil {
		t.Fatalf("header mismatch accepted: %v", m)
	}
}

func strs(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, e := range l {
			out = append(out, str(e))
		}
	}
	return out
}

// explorerRuns tells whether the store can vet explorer queries (the
// embedded engine and servers from 20.6 on; CI's 18.16 cannot).
func explorerRuns(s *Server) bool {
	v, ok := s.opts.Store.(interface{ Version() sink.ServerVersion })
	return !ok || v.Version().Major == 0 || v.Version().AtLeast(20, 6)
}

// explorerSays is the explorer's refusal to expect: msg where it runs,
// the old-server notice where it does not.
func explorerSays(s *Server, msg string) string {
	if explorerRuns(s) {
		return msg
	}
	return "20.6 or newer"
}
