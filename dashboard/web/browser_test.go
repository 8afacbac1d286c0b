package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/cylestio/perimeter/internal/testkit"
)

// The browser tests drive Debian's Chromium headless through the DevTools
// protocol (chromedp). Without /usr/bin/chromium (or PERIMETER_CHROMIUM, a
// path to another build) they skip, loudly; with
// PERIMETER_REQUIRE_CHROMIUM=1 (set by .ci/run) they fail instead.
var chromiumPath = func() string {
	if p := os.Getenv("PERIMETER_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}()

// Viewport every page is checked and photographed at.
const viewW, viewH = 1280, 800

// screenshotDir is where page screenshots go (git-ignored; override with
// PERIMETER_SCREENSHOTS).
func screenshotDir() string {
	if d := os.Getenv("PERIMETER_SCREENSHOTS"); d != "" {
		return d
	}
	return "screenshots"
}

var skipOnce sync.Once

func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	msg := chromiumPath + " not found: browser tests of the dashboard UI cannot run (install it: apt-get install -y chromium)"
	if os.Getenv("PERIMETER_REQUIRE_CHROMIUM") == "1" {
		t.Fatal(msg + "; PERIMETER_REQUIRE_CHROMIUM=1 forbids skipping")
	}
	skipOnce.Do(func() {
		bar := strings.Repeat("!", 78)
		fmt.Fprintf(os.Stderr, "\n%s\n!! SKIPPING dashboard/web browser tests: %s\n%s\n\n", bar, msg, bar)
	})
	t.Skip("SKIPPED: " + msg)
}

// browser is one headless Chromium for a test; tabs share it.
type browser struct {
	ctx context.Context
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	requireChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(viewW, viewH),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Started without a timeout: the first action's context owns the
	// browser, and a deadline on it would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return &browser{ctx: ctx}
}

// tab is one browser tab with a 1280×800 viewport that fails the test on
// any uncaught JavaScript exception or console error.
type tab struct {
	t      *testing.T
	ctx    context.Context
	base   string
	mu     sync.Mutex
	errors []string
}

func (b *browser) tab(t *testing.T, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	tb := &tab{t: t, ctx: ctx, base: strings.TrimRight(base, "/")}
	t.Cleanup(func() {
		cancelT()
		cancel()
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, e := range tb.errors {
			t.Errorf("browser console: %s", e)
		}
	})
	if err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "uncaught exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			msg = "console.error: " + strings.Join(parts, " ")
		default:
			return
		}
		tb.mu.Lock()
		tb.errors = append(tb.errors, msg)
		tb.mu.Unlock()
	}); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	tb.do(chromedp.EmulateViewport(viewW, viewH))
	return tb
}

// step runs fn as t's subtest name, with the tab failing that subtest
// while it runs.
func (tb *tab) step(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		tb.t = t
		fn(t)
	})
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// open loads a route (the part after #) and waits until the page has
// rendered its header.
func (tb *tab) open(route string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.base + "/#" + route))
	tb.waitVisible(".page-head")
}

// goRoute changes the route in place (no page load), as a click would.
func (tb *tab) goRoute(route string) {
	tb.t.Helper()
	tb.eval(fmt.Sprintf("location.hash = %q", route))
	tb.waitVisible(".page-head")
}

func (tb *tab) waitVisible(sel string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(sel)); err != nil {
		tb.t.Fatalf("waiting for %s: %v (page text: %.600s)", sel, err, tb.pageText())
	}
}

// waitText waits until the element matched by sel contains want.
func (tb *tab) waitText(sel, want string, within time.Duration) {
	tb.t.Helper()
	tb.waitTexts(sel, within, want)
}

// waitTexts waits until the element matched by sel contains every one of
// wants.
func (tb *tab) waitTexts(sel string, within time.Duration, wants ...string) {
	tb.t.Helper()
	list, err := json.Marshal(wants)
	if err != nil {
		tb.t.Fatal(err)
	}
	expr := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && %s.every((w) => el.textContent.includes(w)); })()`, sel, list)
	ctx, cancel := context.WithTimeout(tb.ctx, within+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(within))); err != nil {
		text := tb.text(sel)
		var missing []string
		for _, w := range wants {
			if !strings.Contains(text, w) {
				missing = append(missing, w)
			}
		}
		tb.t.Fatalf("%q did not appear in %s within %v: %v (text there: %.600s)", missing, sel, within, err, text)
	}
}

// waitRow waits until a table under sel has the row of key (rows carry
// their id in data-key; long ids are shortened on screen).
func (tb *tab) waitRow(sel, key string, within time.Duration) {
	tb.t.Helper()
	expr := fmt.Sprintf(`!!document.querySelector(%q + ' tr[data-key="' + CSS.escape(%q) + '"]')`, sel, key)
	ctx, cancel := context.WithTimeout(tb.ctx, within+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(within))); err != nil {
		tb.t.Fatalf("no row %q in %s within %v: %v (text there: %.600s)", key, sel, within, err, tb.text(sel))
	}
}

// waitLoaded waits until expr is true on a page that may still be
// replacing the one before it (a full page load, or one restored from the
// back/forward cache): an evaluation that fails meanwhile is tried again.
func (tb *tab) waitLoaded(expr string, within time.Duration) {
	tb.t.Helper()
	var err error
	ok := testkit.Eventually(within, 100*time.Millisecond, func() bool {
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		defer cancel()
		var v bool
		v, err = chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		return err == nil && v
	})
	if !ok {
		tb.t.Fatalf("%s was not true within %v (last error: %v; page text: %.600s)", expr, within, err, tb.pageText())
	}
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	var s string
	tb.evalInto(fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ''`, sel), &s)
	return s
}

// pageText is the visible text, for failure messages.
func (tb *tab) pageText() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	return s
}

func (tb *tab) count(sel string) int {
	tb.t.Helper()
	var n int
	tb.evalInto(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n)
	return n
}

func (tb *tab) eval(expr string) {
	tb.t.Helper()
	var v any
	tb.evalInto(expr, &v)
}

func (tb *tab) evalInto(expr string, out any) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	var err error
	switch o := out.(type) {
	case *string:
		*o, err = chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	case *int:
		*o, err = chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	case *bool:
		*o, err = chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
	default:
		_, err = chromedp.Run(ctx, chromedp.Evaluate[any](expr))
	}
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
}

// click clicks the first element sel matches.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.eval(fmt.Sprintf(`document.querySelector(%q).click()`, sel))
}

// submit clicks opener, waits for the form it shows (sel), sets the form's
// fields by name and clicks its submit button.
func (tb *tab) submit(opener, sel string, fields map[string]string) {
	tb.t.Helper()
	tb.click(opener)
	tb.waitVisible(sel)
	values, err := json.Marshal(fields)
	if err != nil {
		tb.t.Fatal(err)
	}
	tb.eval(fmt.Sprintf(`(() => {
		const f = document.querySelector(%q);
		for (const [name, value] of Object.entries(%s)) f.querySelector('[name=' + name + ']').value = value;
		f.querySelector('button[type=submit]').click();
	})()`, sel, values))
}

// shot saves a 1280×800 PNG of the viewport as name.png.
func (tb *tab) shot(name string) string {
	tb.t.Helper()
	// Let charts measure their containers and draw.
	tb.do(chromedp.Sleep(250 * time.Millisecond))
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := screenshotDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	tb.t.Logf("screenshot: %s", abs)
	return abs
}
