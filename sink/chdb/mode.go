package chdb

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/sink"
)

// OptionsFromConfig maps storage.embedded and storage.retention_days; the
// wiring adds the logger and, for live_trace configs, ApplyLiveTraceMode.
func OptionsFromConfig(c configs.StorageConfig) Options {
	interval := time.Duration(c.Embedded.InsertIntervalMS) * time.Millisecond
	if interval <= 0 {
		interval = -1 // 0 in the config: each batch as it comes
	}
	o := Options{
		Path:           c.Embedded.Path,
		LibPath:        c.Embedded.LibPath,
		InsertInterval: interval,
		Schema:         sink.SchemaOptions{RetentionDays: c.RetentionDays},
	}
	if c.Embedded.Ephemeral {
		o.Memory, o.MemoryReason = true, "storage.embedded.ephemeral: true"
	}
	return o
}

// ApplyLiveTraceMode maps the original live_trace interceptor's
// storage_mode and db_path onto o, for configs written for
// cylestio-perimeter, and returns a line for the startup log saying what
// it did:
//
//   - "memory" (the original's default, here only when written): the
//     engine keeps its data in a private temporary directory for the life
//     of the proxy; it survives worker restarts and is removed on Close.
//   - "sqlite" (its persistent mode), or anything else, as the original
//     did: the embedded engine on disk, in the directory named by db_path
//     with its extension replaced by ".chdb" (./trace_data/live_trace.db →
//     ./trace_data/live_trace.chdb), so that an old SQLite file there is
//     left alone.
//
// The wiring calls it only when an enabled live_trace interceptor writes
// storage_mode; otherwise storage.embedded applies (path, or ephemeral).
func (o *Options) ApplyLiveTraceMode(storageMode, dbPath string) string {
	if strings.EqualFold(strings.TrimSpace(storageMode), "memory") {
		o.Memory = true
		o.MemoryReason = `live_trace storage_mode "memory"`
		return `live_trace storage_mode "memory": the embedded ClickHouse keeps its data in a temporary directory removed at exit`
	}
	o.Memory = false
	if dbPath == "" {
		o.Path = DefaultPath
	} else {
		o.Path = strings.TrimSuffix(dbPath, filepath.Ext(dbPath)) + ".chdb"
	}
	return `live_trace storage_mode "` + storageMode + `" is served by the embedded ClickHouse on disk at ` + o.Path + ` (the original's SQLite file, if any, is not read)`
}
