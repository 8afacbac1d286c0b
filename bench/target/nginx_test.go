package target

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/internal/golden"
)

func TestNginxConfigGolden(t *testing.T) {
	got := NginxConfig(NginxParams{Prefix: "/tmp/bench/nginx", Listen: "127.0.0.1:4100", Upstream: "127.0.0.1:4200", Workers: 1})
	golden.Check(t, "nginx.conf", []byte(got))
}

func TestNginxConfigEssentials(t *testing.T) {
	conf := NginxConfig(NginxParams{Prefix: "/p", Listen: "127.0.0.1:1", Upstream: "127.0.0.1:2", Workers: 3, KeepaliveConns: 64, WorkerConnections: 500})
	for _, want := range []string{
		"worker_processes 3;",
		"worker_connections 500;",
		"keepalive 64;",           // upstream keep-alive pool
		"proxy_http_version 1.1;", // needed for upstream keep-alive
		`proxy_set_header Connection "";`,
		"proxy_buffering off;", // SSE passes through
		"proxy_request_buffering off;",
		"server 127.0.0.1:2;",
		"listen 127.0.0.1:1 ",
		"daemon off;",
		"pid /p/nginx.pid;",
		"access_log off;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q", want)
		}
	}
	if strings.Contains(conf, "PREFIX") || strings.Contains(conf, "UPSTREAM") || strings.Contains(conf, "WORKERS") {
		t.Error("placeholder left in config")
	}
}

// TestNginxConfigParses runs nginx -t on the generated config when nginx is
// installed (no traffic, no load).
func TestNginxConfigParses(t *testing.T) {
	bin := FindNginx()
	if bin == "" {
		t.Skip("nginx not installed")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(conf, []byte(NginxConfig(NginxParams{Prefix: dir, Listen: "127.0.0.1:1", Upstream: "127.0.0.1:2", Workers: 1})), 0o644)
	out, err := execOutput(bin, "-t", "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	if err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}
