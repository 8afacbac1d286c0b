// Package clickhouse is the sink.Store for a ClickHouse server or cluster,
// spoken to over the native protocol (port 9000) with clickhouse-go/v2.
//
// It owns the connection pool, the server version check, running the
// schema migrations of package sink against the server, batch inserts
// (columnar, with the explicit column list ClickHouse 18.16 requires), and
// read-only queries: every Query runs with readonly=1, max_execution_time
// and max_result_rows, and its arguments are bound client-side by
// sink.Bind (18.16 has no server-side parameters).
//
// It never defines the schema (package sink does, for both engines),
// never retries or buffers (the pipeline does, and spills while this store
// is down), and never fails to open because the server is down: Open
// returns a store whose Status says why it is unavailable and how to fix
// it, and which connects, and migrates, on the next write or query.
//
// Duplicates from retried or replayed batches are collapsed by the table
// engine and by FINAL at read time; see package sink.
package clickhouse
