package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"os"

	"github.com/rs/zerolog"
)

// pprofEnv names the variable that turns on Go's profiler endpoints
// (/debug/pprof/) on a separate listener, for diagnosing CPU or memory use
// in place, e.g. PERIMETER_PPROF_ADDR=127.0.0.1:6060. Off by default; it is
// never served on the proxy's or the dashboard's port.
const pprofEnv = "PERIMETER_PPROF_ADDR"

func startPprof(log zerolog.Logger) {
	addr := os.Getenv(pprofEnv)
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Warn().Err(err).Str("addr", addr).Msg("profiler not started: cannot listen (" + pprofEnv + ")")
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info().Str("addr", ln.Addr().String()).Msg("profiler listening (/debug/pprof/)")
	go http.Serve(ln, mux) //nolint:errcheck // ends with the process
}
