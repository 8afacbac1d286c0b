package sink

import (
	"context"
	"fmt"
	"strings"
)

// Step is one DDL statement of a migration.
type Step struct {
	SQL string
	// Table and Column name the column an ADD COLUMN step adds. On servers
	// without ADD COLUMN IF NOT EXISTS, Migrate skips the step when
	// system.columns already lists the column, which keeps it idempotent.
	Table, Column string
	// Upgrade marks a step that only changes a table created before its
	// migration (a codec, a setting): the first migration creates the
	// table with it already, so SchemaStatements leaves it out. Migrate
	// runs it; it must be harmless to repeat.
	Upgrade bool
}

// Migration is one schema version. Versions only grow; a released
// migration never changes (add a new one instead).
type Migration struct {
	Version int
	Name    string
	steps   func(v ServerVersion, o SchemaOptions) []Step
}

// NewMigration defines a migration; steps renders its statements for a
// server version (use AddColumnStep for new columns).
func NewMigration(version int, name string, steps func(v ServerVersion, o SchemaOptions) []Step) Migration {
	return Migration{Version: version, Name: name, steps: steps}
}

// Steps renders the migration for a server of version v.
func (m Migration) Steps(v ServerVersion, o SchemaOptions) []Step { return m.steps(v, o) }

// migrations is the schema history, oldest first.
var migrations = []Migration{
	{Version: 1, Name: "events table", steps: func(v ServerVersion, o SchemaOptions) []Step {
		var out []Step
		for _, s := range createEvents(v, o, o.createVersion()) {
			out = append(out, Step{SQL: s})
		}
		return out
	}},
	{Version: 2, Name: "finding columns", steps: func(v ServerVersion, o SchemaOptions) []Step {
		return addEventColumns(v, o, 2)
	}},
	{Version: 3, Name: "cost columns", steps: func(v ServerVersion, o SchemaOptions) []Step {
		return addEventColumns(v, o, 3)
	}},
	{Version: 4, Name: "session tags column", steps: func(v ServerVersion, o SchemaOptions) []Step {
		return addEventColumns(v, o, 4)
	}},
	{Version: 5, Name: "embedded storage", steps: embeddedStorage},
	{Version: 6, Name: "instance column", steps: func(v ServerVersion, o SchemaOptions) []Step {
		return addEventColumns(v, o, 6)
	}},
}

// addEventColumns adds the columns migration version brings to the
// events table. In cluster mode it alters the Replicated local tables ON
// CLUSTER (run on one replica per shard, replication does the rest), then
// makes the Distributed table again: ALTER … ON CLUSTER of a table that is
// not replicated is refused in a cluster with internal_replication
// (18.16: "Table events isn't replicated, but shard #2 is replicated
// according to its cluster definition"), while DROP and CREATE run on
// every node. Inserts that arrive in between fail, spill and are retried.
func addEventColumns(v ServerVersion, o SchemaOptions, version int) []Step {
	table := EventsTable
	if o.Cluster != "" {
		table = EventsLocalTable
	}
	var out []Step
	for _, c := range eventColumns {
		if c.since == version {
			out = append(out, AddColumnStep(v, o, table, c.name, columnType(v, c)))
		}
	}
	if o.Cluster != "" && len(out) > 0 {
		out = append(out, Step{SQL: dropDistributed(o), Upgrade: true}, Step{SQL: createDistributed(o), Upgrade: true})
	}
	return out
}

// Migrations returns the schema history, oldest first.
func Migrations() []Migration { return append([]Migration(nil), migrations...) }

// SchemaVersion is the newest migration's version.
func SchemaVersion() int { return migrations[len(migrations)-1].Version }

// AddColumnStep renders ALTER TABLE … ADD COLUMN for table (and, in cluster
// mode, for the local table behind the Distributed one: call it for each).
// Future migrations use it so that old servers get the system.columns check.
func AddColumnStep(v ServerVersion, o SchemaOptions, table, name, typ string) Step {
	ine := ""
	if v.AddColumnIfNotExists() {
		ine = "IF NOT EXISTS "
	}
	return Step{
		SQL:   "ALTER TABLE " + o.Table(table) + o.onCluster() + " ADD COLUMN " + ine + Ident(name) + " " + typ,
		Table: table, Column: name,
	}
}

// SchemaExecer is what Migrate needs from an engine: run one statement,
// answer one query.
type SchemaExecer interface {
	Exec(ctx context.Context, sql string) error
	Query(ctx context.Context, sql string, args ...any) (*Rows, error)
}

// Migrate brings the schema up to date: it creates the database and the
// migrations table, reads the newest applied version and runs every newer
// migration, recording each. Every step is idempotent, so a crash half-way
// (or two proxies starting together) only repeats harmless statements. In
// cluster mode the bookkeeping table is per node; the DDL itself is ON
// CLUSTER. It returns the versions it applied.
func Migrate(ctx context.Context, ex SchemaExecer, v ServerVersion, o SchemaOptions) ([]int, error) {
	return migrate(ctx, ex, v, o, MigrationsTable, migrations)
}

// MigrateWith is Migrate over a given history (tests, tools).
func MigrateWith(ctx context.Context, ex SchemaExecer, v ServerVersion, o SchemaOptions, ms []Migration) ([]int, error) {
	return migrate(ctx, ex, v, o, MigrationsTable, ms)
}

// MigrateHistory is MigrateWith for a schema with a history of its own
// (dashboard/workflow's tables): it records applied versions in the
// bookkeeping table named table, so its version numbers never mix with
// the events schema's.
func MigrateHistory(ctx context.Context, ex SchemaExecer, v ServerVersion, o SchemaOptions, table string, ms []Migration) ([]int, error) {
	return migrate(ctx, ex, v, o, table, ms)
}

func migrate(ctx context.Context, ex SchemaExecer, v ServerVersion, o SchemaOptions, table string, ms []Migration) ([]int, error) {
	// Up to date: no DDL at all. Besides sparing the statements, this
	// keeps a reconnect from hanging on ON CLUSTER DDL (which waits for
	// every node, up to distributed_ddl_task_timeout) while a node of the
	// cluster is down.
	if len(ms) > 0 {
		if rows, err := ex.Query(ctx, "SELECT max(version) FROM "+o.Table(table)); err == nil {
			if current, err := scalarInt(rows); err == nil && current >= int64(ms[len(ms)-1].Version) {
				return nil, nil
			}
		}
	}
	for _, s := range []string{createDatabase(o), createMigrationsTable(o, table)} {
		if err := ex.Exec(ctx, s); err != nil {
			return nil, fmt.Errorf("migrate: %s: %w", firstLine(s), err)
		}
	}
	rows, err := ex.Query(ctx, "SELECT max(version) FROM "+o.Table(table))
	if err != nil {
		return nil, fmt.Errorf("migrate: read applied version: %w", err)
	}
	current, err := scalarInt(rows)
	if err != nil {
		return nil, fmt.Errorf("migrate: read applied version: %w", err)
	}
	var applied []int
	for _, m := range ms {
		if int64(m.Version) <= current {
			continue
		}
		for _, s := range m.steps(v, o) {
			if s.Column != "" && !v.AddColumnIfNotExists() {
				exists, err := columnExists(ctx, ex, o, s.Table, s.Column)
				if err != nil {
					return applied, fmt.Errorf("migrate %d (%s): %w", m.Version, m.Name, err)
				}
				if exists {
					continue
				}
			}
			if err := ex.Exec(ctx, s.SQL); err != nil {
				return applied, fmt.Errorf("migrate %d (%s): %s: %w", m.Version, m.Name, firstLine(s.SQL), err)
			}
		}
		// INSERT … SELECT, not VALUES: a 18.16 server waits for data blocks
		// after an INSERT … VALUES sent over the native protocol.
		rec, err := Bind("INSERT INTO "+o.Table(table)+" (`version`, `name`, `applied_at`) SELECT ?, ?, now()", m.Version, m.Name)
		if err != nil {
			return applied, err
		}
		if err := ex.Exec(ctx, rec); err != nil {
			return applied, fmt.Errorf("migrate %d (%s): record version: %w", m.Version, m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

func columnExists(ctx context.Context, ex SchemaExecer, o SchemaOptions, table, name string) (bool, error) {
	rows, err := ex.Query(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?", o.database(), table, name)
	if err != nil {
		return false, fmt.Errorf("check column %s.%s: %w", table, name, err)
	}
	n, err := scalarInt(rows)
	return n > 0, err
}

// scalarInt reads a one-row, one-column numeric result (NULL is 0).
func scalarInt(r *Rows) (int64, error) {
	if r == nil || len(r.Data) == 0 || len(r.Data[0]) == 0 {
		return 0, nil
	}
	switch x := r.Data[0][0].(type) {
	case nil:
		return 0, nil
	case int64:
		return x, nil
	case uint64:
		return int64(x), nil
	case float64:
		return int64(x), nil
	case string:
		var n int64
		_, err := fmt.Sscan(x, &n)
		return n, err
	default:
		return 0, fmt.Errorf("unexpected %T", x)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
