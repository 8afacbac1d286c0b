//go:build unix

package main

import (
	"syscall"

	"github.com/rs/zerolog"
)

// fdReserve is the part of the open-file limit kept for what is not a
// client connection: upstream connections beyond one per client, the log,
// the spill log, the dashboard.
const fdReserve = 64

// raiseFDLimit raises the soft open-file limit to the hard one (the Go
// runtime does so too, but says nothing; a process started with a low hard
// limit is worth a warning) and returns the soft limit now in force, 0 when
// it cannot be read.
func raiseFDLimit(log zerolog.Logger) uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	if r.Cur < r.Max {
		want := r
		want.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
			r = want
		}
	}
	if r.Cur < 4096 {
		log.Warn().Uint64("open_file_limit", r.Cur).
			Msg("the open-file limit is low: each client connection takes a descriptor (and one upstream while proxied); raise it (ulimit -n, LimitNOFILE=) to serve more connections")
	}
	return r.Cur
}

// autoMaxConns is server.max_conns when it is 0: half of what the open-file
// limit leaves after fdReserve, since a proxied request holds a client and
// an upstream connection. Connections past it get a 503 instead of taking
// the descriptors the upstream connections, the log and the stores need.
func autoMaxConns(fdLimit uint64) int {
	if fdLimit == 0 || fdLimit > 1<<30 {
		return 0
	}
	return max(int(fdLimit-min(fdLimit, fdReserve))/2, 16)
}
