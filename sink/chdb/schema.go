package chdb

import (
	"context"
	"fmt"

	"github.com/cylestio/perimeter/internal/sched"
	"github.com/cylestio/perimeter/sink"
)

// migrate is the default Setup: the events schema (sink.Migrate) for the
// engine's ClickHouse version, run after every worker start. It is
// idempotent, so a restart only repeats harmless CREATE … IF NOT EXISTS.
func (s *Store) migrate(ctx context.Context, c Conn) error {
	v, err := sink.ParseServerVersion(c.ServerVersion())
	if err != nil {
		return err
	}
	applied, err := sink.Migrate(ctx, c, v, s.opts.Schema)
	if len(applied) > 0 {
		s.log.Info().Ints("versions", applied).Str("database", databaseOf(s.opts.Schema)).Msg("embedded ClickHouse: schema migrated")
	}
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	return nil
}

func databaseOf(o sink.SchemaOptions) string {
	if o.Database == "" {
		return sink.DefaultDatabase
	}
	return o.Database
}

// insertNative is the default insert: the batch as one Native block for
// chDB's streaming INSERT (an opInsert payload). cols is scratch space.
func (s *Store) insertNative(dst []byte, cols *sink.ColumnBatch, batch []*sink.Event) []byte {
	cols.Reset()
	var y sched.Yielder
	for i, e := range batch {
		if i&63 == 63 {
			y.Tick()
		}
		cols.Append(e)
	}
	return appendInsertPayload(dst, s.insertPrefix, "Native", func(d []byte) []byte { return sink.AppendNative(d, cols) })
}

// insertValues renders the batch as sink's INSERT … VALUES text, the
// insert before Native (tests and benchmarks compare the two).
func (s *Store) insertValues(dst []byte, batch []*sink.Event) []byte {
	dst = append(dst, s.insertPrefix...)
	dst = append(dst, " VALUES "...)
	return sink.AppendValues(dst, batch)
}
