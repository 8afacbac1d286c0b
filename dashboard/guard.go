package dashboard

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// guard is the original's localhost guard with real
// 403s, plus the token that non-loopback binds require.
//
//   - Bound to a loopback address, a request's Host must name the machine
//     itself (localhost, 127.0.0.1, [::1]): a page on another site that
//     rebinds its DNS name to 127.0.0.1 sends its own name as Host and is
//     refused (DNS rebinding).
//   - An Origin, when sent, must be the dashboard itself or a local dev
//     server (ports 5173 and 7500, as the original allowed): other sites'
//     scripts are refused even where CORS would not have let them read.
//   - With a token configured, /api/* and /mcp need it (Authorization:
//     Bearer, or ?token= for EventSource and links). The UI's static files
//     and /health hold no data and need none.
type guard struct {
	loopback bool
	token    []byte
	origins  map[string]bool
}

func newGuard(host string, port int, token string) *guard {
	g := &guard{loopback: isLoopbackHost(host), origins: map[string]bool{}}
	if token != "" {
		g.token = []byte(token)
	}
	for _, p := range []int{port, 5173, 7500} {
		ps := strconv.Itoa(p)
		for _, h := range []string{"localhost", "127.0.0.1", "[::1]"} {
			g.origins["http://"+h+":"+ps] = true
		}
	}
	return g
}

// isLoopbackHost reports whether a listen address only accepts local
// connections; names other than localhost are not resolved.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// localName reports whether a Host header names this machine.
func localName(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	return strings.EqualFold(h, "localhost") || h == "127.0.0.1" || h == "::1"
}

func needsToken(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/api" || path == "/mcp" || strings.HasPrefix(path, "/mcp/")
}

func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.loopback && !localName(r.Host) {
			msg := "access denied: Host " + strconv.Quote(r.Host) + " is not a local name"
			writeJSON(w, http.StatusForbidden, map[string]string{"error": msg,
				"detail": msg + "; the dashboard listens on a loopback address and answers only to localhost, 127.0.0.1 or [::1]"})
			return
		}
		origin := r.Header.Get("Origin")
		if origin != "" {
			if !g.origins[origin] && origin != "http://"+r.Host && origin != "https://"+r.Host {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin requests not allowed",
					"detail": "Origin " + strconv.Quote(origin) + " is not this dashboard"})
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", "Mcp-Session-Id")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Last-Event-ID, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		if g.token != nil && needsToken(r.URL.Path) && !g.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="perimeter"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{
				"error": "missing or wrong token: send Authorization: Bearer <token> or ?token=<token> (live_trace token)"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (g *guard) authorized(r *http.Request) bool {
	got := ""
	if a := r.Header.Get("Authorization"); a != "" {
		if t, ok := strings.CutPrefix(a, "Bearer "); ok {
			got = strings.TrimSpace(t)
		}
	}
	if got == "" {
		got = r.URL.Query().Get("token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), g.token) == 1
}
