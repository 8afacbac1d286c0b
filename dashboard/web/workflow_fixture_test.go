package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The security workflow's part of the fixture: agent workflows, analysis
// sessions, findings, recommendations with their lifecycle (the same
// transitions the API allows, 409 otherwise), the gate, compliance
// reports, dynamic analyses and IDE activity, in the shapes of
// dashboard/API.md. Paths are the real server's (dashboard/workflow_routes.go).

type fxWorkflows struct {
	sessionWF map[string]string // runtime session → workflow
	analyses  []map[string]any
	findings  []map[string]any
	recs      []map[string]any
	audit     []map[string]any
	reports   []map[string]any // saved, with report_data
	checks    map[string][]map[string]any
	ide       map[string]map[string]any
	// unanalysed completed runtime sessions per workflow and agent.
	unanalysed map[string]map[string]int
	agentInfo  map[string]map[string]any
	seq        int
	now        func() time.Time
}

func newFxWorkflows(now func() time.Time) *fxWorkflows {
	return &fxWorkflows{sessionWF: map[string]string{}, checks: map[string][]map[string]any{}, ide: map[string]map[string]any{},
		unanalysed: map[string]map[string]int{}, agentInfo: map[string]map[string]any{}, now: now}
}

func (w *fxWorkflows) iso(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

func (w *fxWorkflows) next(prefix string) string {
	w.seq++
	return fmt.Sprintf("%s%03d", prefix, w.seq)
}

// fxFinding is a static finding to seed.
type fxFinding struct {
	Severity, Category, Type, Title, Desc, File, OWASP, CWE string
	Line                                                    int
}

// seedStatic stores a completed STATIC analysis of wf with findings, each
// with its recommendation, as an IDE assistant would through MCP.
func (fx *fixture) seedStatic(wf string, findings []fxFinding, at time.Time) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	w := fx.wf
	sid := w.next("static_" + wf + "_")
	sevs := map[string]int{}
	for _, f := range findings {
		fid := w.next("FND-")
		rid := w.next("REC-")
		sevs[strings.ToLower(f.Severity)]++
		w.findings = append(w.findings, map[string]any{"finding_id": fid, "session_id": sid, "agent_workflow_id": wf, "source_type": "STATIC",
			"category": f.Category, "file_path": f.File, "line_start": f.Line, "line_end": f.Line + 6, "finding_type": f.Type, "severity": f.Severity,
			"title": f.Title, "description": f.Desc, "owasp_mapping": []string{f.OWASP}, "cwe": f.CWE, "soc2_controls": []string{"CC6.1"},
			"recommendation_id": rid, "status": "OPEN", "correlation_state": nil, "created_at": w.iso(at), "updated_at": w.iso(at)})
		w.recs = append(w.recs, map[string]any{"recommendation_id": rid, "workflow_id": wf, "source_type": "STATIC", "source_finding_id": fid,
			"category": f.Category, "severity": f.Severity, "owasp_llm": f.OWASP, "cwe": f.CWE, "soc2_controls": []string{"CC6.1"},
			"title": "Fix: " + f.Title, "description": f.Desc, "fix_hints": "Validate and escape the input before it reaches the model.",
			"fix_complexity": "LOW", "file_path": f.File, "line_start": f.Line, "line_end": f.Line + 6, "code_snippet": "prompt = f\"{user_input}\"",
			"status": "PENDING", "files_modified": []string{}, "related_files": []string{}, "created_at": w.iso(at), "updated_at": w.iso(at)})
	}
	w.analyses = append(w.analyses, map[string]any{"session_id": sid, "agent_workflow_id": wf, "agent_workflow_name": wf, "session_type": "STATIC",
		"status": "COMPLETED", "created_at": w.iso(at), "completed_at": w.iso(at.Add(time.Minute)), "findings_count": len(findings), "risk_score": 40,
		"sessions_analyzed": nil, "severity_breakdown": sevs})
}

// assign files runtime sessions under wf, as calls through
// /agent-workflow/{wf}/ would.
func (fx *fixture) assign(wf string, sessions ...string) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	for _, s := range sessions {
		fx.wf.sessionWF[s] = wf
	}
}

func (fx *fixture) setUnanalysed(wf, agent string, n int) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	if fx.wf.unanalysed[wf] == nil {
		fx.wf.unanalysed[wf] = map[string]int{}
	}
	fx.wf.unanalysed[wf][agent] = n
}

func (fx *fixture) ideHeartbeat(wf, ide, workspace string) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	fx.wf.ide[wf] = map[string]any{"ide_type": ide, "workspace_path": workspace, "model": "claude-sonnet-4", "host": "dev-laptop", "user": "ana", "seen": fx.now()}
}

var severityRank = map[string]int{"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}

func blocking(r map[string]any) bool {
	sev, st := r["severity"], r["status"]
	return (sev == "CRITICAL" || sev == "HIGH") && (st == "PENDING" || st == "FIXING")
}

// serveWorkflow answers the workflow's endpoints; false when p is not one.
// Called with fx.mu held.
func (fx *fixture) serveWorkflow(rw http.ResponseWriter, r *http.Request) bool {
	w := fx.wf
	p := r.URL.Path
	q := r.URL.Query()
	seg := strings.Split(strings.TrimPrefix(p, "/api/"), "/")
	var out any
	status := 200
	fail := func(code int, msg string, extra ...any) {
		body := map[string]any{"error": msg}
		for i := 0; i+1 < len(extra); i += 2 {
			body[extra[i].(string)] = extra[i+1]
		}
		writeJSON(rw, code, body)
	}
	switch {
	case p == "/api/agent-workflows":
		out = fx.workflowList()
	case p == "/api/agents/info":
		var list []any
		for _, a := range fx.agents() {
			id := a["id"].(string)
			e := map[string]any{"agent_id": id, "agent_id_short": id, "agent_workflow_id": nil, "workflows": []string{}, "display_name": nil, "description": nil}
			if i := w.agentInfo[id]; i != nil {
				e["display_name"], e["description"] = i["display_name"], i["description"]
			}
			list = append(list, e)
		}
		out = map[string]any{"agents": nonNilList(list), "total_count": len(list), "filter": nil}
	case len(seg) == 3 && seg[0] == "agent" && seg[2] == "info" && (r.Method == http.MethodPatch || r.Method == http.MethodPost):
		var body map[string]any
		if !decode(rw, r, &body) {
			return true
		}
		name, _ := body["display_name"].(string)
		desc, _ := body["description"].(string)
		info := map[string]any{"agent_id": seg[1], "agent_workflow_id": nil, "display_name": nilIfEmpty(name), "description": nilIfEmpty(desc)}
		w.agentInfo[seg[1]] = info
		out = map[string]any{"agent": info, "message": "Agent " + seg[1] + " updated"}
	case p == "/api/dev-connection":
		wf := q.Get("agent_workflow_id")
		d := map[string]any{"mcp_url": "http://127.0.0.1:7100/mcp", "dashboard_url": "http://127.0.0.1:7100", "transport": "streamable-http",
			"token_required": false, "proxy_url": "http://127.0.0.1:4000", "agent_workflow_id": nil, "agent_base_url": nil,
			"instructions": []any{
				map[string]any{"assistant": "claude-code", "name": "Claude Code", "where": "a terminal in the agent's repository", "config": "claude mcp add --transport http perimeter http://127.0.0.1:7100/mcp"},
				map[string]any{"assistant": "cursor", "name": "Cursor", "where": ".cursor/mcp.json", "config": `{"mcpServers": {"perimeter": {"url": "http://127.0.0.1:7100/mcp"}}}`},
			},
			"first_steps": []string{"Point the agent's LLM base URL at http://127.0.0.1:4000/agent-workflow/" + wf, "Ask the assistant to review the agent"}}
		if wf != "" {
			d["agent_workflow_id"] = wf
			d["agent_base_url"] = "http://127.0.0.1:4000/agent-workflow/" + wf
		}
		out = d
	case p == "/api/ide/status":
		wf := q.Get("agent_workflow_id")
		st := map[string]any{"agent_workflow_id": wf, "has_activity": false, "last_seen": nil, "last_seen_relative": nil, "ide": nil,
			"message": "No IDE has worked on workflow " + wf + " yet: connect your assistant to the dashboard's /mcp endpoint."}
		if i := w.ide[wf]; i != nil {
			st["has_activity"], st["last_seen"], st["last_seen_relative"] = true, w.iso(i["seen"].(time.Time)), "just now"
			st["ide"] = map[string]any{"ide_type": i["ide_type"], "workspace_path": i["workspace_path"], "model": i["model"], "host": i["host"], "user": i["user"]}
		}
		out = st
	case len(seg) == 3 && seg[0] == "agent-workflow" && seg[2] == "findings":
		var rows []any
		bySev, byStatus := map[string]int{}, map[string]int{}
		for _, f := range w.findings {
			if f["agent_workflow_id"] == seg[1] {
				rows = append(rows, f)
				byStatus[f["status"].(string)]++
				if f["status"] == "OPEN" {
					bySev[f["severity"].(string)]++
				}
			}
		}
		out = map[string]any{"findings": nonNilList(rows), "total_count": len(rows), "summary": map[string]any{"agent_workflow_id": seg[1],
			"total_findings": len(rows), "by_severity": bySev, "by_status": byStatus}}
	case len(seg) == 3 && seg[0] == "agent-workflow" && seg[2] == "security-checks":
		out = fx.workflowChecks(seg[1])
	case len(seg) == 3 && seg[0] == "workflow":
		wf := seg[1]
		switch seg[2] {
		case "recommendations":
			var rows []map[string]any
			for _, x := range w.recs {
				if x["workflow_id"] == wf {
					rows = append(rows, x)
				}
			}
			sort.SliceStable(rows, func(i, j int) bool {
				return severityRank[rows[i]["severity"].(string)] < severityRank[rows[j]["severity"].(string)]
			})
			out = map[string]any{"recommendations": nonNilList(anyList(rows)), "total_count": len(rows), "workflow_id": wf}
		case "production-readiness":
			out = fx.readiness(wf)
		case "compliance-report":
			switch r.Method {
			case http.MethodGet:
				out = fx.report(wf, q.Get("report_type"))
			case http.MethodPost:
				var body struct {
					ReportType  string `json:"report_type"`
					GeneratedBy string `json:"generated_by"`
				}
				if !decode(rw, r, &body) {
					return true
				}
				rep := fx.report(wf, body.ReportType)
				id := w.next("RPT-")
				rep["report_id"] = id
				data, _ := json.Marshal(rep)
				ex := rep["executive_summary"].(map[string]any)
				w.reports = append(w.reports, map[string]any{"report_id": id, "agent_workflow_id": wf, "report_type": rep["report_type"],
					"report_name": reportName(rep["report_type"].(string), fx.now()), "generated_at": rep["generated_at"], "generated_by": body.GeneratedBy,
					"risk_score": ex["risk_score"], "gate_status": ex["gate_status"], "findings_count": ex["total_findings"],
					"recommendations_count": len(rep["recommendations_detail"].([]any)), "report_data": json.RawMessage(data)})
				w.log("report", id, "REPORT_GENERATED", "", "", "", body.GeneratedBy)
				out = rep
			}
		case "reports":
			var rows []any
			for i := len(w.reports) - 1; i >= 0; i-- {
				if rp := w.reports[i]; rp["agent_workflow_id"] == wf {
					c := map[string]any{}
					for k, v := range rp {
						if k != "report_data" {
							c[k] = v
						}
					}
					rows = append(rows, c)
				}
			}
			out = map[string]any{"reports": nonNilList(rows)}
		case "static-summary":
			out = fx.staticSummary(wf)
		case "correlation-summary":
			out = fx.correlationSummary(wf)
		case "correlate":
			n := 0
			for _, f := range w.findings {
				if f["agent_workflow_id"] == wf && f["status"] == "OPEN" && f["correlation_state"] == nil {
					f["correlation_state"] = map[bool]string{true: "VALIDATED", false: "THEORETICAL"}[f["category"] == "PROMPT"]
					n++
				}
			}
			out = map[string]any{"summary": fx.correlationSummary(wf), "updated": n}
		case "dynamic-analysis-status":
			out = fx.dynamicStatus(wf)
		case "trigger-dynamic-analysis":
			out = fx.triggerDynamic(wf, q.Get("force") == "true")
		case "analysis-history":
			var rows []any
			var latest any
			for i := len(w.analyses) - 1; i >= 0; i-- {
				if a := w.analyses[i]; a["agent_workflow_id"] == wf && a["session_type"] == "DYNAMIC" {
					rows = append(rows, a)
					if latest == nil && a["status"] == "COMPLETED" {
						latest = a["session_id"]
					}
				}
			}
			out = map[string]any{"workflow_id": wf, "session_type": "DYNAMIC", "analyses": nonNilList(rows), "latest_id": latest, "total_count": len(rows)}
		default:
			return false
		}
	case len(seg) == 2 && (seg[0] == "recommendations" || seg[0] == "reports") && r.Method == http.MethodGet && fx.off():
		// The real server's answer with the store off: the envelope alone.
		out = map[string]any{}
	case len(seg) == 2 && seg[0] == "recommendations":
		rec := w.rec(seg[1])
		if rec == nil {
			fail(404, "recommendation "+seg[1]+" not found", "kind", "recommendation", "id", seg[1])
			return true
		}
		var log []any
		for i := len(w.audit) - 1; i >= 0; i-- {
			if w.audit[i]["entity_id"] == seg[1] {
				log = append(log, w.audit[i])
			}
		}
		out = map[string]any{"recommendation": rec, "finding": w.finding(rec["source_finding_id"].(string)), "audit_log": nonNilList(log)}
	case len(seg) == 3 && seg[0] == "recommendations" && r.Method == http.MethodPost:
		rec := w.rec(seg[1])
		if rec == nil {
			fail(404, "recommendation "+seg[1]+" not found")
			return true
		}
		var body map[string]any
		if !decode(rw, r, &body) {
			return true
		}
		res, code, msg := fx.step(rec, seg[2], body)
		if code != 0 {
			fail(code, msg, "recommendation_id", seg[1], "status", rec["status"])
			return true
		}
		out = res
	case len(seg) == 2 && seg[0] == "reports":
		var rep map[string]any
		idx := -1
		for i, x := range w.reports {
			if x["report_id"] == seg[1] {
				rep, idx = x, i
			}
		}
		if rep == nil {
			fail(404, "report "+seg[1]+" not found")
			return true
		}
		if r.Method == http.MethodDelete {
			w.reports = append(w.reports[:idx], w.reports[idx+1:]...)
			out = map[string]any{"success": true, "report_id": seg[1]}
		} else {
			out = rep
		}
	default:
		return false
	}
	if m, ok := out.(map[string]any); ok {
		m["storage"] = fx.storage
		m["last_updated"] = fx.now().UTC().Format(time.RFC3339Nano)
	}
	writeJSON(rw, status, out)
	return true
}

func decode(rw http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeJSON(rw, 415, map[string]any{"error": "body: send JSON"})
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil && err.Error() != "EOF" {
		writeJSON(rw, 400, map[string]any{"error": "body: " + err.Error(), "param": "body"})
		return false
	}
	return true
}

func nonNilList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func anyList(l []map[string]any) []any {
	out := make([]any, len(l))
	for i, x := range l {
		out[i] = x
	}
	return out
}

func (w *fxWorkflows) rec(id string) map[string]any {
	for _, x := range w.recs {
		if x["recommendation_id"] == id {
			return x
		}
	}
	return nil
}

func (w *fxWorkflows) finding(id string) map[string]any {
	for _, x := range w.findings {
		if x["finding_id"] == id {
			return x
		}
	}
	return nil
}

func (w *fxWorkflows) log(entity, id, action, old, new, reason, by string) {
	w.audit = append(w.audit, map[string]any{"id": len(w.audit) + 1, "entity_type": entity, "entity_id": id, "action": action,
		"previous_value": nilIfEmpty(old), "new_value": nilIfEmpty(new), "reason": nilIfEmpty(reason), "performed_by": nilIfEmpty(by),
		"performed_at": w.iso(w.now()), "metadata": nil})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// allowedFrom is the lifecycle of package dashboard/workflow.
var allowedFrom = map[string][]string{
	"start-fix": {"PENDING"}, "complete-fix": {"PENDING", "FIXING"}, "verify": {"FIXED"}, "dismiss": {"PENDING", "FIXING", "FIXED"},
}

// step runs one lifecycle step: the answer, or an HTTP status and message.
func (fx *fixture) step(rec map[string]any, action string, body map[string]any) (map[string]any, int, string) {
	w := fx.wf
	allowed, ok := allowedFrom[action]
	if !ok {
		return nil, 404, "no such step " + action
	}
	from := rec["status"].(string)
	okFrom := false
	for _, s := range allowed {
		okFrom = okFrom || s == from
	}
	if !okFrom {
		return nil, 409, fmt.Sprintf("%s: cannot %s a %s recommendation (allowed from %s)", rec["recommendation_id"], action, from, strings.Join(allowed, ", "))
	}
	str := func(k string) string { s, _ := body[k].(string); return s }
	id := rec["recommendation_id"].(string)
	now := w.iso(fx.now())
	to, findingTo, by := "", "", ""
	switch action {
	case "start-fix":
		to, by = "FIXING", str("fixed_by")
	case "complete-fix":
		to, findingTo, by = "FIXED", "FIXED", str("fixed_by")
		rec["fix_notes"], rec["fix_commit"], rec["fix_method"], rec["fixed_by"], rec["fixed_at"] = str("fix_notes"), str("fix_commit"), str("fix_method"), by, now
		files := []string{}
		if l, ok := body["files_modified"].([]any); ok {
			for _, x := range l {
				files = append(files, fmt.Sprint(x))
			}
		}
		rec["files_modified"] = files
	case "verify":
		if str("verification_result") == "" {
			return nil, 400, "verification_result: required"
		}
		by = str("verified_by")
		to = "VERIFIED"
		if s, ok := body["success"].(bool); ok && !s {
			to, findingTo = "PENDING", "OPEN"
		}
		rec["verification_result"], rec["verified_by"], rec["verified_at"] = str("verification_result"), by, now
	case "dismiss":
		if str("reason") == "" {
			return nil, 400, "reason: required"
		}
		to = "DISMISSED"
		if str("dismiss_type") == "IGNORED" {
			to = "IGNORED"
		}
		findingTo, by = to, str("dismissed_by")
		rec["dismissed_reason"], rec["dismissed_by"], rec["dismissed_at"], rec["dismiss_type"] = str("reason"), by, now, to
	}
	rec["status"], rec["updated_at"] = to, now
	w.log("recommendation", id, strings.ToUpper(strings.ReplaceAll(action, "-", "_")), from, to, str("reason"), by)
	if f := w.finding(rec["source_finding_id"].(string)); f != nil && findingTo != "" && f["status"] != findingTo {
		w.log("finding", f["finding_id"].(string), "STATUS_CHANGED", f["status"].(string), findingTo, "", by)
		f["status"] = findingTo
	}
	return map[string]any{"recommendation": rec, "message": fmt.Sprintf("%s: %s → %s", id, from, to)}, 0, ""
}

func (fx *fixture) readiness(wf string) map[string]any {
	w := fx.wf
	n, st := 0, 0
	for _, r := range w.recs {
		if r["workflow_id"] == wf && blocking(r) {
			n++
			if r["source_type"] == "STATIC" {
				st++
			}
		}
	}
	state := map[bool]string{true: "BLOCKED", false: "OPEN"}[n > 0]
	staticState, dynState := map[string]any{"status": "pending", "critical_count": st, "session_id": nil}, map[string]any{"status": "pending", "critical_count": n - st, "session_id": nil}
	for _, a := range w.analyses {
		if a["agent_workflow_id"] != wf {
			continue
		}
		s := staticState
		if a["session_type"] == "DYNAMIC" {
			s = dynState
		}
		s["status"], s["session_id"] = "completed", a["session_id"]
	}
	return map[string]any{"workflow_id": wf, "static_analysis": staticState, "dynamic_analysis": dynState,
		"gate": map[string]any{"is_blocked": n > 0, "blocking_count": n, "state": state}}
}

func (fx *fixture) workflowList() map[string]any {
	w := fx.wf
	type agg struct {
		agents        map[string]bool
		sessions      map[string]bool
		errors        int
		last          time.Time
		hasStatic     bool
		open, blocked int
	}
	by := map[string]*agg{}
	get := func(id string) *agg {
		a := by[id]
		if a == nil {
			a = &agg{agents: map[string]bool{}, sessions: map[string]bool{}}
			by[id] = a
		}
		return a
	}
	for _, e := range fx.events {
		a := get(w.sessionWF[e.Session])
		a.agents[e.Agent] = true
		a.sessions[e.Session] = true
		if e.Name == "llm.call.error" {
			a.errors++
		}
		if e.Time.After(a.last) {
			a.last = e.Time
		}
	}
	for _, f := range w.findings {
		a := get(f["agent_workflow_id"].(string))
		if f["status"] == "OPEN" {
			a.open++
		}
	}
	for _, r := range w.recs {
		if blocking(r) {
			get(r["workflow_id"].(string)).blocked++
		}
	}
	for _, an := range w.analyses {
		if an["session_type"] == "STATIC" {
			get(an["agent_workflow_id"].(string)).hasStatic = true
		}
	}
	ids := make([]string, 0, len(by))
	for id := range by {
		if id != "" {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if by[""] != nil {
		ids = append(ids, "")
	}
	list := []any{}
	for _, id := range ids {
		a := by[id]
		agents := make([]string, 0, len(a.agents))
		for x := range a.agents {
			agents = append(agents, x)
		}
		sort.Strings(agents)
		var idv any = id
		name := id
		if id == "" {
			idv, name = nil, "Unassigned"
		}
		var last, rel any
		if !a.last.IsZero() {
			last, rel = w.iso(a.last), "just now"
		}
		list = append(list, map[string]any{"id": idv, "name": name, "agent_count": len(agents), "session_count": len(a.sessions),
			"error_count": a.errors, "agents": agents, "open_findings": a.open, "gate_state": map[bool]string{true: "BLOCKED", false: "OPEN"}[a.blocked > 0],
			"blocking_count": a.blocked, "has_static_analysis": a.hasStatic, "last_seen": last, "last_seen_relative": rel})
	}
	return map[string]any{"agent_workflows": list}
}

var owaspNames = map[string]string{"LLM01": "Prompt Injection", "LLM02": "Sensitive Information Disclosure", "LLM03": "Supply Chain",
	"LLM04": "Data and Model Poisoning", "LLM05": "Improper Output Handling", "LLM06": "Excessive Agency", "LLM07": "System Prompt Leakage",
	"LLM08": "Vector and Embedding Weaknesses", "LLM09": "Misinformation", "LLM10": "Unbounded Consumption"}

var categoryNames = map[string]string{"PROMPT": "Prompt Security", "OUTPUT": "Output Security", "TOOL": "Tool Security", "DATA": "Data & Secrets",
	"MEMORY": "Memory & Context", "SUPPLY": "Supply Chain", "BEHAVIOR": "Behavioral Boundaries"}

func reportName(typ string, at time.Time) string {
	names := map[string]string{"security_assessment": "Security Assessment", "executive_summary": "Executive Summary", "customer_due_diligence": "Customer Due Diligence"}
	return names[typ] + " - " + at.Format("January 02, 2006")
}

// report builds a compliance report of wf (formula B risk score).
func (fx *fixture) report(wf, typ string) map[string]any {
	w := fx.wf
	if typ == "" {
		typ = "SECURITY_ASSESSMENT"
	}
	weights := map[string]int{"CRITICAL": 25, "HIGH": 15, "MEDIUM": 5, "LOW": 2}
	open := map[string]int{}
	var findings, recs, blockingItems []any
	total, openN, fixed, dismissed := 0, 0, 0, 0
	owasp := map[string]any{}
	for id, name := range owaspNames {
		owasp[id] = map[string]any{"status": "PASS", "name": name, "message": "0 open, 0 fixed", "findings_count": 0, "open_count": 0, "fixed_count": 0, "findings": []any{}}
	}
	cats := map[string]any{}
	for id, name := range categoryNames {
		cats[id] = map[string]any{"status": "PASS", "name": name, "findings_count": 0, "open_count": 0, "max_severity": nil}
	}
	for _, f := range w.findings {
		if f["agent_workflow_id"] != wf {
			continue
		}
		total++
		findings = append(findings, f)
		sev := f["severity"].(string)
		o := owasp[f["owasp_mapping"].([]string)[0]].(map[string]any)
		o["findings_count"] = o["findings_count"].(int) + 1
		c := cats[f["category"].(string)].(map[string]any)
		c["findings_count"] = c["findings_count"].(int) + 1
		switch f["status"] {
		case "OPEN":
			openN++
			open[sev]++
			o["open_count"] = o["open_count"].(int) + 1
			c["open_count"] = c["open_count"].(int) + 1
			if sev == "CRITICAL" || sev == "HIGH" {
				o["status"], c["status"] = "FAIL", "FAIL"
			} else if o["status"] != "FAIL" {
				o["status"], c["status"] = "WARNING", "WARNING"
			}
			if c["max_severity"] == nil {
				c["max_severity"] = sev
			}
		case "FIXED":
			fixed++
			o["fixed_count"] = o["fixed_count"].(int) + 1
		case "DISMISSED", "IGNORED":
			dismissed++
		}
		o["message"] = fmt.Sprintf("%d open, %d fixed", o["open_count"], o["fixed_count"])
	}
	rem := map[string]int{}
	for _, r := range w.recs {
		if r["workflow_id"] != wf {
			continue
		}
		recs = append(recs, r)
		rem[strings.ToLower(r["status"].(string))]++
		if blocking(r) {
			blockingItems = append(blockingItems, r)
		}
	}
	raw, breakdown := 0, []any{}
	for _, s := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW"} {
		raw += open[s] * weights[s]
		breakdown = append(breakdown, map[string]any{"severity": s, "count": open[s], "weight": weights[s], "subtotal": open[s] * weights[s]})
	}
	score := min(raw, 100)
	blocked := len(blockingItems) > 0
	decision, msg, gate := "GO", "Cleared for production deployment. All critical and high security issues have been addressed.", "OPEN"
	if blocked {
		decision, gate = "NO-GO", "BLOCKED"
		msg = fmt.Sprintf("Do not deploy to production. %d critical and %d high severity issues must be resolved.", open["CRITICAL"], open["HIGH"])
	}
	bullets := []any{"✅ No critical security risks identified"}
	if open["CRITICAL"] > 0 {
		bullets = []any{fmt.Sprintf("🔴 %d critical issue(s) need fixing before release", open["CRITICAL"])}
	}
	return map[string]any{"report_type": strings.ToLower(typ), "workflow_id": wf, "generated_at": w.iso(fx.now()),
		"executive_summary": map[string]any{"gate_status": gate, "is_blocked": blocked, "risk_score": score,
			"risk_breakdown": map[string]any{"formula": "CRITICAL×25 + HIGH×15 + MEDIUM×5 + LOW×2 (capped at 100)", "breakdown": breakdown, "raw_total": raw, "final_score": score},
			"decision":       decision, "decision_message": msg, "total_findings": total, "open_findings": openN, "fixed_findings": fixed,
			"dismissed_findings": dismissed, "blocking_count": len(blockingItems), "blocking_critical": open["CRITICAL"], "blocking_high": open["HIGH"]},
		"business_impact": map[string]any{"overall_risk": map[bool]string{true: "HIGH", false: "LOW"}[blocked], "overall_description": "What the open findings could cost.",
			"impacts": map[string]any{"privilege_escalation": map[string]any{"risk_level": map[bool]string{true: "HIGH", false: "NONE"}[open["CRITICAL"] > 0],
				"description": "An attacker steers the agent with injected instructions.", "affected_components": []string{"agent/prompt.py"}}},
			"executive_bullets": bullets},
		"owasp_llm_coverage": owasp,
		"soc2_compliance":    map[string]any{"CC6.1": map[string]any{"status": map[bool]string{true: "NON-COMPLIANT", false: "COMPLIANT"}[openN > 0], "name": "Logical Access", "findings_count": total, "open_count": openN}},
		"security_checks":    cats,
		"static_analysis":    map[string]any{"sessions_count": 1, "last_scan": nil, "findings_count": total},
		"dynamic_analysis":   map[string]any{"sessions_count": 0, "last_analysis": nil, "sessions_analyzed": 0, "checks_total": 0, "checks_passed": 0, "behavioral_stability": nil},
		"remediation_summary": map[string]any{"total_recommendations": len(recs), "pending": rem["pending"], "fixing": rem["fixing"], "fixed": rem["fixed"],
			"verified": rem["verified"], "dismissed": rem["dismissed"] + rem["ignored"], "resolved": rem["resolved"]},
		"audit_trail": nonNilList(anyList(w.audit)), "blocking_items": nonNilList(blockingItems), "findings_detail": nonNilList(findings), "recommendations_detail": nonNilList(recs)}
}

func (fx *fixture) staticSummary(wf string) map[string]any {
	w := fx.wf
	var checks, history []any
	sev := map[string]int{"critical": 0, "high": 0, "medium": 0, "low": 0}
	var last any
	for _, a := range w.analyses {
		if a["agent_workflow_id"] == wf && a["session_type"] == "STATIC" {
			history = append(history, map[string]any{"session_id": a["session_id"], "created_at": a["created_at"], "status": a["status"],
				"session_type": "STATIC", "findings_count": a["findings_count"], "severity_breakdown": a["severity_breakdown"]})
			last = map[string]any{"timestamp": a["completed_at"], "scanned_by": "AI Assistant", "files_analyzed": nil, "duration_ms": nil, "session_id": a["session_id"]}
		}
	}
	passed, failed, info := 0, 0, 0
	if last != nil {
		for _, cat := range []string{"PROMPT", "OUTPUT", "TOOL", "DATA", "MEMORY", "SUPPLY", "BEHAVIOR"} {
			var fs []any
			open, status := 0, "PASS"
			var maxSev any
			for _, f := range w.findings {
				if f["agent_workflow_id"] != wf || f["category"] != cat {
					continue
				}
				fs = append(fs, f)
				if f["status"] == "OPEN" {
					open++
					s := f["severity"].(string)
					if maxSev == nil {
						maxSev = s
					}
					if s == "CRITICAL" || s == "HIGH" {
						status = "FAIL"
					} else if status == "PASS" && s == "MEDIUM" {
						status = "INFO"
					}
				}
			}
			switch status {
			case "PASS":
				passed++
			case "FAIL":
				failed++
			default:
				info++
			}
			checks = append(checks, map[string]any{"category_id": cat, "name": categoryNames[cat], "owasp_llm": []string{}, "status": status,
				"findings_count": len(fs), "open_count": open, "max_severity": maxSev, "findings": nonNilList(fs)})
		}
	}
	for _, f := range w.findings {
		if f["agent_workflow_id"] == wf && f["status"] == "OPEN" {
			sev[strings.ToLower(f["severity"].(string))]++
		}
	}
	gate := "UNBLOCKED"
	if sev["critical"]+sev["high"] > 0 {
		gate = "BLOCKED"
	}
	return map[string]any{"workflow_id": wf, "last_scan": last, "checks": nonNilList(checks),
		"summary":               map[string]any{"total_checks": len(checks), "passed": passed, "failed": failed, "info": info, "gate_status": gate},
		"recommendations_count": len(w.recs), "severity_counts": sev, "scan_history": nonNilList(history),
		"historical_summary": map[string]any{"total_resolved": 0, "fixed": 0, "resolved": 0, "dismissed": 0}}
}

func (fx *fixture) correlationSummary(wf string) map[string]any {
	c := map[string]int{}
	for _, f := range fx.wf.findings {
		if f["agent_workflow_id"] != wf || f["status"] != "OPEN" {
			continue
		}
		if s, ok := f["correlation_state"].(string); ok {
			c[strings.ToLower(s)]++
		} else {
			c["uncorrelated"]++
		}
	}
	sessions := 0
	for s, x := range fx.wf.sessionWF {
		if x == wf && s != "" {
			sessions++
		}
	}
	return map[string]any{"agent_workflow_id": wf, "validated": c["validated"], "unexercised": c["unexercised"], "runtime_only": c["runtime_only"],
		"theoretical": c["theoretical"], "uncorrelated": c["uncorrelated"], "sessions_count": sessions,
		"is_correlated": c["uncorrelated"] == 0 && c["validated"]+c["unexercised"]+c["theoretical"] > 0, "message": strconv.Itoa(c["uncorrelated"]) + " finding(s) not correlated yet"}
}

func (fx *fixture) dynamicStatus(wf string) map[string]any {
	w := fx.wf
	agents := []any{}
	total, with := 0, 0
	names := make([]string, 0)
	for a := range w.unanalysed[wf] {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, a := range names {
		n := w.unanalysed[wf][a]
		total += n
		if n > 0 {
			with++
		}
		agents = append(agents, map[string]any{"agent_id": a, "display_name": nil, "total_sessions": 2, "unanalyzed_count": n})
	}
	var last any
	for _, a := range w.analyses {
		if a["agent_workflow_id"] == wf && a["session_type"] == "DYNAMIC" {
			last = a
		}
	}
	return map[string]any{"workflow_id": wf, "can_trigger": total > 0, "is_running": false, "total_unanalyzed_sessions": total,
		"agents_with_new_sessions": with, "agents_status": agents, "last_analysis": last, "message": strconv.Itoa(total) + " new session(s) to analyse"}
}

func (fx *fixture) triggerDynamic(wf string, force bool) map[string]any {
	w := fx.wf
	total := 0
	for _, n := range w.unanalysed[wf] {
		total += n
	}
	if total == 0 && !force {
		return map[string]any{"status": "no_new_sessions", "message": "No new completed sessions to analyse.", "sessions_analyzed": 0}
	}
	now := fx.now()
	id := "dynamic_" + wf + "_" + now.Format("20060102_150405")
	w.analyses = append(w.analyses, map[string]any{"session_id": id, "agent_workflow_id": wf, "agent_workflow_name": wf, "session_type": "DYNAMIC",
		"status": "COMPLETED", "created_at": w.iso(now), "completed_at": w.iso(now), "findings_count": 1, "risk_score": nil, "sessions_analyzed": total})
	w.checks[wf] = nil
	for agent := range w.unanalysed[wf] {
		for _, c := range []struct{ id, cat, status, title, value string }{
			{"RESOURCE_001_TOKEN_BOUNDS", "RESOURCE_MANAGEMENT", "passed", "Token bounds", "max 1,200 tokens"},
			{"ENV_001_CONSISTENT_MODEL", "ENVIRONMENT", "critical", "Pinned model versions", "1 unpinned model(s)"},
			{"BEHAV_001_STABILITY", "BEHAVIORAL", "warning", "Behavioural stability", "0.62"},
		} {
			w.checks[wf] = append(w.checks[wf], map[string]any{"check_id": id + "_" + agent + "_" + c.id, "agent_id": agent, "agent_workflow_id": wf,
				"analysis_session_id": id, "category_id": c.cat, "check_type": c.id, "status": c.status, "title": c.title, "description": nil,
				"value": c.value, "evidence": nil, "recommendations": []string{}, "created_at": w.iso(now)})
		}
		w.unanalysed[wf][agent] = 0
	}
	return map[string]any{"status": "completed", "message": fmt.Sprintf("Analysed %d session(s) of %d agent(s).", total, len(w.unanalysed[wf])),
		"analysis_session_id": id, "sessions_analyzed": total, "agents_analyzed": len(w.unanalysed[wf]), "findings_created": 1}
}

func (fx *fixture) workflowChecks(wf string) map[string]any {
	by := map[string][]any{}
	var order []string
	sum := map[string]int{}
	for _, c := range fx.wf.checks[wf] {
		a := c["agent_id"].(string)
		if by[a] == nil {
			order = append(order, a)
		}
		by[a] = append(by[a], c)
		sum[c["status"].(string)]++
	}
	sort.Strings(order)
	agents := []any{}
	for _, a := range order {
		s := map[string]int{}
		for _, c := range by[a] {
			s[c.(map[string]any)["status"].(string)]++
		}
		agents = append(agents, map[string]any{"agent_id": a, "agent_name": a, "checks": by[a], "latest_check_at": by[a][0].(map[string]any)["created_at"],
			"summary": map[string]any{"total": len(by[a]), "passed": s["passed"], "warnings": s["warning"], "critical": s["critical"]}})
	}
	return map[string]any{"agent_workflow_id": wf, "agents": agents, "total_summary": map[string]any{"total_checks": len(fx.wf.checks[wf]),
		"passed": sum["passed"], "warnings": sum["warning"], "critical": sum["critical"], "agents_analyzed": len(order)}}
}
