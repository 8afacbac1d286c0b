package chdb

import "syscall"

func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		// Not in the terminal's process group: Ctrl-C is for the parent,
		// which drains its queue into the worker before stopping it.
		Setpgid: true,
		// And never outlive the parent.
		Pdeathsig: syscall.SIGKILL,
	}
}
