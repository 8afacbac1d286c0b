// Command perimeter runs the Perimeter LLM edge proxy and its tools.
//
// cmd/perimeter only wires packages together: it reads flags and config,
// builds the logger and the proxy, and handles signals. The work happens in
// configs, edge and the packages they use.
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kingpin/v2"
)

func main() {
	app := kingpin.New("perimeter", "Perimeter: a high-throughput edge proxy for LLM APIs (OpenAI, Anthropic).\n\n"+
		"It forwards every request with near-zero added latency, streams Server-Sent Events through unchanged,\n"+
		"injects the provider key and keeps keys out of logs. Config file format and x-cylestio-* headers are\n"+
		"compatible with cylestio-perimeter.")
	app.HelpFlag.Short('h')
	app.Version(versionString()).VersionFlag.Short('v')

	runCmd := newRunCommand(app)
	validateCmd := newValidateCommand(app)
	generateCmd := newGenerateCommand(app)
	replayCmd := newReplayCommand(app)
	app.Command("version", "Print the version and exit.")
	chdbWorkerCmd := newCHDBWorkerCommand(app)
	healthCmd := newHealthcheckCommand(app)

	cmd, err := app.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "perimeter: %v (see perimeter --help)\n", err)
		os.Exit(2)
	}
	var code int
	switch cmd {
	case "run":
		code = runCmd.run()
	case "validate-config":
		code = validateCmd.run(os.Stdout, os.Stderr)
	case "generate-config":
		code = generateCmd.run(os.Stdout, os.Stderr)
	case "replay":
		code = replayCmd.run(os.Stdout, os.Stderr)
	case "version":
		fmt.Println(versionString())
	case "healthcheck":
		code = healthCmd.run(os.Stderr)
	case chdbWorkerName:
		code = chdbWorkerCmd.run()
	}
	os.Exit(code)
}
