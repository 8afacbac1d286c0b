// Package dashboard serves what Perimeter knows about agents to people and
// to AI assistants: the JSON API listed in API.md, a live "something
// changed" stream (Server-Sent Events), MCP at /mcp and the embedded web UI
// (package web), all on one port (live_trace server_port, 7100 by default).
//
// It owns the HTTP server, the localhost guard and token, every analytics
// query, the SQL explorer's checks and the MCP tools. It never writes
// events and never sits on the proxy's request path: every answer is SQL
// over sink.Store, run when asked, written for ClickHouse 18.16 and run
// unchanged on chDB 26.x, and counts a batch stored twice once.
//
// Promises:
//   - Store down or absent: every endpoint answers 200 with its usual
//     shape, empty, and storage.available false with the reason and the
//     fix. Bad parameters are 400s naming the parameter, unknown ids 404s.
//   - Bound to loopback, it serves only requests whose Host names the
//     machine, and cross-origin ones only from itself or a local dev
//     server (real 403s otherwise); beyond
//     loopback New refuses to start without a token, required on /api/*
//     and /mcp.
//   - The SQL explorer (POST /api/sql, MCP query_sql) runs one read-only
//     SELECT over Perimeter's tables with allowlisted functions, judged by
//     the engine's own parse, bounded in time, rows and bytes.
//   - Pages and the explorer run on lanes of their own, bounded in how
//     many run and wait; the rest get 503 with Retry-After, so an explorer
//     query never waits in front of a page.
//   - REST and MCP call the same code, the security workflow included
//     (package workflow); a write while the store is down is a 503 that
//     says nothing changed.
//   - An unknown cost is null, never 0. A replay (POST /api/replay) goes
//     only to the configured upstream, is never stored, and the configured
//     key never leaves the server.
//
// How the queries are built, the dynamic checks, the guard, lanes, live
// updates and MCP in detail, with their measured costs: docs/dashboard.md.
package dashboard
