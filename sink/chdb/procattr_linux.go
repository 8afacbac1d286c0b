package chdb

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		// Not in the terminal's process group: Ctrl-C is for the parent,
		// which drains its queue into the worker before stopping it.
		Setpgid: true,
		// And never outlive the parent.
		Pdeathsig: syscall.SIGKILL,
	}
}

// Pdeathsig fires when the thread that forked the child exits, not the
// process, and the Go runtime ends a thread when a goroutine locked to it
// returns without unlocking. Workers are therefore forked from one thread
// that is locked for good and never ends.
var (
	spawnOnce sync.Once
	spawns    chan spawnRequest
)

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

func startCmd(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawns = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked
			for r := range spawns {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawns <- spawnRequest{cmd, done}
	return <-done
}
