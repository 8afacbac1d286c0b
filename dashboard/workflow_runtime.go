package dashboard

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/cylestio/perimeter/dashboard/workflow"
	"github.com/cylestio/perimeter/detect/behavior"
)

// Workflow operations that read the runtime events through the dashboard's
// own queries: the dynamic analysis (the 16 checks of detect/behavior, as
// GET /api/agent/{id}/checks evaluates them), agents with their stats and
// a workflow's sessions.

// maxSelBytes bounds the session ids one dynamic analysis lists in its
// queries (the engines refuse statements past max_query_size, 256 KiB).
const maxSelBytes = 128 << 10

// DynamicAnswer is trigger_dynamic_analysis / POST
// /api/workflow/{wf}/trigger-dynamic-analysis.
type DynamicAnswer struct {
	*workflow.DynamicResult
	LastAnalysis *workflow.AnalysisSession `json:"last_analysis,omitempty"`
	ViewResults  string                    `json:"view_results,omitempty"`
	Hint         string                    `json:"hint,omitempty"`
}

// opTrigger runs a dynamic analysis of a workflow: for each agent with
// completed sessions no analysis has covered (all of them with force), the
// 16 checks over its most recent such sessions (at most maxCheckSessions),
// recorded with workflow.RecordDynamicAnalysis, which marks every one of
// those sessions analysed.
func (w *workflowAPI) opTrigger(in triggerArgs) wfOp {
	return onWorkflow(in.wfRef, func(ctx context.Context, svc *workflow.Service, q *querier, wf string) (any, error) {
		w.trigMu.Lock()
		defer w.trigMu.Unlock()
		st, err := svc.DynamicAnalysisStatus(ctx, wf)
		if err != nil {
			return nil, err
		}
		if st.IsRunning && !abandoned(st.LastAnalysis, q.now) {
			return &DynamicAnswer{DynamicResult: &workflow.DynamicResult{Status: "already_running",
				Message: "A dynamic analysis of " + wf + " is running: wait for it to finish."}, LastAnalysis: st.LastAnalysis}, nil
		}
		unanalysed, err := svc.UnanalyzedSessions(ctx, wf, in.Force)
		if err != nil {
			return nil, err
		}
		agents := make([]string, 0, len(unanalysed))
		for a := range unanalysed {
			agents = append(agents, a)
		}
		sort.Strings(agents)
		runs := make([]workflow.AgentRun, 0, len(agents))
		for _, agent := range agents {
			ids := unanalysed[agent] // oldest first
			if len(ids) == 0 {
				continue
			}
			out := emptyChecks()
			if err := q.checksOver(ctx, agent, "IN ("+sessionList(ids)+")", nil, out); err != nil {
				return nil, err
			}
			var checks []behavior.Check
			if out.SecurityReport != nil {
				checks = out.SecurityReport.Checks()
			}
			runs = append(runs, workflow.AgentRun{AgentID: agent, SessionIDs: ids, Checks: checks})
		}
		res, err := svc.RecordDynamicAnalysis(ctx, wf, runs)
		if err != nil {
			return nil, err
		}
		ans := &DynamicAnswer{DynamicResult: res}
		if res.Status == "no_new_sessions" {
			ans.LastAnalysis = st.LastAnalysis
			ans.Hint = "Send traffic through the proxy at /agent-workflow/" + wf + "/ and let the sessions complete (live_trace session_completion_timeout), then trigger again."
		} else {
			ans.ViewResults = w.s.URL() + "/agent-workflow/" + wf + "/dynamic-analysis"
		}
		return ans, nil
	})
}

// abandonAfter is when an analysis still IN_PROGRESS is taken for one
// whose process stopped (or whose store write failed) half way: analyses
// run synchronously, one at a time, and take seconds.
const abandonAfter = 10 * time.Minute

func abandoned(a *workflow.AnalysisSession, now time.Time) bool {
	if a == nil || a.CreatedAt == nil {
		return true
	}
	t, err := time.Parse(time.RFC3339Nano, *a.CreatedAt)
	return err != nil || now.Sub(t) > abandonAfter
}

// sessionList renders the most recent of ids (oldest first) as SQL
// literals: at most maxCheckSessions, and at most maxSelBytes of them.
func sessionList(ids []string) string {
	var parts []string
	size := 0
	for i := len(ids) - 1; i >= 0 && len(parts) < maxCheckSessions; i-- {
		lit := sqlString(ids[i])
		if size += len(lit) + 2; size > maxSelBytes {
			break
		}
		parts = append(parts, lit)
	}
	return strings.Join(parts, ", ")
}

type agentsArgs struct {
	AgentWorkflowID string `json:"agent_workflow_id,omitempty" jsonschema:"only this workflow's agents; unlinked: agents seen without a workflow"`
	IncludeStats    *bool  `json:"include_stats,omitempty" jsonschema:"add sessions, messages, tokens, tools and first/last seen (default true)"`
}

// AgentEntry is one agent of get_agents and GET /api/agents/info.
type AgentEntry struct {
	AgentID         string   `json:"agent_id"`
	AgentIDShort    string   `json:"agent_id_short"`
	AgentWorkflowID *string  `json:"agent_workflow_id"`
	Workflows       []string `json:"workflows"`
	DisplayName     *string  `json:"display_name"`
	Description     *string  `json:"description"`
	TotalSessions   *int64   `json:"total_sessions,omitempty"`
	TotalMessages   *int64   `json:"total_messages,omitempty"`
	TotalTokens     *int64   `json:"total_tokens,omitempty"`
	ToolsUsed       *int64   `json:"tools_used,omitempty"`
	TotalTools      *int64   `json:"total_tool_calls,omitempty"`
	FirstSeen       *Time    `json:"first_seen,omitempty"`
	LastSeen        *Time    `json:"last_seen,omitempty"`
}

// AgentsAnswer is get_agents.
type AgentsAnswer struct {
	Agents     []AgentEntry `json:"agents"`
	TotalCount int          `json:"total_count"`
	Filter     *string      `json:"filter"`
}

func opAgents(in agentsArgs) wfOp {
	return func(ctx context.Context, svc *workflow.Service, q *querier) (any, error) {
		list, err := q.agents(ctx, "")
		if err != nil {
			return nil, err
		}
		wfs, err := svc.Workflows(ctx)
		if err != nil {
			return nil, err
		}
		member := map[string][]string{}
		for _, w := range wfs.AgentWorkflows {
			if w.ID == nil {
				continue
			}
			for _, a := range w.Agents {
				member[a] = append(member[a], *w.ID)
			}
		}
		infos, err := svc.AgentInfos(ctx, nil)
		if err != nil {
			return nil, err
		}
		filter := strings.TrimSpace(in.AgentWorkflowID)
		stats := in.IncludeStats == nil || *in.IncludeStats
		out := &AgentsAnswer{Agents: []AgentEntry{}}
		if filter != "" {
			out.Filter = &filter
		}
		for _, a := range list {
			e := AgentEntry{AgentID: a.ID, AgentIDShort: a.IDShort, Workflows: member[a.ID]}
			if e.Workflows == nil {
				e.Workflows = []string{}
			}
			info := infos[a.ID]
			if info != nil {
				e.DisplayName, e.Description, e.AgentWorkflowID = info.DisplayName, info.Description, info.AgentWorkflowID
			}
			if e.AgentWorkflowID == nil && len(e.Workflows) > 0 {
				e.AgentWorkflowID = &e.Workflows[0]
			}
			switch {
			case filter == "":
			case filter == "unlinked" || filter == unassignedWorkflow:
				if e.AgentWorkflowID != nil {
					continue
				}
			default:
				if !(e.AgentWorkflowID != nil && *e.AgentWorkflowID == filter) && !contains(e.Workflows, filter) {
					continue
				}
			}
			if stats {
				a := a
				e.TotalSessions, e.TotalMessages, e.TotalTokens = &a.TotalSessions, &a.TotalMessages, &a.TotalTokens
				e.ToolsUsed, e.TotalTools, e.FirstSeen, e.LastSeen = &a.UniqueTools, &a.TotalTools, &a.FirstSeen, &a.LastSeen
			}
			out.Agents = append(out.Agents, e)
		}
		out.TotalCount = len(out.Agents)
		return out, nil
	}
}

type workflowAgentsArgs struct {
	wfRef
	IncludeSystemPrompts *bool `json:"include_system_prompts,omitempty" jsonschema:"add each agent's latest system prompt (default true)"`
}

// WorkflowAgent is one agent of get_workflow_agents.
type WorkflowAgent struct {
	AgentID      string  `json:"agent_id"`
	AgentIDShort string  `json:"agent_id_short"`
	DisplayName  *string `json:"display_name"`
	Description  *string `json:"description"`
	LastSeen     Time    `json:"last_seen"`
	SessionCount int64   `json:"session_count"`
	SystemPrompt *string `json:"system_prompt,omitempty"`
}

// WorkflowAgentsAnswer is get_workflow_agents / GET /api/workflow/{wf}/agents.
type WorkflowAgentsAnswer struct {
	WorkflowID     string          `json:"workflow_id"`
	Agents         []WorkflowAgent `json:"agents"`
	TotalCount     int             `json:"total_count"`
	RecentSessions []SessionRow    `json:"recent_sessions"`
}

func opWorkflowAgents(in workflowAgentsArgs) wfOp {
	return onWorkflow(in.wfRef, func(ctx context.Context, svc *workflow.Service, q *querier, wf string) (any, error) {
		out := &WorkflowAgentsAnswer{WorkflowID: wf, Agents: []WorkflowAgent{}, RecentSessions: []SessionRow{}}
		list, err := q.agentsIn(ctx, "", wf) // totals over the workflow's sessions
		if err != nil || len(list) == 0 {
			return out, err
		}
		infos, err := svc.AgentInfos(ctx, nil)
		if err != nil {
			return nil, err
		}
		var prompts map[string]*string
		if in.IncludeSystemPrompts == nil || *in.IncludeSystemPrompts {
			if prompts, err = q.latestPrompts(ctx, wf); err != nil {
				return nil, err
			}
		}
		for _, a := range list {
			e := WorkflowAgent{AgentID: a.ID, AgentIDShort: a.IDShort, LastSeen: a.LastSeen, SessionCount: a.TotalSessions, SystemPrompt: prompts[a.ID]}
			if info := infos[a.ID]; info != nil {
				e.DisplayName, e.Description = info.DisplayName, info.Description
			}
			out.Agents = append(out.Agents, e)
		}
		out.TotalCount = len(out.Agents)
		if out.RecentSessions, err = q.sessions(ctx, sessionFilter{workflow: wf}, 10, 0); err != nil {
			return nil, err
		}
		setWorkflow(out.RecentSessions, wf)
		return out, nil
	})
}

// latestPrompts reads each agent's system prompt from its latest session
// in the workflow (two queries: the sessions, then their starts, whose
// prompt is parsed in Go as the session page does).
func (q *querier) latestPrompts(ctx context.Context, wf string) (map[string]*string, error) {
	cond, args := q.workflowSessions(wf)
	res, err := q.run(ctx, "SELECT agent_id AS a, argMax(session_id, ts_us) AS sid FROM "+q.src+
		" WHERE session_id != '' AND "+cond+" GROUP BY agent_id", args...)
	if err != nil || res.len() == 0 {
		return nil, err
	}
	agentOf := make(map[string]string, res.len())
	ids := make([]string, 0, res.len())
	for i := range res.len() {
		r := res.row(i)
		agentOf[r.str("sid")] = r.str("a")
		ids = append(ids, r.str("sid"))
	}
	res, err = q.run(ctx, "SELECT session_id AS sid, attributes AS attrs FROM "+q.src+" PREWHERE name = "+qSession+
		" WHERE session_id IN ? ORDER BY ts_us LIMIT 1 BY session_id", ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*string, res.len())
	for i := range res.len() {
		r := res.row(i)
		if p := parseStart(r.str("attrs")).Prompt; p != nil && *p != "" {
			out[agentOf[r.str("sid")]] = p
		}
	}
	return out, nil
}

func setWorkflow(rows []SessionRow, wf string) {
	if wf == "" || wf == unassignedWorkflow {
		return
	}
	for i := range rows {
		rows[i].AgentWorkflowID = &wf
	}
}

type workflowSessionsArgs struct {
	wfRef
	AgentID string `json:"agent_id,omitempty" jsonschema:"only this agent's sessions"`
	Status  string `json:"status,omitempty" jsonschema:"ACTIVE, INACTIVE or COMPLETED"`
	Limit   int    `json:"limit,omitempty" jsonschema:"page size (default 20, at most 100)"`
	Offset  int    `json:"offset,omitempty"`
}

// WorkflowSessionsAnswer is get_workflow_sessions.
type WorkflowSessionsAnswer struct {
	WorkflowID string       `json:"workflow_id"`
	Sessions   []SessionRow `json:"sessions"`
	Count      int          `json:"count"`
	TotalCount int64        `json:"total_count"`
	Page
}

func opWorkflowSessions(in workflowSessionsArgs) wfOp {
	return onWorkflow(in.wfRef, func(ctx context.Context, _ *workflow.Service, q *querier, wf string) (any, error) {
		status := strings.ToUpper(strings.TrimSpace(in.Status))
		if status != "" && status != "ACTIVE" && status != "INACTIVE" && status != "COMPLETED" {
			return nil, &workflow.BadParamError{Param: "status", Value: status, Valid: []string{"ACTIVE", "INACTIVE", "COMPLETED"}}
		}
		limit := in.Limit
		if limit == 0 {
			limit = 20
		}
		if limit < 1 || limit > 100 {
			return nil, &workflow.BadParamError{Param: "limit", Msg: "must be 1..100"}
		}
		if in.Offset < 0 || in.Offset > maxOffset {
			return nil, &workflow.BadParamError{Param: "offset", Msg: "must be 0..1000000"}
		}
		l, err := q.sessionList(ctx, sessionListArgs{f: sessionFilter{agent: strings.TrimSpace(in.AgentID), status: status, workflow: wf},
			limit: limit, offset: in.Offset})
		if err != nil {
			return nil, err
		}
		setWorkflow(l.Sessions, wf)
		return &WorkflowSessionsAnswer{WorkflowID: wf, Sessions: l.Sessions, Count: len(l.Sessions), TotalCount: l.TotalCount,
			Page: l.Page}, nil
	})
}

// DynamicSummary is GET /api/workflow/{wf}/dynamic-summary: the workflow's
// runtime totals, tool coverage and its latest dynamic analyses.
type DynamicSummary struct {
	WorkflowID      string                      `json:"workflow_id"`
	AgentsCount     int                         `json:"agents_count"`
	TotalSessions   int64                       `json:"total_sessions"`
	TotalMessages   int64                       `json:"total_messages"`
	TotalTokens     int64                       `json:"total_tokens"`
	TotalToolCalls  int64                       `json:"total_tool_calls"`
	TotalErrors     int64                       `json:"total_errors"`
	ToolsUsed       []string                    `json:"tools_used"`
	ToolsAvailable  []string                    `json:"tools_available"`
	ToolCoverage    float64                     `json:"tool_coverage"`
	DynamicSessions []*workflow.AnalysisSession `json:"dynamic_sessions"`
	LatestSession   *workflow.AnalysisSession   `json:"latest_session"`
}

func opDynamicSummary(wf string) wfOp {
	return func(ctx context.Context, svc *workflow.Service, q *querier) (any, error) {
		list, err := q.agentsIn(ctx, "", wf)
		if err != nil {
			return nil, err
		}
		out := &DynamicSummary{WorkflowID: wf, AgentsCount: len(list)}
		for _, a := range list {
			out.TotalSessions += a.TotalSessions
			out.TotalMessages += a.TotalMessages
			out.TotalTokens += a.TotalTokens
			out.TotalToolCalls += a.TotalTools
			out.TotalErrors += a.TotalErrors
		}
		tu, err := svc.ToolUsageSummary(ctx, wf)
		if err != nil {
			return nil, err
		}
		out.ToolsUsed, out.ToolsAvailable, out.ToolCoverage = tu.ToolsUsed, tu.ToolsDefined, tu.CoveragePercent
		ds, err := svc.ListAnalysisSessions(ctx, workflow.SessionFilter{WorkflowID: wf, SessionType: "DYNAMIC", Limit: 10})
		if err != nil {
			return nil, err
		}
		out.DynamicSessions = ds.Sessions
		if len(ds.Sessions) > 0 {
			out.LatestSession = ds.Sessions[0]
		}
		return out, nil
	}
}

// CheckDefinitions is GET /api/security-check-definitions.
type CheckDefinitions struct {
	DynamicChecks     map[string]behavior.Definition   `json:"dynamic_checks"`
	DynamicCategories map[string]behavior.CategoryInfo `json:"dynamic_categories"`
}
