package dashboard

import (
	"net/url"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	now := t0
	for _, c := range []struct {
		q        string
		def      time.Duration
		from, to time.Time
		set      bool
		param    string
	}{
		{"", 0, time.Time{}, time.Time{}, false, ""},
		{"", time.Hour, now.Add(-time.Hour), now, true, ""},
		{"range=15m", 0, now.Add(-15 * time.Minute), now, true, ""},
		{"range=7d", 0, now.Add(-7 * 24 * time.Hour), now, true, ""},
		{"range=90", 0, now.Add(-90 * time.Second), now, true, ""},
		{"from=2026-05-01T10:00:00Z", 0, now.Add(-2 * time.Hour), now, true, ""},
		{"from=1777629600&to=1777633200", 0, time.Unix(1777629600, 0).UTC(), time.Unix(1777633200, 0).UTC(), true, ""},
		{"range=367d", 0, time.Time{}, time.Time{}, false, "range"},
		{"range=-1h", 0, time.Time{}, time.Time{}, false, "range"},
		{"from=2020-01-01T00:00:00Z", 0, time.Time{}, time.Time{}, false, "range"},
		{"to=2026-05-01T13:00:00Z", 0, time.Time{}, time.Time{}, false, "from"},
		{"from=x", 0, time.Time{}, time.Time{}, false, "from"},
		{"from=1&to=y", 0, time.Time{}, time.Time{}, false, "to"},
	} {
		q, _ := url.ParseQuery(c.q)
		from, to, set, err := params{q: q, now: now}.window(c.def)
		if c.param != "" {
			if ae, ok := err.(*apiError); !ok || ae.param != c.param {
				t.Errorf("%q: %v, want an error on %s", c.q, err, c.param)
			}
			continue
		}
		if err != nil || !from.Equal(c.from) || !to.Equal(c.to) || set != c.set {
			t.Errorf("%q: %v %v %v %v", c.q, from, to, set, err)
		}
	}
}

func TestBucket(t *testing.T) {
	for _, c := range []struct {
		q    string
		span time.Duration
		want int64
		bad  bool
	}{
		{"", time.Hour, 10, false},
		{"", 24 * time.Hour, 300, false},
		{"", 7 * 24 * time.Hour, 3600, false},
		{"", 300 * 24 * time.Hour, 86400, false},
		{"bucket=60", time.Hour, 60, false},
		{"bucket=5m", 24 * time.Hour, 300, false},
		{"bucket=1s", time.Hour, 0, true},
		{"bucket=1500ms", time.Hour, 0, true},
		{"bucket=0", time.Hour, 0, true},
	} {
		q, _ := url.ParseQuery(c.q)
		got, err := params{q: q}.bucket(t0.Add(-c.span), t0)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("%q over %s: %d %v", c.q, c.span, got, err)
		}
	}
}

func TestSeverities(t *testing.T) {
	got, err := severities([]string{"HIGH", "low"}, "medium")
	if err != nil || len(got) != 1 || got[0] != "high" {
		t.Fatalf("%v %v", got, err)
	}
	if got, _ := severities(nil, "high"); len(got) != 2 {
		t.Fatalf("min high: %v", got)
	}
}
