package main

import (
	"syscall"

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

// workerNice is the worker's CPU priority: analytics yield to traffic when
// the machine is busy (the proxy runs at the default 0).
const workerNice = 10

func (c *chdbWorkerCommand) run() int {
	// Best effort: without the right to lower its priority the worker
	// simply runs at the proxy's.
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, 0, workerNice)
	return chdb.WorkerMain(c.args)
}
