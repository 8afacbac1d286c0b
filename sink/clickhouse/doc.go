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
//
// # Cluster
//
// With Options.Cluster (storage.clickhouse.cluster) the schema is made ON
// CLUSTER: ReplicatedReplacingMergeTree local tables and a Distributed
// events table sharded by session, through which every write and read
// goes, on whichever listed address answers first. Inserts are
// synchronous (insert_distributed_sync=1): a batch is acknowledged once
// every shard holds its rows, so a shard with no live replica fails the
// insert and the pipeline spills it until the shard is back (the part a
// live shard took before the failure is stored again and deduplicated).
// A query that cannot reach a shard fails with ErrShardUnavailable rather
// than answer from the shards that are left (no skip_unavailable_shards):
// totals missing a shard would look true. A reconnect of an up-to-date
// store runs no DDL, so it does not wait on a node that is down.
// The cluster tests (cluster_test.go) run all this against a private
// 2-shard, 2-replica cluster (package chtest).
package clickhouse
