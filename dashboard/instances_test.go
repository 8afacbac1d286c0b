package dashboard

import (
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink/storetest"
)

// TestStatsPerInstance: /api/stats lists every proxy instance whose events
// the store holds, with its share, whichever instance serves the answer;
// on a cluster too, where the two instances' sessions live on different
// shards.
func TestStatsPerInstance(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		sd := &seed{}
		for i, inst := range []string{"proxy-a:4000", "proxy-b:4000", "proxy-a:4000", ""} {
			sess := []string{"s-1", "s-2", "s-3", "s-old"}[i]
			at := t0.Add(-time.Duration(10-i) * time.Minute)
			sd.start("agent-x", sess, at, "You are a bot.", nil)
			sd.call("agent-x", sess, at, "gpt-4o-mini", "hello", nil)
			sd.finish("agent-x", sess, at.Add(time.Second), "openai", "gpt-4o-mini", 1000, 10, 5)
			for _, e := range sd.events[len(sd.events)-3:] {
				e.InstanceID = inst
			}
		}
		st := storeWith(t, engine, sd.events)
		s := testServer(t, st, func(o *Options) { o.Instance = "proxy-b:4000" })
		var r StatsResponse
		get(t, s, "/api/stats", &r)
		want := []InstanceStats{
			{ID: "", Events: 3, Requests: 1, Sessions: 1, LastSeen: Time(t0.Add(-7*time.Minute + time.Second))},
			{ID: "proxy-a:4000", Events: 6, Requests: 2, Sessions: 2, LastSeen: Time(t0.Add(-8*time.Minute + time.Second))},
			{ID: "proxy-b:4000", Events: 3, Requests: 1, Sessions: 1, LastSeen: Time(t0.Add(-9*time.Minute + time.Second))},
		}
		if r.Storage.Instance != "proxy-b:4000" || (engine == storetest.Cluster) != (r.Storage.Cluster != "") {
			t.Errorf("storage status %+v: want the serving instance, and the cluster on a cluster", r.Storage)
		}
		if r.ServedBy != "proxy-b:4000" || len(r.Instances) != len(want) {
			t.Fatalf("served by %q, instances %+v", r.ServedBy, r.Instances)
		}
		for i := range want {
			if r.Instances[i] != want[i] {
				t.Errorf("instance %d: got %+v, want %+v", i, r.Instances[i], want[i])
			}
		}
		if r.TotalEvents != int64(len(sd.events)) {
			t.Errorf("total events %d, want %d", r.TotalEvents, len(sd.events))
		}
	})
}
