//go:build !linux

package chdb

import (
	"os/exec"
	"syscall"
)

// Elsewhere the worker still exits when its request pipe closes.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func startCmd(cmd *exec.Cmd) error { return cmd.Start() }
