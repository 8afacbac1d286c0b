// Package workflow is the security workflow of agent workflows: what turns
// findings into work that gets fixed and a gate that says whether an
// agent may ship. It owns analysis sessions (STATIC from an IDE
// assistant's code review, DYNAMIC from runtime checks), findings with
// their status and correlation with runtime behaviour, recommendations
// (REC-n) and their lifecycle, the audit log, the production gate,
// compliance reports, the knowledge base (OWASP Top 10 for LLM
// Applications 2025 and fix templates), agent display names and
// descriptions, and IDE activity. REST handlers and MCP tools call the
// same Service methods; the package serves no HTTP itself.
//
// # Storage
//
// Everything lives in the events store (sink/chdb or sink/clickhouse,
// through Store), in tables named workflow_*, created and migrated by
// sink.MigrateHistory with their own bookkeeping table
// (workflow_migrations), so their versions never mix with the events
// schema's. Every table is a ReplacingMergeTree(version) ordered by the
// row's id; a change writes the whole row again with a larger version
// (Unix nanoseconds, strictly growing per process) and reads use FINAL,
// filtering only on columns a row never changes, so each read sees the
// latest version. Deletion writes a tombstone. Optional numbers are -1
// and lists are JSON text instead of Nullable and Array columns, so the
// same DDL runs on ClickHouse 18.16 and chDB 26.x. In cluster mode each
// table is a ReplicatedReplacingMergeTree <name>_local ON CLUSTER (its
// ZooKeeper path beside the events table's) under a Distributed table
// sharded by cityHash64 of the id, so all versions of a row share a shard
// and FINAL collapses them there; inserts ask for insert_distributed_sync
// where the server parses it (20.1+), so a change is readable when the
// call returns (on an 18.16 cluster a read may miss it for a moment).
//
// Rows are written as INSERT … SELECT of bound literals (sink.Bind; an
// 18.16 server waits for data blocks after INSERT … VALUES on the native
// protocol). A write is tried WriteAttempts times; if it still fails the
// caller gets a *StoreError naming the row: nothing is queued or dropped
// silently. An operation writes several rows (finding, recommendation,
// audit entry) without a transaction; if a later one fails the error says
// which, and the earlier ones stand.
//
// Changes are serialised inside a Service (one mutex), so a transition
// always validates against the state it replaces; two processes changing
// the same workflow at once are not coordinated.
//
// # Promises
//
//   - Unknown ids are *NotFoundError, bad or missing arguments
//     *BadParamError naming the parameter and the valid values, and a
//     lifecycle step the recommendation's status does not allow a
//     *TransitionError (verify before a fix is complete, fixing a verified
//     one, dismissing a resolved one).
//   - The lifecycle is PENDING → FIXING → FIXED → VERIFIED, FIXED → PENDING
//     when verification fails, PENDING/FIXING → FIXED directly, and
//     PENDING/FIXING/FIXED → DISMISSED or IGNORED; the linked finding
//     follows (FIXED, OPEN again, DISMISSED, IGNORED) and every step is
//     in the audit log with who, when, the old and the new status.
//   - The gate is BLOCKED while any CRITICAL or HIGH recommendation is
//     PENDING or FIXING, OPEN otherwise.
//   - Recommendation ids are REC- and one more than the highest number
//     ever stored or handed out, never reused.
//
// # Dynamic analyses
//
// The caller evaluates the dynamic checks (detect/behavior) over the
// sessions UnanalyzedSessions lists and hands the results to
// RecordDynamicAnalysis, which stores them as a DYNAMIC analysis session
// with its checks, a finding and recommendation per failing check, and
// the sessions as analysed (workflow_analyzed_sessions). The checks'
// OWASP ids (the 2023 list) are filed under their 2025 ids.
//
// # Runtime data
//
// Workflows, tool usage, correlation and workflow state read the events
// table (sink.EventsSource, FINAL). A session belongs to the workflows
// named in its calls' agent_workflow.id attribute, which the edge writes
// last in llm.call.finish, llm.call.error and tool.execution events of
// calls made through /agent-workflow/{id}/; WorkflowExpr reads it from
// the end of the attributes, where a key planted in a model's answer or a
// tool's arguments cannot reach.
package workflow
