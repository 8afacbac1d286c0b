// Package workflow is the security workflow of agent workflows: what turns
// findings into work that gets fixed and a gate that says whether an
// agent may ship. It owns analysis sessions (STATIC from an IDE
// assistant's code review, DYNAMIC from runtime checks recorded with
// RecordDynamicAnalysis), findings with their status and correlation with
// runtime behaviour, recommendations (REC-n) and their lifecycle, the
// audit log, the production gate, compliance reports, the knowledge base
// (OWASP Top 10 for LLM Applications 2025 and fix templates), agent
// display names and descriptions, and IDE activity. REST handlers and MCP
// tools call the same Service methods; the package serves no HTTP itself.
//
// Its state lives in the events store (Store) in workflow_* tables with
// their own migrations, written so that the same DDL runs on ClickHouse
// 18.16 and chDB 26.x, single server or cluster. A change is readable
// when the call returns (on an 18.16 cluster a read may miss it for a
// moment). Runtime data is read from the events table.
//
// # Promises
//
//   - Unknown ids are *NotFoundError, bad or missing arguments
//     *BadParamError naming the parameter and the valid values, and a
//     lifecycle step the recommendation's status does not allow a
//     *TransitionError (verify before a fix is complete, fixing a verified
//     one, dismissing a resolved one).
//   - A write that still fails after WriteAttempts tries is a *StoreError
//     naming the row: nothing is queued or dropped silently. An operation
//     writes several rows without a transaction; the error says which
//     failed, and the earlier ones stand.
//   - Changes are serialised within a Service, so a transition validates
//     against the state it replaces; two processes are not coordinated.
//   - The lifecycle is PENDING → FIXING → FIXED → VERIFIED, FIXED → PENDING
//     when verification fails, PENDING/FIXING → FIXED directly, and
//     PENDING/FIXING/FIXED → DISMISSED or IGNORED; the linked finding
//     follows (FIXED, OPEN again, DISMISSED, IGNORED) and every step is
//     in the audit log with who, when, the old and the new status.
//   - The gate is BLOCKED while any CRITICAL or HIGH recommendation is
//     PENDING or FIXING, or any OPEN CRITICAL or HIGH finding has no
//     recommendation; OPEN otherwise. Readiness, get_gate_status, the
//     compliance report and the workflow list apply the same rule.
//   - Recommendation ids are REC- and one more than the highest number
//     ever stored or handed out, never reused.
//
// docs/workflow.md describes the tables, versions and cluster mode, how
// dynamic analyses are recorded and how sessions are tied to workflows.
package workflow
