package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// readyInfo is where the demo's proxy answers.
type readyInfo struct {
	ProxyURL     string // http://host:port of the proxy
	DashboardURL string // the dashboard's URL
}

// findPerimeter returns the perimeter binary to run: flag if given, else
// the one beside this program (make demo builds both into bin/), else
// perimeter on PATH.
func findPerimeter(flag string) (string, error) {
	if flag != "" {
		if _, err := os.Stat(flag); err != nil {
			return "", fmt.Errorf("--perimeter %s: %w", flag, err)
		}
		return flag, nil
	}
	if self, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(self), "perimeter")
		if st, err := os.Stat(beside); err == nil && !st.IsDir() {
			return beside, nil
		}
	}
	if p, err := exec.LookPath("perimeter"); err == nil {
		return p, nil
	}
	return "", errors.New("the perimeter binary was not found beside perimeter-demo nor on PATH; build it with make build, or run make demo, or pass --perimeter PATH")
}

// proxyProcess is the perimeter run the demo started.
type proxyProcess struct {
	cmd  *exec.Cmd
	done chan int // its exit code, once it exited
}

// startProxy runs "perimeter run --config cfgPath" in its own process
// group (a Ctrl-C reaches the demo only, which then stops the proxy once:
// the demo must handle SIGINT and SIGTERM from before it calls this),
// with its output on the demo's stderr and without the LLM_* and LOG_LEVEL
// variables the config file overrides anyway.
func startProxy(bin, cfgPath string) (*proxyProcess, error) {
	cmd := exec.Command(bin, "run", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LLM_") && !strings.HasPrefix(kv, "LOG_LEVEL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &proxyProcess{cmd: cmd, done: make(chan int, 1)}
	go func() {
		err := cmd.Wait()
		code := 0
		if err != nil {
			code = 1
			var exit *exec.ExitError
			if errors.As(err, &exit) && exit.ExitCode() > 0 {
				code = exit.ExitCode()
			}
		}
		p.done <- code
		close(p.done)
	}()
	return p, nil
}

// errInterrupted is waitReady's error when ctx ended first.
var errInterrupted = errors.New("interrupted")

// waitReady polls the proxy's /health and the dashboard until both answer
// 200, the proxy exits, ctx ends (errInterrupted) or timeout passes.
func (p *proxyProcess) waitReady(ctx context.Context, info readyInfo, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	up := func(url string) bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	deadline := time.Now().Add(timeout)
	for {
		if up(info.ProxyURL+"/health") && up(info.DashboardURL) {
			return nil
		}
		select {
		case code := <-p.done:
			return fmt.Errorf("the proxy exited with code %d before it was ready (see above); choose other ports with --port and --dashboard-port", code)
		case <-ctx.Done():
			return errInterrupted
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the proxy did not answer on %s and %s within %s (see its log above)", info.ProxyURL, info.DashboardURL, timeout)
		}
	}
}

// terminate asks the proxy to shut down gracefully; done reports its exit.
func (p *proxyProcess) terminate() { _ = p.cmd.Process.Signal(syscall.SIGTERM) }

// kill ends the proxy at once; its engine worker dies with it
// (sink/chdb starts it with a parent-death signal).
func (p *proxyProcess) kill() { _ = p.cmd.Process.Kill() }

// stop terminates the proxy and waits up to grace for it, or until hurry
// delivers (a second Ctrl-C), then kills it.
func (p *proxyProcess) stop(grace time.Duration, hurry <-chan os.Signal) {
	p.terminate()
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
		<-p.done
	case <-hurry:
		p.kill()
		<-p.done
	}
}
