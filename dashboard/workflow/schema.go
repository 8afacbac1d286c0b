package workflow

import (
	"path"
	"strings"

	"github.com/cylestio/perimeter/sink"
)

// Table names. In cluster mode each is a Distributed table over
// <name>_local on every shard, sharded by the row's key so that every
// version of a row lives on one shard (FINAL then collapses them there).
const (
	SessionsTable    = "workflow_analysis_sessions"
	FindingsTable    = "workflow_findings"
	RecsTable        = "workflow_recommendations"
	ChecksTable      = "workflow_security_checks"
	ReportsTable     = "workflow_reports"
	AuditTable       = "workflow_audit_log"
	AgentsTable      = "workflow_agent_info"
	IDETable         = "workflow_ide_activity"
	AnalyzedTable    = "workflow_analyzed_sessions"
	MigrationsTable  = "workflow_migrations"
	localSuffix      = "_local"
	versionColumn    = "version"
	shardingFunction = "cityHash64"
)

// column is one column of a workflow table; every type is valid on
// ClickHouse 18.16. Optional numbers use -1 for "none" instead of
// Nullable, lists and objects are JSON text.
type column struct{ name, typ string }

// table is a versioned table: a ReplacingMergeTree(version) ordered by
// key, so a new version of a row replaces the old one, read with FINAL.
type table struct {
	name string
	key  string
	cols []column // without the version column, which is last
}

func str(n string) column   { return column{n, "String"} }
func i64(n string) column   { return column{n, "Int64"} }
func f64(n string) column   { return column{n, "Float64"} }
func u8(n string) column    { return column{n, "UInt8"} }
func i32(n string) column   { return column{n, "Int32"} }
func u64(n string) column   { return column{n, "UInt64"} }
func jsonc(n string) column { return column{n, "String"} }

var (
	sessionsT = table{SessionsTable, "session_id", []column{
		str("session_id"), str("agent_workflow_id"), str("agent_workflow_name"), str("agent_id"),
		str("session_type"), str("status"), i64("created_us"), i64("completed_us"),
		i64("findings_count"), i32("risk_score"), i64("sessions_analyzed"),
	}}
	findingsT = table{FindingsTable, "finding_id", []column{
		str("finding_id"), str("session_id"), str("agent_workflow_id"), str("source_type"), str("category"),
		str("check_id"), str("file_path"), i64("line_start"), i64("line_end"), str("finding_type"),
		str("severity"), f64("cvss_score"), str("title"), str("description"), jsonc("evidence"),
		jsonc("owasp_mapping"), str("cwe"), jsonc("soc2_controls"), str("recommendation_id"), str("status"),
		str("correlation_state"), jsonc("correlation_evidence"), i64("created_us"), i64("updated_us"),
	}}
	recsT = table{RecsTable, "recommendation_id", []column{
		str("recommendation_id"), str("workflow_id"), str("source_type"), str("source_finding_id"),
		str("category"), str("severity"), f64("cvss_score"), str("owasp_llm"), str("cwe"),
		jsonc("soc2_controls"), str("title"), str("description"), str("impact"), str("fix_hints"),
		str("fix_complexity"), u8("requires_architectural_change"), str("file_path"), i64("line_start"),
		i64("line_end"), str("code_snippet"), jsonc("related_files"), str("status"), str("fixed_by"),
		i64("fixed_us"), str("fix_method"), str("fix_commit"), str("fix_notes"), jsonc("files_modified"),
		i64("verified_us"), str("verified_by"), str("verification_result"), str("dismissed_reason"),
		str("dismissed_by"), i64("dismissed_us"), str("dismiss_type"), str("correlation_state"),
		jsonc("correlation_evidence"), str("fingerprint"), i64("created_us"), i64("updated_us"),
	}}
	checksT = table{ChecksTable, "check_id", []column{
		str("check_id"), str("agent_id"), str("agent_workflow_id"), str("analysis_session_id"),
		str("category_id"), str("check_type"), str("status"), str("title"), str("description"),
		str("value"), jsonc("evidence"), jsonc("recommendations"), i64("created_us"),
	}}
	reportsT = table{ReportsTable, "report_id", []column{
		str("report_id"), str("agent_workflow_id"), str("report_type"), str("report_name"),
		i64("generated_us"), str("generated_by"), i32("risk_score"), str("gate_status"),
		i64("findings_count"), i64("recommendations_count"), jsonc("report_data"), u8("deleted"),
	}}
	auditT = table{AuditTable, "id", []column{
		u64("id"), str("entity_type"), str("entity_id"), str("action"), str("previous_value"),
		str("new_value"), str("reason"), str("performed_by"), i64("performed_us"), jsonc("metadata"),
	}}
	agentsT = table{AgentsTable, "agent_id", []column{
		str("agent_id"), str("agent_workflow_id"), str("display_name"), str("description"), i64("updated_us"),
	}}
	ideT = table{IDETable, "agent_workflow_id", []column{
		str("agent_workflow_id"), i64("last_seen_us"), str("ide_type"), str("workspace_path"),
		str("model"), str("host"), str("user"),
	}}
	// analyzedT records which runtime session a dynamic analysis has
	// covered (migration 2).
	analyzedT = table{AnalyzedTable, "session_id", []column{
		str("session_id"), str("agent_id"), str("agent_workflow_id"), str("analysis_session_id"), i64("analyzed_us"),
	}}
)

// tables is every workflow table, in creation order.
var tables = []table{sessionsT, findingsT, recsT, checksT, reportsT, auditT, agentsT, ideT, analyzedT}

var tablesV1 = tables[:8]

// migrations is the workflow schema's history (recorded in
// MigrationsTable, apart from the events schema's). A released migration
// never changes: add columns with sink.AddColumnStep in a new one.
var migrations = []sink.Migration{
	sink.NewMigration(1, "workflow tables", createTables(tablesV1)),
	sink.NewMigration(2, "analysed runtime sessions", createTables([]table{analyzedT})),
}

func createTables(ts []table) func(v sink.ServerVersion, o sink.SchemaOptions) []sink.Step {
	return func(v sink.ServerVersion, o sink.SchemaOptions) []sink.Step {
		var out []sink.Step
		for _, t := range ts {
			for _, s := range t.create(o) {
				out = append(out, sink.Step{SQL: s})
			}
		}
		return out
	}
}

// SchemaStatements is every DDL statement of the workflow tables for a
// server, in order (for review and golden tests; Service runs them
// through sink.MigrateHistory).
func SchemaStatements(v sink.ServerVersion, o sink.SchemaOptions) []string {
	var out []string
	for _, m := range migrations {
		for _, s := range m.Steps(v, o) {
			out = append(out, s.SQL)
		}
	}
	return out
}

func onCluster(o sink.SchemaOptions) string {
	if o.Cluster == "" {
		return ""
	}
	return " ON CLUSTER " + sink.Ident(o.Cluster)
}

func database(o sink.SchemaOptions) string {
	if o.Database == "" {
		return sink.DefaultDatabase
	}
	return o.Database
}

// replicaPath is the ZooKeeper path of a local table: beside the events
// table's (the directory of storage's replica_path when one is set).
func replicaPath(o sink.SchemaOptions, local string) string {
	dir := "/clickhouse/tables/{shard}/" + database(o)
	if o.ReplicaPath != "" {
		dir = path.Dir(o.ReplicaPath)
	}
	return dir + "/" + local
}

// create renders the table (single node) or its replicated local table and
// the Distributed table over it (cluster).
func (t table) create(o sink.SchemaOptions) []string {
	var cols strings.Builder
	cols.WriteString("(\n")
	for _, c := range t.cols {
		cols.WriteString("    " + sink.Ident(c.name) + " " + c.typ + ",\n")
	}
	cols.WriteString("    " + sink.Ident(versionColumn) + " UInt64\n)")

	name := t.name
	engine := "ReplacingMergeTree(" + versionColumn + ")"
	if o.Cluster != "" {
		name = t.name + localSuffix
		replica := o.ReplicaName
		if replica == "" {
			replica = "{replica}"
		}
		args, _ := sink.Bind("?, ?", replicaPath(o, name), replica)
		engine = "ReplicatedReplacingMergeTree(" + args + ", " + versionColumn + ")"
	}
	out := []string{"CREATE TABLE IF NOT EXISTS " + o.Table(name) + onCluster(o) + "\n" + cols.String() +
		"\nENGINE = " + engine + "\nORDER BY " + sink.Ident(t.key) + "\nSETTINGS index_granularity = 8192"}
	if o.Cluster != "" {
		args, _ := sink.Bind("?, ?, ?", o.Cluster, database(o), name)
		out = append(out, "CREATE TABLE IF NOT EXISTS "+o.Table(t.name)+onCluster(o)+" AS "+o.Table(name)+
			"\nENGINE = Distributed("+args+", "+shardingFunction+"("+sink.Ident(t.key)+"))")
	}
	return out
}

// columnList is "`a`, `b`, …, `version`".
func (t table) columnList() string {
	var b strings.Builder
	for _, c := range t.cols {
		b.WriteString(sink.Ident(c.name))
		b.WriteString(", ")
	}
	b.WriteString(sink.Ident(versionColumn))
	return b.String()
}

// selectList is the columns a read returns, in cols order (no version).
func (t table) selectList() string {
	var b strings.Builder
	for i, c := range t.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(sink.Ident(c.name))
	}
	return b.String()
}
