package sink

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Table names. In cluster mode EventsTable is a Distributed table over
// EventsLocalTable on every shard; reads and writes always use EventsTable.
const (
	EventsTable      = "events"
	EventsLocalTable = "events_local"
	MigrationsTable  = "schema_migrations"
	DefaultDatabase  = "perimeter"
)

// ServerVersion is a ClickHouse server (or chDB) version, as "SELECT
// version()" returns it: "18.16.1", "24.8.4.13", "26.7.3.1".
type ServerVersion struct {
	Major, Minor, Patch int
	Raw                 string
}

// ParseServerVersion parses the output of SELECT version().
func ParseServerVersion(s string) (ServerVersion, error) {
	v := ServerVersion{Raw: strings.TrimSpace(s)}
	parts := strings.SplitN(v.Raw, ".", 4)
	if len(parts) < 2 {
		return v, fmt.Errorf("server version %q: want major.minor[.patch]", s)
	}
	nums := [3]*int{&v.Major, &v.Minor, &v.Patch}
	for i := 0; i < len(parts) && i < 3; i++ {
		// Tolerate suffixes such as "1-stable" in the last field.
		p := parts[i]
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		if end == 0 {
			if i < 2 {
				return v, fmt.Errorf("server version %q: field %d is not a number", s, i+1)
			}
			break
		}
		n, err := strconv.Atoi(p[:end])
		if err != nil {
			return v, fmt.Errorf("server version %q: %w", s, err)
		}
		*nums[i] = n
	}
	return v, nil
}

// String is the version as the server reported it.
func (v ServerVersion) String() string {
	if v.Raw != "" {
		return v.Raw
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// AtLeast reports whether v >= major.minor.
func (v ServerVersion) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// Feature gates. The thresholds are the earliest releases we know to have
// the feature without experimental settings; 18.16 (Debian's package) has
// none of them: LowCardinality needs allow_experimental_low_cardinality_type,
// TTL and ADD COLUMN IF NOT EXISTS are syntax errors there.

// LowCardinality reports whether LowCardinality(String) columns are usable.
func (v ServerVersion) LowCardinality() bool { return v.AtLeast(20, 1) }

// TTL reports whether table TTL expressions are supported.
func (v ServerVersion) TTL() bool { return v.AtLeast(20, 1) }

// AddColumnIfNotExists reports whether ALTER TABLE … ADD COLUMN IF NOT
// EXISTS parses; without it Migrate consults system.columns.
func (v ServerVersion) AddColumnIfNotExists() bool { return v.AtLeast(20, 1) }

// Codecs reports whether per-column compression codecs are supported.
func (v ServerVersion) Codecs() bool { return v.AtLeast(20, 1) }

// CompactParts reports whether MergeTree has compact parts (all columns in
// one file) and the min_bytes_for_wide_part setting that chooses them.
func (v ServerVersion) CompactParts() bool { return v.AtLeast(20, 3) }

// EmbeddedWidePartBytes is min_bytes_for_wide_part of the embedded
// engine's events table: parts smaller than this (every insert, the first
// merges) are compact, one file for all columns instead of two per column.
// Creating files is a large share of an insert's cost on ext4; past this
// size reads of a few columns gain from wide parts and there are few of
// them.
const EmbeddedWidePartBytes = 128 << 20

// SchemaOptions say where the tables live and how they are built.
type SchemaOptions struct {
	// Database holds every table; empty means DefaultDatabase.
	Database string
	// Cluster, when set, renders DDL ON CLUSTER, Replicated* local tables
	// and a Distributed EventsTable sharded by session.
	Cluster string
	// RetentionDays adds "TTL date + INTERVAL n DAY" where the server
	// supports it; 0 keeps events forever. On older servers it is ignored
	// (Migrate's caller should say so in its log).
	RetentionDays int
	// Embedded says the engine shares the proxy's machine (chDB): its
	// events table trades disk for CPU. Large text columns are compressed
	// with LZ4 instead of ZSTD(1) (about half the engine's CPU per event
	// for those columns, on insert and on every merge; about 1.5× their
	// size on disk), and parts stay compact up to EmbeddedWidePartBytes.
	// A server (and a cluster) keeps ZSTD and its own part settings.
	Embedded bool
	// ReplicaPath and ReplicaName are the ZooKeeper arguments of the
	// Replicated engine in cluster mode; defaults
	// "/clickhouse/tables/{shard}/<database>/events_local" and "{replica}"
	// (macros every cluster defines).
	ReplicaPath string
	ReplicaName string

	// asOf, when set (SchemaStatementsAt), makes the first migration
	// create the events table as of that schema version.
	asOf int
}

// createVersion is the schema version whose columns the first migration
// creates the events table with: every column, unless asOf says otherwise.
func (o SchemaOptions) createVersion() int {
	if o.asOf > 0 {
		return o.asOf
	}
	return math.MaxInt
}

func (o SchemaOptions) database() string {
	if o.Database == "" {
		return DefaultDatabase
	}
	return o.Database
}

// column is one column of the events table.
type column struct {
	name  string
	typ   string // portable type, valid on 18.16
	lc    bool   // LowCardinality(typ) where the server supports it
	large bool   // large text: CODEC(ZSTD(1)) where the server supports codecs, CODEC(LZ4) embedded
	// since is the migration that added the column to existing tables
	// (0: the table's first version).
	since int
}

// eventColumns is the events table, in InsertColumns order. Changing it
// needs a migration (see migrations) and a matching change to
// ColumnBatch and AppendValues.
var eventColumns = []column{
	{name: "id", typ: "UUID"},
	{name: "date", typ: "Date"},
	{name: "ts", typ: "DateTime"},
	{name: "ts_us", typ: "UInt64"},
	{name: "name", typ: "String", lc: true},
	{name: "level", typ: "String", lc: true},
	{name: "trace_id", typ: "String"},
	{name: "span_id", typ: "String"},
	{name: "session_id", typ: "String"},
	{name: "agent_id", typ: "String"},
	{name: "vendor", typ: "String", lc: true},
	{name: "model", typ: "String", lc: true},
	{name: "status", typ: "UInt16"},
	{name: "duration_ms", typ: "Float64"},
	{name: "input_tokens", typ: "Int64"},
	{name: "output_tokens", typ: "Int64"},
	{name: "total_tokens", typ: "Int64"},
	{name: "cached_tokens", typ: "Int64"},
	{name: "cache_write_tokens", typ: "Int64"},
	{name: "tool_name", typ: "String", lc: true},
	{name: "finish_reason", typ: "String", lc: true},
	{name: "error_type", typ: "String", lc: true},
	{name: "error_message", typ: "String", large: true},
	{name: "risk_score", typ: "Float32"},
	{name: "attributes", typ: "String", large: true},
	// Migration 2: the typed fields of security.finding events.
	{name: "category", typ: "String", lc: true, since: 2},
	{name: "rule", typ: "String", lc: true, since: 2},
	{name: "severity", typ: "String", lc: true, since: 2},
	// Migration 3: the cost of a call (sink/pricing). NULL when it has
	// none: not a call, an unpriced model, no usage (cost_status says
	// which), so sum and avg count priced calls only.
	{name: "cost_usd", typ: "Nullable(Float64)", since: 3},
	{name: "cost_status", typ: "String", lc: true, since: 3},
	// Migration 4: a session.start's tags (see rowTags), so that the
	// dashboard filters sessions by tag in SQL. "" on other events and on
	// rows written before the column existed.
	{name: "tags", typ: "String", since: 4},
	// Migration 6: the proxy instance that saw the event
	// (server.instance_id), so that several proxies writing one store can
	// be told apart. Rows stored before it have "".
	{name: "instance_id", typ: "String", lc: true, since: 6},
}

// eventsOrderBy is the sorting key. It ends with id so that
// ReplacingMergeTree collapses a retried or replayed event (same id, same
// agent, session and time) into one row when parts merge.
const eventsOrderBy = "(agent_id, session_id, ts_us, id)"

// InsertColumns lists the events table's columns in the order every insert
// (ColumnBatch, AppendValues) supplies them.
func InsertColumns() []string {
	out := make([]string, len(eventColumns))
	for i, c := range eventColumns {
		out[i] = c.name
	}
	return out
}

// ColumnTypes returns each column's type as the given server will create
// it, in InsertColumns order.
func ColumnTypes(v ServerVersion) []string {
	out := make([]string, len(eventColumns))
	for i, c := range eventColumns {
		out[i] = columnType(v, c)
	}
	return out
}

func columnType(v ServerVersion, c column) string {
	if c.lc && v.LowCardinality() {
		return "LowCardinality(" + c.typ + ")"
	}
	return c.typ
}

// Ident quotes a ClickHouse identifier with backticks, so configured names
// can never change the statement around them.
func Ident(name string) string {
	var b strings.Builder
	b.Grow(len(name) + 2)
	b.WriteByte('`')
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '`' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('`')
	return b.String()
}

// Table is the quoted, database-qualified name of a table.
func (o SchemaOptions) Table(name string) string {
	return Ident(o.database()) + "." + Ident(name)
}

// onCluster is " ON CLUSTER `c`" in cluster mode, else "".
func (o SchemaOptions) onCluster() string {
	if o.Cluster == "" {
		return ""
	}
	return " ON CLUSTER " + Ident(o.Cluster)
}

// EventsSource is the FROM clause every aggregate must read events through:
// "`db`.`events` FINAL". FINAL makes ReplacingMergeTree collapse rows with
// the same sorting key (hence the same event id) at read time, before
// background merges have done it, so a batch stored twice is counted once.
// It works on 18.16, on 26.x and through a Distributed table (shards are
// chosen by session, so duplicates always share a shard).
func EventsSource(o SchemaOptions) string {
	return o.Table(EventsTable) + " FINAL"
}

// In is the IN operator for a subquery over EventsTable: GLOBAL IN in
// cluster mode, where a plain IN would run the subquery on every shard
// against the Distributed table again (which ClickHouse refuses, error
// 288), plain IN on a single node. Not is "NOT " or "".
func (o SchemaOptions) In(not bool) string {
	op := "IN"
	if not {
		op = "NOT IN"
	}
	if o.Cluster != "" {
		return "GLOBAL " + op
	}
	return op
}

// InsertPrefix is "INSERT INTO `db`.`events` (`id`, …)" — the explicit
// column list 18.16 requires for native batch inserts.
func InsertPrefix(o SchemaOptions) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(o.Table(EventsTable))
	b.WriteString(" (")
	for i, c := range eventColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Ident(c.name))
	}
	b.WriteString(")")
	return b.String()
}

func (o SchemaOptions) replicaArgs(table string) string {
	path := o.ReplicaPath
	if path == "" {
		path = "/clickhouse/tables/{shard}/" + o.database() + "/" + table
	}
	name := o.ReplicaName
	if name == "" {
		name = "{replica}"
	}
	var b strings.Builder
	quote(&b, path)
	b.WriteString(", ")
	quote(&b, name)
	return b.String()
}

// createEvents renders the events table (single node) or the local
// replicated table plus the Distributed table (cluster) with the columns
// of schema version upTo.
func createEvents(v ServerVersion, o SchemaOptions, upTo int) []string {
	var cols strings.Builder
	cols.WriteString("(\n")
	for i, c := range eventColumns {
		if c.since > upTo {
			break
		}
		if i > 0 {
			cols.WriteString(",\n")
		}
		cols.WriteString("    ")
		cols.WriteString(Ident(c.name))
		cols.WriteByte(' ')
		cols.WriteString(columnType(v, c))
		if c.large && v.Codecs() {
			cols.WriteString(" CODEC(")
			cols.WriteString(o.largeCodec())
			cols.WriteString(")")
		}
	}
	cols.WriteString("\n)")

	local := EventsTable
	engine := "ReplacingMergeTree()"
	if o.Cluster != "" {
		local = EventsLocalTable
		engine = "ReplicatedReplacingMergeTree(" + o.replicaArgs(EventsLocalTable) + ")"
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS ")
	b.WriteString(o.Table(local))
	b.WriteString(o.onCluster())
	b.WriteString("\n")
	b.WriteString(cols.String())
	b.WriteString("\nENGINE = ")
	b.WriteString(engine)
	b.WriteString("\nPARTITION BY toYYYYMM(date)\nORDER BY ")
	b.WriteString(eventsOrderBy)
	if o.RetentionDays > 0 && v.TTL() {
		b.WriteString("\nTTL date + INTERVAL ")
		b.WriteString(strconv.Itoa(o.RetentionDays))
		b.WriteString(" DAY")
	}
	b.WriteString("\nSETTINGS index_granularity = 8192")
	if o.compactParts(v) {
		b.WriteString(", min_bytes_for_wide_part = ")
		b.WriteString(strconv.Itoa(EmbeddedWidePartBytes))
	}
	out := []string{b.String()}

	if o.Cluster != "" {
		out = append(out, createDistributed(o))
	}
	return out
}

// createDistributed is the Distributed EventsTable over EventsLocalTable,
// with the local table's columns as they are when it runs.
func createDistributed(o SchemaOptions) string {
	{
		var d strings.Builder
		d.WriteString("CREATE TABLE IF NOT EXISTS ")
		d.WriteString(o.Table(EventsTable))
		d.WriteString(o.onCluster())
		d.WriteString(" AS ")
		d.WriteString(o.Table(EventsLocalTable))
		d.WriteString("\nENGINE = Distributed(")
		quote(&d, o.Cluster)
		d.WriteString(", ")
		quote(&d, o.database())
		d.WriteString(", ")
		quote(&d, EventsLocalTable)
		// Sharding by session keeps a session's events (and every copy of
		// a retried event) on one shard, so FINAL deduplicates per shard.
		d.WriteString(", cityHash64(session_id))")
		return d.String()
	}
}

// dropDistributed drops the Distributed EventsTable (it holds no data:
// inserts are synchronous, see sink/clickhouse) so that createDistributed
// can make it again with new columns.
func dropDistributed(o SchemaOptions) string {
	return "DROP TABLE IF EXISTS " + o.Table(EventsTable) + o.onCluster()
}

// largeCodec is the codec of large text columns.
func (o SchemaOptions) largeCodec() string {
	if o.Embedded {
		return "LZ4"
	}
	return "ZSTD(1)"
}

// compactParts says whether the events table sets min_bytes_for_wide_part.
func (o SchemaOptions) compactParts(v ServerVersion) bool {
	return o.Embedded && o.Cluster == "" && v.CompactParts()
}

// embeddedStorage is migration 4 for a table created before it: the
// embedded engine's codecs and part sizes (createEvents renders them for a
// new table). Both are metadata changes: parts written before keep their
// codec until a merge rewrites them.
func embeddedStorage(v ServerVersion, o SchemaOptions) []Step {
	if !o.compactParts(v) || !v.Codecs() {
		return nil
	}
	var out []Step
	t := o.Table(EventsTable)
	for _, c := range eventColumns {
		if c.large {
			out = append(out, Step{SQL: "ALTER TABLE " + t + " MODIFY COLUMN " + Ident(c.name) + " " + columnType(v, c) + " CODEC(" + o.largeCodec() + ")", Upgrade: true})
		}
	}
	return append(out, Step{SQL: "ALTER TABLE " + t + " MODIFY SETTING min_bytes_for_wide_part = " + strconv.Itoa(EmbeddedWidePartBytes), Upgrade: true})
}

// createDatabase and createMigrations are the bootstrap statements Migrate
// runs before reading the applied version.
func createDatabase(o SchemaOptions) string {
	return "CREATE DATABASE IF NOT EXISTS " + Ident(o.database()) + o.onCluster()
}

func createMigrations(o SchemaOptions) string { return createMigrationsTable(o, MigrationsTable) }

func createMigrationsTable(o SchemaOptions, table string) string {
	return "CREATE TABLE IF NOT EXISTS " + o.Table(table) + o.onCluster() +
		"\n(\n    `version` UInt32,\n    `name` String,\n    `applied_at` DateTime\n)\nENGINE = ReplacingMergeTree()\nORDER BY version"
}

// SchemaStatements returns every DDL statement of the current schema for a
// server of version v, in order: database, migrations table, then each
// migration's steps but those that only upgrade an older table (ADD
// COLUMN, Step.Upgrade). Each statement is idempotent.
func SchemaStatements(v ServerVersion, o SchemaOptions) []string {
	return schemaStatements(v, o, migrations)
}

// SchemaStatementsAt is SchemaStatements as of schema version version:
// the tables an older release created, without the columns later
// migrations add (upgrade tests).
func SchemaStatementsAt(v ServerVersion, o SchemaOptions, version int) []string {
	var ms []Migration
	for _, m := range migrations {
		if m.Version <= version {
			ms = append(ms, m)
		}
	}
	o.asOf = version
	return schemaStatements(v, o, ms)
}

func schemaStatements(v ServerVersion, o SchemaOptions, ms []Migration) []string {
	out := []string{createDatabase(o), createMigrations(o)}
	for _, m := range ms {
		for _, s := range m.steps(v, o) {
			// The first migration creates the table with every current
			// column; later ADD COLUMN steps only matter to tables created
			// before them, which Migrate handles.
			if s.Column != "" || s.Upgrade {
				continue
			}
			out = append(out, s.SQL)
		}
	}
	return out
}
