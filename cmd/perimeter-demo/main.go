// Command perimeter-demo is a self-contained tour of Perimeter for someone
// without an API key (make demo). It starts the project's mock provider
// (bench/mockllm) in-process, runs the perimeter binary with its dashboard
// in front of it, and drives a small synthetic fleet of agents through the
// proxy for a bounded time: multi-turn, tool-using conversations in the
// OpenAI Chat, OpenAI Responses and Anthropic Messages formats, some
// streamed, a few risky (prompt injection, personal data, a leaked key),
// some failing upstream. Three agents call through
// /agent-workflow/{id}/ and an IDE assistant then works their security
// workflow over MCP (workflow.go).
//
// It is a program of its own so that the proxy's binary carries no demo
// and no mock. Everything listens on 127.0.0.1 and the fleet's rate is
// bounded.
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kingpin/v2"
)

func main() {
	app := kingpin.New("perimeter-demo", "Run a self-contained demo of Perimeter: a mock LLM provider, the proxy with its dashboard in front of it, "+
		"and a small fleet of synthetic agents sending traffic through it. No API key or network needed; everything listens on 127.0.0.1.")
	app.HelpFlag.Short('h')
	c := newDemoCommand(app)
	if _, err := app.Parse(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "perimeter-demo: %v (see perimeter-demo --help)\n", err)
		os.Exit(2)
	}
	os.Exit(c.run())
}
