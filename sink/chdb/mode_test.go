package chdb

import (
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/configs"
)

func TestApplyLiveTraceMode(t *testing.T) {
	tests := []struct {
		mode, dbPath string
		memory       bool
		path         string
		log          string
	}{
		{"memory", "./trace_data/live_trace.db", true, "/keep", "temporary directory"},
		{" Memory ", "", true, "/keep", "temporary directory"},
		{"sqlite", "./trace_data/live_trace.db", false, "trace_data/live_trace.chdb", "on disk at ./trace_data/live_trace.chdb"},
		{"sqlite", "/var/lib/lt", false, "/var/lib/lt.chdb", "on disk at /var/lib/lt.chdb"},
		{"sqlite", "", false, DefaultPath, "on disk at " + DefaultPath},
		{"postgres", "x.db", false, "x.chdb", `"postgres"`},
	}
	for _, tt := range tests {
		o := Options{Path: "/keep", Memory: !tt.memory}
		log := o.ApplyLiveTraceMode(tt.mode, tt.dbPath)
		if o.Memory != tt.memory || !strings.HasSuffix(o.Path, tt.path) || !strings.Contains(log, tt.log) {
			t.Errorf("%q %q: memory %v path %q log %q", tt.mode, tt.dbPath, o.Memory, o.Path, log)
		}
	}
}

func TestOptionsFromConfig(t *testing.T) {
	var c configs.StorageConfig
	c.Embedded.Path, c.Embedded.LibPath, c.RetentionDays = "/data", "/lib/libchdb.so", 30
	o := OptionsFromConfig(c)
	if o.Path != "/data" || o.LibPath != "/lib/libchdb.so" || o.Schema.RetentionDays != 30 || o.Memory {
		t.Fatalf("%+v", o)
	}
	// insert_interval_ms: 0 in the config writes each batch as it comes.
	for _, tt := range []struct {
		ms   int
		want time.Duration
	}{{0, 0}, {1000, time.Second}, {250, 250 * time.Millisecond}} {
		c.Embedded.InsertIntervalMS = tt.ms
		o := OptionsFromConfig(c)
		o.defaults()
		if got := (&Store{opts: o}).WriteInterval(); got != tt.want {
			t.Errorf("insert_interval_ms %d: write interval %v, want %v", tt.ms, got, tt.want)
		}
	}
	c.Embedded.Ephemeral = true
	if o := OptionsFromConfig(c); !o.Memory || !strings.Contains(EphemeralWarning(o.MemoryReason), "storage.embedded.ephemeral") {
		t.Errorf("ephemeral: true gives %+v", o)
	}
	st := (&Store{opts: Options{Memory: true, MemoryReason: "x"}}).Status()
	if !st.Ephemeral || !strings.Contains(st.Warning, "deleted when perimeter stops (x)") {
		t.Errorf("an ephemeral store's status %+v", st)
	}
	if st := (&Store{}).Status(); st.Ephemeral || st.Warning != "" {
		t.Errorf("a persistent store's status %+v", st)
	}
	var unset Options
	unset.defaults()
	if unset.InsertInterval != time.Second {
		t.Errorf("default insert interval %v, want 1s", unset.InsertInterval)
	}
}
