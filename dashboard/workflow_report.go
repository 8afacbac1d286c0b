package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"sort"

	"github.com/cylestio/perimeter/dashboard/workflow"
)

// htmlPage is an answer written as HTML (the printable compliance report).
type htmlPage []byte

// htmlOp renders op's report as a printable page when html is set.
func htmlOp(op wfOp, html bool) wfOp {
	if !html {
		return op
	}
	return func(ctx context.Context, svc *workflow.Service, q *querier) (any, error) {
		v, err := op(ctx, svc, q)
		if err != nil {
			return nil, err
		}
		return renderReport(v.(*workflow.Report), "")
	}
}

// savedReportOp is a saved report, as stored or as a printable page.
func savedReportOp(id string, html bool) wfOp {
	return func(ctx context.Context, svc *workflow.Service, _ *querier) (any, error) {
		r, err := svc.SavedReportByID(ctx, id)
		if err != nil || !html {
			return r, err
		}
		var rep workflow.Report
		if err := json.Unmarshal(r.ReportData, &rep); err != nil {
			return nil, err
		}
		rep.ReportID = r.ReportID
		return renderReport(&rep, r.ReportName)
	}
}

type reportView struct {
	*workflow.Report
	Name     string
	OWASP    []keyed[workflow.ControlStatus]
	SOC2     []keyed[workflow.SOC2Status]
	Category []keyed[workflow.CategoryStatus]
	Impacts  []keyed[workflow.ImpactItem]
}

type keyed[T any] struct {
	Key string
	V   T
}

func sortedEntries[T any](m map[string]T) []keyed[T] {
	out := make([]keyed[T], 0, len(m))
	for k, v := range m {
		out = append(out, keyed[T]{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func renderReport(r *workflow.Report, name string) (htmlPage, error) {
	if name == "" {
		name = "Compliance report: " + r.WorkflowID
	}
	v := reportView{Report: r, Name: name, OWASP: sortedEntries(r.OWASPLLMCoverage), SOC2: sortedEntries(r.SOC2Compliance),
		Impacts: sortedEntries(r.BusinessImpact.Impacts)}
	for _, c := range workflow.Categories {
		if s, ok := r.SecurityChecks[c]; ok {
			v.Category = append(v.Category, keyed[workflow.CategoryStatus]{c, s})
		}
	}
	var b bytes.Buffer
	if err := reportPage.Execute(&b, v); err != nil {
		return nil, err
	}
	return htmlPage(b.Bytes()), nil
}

// reportPage is the printable report: self-contained, no scripts.
var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Name}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#111;margin:2rem auto;max-width:60rem;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:1.8rem 0 .5rem;border-bottom:1px solid #ccc;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.muted{color:#666}.badge{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;font-weight:600}
.NO-GO,.FAIL,.BLOCKED,.NON-COMPLIANT,.HIGH,.CRITICAL{background:#fde2e1;color:#8a1c14}.GO,.PASS,.OPEN,.COMPLIANT,.NONE{background:#dff5e3;color:#14582a}
.WARNING,.MEDIUM,.INFO{background:#fff3cd;color:#6b4e00}.LOW{background:#e8f0fe;color:#1a3e8a}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
</style></head><body>
<h1>{{.Name}}</h1>
<p class="muted">Workflow <b>{{.WorkflowID}}</b> · {{.ReportType}} · generated {{.GeneratedAt}}{{if .ReportID}} · report {{.ReportID}}{{end}}</p>
{{with .ExecutiveSummary}}
<h2>Executive summary</h2>
<p><span class="badge {{.Decision}}">{{.Decision}}</span> <span class="badge {{.GateStatus}}">gate {{.GateStatus}}</span> risk score <b>{{.RiskScore}}</b>/100</p>
<p>{{.DecisionMessage}}</p>
<table><tr><th>Findings</th><th>Open</th><th>Fixed</th><th>Dismissed</th><th>Blocking</th><th>Blocking critical</th><th>Blocking high</th></tr>
<tr><td>{{.TotalFindings}}</td><td>{{.OpenFindings}}</td><td>{{.FixedFindings}}</td><td>{{.DismissedFindings}}</td><td>{{.BlockingCount}}</td><td>{{.BlockingCritical}}</td><td>{{.BlockingHigh}}</td></tr></table>
<p class="muted">{{.RiskBreakdown.Formula}}</p>
{{end}}
{{with .BusinessImpact}}
<h2>Business impact: <span class="badge {{.OverallRisk}}">{{.OverallRisk}}</span></h2>
<p>{{.OverallDescription}}</p>
<ul>{{range .ExecutiveBullets}}<li>{{.}}</li>{{end}}</ul>
{{end}}
<table><tr><th>Risk</th><th>Level</th><th>Description</th></tr>
{{range .Impacts}}<tr><td>{{.Key}}</td><td><span class="badge {{.V.RiskLevel}}">{{.V.RiskLevel}}</span></td><td>{{.V.Description}}</td></tr>{{end}}</table>
<h2>OWASP Top 10 for LLM Applications</h2>
<table><tr><th>Control</th><th>Name</th><th>Status</th><th>Findings</th></tr>
{{range .OWASP}}<tr><td>{{.Key}}</td><td>{{.V.Name}}</td><td><span class="badge {{.V.Status}}">{{.V.Status}}</span></td><td>{{.V.Message}}</td></tr>{{end}}</table>
<h2>SOC 2</h2>
<table><tr><th>Control</th><th>Name</th><th>Status</th><th>Open / total</th></tr>
{{range .SOC2}}<tr><td>{{.Key}}</td><td>{{.V.Name}}</td><td><span class="badge {{.V.Status}}">{{.V.Status}}</span></td><td>{{.V.OpenCount}} / {{.V.FindingsCount}}</td></tr>{{end}}</table>
<h2>Security categories</h2>
<table><tr><th>Category</th><th>Status</th><th>Open / total</th><th>Highest open severity</th></tr>
{{range .Category}}<tr><td>{{.V.Name}}</td><td><span class="badge {{.V.Status}}">{{.V.Status}}</span></td><td>{{.V.OpenCount}} / {{.V.FindingsCount}}</td><td>{{deref .V.MaxSeverity}}</td></tr>{{end}}</table>
<h2>Blocking items</h2>
{{if .BlockingItems}}<table><tr><th>Recommendation</th><th>Severity</th><th>Status</th><th>Title</th><th>File</th></tr>
{{range .BlockingItems}}<tr><td>{{.RecommendationID}}</td><td><span class="badge {{.Severity}}">{{.Severity}}</span></td><td>{{.Status}}</td><td>{{.Title}}</td><td>{{deref .FilePath}}</td></tr>{{end}}</table>
{{else}}<p>None: no critical or high recommendation is open.</p>{{end}}
{{with .RemediationSum}}
<h2>Remediation</h2>
<table><tr><th>Recommendations</th><th>Pending</th><th>Fixing</th><th>Fixed</th><th>Verified</th><th>Dismissed</th><th>Resolved</th></tr>
<tr><td>{{.TotalRecommendations}}</td><td>{{.Pending}}</td><td>{{.Fixing}}</td><td>{{.Fixed}}</td><td>{{.Verified}}</td><td>{{.Dismissed}}</td><td>{{.Resolved}}</td></tr></table>
{{end}}
<h2>Findings</h2>
<table><tr><th>Finding</th><th>Severity</th><th>Status</th><th>Title</th><th>Where</th></tr>
{{range .FindingsDetail}}<tr><td>{{.FindingID}}</td><td><span class="badge {{.Severity}}">{{.Severity}}</span></td><td>{{.Status}}</td><td>{{.Title}}</td><td>{{.FilePath}}</td></tr>{{end}}</table>
<h2>Recommendations</h2>
<table><tr><th>Recommendation</th><th>Severity</th><th>Status</th><th>Title</th></tr>
{{range .RecommendationsDe}}<tr><td>{{.RecommendationID}}</td><td><span class="badge {{.Severity}}">{{.Severity}}</span></td><td>{{.Status}}</td><td>{{.Title}}</td></tr>{{end}}</table>
<p class="muted">Static analyses: {{.StaticAnalysis.SessionsCount}} · dynamic analyses: {{.DynamicAnalysis.SessionsCount}} · generated by Perimeter.</p>
</body></html>
`))

// Connecting an IDE assistant.

// MCPSetup is how to connect one assistant to /mcp.
type MCPSetup struct {
	Assistant string `json:"assistant"`
	Name      string `json:"name"`
	Where     string `json:"where"`
	Config    string `json:"config"`
}

// DevConnection is GET /api/dev-connection: where an agent and an IDE
// connect, with the MCP setup of common assistants.
type DevConnection struct {
	MCPURL        string     `json:"mcp_url"`
	DashboardURL  string     `json:"dashboard_url"`
	Transport     string     `json:"transport"`
	TokenRequired bool       `json:"token_required"`
	TokenHint     string     `json:"token_hint,omitempty"`
	ProxyURL      string     `json:"proxy_url"`
	WorkflowID    *string    `json:"agent_workflow_id"`
	AgentBaseURL  *string    `json:"agent_base_url"`
	Instructions  []MCPSetup `json:"instructions"`
	FirstSteps    []string   `json:"first_steps"`
}

func (w *workflowAPI) devConnection(wf string) *DevConnection {
	base := w.s.URL()
	mcpURL := base + "/mcp"
	proxyHost := w.s.opts.Proxy.ProxyHost
	if proxyHost == "" || proxyHost == "0.0.0.0" || proxyHost == "::" {
		proxyHost = "127.0.0.1"
	}
	port := w.s.opts.Proxy.ProxyPort
	if port == 0 {
		port = 4000
	}
	d := &DevConnection{MCPURL: mcpURL, DashboardURL: base, Transport: "streamable-http", TokenRequired: w.s.opts.Token != "",
		ProxyURL: "http://" + hostPort(proxyHost, port)}
	// The token itself never appears here: a page or an assistant reading
	// this endpoint already has it, and a screenshot of it should not.
	header, hdrJSON := "", ""
	if d.TokenRequired {
		d.TokenHint = "send the live_trace token as Authorization: Bearer <token>"
		header = ` --header "Authorization: Bearer <token>"`
		hdrJSON = `, "headers": {"Authorization": "Bearer <token>"}`
	}
	if wf != "" {
		d.WorkflowID = &wf
		u := d.ProxyURL + "/agent-workflow/" + wf
		d.AgentBaseURL = &u
	}
	d.Instructions = []MCPSetup{
		{Assistant: "claude-code", Name: "Claude Code", Where: "a terminal in the agent's repository",
			Config: "claude mcp add --transport http perimeter " + mcpURL + header},
		{Assistant: "cursor", Name: "Cursor", Where: ".cursor/mcp.json in the repository (or ~/.cursor/mcp.json)",
			Config: `{"mcpServers": {"perimeter": {"url": "` + mcpURL + `"` + hdrJSON + `}}}`},
		{Assistant: "vscode", Name: "VS Code (GitHub Copilot agent mode)", Where: ".vscode/mcp.json in the repository",
			Config: `{"servers": {"perimeter": {"type": "http", "url": "` + mcpURL + `"` + hdrJSON + `}}}`},
		{Assistant: "windsurf", Name: "Windsurf", Where: "~/.codeium/windsurf/mcp_config.json",
			Config: `{"mcpServers": {"perimeter": {"serverUrl": "` + mcpURL + `"` + hdrJSON + `}}}`},
	}
	target := "<workflow-id>"
	if wf != "" {
		target = wf
	}
	d.FirstSteps = []string{
		"Point the agent's LLM base URL at " + d.ProxyURL + "/agent-workflow/" + target + " so its traffic is grouped under the workflow.",
		"Ask the assistant: \"Use Perimeter to run a security review of this agent (workflow " + target + "): create_analysis_session, store_finding for each issue, complete_analysis_session.\"",
		"The assistant calls ide_heartbeat with agent_workflow_id " + target + " so this page shows it is connected.",
	}
	return d
}

func hostPort(host string, port int) string {
	if bytes.ContainsRune([]byte(host), ':') {
		host = "[" + host + "]"
	}
	return host + ":" + itoa(int64(port))
}
