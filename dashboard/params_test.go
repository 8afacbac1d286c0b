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

// FuzzParams: query strings from the network never panic the parameter
// checks, and whatever passes is within bounds.
func FuzzParams(f *testing.F) {
	for _, s := range []string{"range=1h&bucket=1m", "from=1&to=2", "tags=a:b,c&status=active", "severity=high&min_severity=low",
		"limit=10&offset=5", "range=1e308d", "bucket=9223372036854775807", "from=2026-05-01T10:00:00.999999999%2B14:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p := params{q: q, now: t0}
		if from, to, set, err := p.window(time.Hour); err == nil && set {
			if !from.Before(to) || to.Sub(from) > maxWindow {
				t.Fatalf("%q: window %v..%v", raw, from, to)
			}
			if b, err := p.bucket(from, to); err == nil && (b < 1 || to.Sub(from)/time.Duration(b)/time.Second > maxBuckets+1) {
				t.Fatalf("%q: bucket %d", raw, b)
			}
		}
		if l, o, err := p.page(10, 500); err == nil && (l < 1 || l > 500 || o < 0 || o > maxOffset) {
			t.Fatalf("%q: page %d %d", raw, l, o)
		}
		_, _ = p.tags()
		_, _ = p.status()
		sev, _ := p.list("severity")
		_, _ = severities(sev, q.Get("min_severity"))
		_ = isInitialize([]byte(raw))
	})
}
