//go:build !linux

package chdb

import "syscall"

// Elsewhere the worker still exits when its request pipe closes.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
