package dashboard

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/cylestio/perimeter/dashboard/workflow"
	"github.com/cylestio/perimeter/detect/behavior"
)

// routes registers the workflow's endpoints (API.md "Security workflow").
// Paths and shapes are the original's where it had them.
func (w *workflowAPI) routes(mux *http.ServeMux) {
	get := func(path string, empty func(r *http.Request) any, parse func(r *http.Request, p params) (wfOp, error)) {
		w.route(mux, "GET "+path, empty, parse)
	}
	post := func(path string, parse func(r *http.Request, p params) (wfOp, error)) {
		w.route(mux, "POST "+path, nil, parse)
	}
	wfID := func(p params) (string, error) { return pathID("workflow_id", p.id) }
	// onPathArgs parses the path's workflow id, then the rest with parse;
	// onPath and onPathRef give op only the id.
	onPathArgs := func(parse func(ref wfRef, p params) (wfOp, error)) func(*http.Request, params) (wfOp, error) {
		return func(_ *http.Request, p params) (wfOp, error) {
			wf, err := wfID(p)
			if err != nil {
				return nil, err
			}
			return parse(wfRef{WorkflowID: wf}, p)
		}
	}
	onPath := func(op func(wf string) wfOp) func(*http.Request, params) (wfOp, error) {
		return onPathArgs(func(ref wfRef, _ params) (wfOp, error) { return op(ref.WorkflowID), nil })
	}
	onPathRef := func(op func(wfRef) wfOp) func(*http.Request, params) (wfOp, error) {
		return onPathArgs(func(ref wfRef, _ params) (wfOp, error) { return op(ref), nil })
	}

	// Workflows home.
	get("/api/agent-workflows", func(*http.Request) any { return &workflow.WorkflowList{AgentWorkflows: []*workflow.WorkflowSummary{}} },
		func(*http.Request, params) (wfOp, error) { return opWorkflows(), nil })

	// Knowledge base (no store needed).
	w.static(mux, "GET /api/security/patterns", func(p params) (any, error) {
		ctx, err := p.str("context")
		if err != nil {
			return nil, err
		}
		min, err := p.str("min_severity")
		if err != nil {
			return nil, err
		}
		return workflow.SecurityPatterns(ctx, min)
	})
	w.static(mux, "GET /api/security/owasp/{id}", func(p params) (any, error) {
		c, err := workflow.OWASPControl(p.id)
		if err != nil {
			return nil, &kbMiss{err: err, key: "available_controls", available: workflow.ControlIDs()}
		}
		return &ControlAnswer{Control: c, ControlID: strings.ToUpper(p.id)}, nil
	})
	w.static(mux, "GET /api/security/fix-template/{id}", func(p params) (any, error) {
		t, err := workflow.FixTemplateFor(p.id)
		if err != nil {
			return nil, &kbMiss{err: err, key: "available_templates", available: workflow.TemplateIDs()}
		}
		return &TemplateAnswer{Template: t, FindingType: p.id}, nil
	})

	// Analysis sessions and findings.
	get("/api/sessions/analysis", emptySessions, func(_ *http.Request, p params) (wfOp, error) {
		var in sessionsListArgs
		var err error
		if in.WorkflowID, err = p.firstStr("agent_workflow_id", "workflow_id"); err != nil {
			return nil, err
		}
		if in.Status, in.SessionType, in.Limit, err = sessionListParams(p); err != nil {
			return nil, err
		}
		return opListSessions(in), nil
	})
	post("/api/sessions/analysis", fromBody(opCreateSession, nil))
	post("/api/sessions/analysis/{id}/complete", fromBody(opCompleteSession, func(in *completeSessionArgs, id string) { in.SessionID = id }))
	get("/api/session/{id}/analysis", nil, func(_ *http.Request, p params) (wfOp, error) {
		return opAnalysisSession(p.id), nil
	})
	get("/api/session/{id}/findings", nil, func(_ *http.Request, p params) (wfOp, error) {
		sev, status, limit, err := findingParams(p, 1000)
		return opSessionFindings(p.id, sev, status, limit), err
	})
	get("/api/analysis-session/{id}/details", nil, func(_ *http.Request, p params) (wfOp, error) {
		return opAnalysisDetails(p.id), nil
	})
	get("/api/agent-workflow/{id}/findings", emptyFindingList, onPathArgs(func(ref wfRef, p params) (wfOp, error) {
		var err error
		in := wfFindingsArgs{wfRef: ref}
		in.Severity, in.Status, in.Limit, err = findingParams(p, 100)
		return opListFindings(in), err
	}))
	post("/api/findings", fromBody(opStoreFinding, nil))
	get("/api/finding/{id}", nil, func(_ *http.Request, p params) (wfOp, error) { return opFinding(p.id), nil })
	w.route(mux, "PATCH /api/finding/{id}", nil, fromBody(opFindingStatus, func(in *findingStatusArgs, id string) { in.FindingID = id }))
	post("/api/finding/{id}/correlation", fromBody(opCorrelation, func(in *correlationArgs, id string) { in.FindingID = id }))

	// Recommendations and the gate.
	get("/api/workflow/{id}/recommendations", func(r *http.Request) any {
		return &workflow.RecList{Recommendations: []*workflow.Recommendation{}, WorkflowID: r.PathValue("id")}
	}, onPathArgs(func(ref wfRef, p params) (wfOp, error) {
		var err error
		in := recListArgs{wfRef: ref}
		for _, f := range []struct {
			dst  *string
			name string
		}{{&in.Status, "status"}, {&in.Severity, "severity"}, {&in.Category, "category"}} {
			if *f.dst, err = p.str(f.name); err != nil {
				return nil, err
			}
		}
		if in.BlockingOnly, err = p.boolParam("blocking_only", false); err != nil {
			return nil, err
		}
		in.Limit, err = p.intIn("limit", 100, 1, 1000)
		return opListRecs(in), err
	}))
	get("/api/recommendations/{id}", nil, func(_ *http.Request, p params) (wfOp, error) {
		return opRec(recArgs{RecommendationID: p.id}), nil
	})
	post("/api/recommendations/{id}/start-fix", fromBody(opStartFix, func(in *startFixArgs, id string) { in.RecommendationID = id }))
	post("/api/recommendations/{id}/complete-fix", fromBody(opCompleteFix, func(in *completeFixArgs, id string) { in.RecommendationID = id }))
	post("/api/recommendations/{id}/verify", fromBody(opVerify, func(in *verifyArgs, id string) { in.RecommendationID = id }))
	post("/api/recommendations/{id}/dismiss", fromBody(opDismiss, func(in *dismissArgs, id string) { in.RecommendationID = id }))
	get("/api/workflow/{id}/production-readiness", nil, onPath(opReadiness))
	get("/api/workflow/{id}/gate", nil, onPathRef(opGate))
	get("/api/audit-log", func(*http.Request) any { return &workflow.AuditList{Entries: []*workflow.AuditEntry{}} },
		func(_ *http.Request, p params) (wfOp, error) {
			var in auditArgs
			var err error
			for _, f := range []struct {
				dst  *string
				name string
			}{{&in.EntityType, "entity_type"}, {&in.EntityID, "entity_id"}, {&in.Action, "action"}} {
				if *f.dst, err = p.str(f.name); err != nil {
					return nil, err
				}
			}
			in.Limit, err = p.intIn("limit", 100, 1, 1000)
			return opAudit(in), err
		})

	// Compliance reports. Generating one reads; saving it (POST) writes.
	get("/api/workflow/{id}/compliance-report", nil, onPathArgs(func(ref wfRef, p params) (wfOp, error) {
		save, err := p.boolParam("save", false)
		if err == nil && save {
			err = &workflow.BadParamError{Param: "save", Msg: "GET never changes anything: POST /api/workflow/{id}/compliance-report to save a report"}
		}
		if err != nil {
			return nil, err
		}
		in := reportArgs{wfRef: ref}
		if in.ReportType, err = p.str("report_type"); err != nil {
			return nil, err
		}
		html, err := htmlFormat(p)
		return htmlOp(opReport(in), html), err
	}))
	post("/api/workflow/{id}/compliance-report", func(r *http.Request, p params) (wfOp, error) {
		in := reportArgs{Save: true}
		err := decodeBody(r, &in)
		in.WorkflowID, in.AgentWorkflowID, in.Save = p.id, "", true
		if in.ReportType == "" {
			in.ReportType = p.q.Get("report_type")
		}
		return opReport(in), err
	})
	get("/api/workflow/{id}/reports", func(*http.Request) any { return &workflow.ReportList{Reports: []*workflow.SavedReport{}} },
		onPathArgs(func(ref wfRef, p params) (wfOp, error) {
			var err error
			in := reportListArgs{wfRef: ref}
			if in.ReportType, err = p.str("report_type"); err != nil {
				return nil, err
			}
			in.Limit, err = p.intIn("limit", 50, 1, 500)
			return opReports(in), err
		}))
	get("/api/reports/{id}", nil, func(_ *http.Request, p params) (wfOp, error) {
		html, err := htmlFormat(p)
		return savedReportOp(p.id, html), err
	})
	get("/api/reports/{id}/html", nil, func(_ *http.Request, p params) (wfOp, error) { return savedReportOp(p.id, true), nil })
	w.route(mux, "DELETE /api/reports/{id}", nil, func(r *http.Request, p params) (wfOp, error) {
		by, err := p.str("deleted_by")
		return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
			return svc.DeleteReport(ctx, p.id, by)
		}, err
	})

	// Static and dynamic analysis, correlation, tool usage, state.
	get("/api/workflow/{id}/static-summary", nil, onPath(opStaticSummary))
	get("/api/workflow/{id}/dynamic-summary", nil, onPath(opDynamicSummary))
	w.static(mux, "GET /api/security-check-definitions", func(params) (any, error) {
		checks, cats := behavior.Definitions()
		return &CheckDefinitions{DynamicChecks: checks, DynamicCategories: cats}, nil
	})
	get("/api/workflow/{id}/correlation-summary", nil, onPathRef(opCorrelationSummary))
	get("/api/workflow/{id}/correlation", nil, onPathRef(opCorrelationData))
	post("/api/workflow/{id}/correlate", onPathRef(opCorrelate))
	get("/api/workflow/{id}/tool-usage", nil, onPathRef(opToolUsage))
	get("/api/workflow/{id}/state", nil, onPathRef(opState))
	get("/api/workflow/{id}/analysis-sessions", emptySessions, onPathArgs(func(ref wfRef, p params) (wfOp, error) {
		var err error
		in := sessionsListArgs{wfRef: ref}
		in.Status, in.SessionType, in.Limit, err = sessionListParams(p)
		return opListSessions(in), err
	}))
	get("/api/workflow/{id}/dynamic-analysis-status", nil, onPathRef(opDynamicStatus))
	post("/api/workflow/{id}/trigger-dynamic-analysis", onPathArgs(func(ref wfRef, p params) (wfOp, error) {
		force, err := p.boolParam("force", false)
		return w.opTrigger(triggerArgs{wfRef: ref, Force: force}), err
	}))
	get("/api/workflow/{id}/analysis-history", nil, onPathArgs(func(ref wfRef, p params) (wfOp, error) {
		var err error
		in := historyArgs{wfRef: ref}
		if in.SessionType, err = p.str("session_type"); err != nil {
			return nil, err
		}
		in.Limit, err = p.intIn("limit", 20, 1, 500)
		return opHistory(in), err
	}))
	get("/api/workflow/{id}/agents", nil, onPathArgs(func(ref wfRef, p params) (wfOp, error) {
		prompts, err := p.boolParam("include_system_prompts", true)
		return opWorkflowAgents(workflowAgentsArgs{wfRef: ref, IncludeSystemPrompts: &prompts}), err
	}))
	get("/api/workflow/{id}/sessions", nil, onPathArgs(func(ref wfRef, p params) (wfOp, error) {
		var err error
		in := workflowSessionsArgs{wfRef: ref}
		if in.AgentID, err = p.str("agent_id"); err != nil {
			return nil, err
		}
		if in.Status, err = p.str("status"); err != nil {
			return nil, err
		}
		if in.Limit, in.Offset, err = p.page(20, 100); err != nil {
			return nil, err
		}
		return opWorkflowSessions(in), nil
	}))

	// Dynamic security checks.
	get("/api/agent/{id}/security-checks", nil, func(_ *http.Request, p params) (wfOp, error) {
		agent, err := pathID("agent_id", p.id)
		if err != nil {
			return nil, err
		}
		in, err := checkParams(p)
		return opAgentChecks(agent, in.CategoryID, in.Status, in.Limit), err
	})
	get("/api/agent-workflow/{id}/security-checks", nil, onPathArgs(func(ref wfRef, p params) (wfOp, error) {
		in, err := checkParams(p)
		return opWorkflowChecks(ref.WorkflowID, in.CategoryID, in.Status, in.Limit), err
	}))
	get("/api/security-checks", func(*http.Request) any { return &workflow.CheckList{Checks: []*workflow.SecurityCheck{}} },
		func(_ *http.Request, p params) (wfOp, error) {
			in, err := checkParams(p)
			if err != nil {
				return nil, err
			}
			if in.AgentID, err = p.str("agent_id"); err != nil {
				return nil, err
			}
			in.AnalysisSessionID, err = p.str("analysis_session_id")
			return opChecks(in), err
		})

	// Agents and the IDE.
	get("/api/agents/info", func(*http.Request) any { return &AgentsAnswer{Agents: []AgentEntry{}} }, func(_ *http.Request, p params) (wfOp, error) {
		var in agentsArgs
		var err error
		if in.AgentWorkflowID, err = p.firstStr("agent_workflow_id", "workflow_id"); err != nil {
			return nil, err
		}
		stats, err := p.boolParam("include_stats", true)
		in.IncludeStats = &stats
		return opAgents(in), err
	})
	for _, m := range []string{"PATCH", "POST"} {
		w.route(mux, m+" /api/agent/{id}/info", nil, func(r *http.Request, p params) (wfOp, error) {
			var in updateAgentArgs
			err := decodeBody(r, &in)
			in.AgentID = p.id
			return opUpdateAgent(in), err
		})
	}
	get("/api/ide/status", nil, func(_ *http.Request, p params) (wfOp, error) {
		wf, err := p.firstStr("agent_workflow_id", "workflow_id")
		return opIDEStatus(ideStatusArgs{AgentWorkflowID: wf}), err
	})
	post("/api/ide/heartbeat", fromBody(opHeartbeat, nil))
	w.static(mux, "GET /api/dev-connection", func(p params) (any, error) {
		wf, err := p.firstStr("agent_workflow_id", "workflow_id")
		if err != nil {
			return nil, err
		}
		return w.devConnection(wf), nil
	})
	get("/api/dev-connection/status", nil, func(_ *http.Request, p params) (wfOp, error) {
		wf, err := p.firstStr("agent_workflow_id", "workflow_id")
		return opIDEStatus(ideStatusArgs{AgentWorkflowID: wf}), err
	})
}

// kbMiss is a knowledge-base id it does not know: 404 with the ids it does.
type kbMiss struct {
	err       error
	key       string
	available []string
}

func (e *kbMiss) Error() string { return e.err.Error() }

// static registers an endpoint that needs no store (the knowledge base,
// the connection instructions).
func (w *workflowAPI) static(mux *http.ServeMux, pattern string, fn func(p params) (any, error)) {
	mux.HandleFunc(pattern, func(rw http.ResponseWriter, r *http.Request) {
		v, err := fn(params{q: r.URL.Query(), now: w.s.opts.Now(), id: r.PathValue("id")})
		var miss *kbMiss
		switch {
		case err == nil:
			writeJSON(rw, http.StatusOK, w.answer(v, w.s.status()))
		case errors.As(err, &miss):
			writeJSON(rw, http.StatusNotFound, map[string]any{"error": miss.Error(), miss.key: miss.available})
		default:
			w.writeErr(rw, w.s.status(), err, false)
		}
	})
}

func emptySessions(r *http.Request) any {
	return &SessionListAnswer{SessionList: &workflow.SessionList{Sessions: []*workflow.AnalysisSession{}}, WorkflowID: r.PathValue("id")}
}

func emptyFindingList(r *http.Request) any {
	return &workflow.FindingList{Findings: []*workflow.Finding{}, Summary: workflow.FindingSummary{AgentWorkflowID: r.PathValue("id"),
		BySeverity: map[string]int64{}, ByStatus: map[string]int64{}}}
}

func sessionListParams(p params) (status, sessionType string, limit int, err error) {
	if status, err = p.str("status"); err != nil {
		return
	}
	if sessionType, err = p.str("session_type"); err != nil {
		return
	}
	limit, err = p.intIn("limit", 100, 1, 1000)
	return
}

func findingParams(p params, def int) (severity, status string, limit int, err error) {
	if severity, err = p.str("severity"); err != nil {
		return
	}
	if status, err = p.str("status"); err != nil {
		return
	}
	limit, err = p.intIn("limit", def, 1, 1000)
	return
}

func checkParams(p params) (checksArgs, error) {
	var in checksArgs
	var err error
	if in.CategoryID, err = p.str("category_id"); err != nil {
		return in, err
	}
	if in.Status, err = p.str("status"); err != nil {
		return in, err
	}
	in.Limit, err = p.intIn("limit", 100, 1, 1000)
	return in, err
}

// htmlFormat reads format=json|html.
func htmlFormat(p params) (bool, error) {
	switch f := strings.ToLower(strings.TrimSpace(p.q.Get("format"))); f {
	case "", "json":
		return false, nil
	case "html":
		return true, nil
	default:
		return false, &workflow.BadParamError{Param: "format", Value: f, Valid: []string{"json", "html"}}
	}
}

// fromBody is a route's parse for a write whose arguments are its JSON
// body, with the path's {id} put in by setID (when not nil).
func fromBody[In any](op func(In) wfOp, setID func(in *In, id string)) func(*http.Request, params) (wfOp, error) {
	return func(r *http.Request, p params) (wfOp, error) {
		var in In
		err := decodeBody(r, &in)
		if setID != nil {
			setID(&in, p.id)
		}
		return op(in), err
	}
}
