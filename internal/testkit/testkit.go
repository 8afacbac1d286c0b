// Package testkit holds the test helpers that packages of every layer
// share: polling until a condition holds, a log buffer safe for concurrent
// writers, loopback listeners and raw servers, JSONL fixtures, and
// re-running the test binary as a child process. Test code only; of
// Perimeter it imports only internal/sched, so the proxy's packages can use
// it without linking the sinks or the embedded engine (internal/testenv
// does that for end-to-end tests).
package testkit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Eventually calls cond every interval until it holds or d has passed,
// and reports whether it held.
func Eventually(d, interval time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); !cond(); time.Sleep(interval) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// WaitFor polls cond every 2 ms and fails tb, naming what it waited for,
// when cond does not hold within d.
func WaitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Eventually(d, 2*time.Millisecond, cond) {
		tb.Fatalf("timed out after %s waiting for %s", d, what)
	}
}

// SyncBuffer collects output written from several goroutines (a logger, a
// child process's pipes) while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Loopback listens on a free port of 127.0.0.1 until the test ends.
func Loopback(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}

// Serve accepts connections on 127.0.0.1 until the test ends and hands
// each, in its own goroutine, to serve, closing it when serve returns. It
// returns the listener's host:port.
func Serve(tb testing.TB, serve func(c net.Conn)) string {
	tb.Helper()
	ln := Loopback(tb)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// ReadJSONL reads the records of every file matching glob, in file name
// order, one JSON object a line (blank lines skipped), and fails tb on a
// line that does not decode. regen is the command that writes the files,
// named when none match.
func ReadJSONL[T any](tb testing.TB, glob, regen string) []T {
	tb.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		tb.Fatalf("no files match %s (run: %s): %v", glob, regen, err)
	}
	sort.Strings(files)
	var out []T
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for line := 1; sc.Scan(); line++ {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var s T
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				tb.Fatalf("%s:%d: %v", f, line, err)
			}
			out = append(out, s)
		}
		if err := sc.Err(); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		fh.Close()
	}
	return out
}

// RunChild runs the test binary again, running no test, with env=1 in its
// environment, and returns what it wrote; it fails tb, with that output,
// when the child fails. The package's init calls AsChild(env, …) to do the
// child's part.
func RunChild(tb testing.TB, env string) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("child (%s): %v\n%s", env, err, out)
	}
	return string(out)
}

// AsChild runs child and exits when this process was started by RunChild
// with env; otherwise it returns at once. Call it from the package's init.
func AsChild(env string, child func()) {
	if os.Getenv(env) != "" {
		child()
		os.Exit(0)
	}
}
