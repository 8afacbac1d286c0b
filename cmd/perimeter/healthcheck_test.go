package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestHealthcheckCommand: the image's HEALTHCHECK exits 0 against a
// running proxy and 1 when nothing answers.
func TestHealthcheckCommand(t *testing.T) {
	up := httptest.NewServer(http.NotFoundHandler())
	defer up.Close()
	p := startPerimeter(t, up.URL, "storage: {engine: none}\n")
	for _, url := range []string{p.url, p.url + "/", p.url + "//"} {
		if _, stderr, code := runCLI(t, nil, "healthcheck", "--url", url); code != 0 {
			t.Errorf("healthcheck of a running proxy at %s: exit %d: %s", url, code, stderr)
		}
	}
	closed := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	if _, stderr, code := runCLI(t, nil, "healthcheck", "--url", closed, "--timeout", "1s"); code != 1 {
		t.Errorf("healthcheck of nothing: exit %d: %s", code, stderr)
	}
}
