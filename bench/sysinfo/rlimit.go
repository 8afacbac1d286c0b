package sysinfo

import (
	"fmt"
	"syscall"
)

// RaiseNoFile raises this process's open-file limit to at least want (the
// hard limit too, which needs root), so that child processes inherit it. It
// returns the soft limit in force afterwards; an error says why it is lower
// than want.
func RaiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	nl := lim
	nl.Cur = want
	if nl.Max < want {
		nl.Max = want
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nl); err == nil {
		return want, nil
	}
	// Without privileges: go as far as the hard limit allows.
	nl = lim
	nl.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nl); err != nil {
		return lim.Cur, fmt.Errorf("raise open-file limit: %w", err)
	}
	return lim.Max, fmt.Errorf("open-file limit capped at the hard limit %d (run as root or raise ulimit -Hn)", lim.Max)
}
