package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cylestio/perimeter/dashboard/workflow"
)

// The security workflow's MCP tools: the original's,
// with its argument names and answer shapes, and a few of Perimeter's
// (generate_compliance_report, list_reports, correlate_findings). Each
// runs the same operation as its REST endpoint.

// toolSchema infers In's schema, marks names required and non-empty.
func toolSchema[In any](names ...string) *jsonschema.Schema {
	sch := schemaFor[In](func(p map[string]*jsonschema.Schema) {
		nonEmpty(p, names...)
		limitProp(p, 1000)
	})
	for _, n := range names {
		if !contains(sch.Required, n) {
			sch.Required = append(sch.Required, n)
		}
	}
	return sch
}

// call runs a workflow operation for a tool. Reads answer the empty state
// when the store is down; writes and everything else that fails are tool
// errors saying why.
func (w *workflowAPI) call(ctx context.Context, write bool, op wfOp, empty func() any) (*mcp.CallToolResult, any, error) {
	v, st, err := w.run(ctx, op)
	switch {
	case err == nil:
		return nil, w.answer(v, st), nil
	case errors.Is(err, errUnavailable) && !write:
		var e any
		if empty != nil {
			e = empty()
		}
		return nil, w.answer(e, st), nil
	case errors.Is(err, errUnavailable):
		msg := "the analytics store is unavailable, so nothing was changed"
		if st.Reason != "" {
			msg += ": " + st.Reason
		}
		if st.Fix != "" {
			msg += " (" + st.Fix + ")"
		}
		return nil, nil, errors.New(msg)
	}
	var ae *apiError
	if errors.As(err, &ae) && ae.id != "" {
		return nil, nil, errors.New(ae.msg + ": " + ae.id)
	}
	return nil, nil, err
}

type registerIDEArgs struct {
	IDEType         string `json:"ide_type" jsonschema:"cursor, claude-code, vscode, windsurf, …"`
	AgentWorkflowID string `json:"agent_workflow_id" jsonschema:"the workflow the IDE works on"`
	WorkspacePath   string `json:"workspace_path" jsonschema:"the repository open in the IDE"`
	Model           string `json:"model" jsonschema:"the assistant's model"`
	Host            string `json:"host,omitempty"`
	User            string `json:"user,omitempty"`
}

type connectionArgs struct {
	ConnectionID string `json:"connection_id" jsonschema:"the id register_ide_connection returned"`
}

// workflowFindingsArgs are get_findings' workflow arguments; its runtime
// ones are findingsArgs (mcp.go).
func (in findingsArgs) workflowMode() bool {
	return in.AgentWorkflowID != "" || in.WorkflowID != "" || in.Status != ""
}

// readOnlyTool is a read-only tool of the workflow's.
func readOnlyTool(name, desc string, in *jsonschema.Schema) *mcp.Tool {
	f := false
	return &mcp.Tool{Name: name, Description: desc, InputSchema: in, Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: &f}}
}

// changingTool is a tool that changes the workflow's state, destroying
// nothing.
func changingTool(name, desc string, in *jsonschema.Schema, idempotent bool) *mcp.Tool {
	f := false
	return &mcp.Tool{Name: name, Description: desc, InputSchema: in,
		Annotations: &mcp.ToolAnnotations{DestructiveHint: &f, IdempotentHint: idempotent, OpenWorldHint: &f}}
}

// readTool adds a read-only tool answering op on its arguments, or
// empty() (when not nil) while the store is down.
func readTool[In any](srv *mcp.Server, w *workflowAPI, name, desc string, in *jsonschema.Schema, op func(In) wfOp, empty func() any) {
	mcp.AddTool(srv, readOnlyTool(name, desc, in), func(ctx context.Context, _ *mcp.CallToolRequest, in In) (*mcp.CallToolResult, any, error) {
		return w.call(ctx, false, op(in), empty)
	})
}

// changeTool adds a tool that changes the workflow by op on its arguments.
func changeTool[In any](srv *mcp.Server, w *workflowAPI, name, desc string, in *jsonschema.Schema, idempotent bool, op func(In) wfOp) {
	mcp.AddTool(srv, changingTool(name, desc, in, idempotent), func(ctx context.Context, _ *mcp.CallToolRequest, in In) (*mcp.CallToolResult, any, error) {
		return w.call(ctx, true, op(in), nil)
	})
}

func (s *Server) addWorkflowTools(srv *mcp.Server) {
	w := s.wf
	kb := func(v any, err error) (*mcp.CallToolResult, any, error) {
		if err != nil {
			return nil, nil, err
		}
		return nil, w.answer(v, s.status()), nil
	}

	// Knowledge base.
	mcp.AddTool(srv, readOnlyTool("get_security_patterns",
		"OWASP Top 10 for LLM Applications (2025) controls to look for when reviewing an agent's code: what to look for, dangerous and secure code indicators, remediation steps, references, and the Perimeter runtime rules that report each. Filter by context (e.g. prompt_injection) and minimum severity.",
		toolSchema[patternsArgs]()),
		func(_ context.Context, _ *mcp.CallToolRequest, in patternsArgs) (*mcp.CallToolResult, any, error) {
			return kb(workflow.SecurityPatterns(in.Context, in.MinSeverity))
		})
	mcp.AddTool(srv, readOnlyTool("get_owasp_control", "One OWASP LLM Top 10 (2025) control by id (LLM01 … LLM10), in full.",
		toolSchema[controlArgs]("control_id")),
		func(_ context.Context, _ *mcp.CallToolRequest, in controlArgs) (*mcp.CallToolResult, any, error) {
			c, err := workflow.OWASPControl(in.ControlID)
			if err != nil {
				return nil, nil, errors.New(err.Error() + "; available: " + strings.Join(workflow.ControlIDs(), ", "))
			}
			return kb(&ControlAnswer{Control: c, ControlID: strings.ToUpper(in.ControlID)}, nil)
		})
	mcp.AddTool(srv, readOnlyTool("get_fix_template",
		"How to fix a finding type: before/after code patterns, how to apply it and how to verify the fix. Accepts the knowledge base's types (PROMPT_INJECTION, DATA_EXPOSURE, …), Perimeter rule ids (secret.github-pat, llm01.…) and dynamic check ids.",
		toolSchema[templateArgs]("finding_type")),
		func(_ context.Context, _ *mcp.CallToolRequest, in templateArgs) (*mcp.CallToolResult, any, error) {
			t, err := workflow.FixTemplateFor(in.FindingType)
			if err != nil {
				return nil, nil, errors.New(err.Error() + "; available: " + strings.Join(workflow.TemplateIDs(), ", "))
			}
			return kb(&TemplateAnswer{Template: t, FindingType: in.FindingType}, nil)
		})

	// Static analysis: sessions and findings.
	changeTool(srv, w, "create_analysis_session",
		"Start an analysis of an agent workflow (STATIC: your review of the agent's code). Returns the session whose session_id store_finding and complete_analysis_session take.",
		toolSchema[createSessionArgs]("agent_workflow_id"), false, opCreateSession)
	changeTool(srv, w, "complete_analysis_session",
		"Finish an analysis session: its findings count and risk score (min(100, CRITICAL×25 + HIGH×15 + MEDIUM×5 + LOW×1 over its open findings)). Completing a STATIC session resolves older open findings this scan no longer reports.",
		toolSchema[completeSessionArgs]("session_id"), true, opCompleteSession)
	changeTool(srv, w, "store_finding",
		"Record a security finding of an analysis session (file, lines, snippet, OWASP LLM / CWE / SOC2 mapping, severity, CVSS). A recommendation REC-n to fix it is created with it unless auto_create_recommendation is false.",
		toolSchema[storeFindingArgs]("session_id", "file_path", "finding_type", "severity", "title"), false, opStoreFinding)
	changeTool(srv, w, "update_finding_status",
		"Set a finding's status (OPEN, FIXED, IGNORED, DISMISSED, RESOLVED, SUPERSEDED); notes are appended to its description. Audited.",
		toolSchema[findingStatusArgs]("finding_id", "status"), true, opFindingStatus)
	changeTool(srv, w, "update_finding_correlation",
		"Say how a static finding relates to runtime behaviour: VALIDATED (seen at runtime), UNEXERCISED (code path never run), RUNTIME_ONLY, THEORETICAL; with evidence. Never overwritten by correlate_findings.",
		toolSchema[correlationArgs]("finding_id", "correlation_state"), true, opCorrelation)
	changeTool(srv, w, "correlate_findings",
		"Correlate a workflow's open findings with its runtime sessions automatically (tools called, runtime detections by OWASP control); findings you correlated by hand are kept. Returns the correlation summary.",
		toolSchema[wfRef](), true, opCorrelate)
	readTool(srv, w, "get_correlation_summary",
		"Counts of a workflow's open findings by correlation state (validated, unexercised, runtime_only, theoretical, uncorrelated) and its completed runtime sessions.",
		toolSchema[wfRef](), opCorrelationSummary, nil)
	readTool(srv, w, "get_agent_workflow_state",
		"What is known about a workflow (NO_DATA, STATIC_ONLY, DYNAMIC_ONLY, COMPLETE), its analyses and findings, and what to do next.",
		toolSchema[wfRef](), opState, nil)
	readTool(srv, w, "get_tool_usage_summary",
		"Tools a workflow's agents are offered versus the tools they call at runtime: calls per tool, unused tools, coverage.",
		toolSchema[wfRef](), opToolUsage, nil)
	readTool(srv, w, "get_agent_workflow_correlation",
		"The raw data to correlate by yourself: the workflow's open static findings and the tools its runtime sessions called.",
		toolSchema[wfRef](), opCorrelationData, nil)

	// Agents and sessions of a workflow.
	readTool(srv, w, "get_agents",
		"Agents with their workflow, display name and description (and, by default, sessions, messages, tokens, tools and first/last seen). agent_workflow_id narrows to one workflow; unlinked lists agents without one.",
		toolSchema[agentsArgs](), opAgents, func() any { return &AgentsAnswer{Agents: []AgentEntry{}} })
	changeTool(srv, w, "update_agent_info",
		"Give an agent a display name and description, or link it to a workflow (at least one of display_name, description, agent_workflow_id).",
		toolSchema[updateAgentArgs]("agent_id"), true, opUpdateAgent)
	readTool(srv, w, "get_workflow_agents",
		"A workflow's agents (names, descriptions, last seen, sessions, latest system prompt) and its 10 latest sessions.",
		toolSchema[workflowAgentsArgs](), opWorkflowAgents, nil)
	readTool(srv, w, "get_workflow_sessions",
		"A workflow's runtime sessions, newest first, paged (limit ≤ 100), by agent and status (ACTIVE, INACTIVE, COMPLETED). Read one with get_session_events.",
		schemaFor[workflowSessionsArgs](func(p map[string]*jsonschema.Schema) {
			p["status"].Enum = []any{"ACTIVE", "INACTIVE", "COMPLETED"}
			limitProp(p, 100)
		}), opWorkflowSessions, nil)

	// The IDE.
	mcp.AddTool(srv, changingTool("register_ide_connection",
		"Tell the dashboard an IDE assistant works on a workflow (shown on its dev-connection page). Returns a connection_id for ide_heartbeat. Perimeter tracks activity per workflow by the last heartbeat.",
		toolSchema[registerIDEArgs]("ide_type", "agent_workflow_id", "workspace_path", "model"), true),
		func(ctx context.Context, _ *mcp.CallToolRequest, in registerIDEArgs) (*mcp.CallToolResult, any, error) {
			hb := heartbeatArgs{AgentWorkflowID: in.AgentWorkflowID, IDEType: in.IDEType, WorkspacePath: in.WorkspacePath,
				Model: in.Model, Host: in.Host, User: in.User}
			return w.call(ctx, true, func(ctx context.Context, svc *workflow.Service, q *querier) (any, error) {
				v, err := opHeartbeat(hb)(ctx, svc, q)
				if err != nil {
					return nil, err
				}
				a := v.(*HeartbeatAnswer)
				return map[string]any{"connection": a.Connection, "message": "IDE registered for workflow " + a.AgentWorkflowID,
					"dashboard_url": s.URL(), "hint": "Call ide_heartbeat with this connection_id (or agent_workflow_id) while you work: the dashboard shows the IDE as connected."}, nil
			}, nil)
		})
	changeTool(srv, w, "ide_heartbeat",
		"Record that an IDE assistant is working on a workflow (agent_workflow_id, or the connection_id of register_ide_connection), with its type, workspace, model, host and user; fields left out keep their last value.",
		toolSchema[heartbeatArgs](), true, opHeartbeat)
	mcp.AddTool(srv, changingTool("disconnect_ide",
		"End an IDE connection. Perimeter keeps IDE activity per workflow by its last heartbeat, so nothing is deleted: the dashboard shows the IDE inactive once heartbeats stop. Returns the connection as last seen.",
		toolSchema[connectionArgs]("connection_id"), true),
		func(ctx context.Context, _ *mcp.CallToolRequest, in connectionArgs) (*mcp.CallToolResult, any, error) {
			wf := heartbeatArgs{ConnectionID: in.ConnectionID}.workflowID()
			return w.call(ctx, true, func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
				st, err := svc.IDEActivity(ctx, wf)
				if err != nil {
					return nil, err
				}
				return map[string]any{"connection": connectionOf(st, false),
					"message": "Disconnected: heartbeats for workflow " + wf + " are no longer expected; the last activity stays on record."}, nil
			}, nil)
		})
	readTool(srv, w, "get_ide_connection_status",
		"Whether an IDE assistant has worked on a workflow, when last, and with what (ide type, workspace, model, host, user).",
		toolSchema[ideStatusArgs]("agent_workflow_id"), opIDEStatus, nil)

	// Recommendations, the gate, the audit log.
	readTool(srv, w, "get_recommendations",
		"A workflow's recommendations (the fixes its findings call for), most severe first, by status, severity and category; blocking_only keeps the CRITICAL and HIGH ones still open.",
		schemaFor[recListArgs](func(p map[string]*jsonschema.Schema) {
			p["status"].Enum = toAny(workflow.RecStatuses)
			p["severity"].Enum = toAny(workflow.Severities)
			limitProp(p, 1000)
		}), opListRecs, nil)
	readTool(srv, w, "get_recommendation_detail",
		"One recommendation with its finding and its last 20 audit entries.",
		toolSchema[recArgs]("recommendation_id"), opRec, nil)
	changeTool(srv, w, "start_fix",
		"Start working on a PENDING recommendation: it becomes FIXING. Audited.",
		toolSchema[startFixArgs]("recommendation_id"), false, opStartFix)
	changeTool(srv, w, "complete_fix",
		"Record a fix of a PENDING or FIXING recommendation (notes, files modified, commit, method): it and its finding become FIXED. Audited; verify it next with verify_fix.",
		toolSchema[completeFixArgs]("recommendation_id"), false, opCompleteFix)
	changeTool(srv, w, "verify_fix",
		"Record the verification of a FIXED recommendation: VERIFIED on success, back to PENDING (its finding OPEN again) on failure. Audited.",
		toolSchema[verifyArgs]("recommendation_id", "verification_result"), false, opVerify)
	mcp.AddTool(srv, changingTool("dismiss_recommendation",
		"Close a recommendation without a fix, with a reason: DISMISSED (false positive or accepted risk) or IGNORED. Its finding follows. Audited.",
		schemaFor[dismissArgs](func(p map[string]*jsonschema.Schema) {
			nonEmpty(p, "recommendation_id", "reason")
			p["dismiss_type"].Enum = toAny(workflow.DismissTypes)
		}), false),
		func(ctx context.Context, _ *mcp.CallToolRequest, in dismissArgs) (*mcp.CallToolResult, any, error) {
			if in.RecommendationID == "" {
				return nil, nil, errors.New("recommendation_id: required")
			}
			return w.call(ctx, true, opDismiss(in), nil)
		})
	readTool(srv, w, "get_gate_status",
		"The production gate of a workflow: BLOCKED while any CRITICAL or HIGH recommendation is PENDING or FIXING, OPEN otherwise; with the blocking counts and the static and dynamic analyses' state.",
		toolSchema[wfRef](), opGate, nil)
	readTool(srv, w, "get_audit_log",
		"Changes of findings, recommendations and reports, newest first: who, when, action, old and new value, reason.",
		toolSchema[auditArgs](), opAudit, func() any { return &workflow.AuditList{Entries: []*workflow.AuditEntry{}} })

	// Dynamic analysis.
	changeTool(srv, w, "trigger_dynamic_analysis",
		"Analyse a workflow's completed runtime sessions that no analysis has covered yet (force: all): the 16 dynamic security checks per agent, stored as a DYNAMIC analysis session with a finding and recommendation per failing check; fixed issues resolve.",
		toolSchema[triggerArgs](), false, w.opTrigger)
	readTool(srv, w, "get_dynamic_analysis_status",
		"Whether a dynamic analysis of a workflow can run: new completed sessions per agent, whether one is running, the last analysis.",
		toolSchema[wfRef](), opDynamicStatus, nil)
	readTool(srv, w, "get_analysis_history",
		"A workflow's analyses of a type (DYNAMIC by default, or STATIC), newest first.",
		schemaFor[historyArgs](func(p map[string]*jsonschema.Schema) {
			p["session_type"].Enum = toAny(workflow.SessionTypes)
			limitProp(p, 500)
		}), opHistory, nil)

	// Compliance reports.
	mcp.AddTool(srv, changingTool("generate_compliance_report",
		"A workflow's compliance report: GO/NO-GO decision, risk score, OWASP LLM Top 10 and SOC2 status, blocking issues, findings and recommendations. save stores it (report_id in the answer; the dashboard lists and prints it).",
		schemaFor[reportArgs](func(p map[string]*jsonschema.Schema) { p["report_type"].Enum = toAny(workflow.ReportTypes) }), false),
		func(ctx context.Context, _ *mcp.CallToolRequest, in reportArgs) (*mcp.CallToolResult, any, error) {
			return w.call(ctx, in.Save, opReport(in), nil)
		})
	readTool(srv, w, "list_reports", "A workflow's saved compliance reports, newest first (without their data; GET /api/reports/{id} has it).",
		toolSchema[reportListArgs](), opReports, func() any { return &workflow.ReportList{Reports: []*workflow.SavedReport{}} })
}

func toAny(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

// strOrList is a list argument that also accepts one string (the
// original's get_findings takes severity as a string).
type strOrList []string

// UnmarshalJSON accepts "a", "a,b" and ["a", "b"].
func (l *strOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = nil
		for _, s := range strings.Split(one, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*l = append(*l, s)
			}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// workflowFindings answers get_findings for a workflow or an analysis
// session (the original's get_findings) when it is asked for one.
func (s *Server) workflowFindings(ctx context.Context, in findingsArgs) (handled bool, res *mcp.CallToolResult, out any, err error) {
	w := s.wf
	wfMode := in.workflowMode()
	if !wfMode && workflow.IsAnalysisSessionID(in.SessionID) {
		// An analysis session's id rather than a runtime session's?
		if svc := w.service(); svc != nil {
			if _, e := svc.AnalysisSession(queryContext(ctx), in.SessionID); e == nil {
				wfMode = true
			}
		}
	}
	if !wfMode {
		return false, nil, nil, nil
	}
	wf := in.WorkflowID
	if wf == "" {
		wf = in.AgentWorkflowID
	}
	args := wfFindingsArgs{wfRef: wfRef{WorkflowID: wf}, SessionID: in.SessionID, Status: in.Status, Limit: in.Limit}
	switch len(in.Severity) {
	case 0:
	case 1:
		args.Severity = in.Severity[0]
	default:
		// A workflow's findings filter on one severity; dropping the
		// others silently would answer another question.
		return true, nil, nil, &workflow.BadParamError{Param: "severity", Value: strings.Join(in.Severity, ","),
			Msg: "one severity for a workflow's findings"}
	}
	res, out, err = w.call(ctx, false, opListFindings(args), nil)
	return true, res, out, err
}
