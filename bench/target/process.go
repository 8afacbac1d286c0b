package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/cylestio/perimeter/bench/loadgen"
)

// Process is a child process with its output in a log file.
type Process struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// Start runs cmd with stdout and stderr appended to logPath. The child gets
// SIGKILL if the benchmark dies, so no server outlives a crashed run.
func Start(name string, cmd *exec.Cmd, logPath string) (*Process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := spawn(cmd); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pdeathsig is delivered when the OS thread that forked the child ends,
// not the process, and the Go runtime may end threads: children are
// started from one locked thread that lives as long as the program.
var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread must outlive every child
			for r := range spawnReqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawnReqs <- spawnReq{cmd: cmd, done: done}
	return <-done
}

// PID is the process id. Under taskset it is the server's own pid:
// taskset execs the server in place.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM to the process group, waits up to timeout, then kills
// the group. The group is killed even when its leader has already exited,
// so that children it left behind (nginx workers) go too.
func (p *Process) Stop(timeout time.Duration) {
	if done, _ := p.Exited(); !done {
		syscall.Kill(-p.PID(), syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(timeout):
		}
	}
	syscall.Kill(-p.PID(), syscall.SIGKILL)
	<-p.done
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// WaitReady polls addr with GET path until it answers 200, the process
// exits, or timeout passes.
func WaitReady(ctx context.Context, p *Process, addr, path string, timeout time.Duration) error {
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")
	deadline := time.Now().Add(timeout)
	c := loadgen.NewConn(addr)
	defer c.Close()
	var last error
	for time.Now().Before(deadline) {
		if p != nil {
			if done, err := p.Exited(); done {
				return fmt.Errorf("%s exited during start-up (%v); see %s", p.Name, err, p.LogPath)
			}
		}
		res, err := c.RoundTrip(req, time.Now().Add(time.Second), nil)
		if err == nil && res.Status == 200 {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("GET %s answered %d", path, res.Status)
		}
		last = err
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	name := addr
	if p != nil {
		name = fmt.Sprintf("%s (log: %s)", p.Name, p.LogPath)
	}
	return errors.Join(fmt.Errorf("%s not ready after %s", name, timeout), last)
}
