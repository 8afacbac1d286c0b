package dashboard

import (
	"context"
	"net/http"
	"os/exec"
	"runtime"
	"time"

	"github.com/rs/zerolog"
)

// placeholderUI answers "/" until a UI is given: a page that says what is
// here and links the API, so that opening the dashboard never shows a 404.
func placeholderUI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/index.html" {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found", "path": r.URL.Path})
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write([]byte(placeholderPage))
	})
}

const placeholderPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Perimeter dashboard</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#1d2433}code{background:#eef1f6;padding:.1rem .3rem;border-radius:4px}</style>
</head><body><h1>Perimeter dashboard</h1>
<p>The web UI is not part of this build. The JSON API answers here:
<a href="/api/dashboard">/api/dashboard</a>, <a href="/api/agents">/api/agents</a>,
<a href="/api/sessions/list">/api/sessions/list</a>, <a href="/api/findings">/api/findings</a>,
<a href="/api/risk">/api/risk</a>, <a href="/api/stats">/api/stats</a>; MCP at <code>POST /mcp</code>.</p>
</body></html>
`

// openBrowser opens url in the desktop's browser after delay. It is best
// effort: a machine without a browser or a display only logs it.
func openBrowser(ctx context.Context, log zerolog.Logger, url string, delay time.Duration) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(delay):
	}
	var name string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name = "rundll32"
	default:
		name = "xdg-open"
	}
	args := []string{url}
	if runtime.GOOS == "windows" {
		args = []string{"url.dll,FileProtocolHandler", url}
	}
	path, err := exec.LookPath(name)
	if err != nil {
		log.Debug().Str("url", url).Msg("no browser opener (" + name + ") found; open the dashboard yourself")
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(cctx, path, args...).Run(); err != nil {
		log.Debug().Err(err).Str("url", url).Msg("could not open a browser; open the dashboard yourself")
	}
}
