// Package dashboard serves what Perimeter knows about agents to people and
// to AI assistants: the JSON API of API.md, a live "something changed"
// stream, MCP at /mcp and the embedded web UI (package web), all on one
// port (live_trace server_port, 7100 by default).
//
// It owns the HTTP server, the localhost guard and token, every analytics
// query, the SQL explorer's checks and the MCP tools. It never writes
// events and never sits on the proxy's request path: every answer is SQL
// over sink.Store, run when asked.
//
// # Queries
//
// All numbers come from ClickHouse aggregations over the events table,
// read through sink.EventsSource ("events FINAL") so that a batch the
// pipeline stored twice (a retry, a spill replay) is counted once. The SQL
// is written for ClickHouse 18.16 and runs unchanged on chDB 26.x and
// newer servers: no window functions, no JSONExtract, LIMIT offset, n, no
// joins (results are combined in Go), dates bound as strings so the
// server's time zone never shifts a partition filter. A finding's
// severity, category and rule are typed columns (schema migration 2) and
// its confidence follows from its own score, which sink/inspect stores in
// risk_score (weight·log2(1+confidence)); only while findings stored
// before that migration exist do the queries read them from the attributes,
// through visitParamExtract* on the finding.* keys sink/inspect writes before
// any nested JSON. Keys that follow raw request bodies (prompt, tools) are
// parsed in Go. Session tags are the tags column (schema migration 4: a
// session.start's tags as a flat JSON object of strings), which the tags
// filter matches in SQL with visitParamHas/visitParamExtractString; for
// session starts stored before that migration the filter narrows them by
// substring in SQL and decides in Go (session_tags.go). Risk scores are package
// detect's formula, computed in SQL per session and combined per agent as
// detect.AgentScore does.
//
// Pages stay fast over millions of events by reading little: agents come
// from one two-level aggregation (per session, then per agent); lists
// choose their page from small columns first and aggregate, or read the
// attributes of, that page alone; attribute reads sit behind PREWHERE.
// BenchmarkAPI1M measures the pages over 1,000,000 events.
//
// # Dynamic checks
//
// GET /api/agent/{id}/checks (also risk_analysis.security_report and
// behavioral_analysis on the agent page, MCP get_agent_checks) evaluates
// the original's 16 dynamic security checks and its behavioural
// clustering (package detect/behavior, pure Go) over an agent's most
// recent maxCheckSessions (2,000) completed sessions, chosen by a subquery
// on their last event. ClickHouse computes the per-session features in
// one GROUP BY session_id (tokens, LLM and tool calls, the tool sequence
// as arraySort over (ts_us, tool_name), models, PII findings); the tools
// offered and system prompts come from one pass over the sessions'
// starts grouped by distinct (tools, prompt), read with visitParamExtract*
// (tools is the first nested key the edge writes; the prompt is read after
// it); PII counts per rule and confidence band, and the 20 strongest, from
// pii findings. String arrays travel hex-encoded (chDB's text form of
// arrays loses escapes). System prompts, which the pipeline does not scan,
// are scanned for PII here, once per distinct prompt. Nothing is cached or
// stored: about 135 ms at the bound (BenchmarkAgentChecks), of which the
// SQL is 80–100 ms. The dashboard cannot tell whether the pipeline runs
// detection (detect.enabled): without it the PII checks see no findings
// and pass, where the original left its privacy category out.
//
// When the store is down or absent (no libchdb, ClickHouse unreachable,
// storage.engine none), every endpoint answers 200 with its usual shape,
// empty, and storage.available false with the store's reason and fix; a
// query that fails because the store went away mid-request does the same.
// Every five seconds one request queries a store that says it is down
// anyway, since a server store reconnects only when used and an idle
// proxy does not use it.
// Bad parameters are 400s that name the parameter, unknown ids 404s.
//
// # Cost and replay
//
// The pipeline prices each finished call (sink/pricing) and stores
// cost_usd (NULL unless priced) and cost_status; every page sums those
// columns in the queries it already runs and shows a set's cost with its
// status: cost_usd is null when no call of the set was priced, never 0
// for an unknown cost, and counts say how many calls were priced, cut
// short, unpriced or without usage. GET /api/cost totals a scope per
// model and per agent and names the unpriced models; GET /api/models is
// the price table in use (Options.Pricer). POST /api/replay re-sends a
// captured call to the configured upstream (Options.Replay) from the
// dashboard itself, so a replay is never stored: only that base URL, at
// a provider path, without following redirects, with bounded bodies and
// two replays at once; the configured key never leaves the server.
//
// # Security
//
// Bound to a loopback address, the server answers only requests whose Host
// names the machine (localhost, 127.0.0.1, [::1]), which defeats DNS
// rebinding, and only cross-origin requests from itself or a local dev
// server: the original's guard, with real 403s. Beyond loopback a token is
// required (New refuses to start without one) on /api/* and /mcp, as a
// Bearer header or ?token=.
//
// The SQL explorer (POST /api/sql and MCP query_sql) judges a statement by
// the engine's own parse, never by a lexer of ours (sqlguard.go): the
// engine renders it back with formatQuerySingleLine, which refuses a second
// statement, and shows its syntax tree with EXPLAIN AST; the tree must be
// one SELECT built only of known node kinds, calling only functions on an
// allowlist (sqlfuncs.txt: those that compute on their arguments) and the
// row generators numbers, zeros, generate_series, values and view, and
// reading only tables of Perimeter's database (an unqualified name must be
// a CTE or a table of that database). SETTINGS, FORMAT, INTO OUTFILE,
// query parameters and system.* are refused. A server older than 20.6
// (no EXPLAIN) runs no explorer query at all and says so (501). The
// statement then runs wrapped to return at most limit+1 rows, bounded to
// SQLTimeout by max_execution_time on the embedded engine; a server
// store's readonly=1 connection refuses settings (and table functions on
// old servers) and stops it at its own query timeout. (The dashboard does
// not cancel it itself: a cancelled query makes the server store report
// itself down.)
//
// # Lanes and result budgets
//
// Pages (and MCP's tools other than query_sql) and the SQL explorer
// (POST /api/sql, MCP query_sql) each run on a lane of their own
// (Options.PagesLane, Options.ExplorerLane): a bounded number run at once,
// a bounded number wait, each for a bounded time, and the rest are
// answered 503 with Retry-After, so that explorer queries queue behind
// each other and never in front of a page. Below the dashboard the
// embedded engine runs the explorer on a connection of its own
// (sink.ExplorerQuerier). An explorer result is cut at
// Options.SQLMaxResultBytes (truncated, with the reason); results held
// from the engine's answer until the client has read them share
// Options.SQLResultBudget (a request past it is a 503), and a client that
// does not read its answer within Options.SQLWriteTimeout is cut off and
// its result freed. Explorer answers are written a row at a time, so a
// result in memory is its rows, not also an encoded copy.
//
// # Security workflow
//
// The endpoints of API.md "Security workflow" and the MCP tools of the
// original's workflow serve package workflow (analysis sessions, findings,
// recommendations and their lifecycle, gate, reports, audit log, knowledge
// base, agent info, IDE activity) over the same store. Each route and tool
// parses its arguments into one operation (workflow_ops.go), so REST and
// MCP run the same code, on the pages' lane. Reads answer the empty state
// while the store is down; writes answer 503 then, saying nothing changed.
// Writes are POST, PATCH or DELETE with a JSON body (another content type
// is 415: a form another site posts never reaches them) behind the same
// guard and token. A dynamic analysis evaluates the 16 checks, as the agent
// page does, over each agent's completed sessions of the workflow that no
// analysis covered (the most recent 2,000), one analysis at a time, and
// records them with workflow.RecordDynamicAnalysis. The overview, agents
// and session list take agent_workflow_id: the sessions whose calls went
// through /agent-workflow/{id}/.
//
// # Live updates
//
// GET /api/events/stream is Server-Sent Events: a hello, then a "change"
// tick whenever events reached the store — at once when the wiring calls
// Notify after a stored batch, otherwise found by a cheap poll (row count
// and newest timestamp, no FINAL) once a second while anyone listens —
// coalesced to at most two a second, and "storage" when the store comes or
// goes. The UI refetches on each tick.
//
// # MCP
//
// The Go SDK (github.com/modelcontextprotocol/go-sdk) serves Streamable
// HTTP. It answers the 2026-07-28 per-request style (server/discover,
// _meta, MCP-Protocol-Version and Mcp-Method headers) only from a stateless
// handler and the initialize handshake with sessions only from a stateful
// one, so /mcp sends initialize requests and anything carrying an
// Mcp-Session-Id to the stateful handler and everything else to the
// stateless one: both eras, with the session id optional for the old one.
// The tools call the same handlers as the HTTP API; bad arguments (checked
// against each tool's JSON schema, then by the API's own parameter checks)
// and unknown ids come back as tool errors.
package dashboard
