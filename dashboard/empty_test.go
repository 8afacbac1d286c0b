package dashboard

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/chdb"
)

// arrayKeys must hold JSON arrays in every answer, empty or not.
var arrayKeys = map[string]bool{"agents": true, "sessions": true, "recent_sessions": true, "findings": true, "events": true,
	"timeline": true, "points": true, "tags": true, "rows": true, "columns": true, "types": true, "tables": true, "examples": true,
	"models": true, "tools": true, "available_tools": true, "used_tools": true, "top_rules": true, "riskiest_sessions": true}

func checkArrays(t *testing.T, path string, v any, key string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if arrayKeys[k] && k != "tags" || k == "tags" && key == "" {
				if _, ok := e.([]any); !ok {
					t.Errorf("%s: %q is %v, want an array", path, k, e)
				}
			}
			checkArrays(t, path, e, k)
		}
	case []any:
		for _, e := range x {
			checkArrays(t, path, e, key)
		}
	}
}

// Every endpoint answers 200 with its usual shape, empty, and the store's
// reason and fix when analytics are off or the store is down.
func TestEmptyState(t *testing.T) {
	missing, err := chdb.Open(context.Background(), chdb.Options{LibPath: "/nonexistent/libchdb.so", Path: t.TempDir(), Logger: zerolog.Nop()})
	if err == nil {
		t.Fatal("a store without libchdb.so says it works")
	}
	t.Cleanup(func() { missing.Close() })
	for _, c := range []struct {
		name   string
		store  sink.Store
		reason string
	}{
		{"engine none", nil, "storage.engine is none"},
		{"no libchdb", missing, "libchdb"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := testServer(t, c.store, nil)
			paths := []string{"/api/dashboard", "/api/agents", "/api/sessions", "/api/sessions/list?status=ACTIVE",
				"/api/sessions/tags", "/api/agent/a", "/api/session/s", "/api/event/6f1c0000-0000-0000-0000-000000000000",
				"/api/stats", "/api/config", "/api/findings?severity=high", "/api/risk?range=24h", "/api/timeseries?range=10m",
				"/api/sql/schema", "POST /api/sql"}
			for _, p := range paths {
				method, path := "GET", p
				var body []byte
				if m, rest, ok := strings.Cut(p, " "); ok {
					method, path, body = m, rest, []byte(`{"query":"SELECT 1"}`)
				}
				code, b := call(t, s, method, path, body, nil)
				var v map[string]any
				if code != 200 || json.Unmarshal(b, &v) != nil {
					t.Errorf("%s: %d %s", p, code, b)
					continue
				}
				st, _ := v["storage"].(map[string]any)
				if st == nil || st["available"] != false || !strings.Contains(st["reason"].(string), c.reason) || st["fix"] == "" {
					t.Errorf("%s: storage %v", p, v["storage"])
				}
				checkArrays(t, p, v, "")
			}
			// Parameters are still checked.
			if code, b := call(t, s, "GET", "/api/sessions/list?limit=0", nil, nil); code != 400 {
				t.Errorf("bad limit while down: %d %s", code, b)
			}
			var h map[string]any
			get(t, s, "/health", &h)
			if h["status"] != "ok" {
				t.Errorf("health %v", h)
			}
		})
	}
}

// A store that goes away mid-request gives the empty state too.
type downStore struct{ sink.Store }

func (downStore) Status() sink.Status {
	return sink.Status{Engine: "embedded", Available: true, Version: "x"}
}
func (downStore) Query(context.Context, string, ...any) (*sink.Rows, error) {
	return nil, sink.ErrUnavailable
}

func TestStoreDiesMidRequest(t *testing.T) {
	s := testServer(t, downStore{}, nil)
	var d DashboardResponse
	get(t, s, "/api/dashboard", &d)
	if d.Storage.Available || !strings.Contains(d.Storage.Reason, "stopped answering") || d.Agents == nil || d.LastUpdated != Time(t0) {
		t.Fatalf("%+v", d)
	}
}

// recovering is a store that reports itself down until it is queried, as a
// server store does after losing its connection: the dashboard's own
// queries must bring it back, or an idle proxy's dashboard stays empty.
type recovering struct {
	sink.Store
	down atomic.Bool
}

func (r *recovering) Status() sink.Status {
	if r.down.Load() {
		return sink.Status{Engine: "clickhouse", Reason: "connection lost", Fix: "start it"}
	}
	return r.Store.Status()
}

func (r *recovering) Query(ctx context.Context, q string, args ...any) (*sink.Rows, error) {
	r.down.Store(false)
	return r.Store.Query(ctx, q, args...)
}

func TestDashboardBringsBackADownStore(t *testing.T) {
	st, _ := seededStore(t, engines[0])
	rec := &recovering{Store: st}
	rec.down.Store(true)
	s := testServer(t, rec, func(o *Options) { o.Schema = schemaOf(st) })
	var r AgentsResponse
	get(t, s, "/api/agents", &r)
	if !r.Storage.Available || r.TotalCount != 2 {
		t.Fatalf("%+v", r)
	}
}
