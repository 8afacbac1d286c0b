package web_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/dashboard/web"
	"github.com/cylestio/perimeter/internal/testkit"
)

// jsSources is every JavaScript file of the UI by path under js/.
func jsSources(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(web.FS(), "js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := fs.ReadFile(web.FS(), p)
		out[strings.TrimPrefix(p, "js/")] = string(b)
		return err
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("read the UI's sources: %v (%d files)", err, len(out))
	}
	return out
}

var importFrom = regexp.MustCompile(`(?m)^import [^;]*? from '([^']+)';`)

// A page imports shared widgets from components/ (or ui.js and the other
// modules beside app.js), never from another page; a component never
// imports a page.
func TestPagesImportNoPage(t *testing.T) {
	pages := 0
	for p, src := range jsSources(t) {
		dir, _, _ := strings.Cut(p, "/")
		if dir != "pages" && dir != "components" {
			continue
		}
		pages++
		for _, m := range importFrom.FindAllStringSubmatch(src, -1) {
			from := m[1]
			if strings.HasPrefix(from, "./") && dir == "pages" || strings.Contains(from, "pages/") {
				t.Errorf("%s imports %s: move what it shares to components/", p, from)
			}
		}
	}
	if pages < 10 {
		t.Fatalf("found only %d page and component modules", pages)
	}
}

// Only lifecycle.js makes timers, observers, event streams and listeners
// on window or document, so that each is held against a signal that is
// released.
func TestOnlyLifecycleHoldsTimersAndObservers(t *testing.T) {
	held := regexp.MustCompile(`\bset(Interval|Timeout)\(|new (Resize|Mutation|Intersection|Performance)Observer\(|new EventSource\(|\b(window|document)\.addEventListener\(|\.on(error|message|open)\s*=`)
	for p, src := range jsSources(t) {
		if p == "lifecycle.js" {
			continue
		}
		for i, line := range strings.Split(src, "\n") {
			if held.MatchString(line) {
				t.Errorf("%s:%d makes what must be held by lifecycle.js: %s", p, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// liveCounts is lifecycle.js' count of what the UI holds.
type liveCounts struct {
	Resize   int `json:"resize"`
	Interval int `json:"interval"`
	Timeout  int `json:"timeout"`
	Listener int `json:"listener"`
	Stream   int `json:"stream"`
}

func (tb *tab) live() liveCounts {
	tb.t.Helper()
	var s string
	tb.evalInto(`JSON.stringify(window.__perimeterLive())`, &s)
	var c liveCounts
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		tb.t.Fatalf("window.__perimeterLive() = %s: %v", s, err)
	}
	return c
}

// TestUIReleasesWhatPagesHold goes through the pages many times, with live
// updates re-rendering the charts of the overview meanwhile, and checks
// that what the UI holds stays what the page on screen needs: the app's
// own poll loops, stream and listeners, plus one resize observer per
// chart on screen.
func TestUIReleasesWhatPagesHold(t *testing.T) {
	b := newBrowser(t)
	now := time.Now()
	fx := newFixture(true)
	fx.addConversation("support-bot", "sess-support-0001", "gpt-4o-mini", "What's the weather in Paris, use the tool", false, now.Add(-20*time.Minute))
	fx.addConversation("research-agent", "sess-research-0001", "gpt-4o", "Find papers on retrieval", false, now.Add(-12*time.Minute))
	srv := fx.start(t)
	tb := b.tab(t, srv.URL)

	tb.open("/")
	tb.waitRow("#recent-sessions", "sess-research-0001", 5*time.Second)
	// The app itself: the poll and paint intervals, the live stream, the
	// two hashchange listeners and visibilitychange.
	app := liveCounts{Interval: 2, Stream: 1, Listener: 3}
	charts := `document.querySelectorAll('.chart .plot').length`
	settled := func(route string) liveCounts {
		t.Helper()
		var want, got liveCounts
		if !testkit.Eventually(5*time.Second, 50*time.Millisecond, func() bool {
			var n int
			tb.evalInto(charts, &n)
			want = app
			want.Resize = n
			got = tb.live()
			return got == want
		}) {
			t.Fatalf("on %s the UI holds %+v, want %+v", route, got, want)
		}
		return got
	}
	if c := settled("/"); c.Resize == 0 {
		t.Fatal("the overview drew no chart")
	}

	routes := []string{"/agents", "/agent/support-bot", "/sessions", "/session/sess-support-0001", "/findings",
		"/sql", "/workflows", "/connect", "/recommendations", "/"}
	for round := range 6 {
		for _, r := range routes {
			tb.goRoute(r)
		}
		// The overview re-renders its charts as new events arrive.
		fx.addConversation("billing-agent", fmt.Sprintf("sess-billing-%d", round), "gpt-4o-mini", "Refund order 1234", false, time.Now())
		tb.waitRow("#recent-sessions", fmt.Sprintf("sess-billing-%d", round), 5*time.Second)
		settled("/ after round " + fmt.Sprint(round))
	}
	tb.goRoute("/sessions")
	if c := settled("/sessions"); c.Resize != 0 {
		t.Fatalf("sessions page holds %d resize observers", c.Resize)
	}
	// A timer a page starts (the copy button's) goes with the page.
	tb.goRoute("/connect")
	tb.waitVisible("[data-testid=base-url]")
	tb.click(".code-block button.copy")
	var timers int
	if !testkit.Eventually(2*time.Second, 20*time.Millisecond, func() bool { timers = tb.live().Timeout; return timers == 1 }) {
		t.Fatalf("the copy button holds %d timers, want 1", timers)
	}
	tb.goRoute("/agents")
	if c := tb.live(); c.Timeout != 0 {
		t.Fatalf("the copy button's timer outlived its page: %+v", c)
	}
	settled("/agents after a copy")
}

// TestUIStreamLeavesWithThePage loads the UI again and again, each load
// leaving the page before it in Chromium's back/forward cache, and checks
// that a cached page holds no live stream: Chromium opens at most six
// connections to a host, and six cached pages holding theirs stalled the
// seventh load for most of a minute. A page the cache shows again opens
// its stream again and shows new events without a reload.
func TestUIStreamLeavesWithThePage(t *testing.T) {
	b := newBrowser(t)
	fx := newFixture(true)
	fx.addConversation("support-bot", "sess-support-0001", "gpt-4o-mini", "What's the weather in Paris, use the tool", false, time.Now().Add(-5*time.Minute))
	srv := fx.start(t)
	tb := b.tab(t, srv.URL)

	streams := func(when string) {
		t.Helper()
		if !testkit.Eventually(5*time.Second, 50*time.Millisecond, func() bool { return fx.streams.Load() == 1 }) {
			t.Fatalf("%s the server has %d live streams open, want the one of the page on screen", when, fx.streams.Load())
		}
	}
	const restored = `addEventListener('pageshow', (e) => { window.__fromCache = e.persisted; })`
	for load := range 8 {
		tb.eval(fmt.Sprintf(`location.href = %q`, fmt.Sprintf("%s/?load=%d#/agents", srv.URL, load)))
		tb.waitLoaded(fmt.Sprintf(`location.search === '?load=%d' && (document.querySelector('#agents-table') || {}).textContent.includes('support-bot')`, load), 15*time.Second)
		tb.eval(restored)
		streams(fmt.Sprintf("after load %d", load))
	}

	tb.eval(`history.back()`)
	tb.waitLoaded(`location.search === '?load=6'`, 15*time.Second)
	var fromCache bool
	tb.evalInto(`window.__fromCache === true`, &fromCache)
	if !fromCache {
		t.Fatal("Chromium did not restore the page from its back/forward cache: this test checks nothing")
	}
	streams("back on a cached page")
	withoutReload(t, tb, func() {
		fx.addConversation("billing-agent", "sess-billing-0001", "gpt-4o-mini", "Refund order 1234", false, time.Now())
		// chromedp's polling loses the page the cache restores: evaluate.
		tb.waitLoaded(`document.querySelector('#agents-table').textContent.includes('billing-agent')`, 3*time.Second)
	})
}
