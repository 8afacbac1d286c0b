package main

import (
	"github.com/alecthomas/kingpin/v2"

	"github.com/cylestio/perimeter/sink/chdb"
)

// chdbWorkerName is the hidden subcommand the embedded store re-executes
// this binary with, so that the chDB engine runs in its own process (see
// sink/chdb). It is not for users.
const chdbWorkerName = chdb.WorkerCommand

type chdbWorkerCommand struct{ args []string }

func newCHDBWorkerCommand(app *kingpin.Application) *chdbWorkerCommand {
	c := &chdbWorkerCommand{}
	app.Command(chdbWorkerName, "Serve the embedded ClickHouse to the perimeter process that started it.").Hidden().
		Arg("flags", "worker flags, after --").StringsVar(&c.args)
	return c
}

func (c *chdbWorkerCommand) run() int {
	// Before the engine loads, so that all its threads inherit the low
	// priority (see chdb.LowerPriority). Best effort: without the right
	// to change it the worker simply runs at the proxy's.
	chdb.LowerPriority()
	return chdb.WorkerMain(c.args)
}
