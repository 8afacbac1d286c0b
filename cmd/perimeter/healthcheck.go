package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// healthcheckCommand asks a running proxy's /health and exits 0 when it
// answers healthy: the container image's HEALTHCHECK, which has no curl.
type healthcheckCommand struct {
	url     string
	timeout time.Duration
}

func newHealthcheckCommand(app *kingpin.Application) *healthcheckCommand {
	c := &healthcheckCommand{}
	cmd := app.Command("healthcheck", "Exit 0 when the proxy at --url answers GET /health with 200 (for container health checks).")
	cmd.Flag("url", "The proxy's base URL.").Default("http://127.0.0.1:4000").StringVar(&c.url)
	cmd.Flag("timeout", "How long to wait for the answer.").Default("3s").DurationVar(&c.timeout)
	return c
}

func (c *healthcheckCommand) run(stderr io.Writer) int {
	client := &http.Client{Timeout: c.timeout}
	url := healthURL(c.url)
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(stderr, "perimeter healthcheck: %v (is the proxy listening at %s? set --url)\n", err, c.url)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "perimeter healthcheck: %s answered %s\n", url, resp.Status)
		return 1
	}
	return 0
}

// healthURL is base's /health: a trailing slash on base does not make it
// //health, which the proxy forwards to the provider.
func healthURL(base string) string {
	return strings.TrimRight(base, "/") + "/health"
}
