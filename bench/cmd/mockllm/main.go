// Command mockllm runs the mock LLM provider of package
// github.com/cylestio/perimeter/bench/mockllm as a local OpenAI- and
// Anthropic-compatible server, for trying the proxy by hand and for
// benchmarks that need the upstream in its own process.
//
//	mockllm --addr 127.0.0.1:8080 --chunks 20 --chunk-delay 0
//
// Point a client or the proxy at http://ADDR/v1. Per-request x-mock-*
// headers (x-mock-chunks, x-mock-chunk-delay, x-mock-status, …) override the
// defaults; see the package documentation.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/sched"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (host:port)")
	chunks := flag.Int("chunks", 20, "content deltas per stream and pieces per non-streaming answer")
	delay := flag.Duration("chunk-delay", 0, "pause before each SSE event after the first, e.g. 50ms")
	model := flag.String("model", "", "model reported when a request names none")
	bodySize := flag.Int("body-size", 0, "pad non-streaming answers to about this many bytes (0: natural, about 1 KB)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: mockllm [flags]\n\nA mock OpenAI/Anthropic-compatible LLM server.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	// The mock stands in for a provider on another machine, whose latency
	// does not depend on what runs next to the proxy. Sharing the proxy's
	// CPU in a benchmark, it asks for the same short scheduling slice as
	// the proxy's threads, so that the proxy's background threads delay it
	// no more than they delay the proxy (sched.LatencySlice).
	sched.ShortenSlices(sched.LatencySlice)

	if err := run(*addr, mockllm.Config{
		Chunks:      *chunks,
		ChunkDelay:  *delay,
		Model:       *model,
		BodySize:    *bodySize,
		MaxRecorded: -1, // nothing in this process reads recordings
	}); err != nil {
		fmt.Fprintln(os.Stderr, "mockllm:", err)
		os.Exit(1)
	}
}

func run(addr string, cfg mockllm.Config) error {
	if cfg.Chunks < 0 || cfg.ChunkDelay < 0 || cfg.BodySize < 0 {
		return errors.New("--chunks, --chunk-delay and --body-size must not be negative")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (pick another --addr)", addr, err)
	}
	s := mockllm.New(cfg)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	fmt.Fprintf(os.Stderr, "mockllm: serving OpenAI and Anthropic APIs at http://%s/v1 (Ctrl-C to stop)\n", ln.Addr())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case err := <-served:
		return err
	case <-sig:
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return <-served
}
