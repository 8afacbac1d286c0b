package target

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cylestio/perimeter/bench/sysinfo"
)

// Fleet is the mock upstream and every target in front of it, started and
// restarted together.
type Fleet struct {
	Env   *Env
	Specs []Spec
	Logf  func(format string, a ...any)

	mock    *Process
	running []*Running
	skipped map[string]string // spec name → why it could not start
	started bool
}

// Start starts the mock, then each target; a target that cannot start is
// skipped (see Skipped), the mock failing is an error.
func (f *Fleet) Start(ctx context.Context) error {
	mock, upstream, err := StartMock(ctx, f.Env)
	if err != nil {
		return fmt.Errorf("mock upstream: %w", err)
	}
	f.mock = mock
	f.Env.Upstream = upstream
	f.logf("mock upstream on %s (pid %d)", upstream, mock.PID())
	first := !f.started
	if first {
		f.skipped = map[string]string{}
	}
	byName := map[string]*Running{}
	for _, r := range f.running {
		byName[r.Spec.Name] = r
	}
	for _, sp := range f.Specs {
		if _, skip := f.skipped[sp.Name]; skip {
			continue
		}
		r, err := sp.Start(ctx, f.Env)
		if err != nil {
			if !first {
				return fmt.Errorf("restart %s: %w", sp.Name, err)
			}
			f.skipped[sp.Name] = err.Error()
			f.logf("target %s skipped: %v", sp.Name, err)
			continue
		}
		if old := byName[sp.Name]; old != nil {
			*old = *r // the runner holds the old pointer
			r = old
		} else {
			f.running = append(f.running, r)
		}
		pid := "-"
		if r.Proc != nil {
			pid = fmt.Sprint(r.Proc.PID())
		}
		f.logf("target %-10s on %s (pid %s, %s)", sp.Name, r.Addr, pid, r.Version)
	}
	f.started = true
	return nil
}

// Stop ends every process.
func (f *Fleet) Stop() {
	for _, r := range f.running {
		r.Stop()
	}
	if f.mock != nil {
		f.mock.Stop(5 * time.Second)
	}
}

// Restart stops everything and starts it again, so the next measurement
// starts from fresh processes. The Running values keep their identity.
func (f *Fleet) Restart(ctx context.Context) error {
	f.Stop()
	return f.Start(ctx)
}

// Check returns an error naming every process of the fleet that has
// exited, and how.
func (f *Fleet) Check() error {
	var dead []string
	if f.mock != nil {
		if done, err := f.mock.Exited(); done {
			dead = append(dead, fmt.Sprintf("mockllm (%v)", err))
		}
	}
	for _, r := range f.running {
		if r.Proc == nil {
			continue
		}
		if done, err := r.Proc.Exited(); done {
			dead = append(dead, fmt.Sprintf("%s (%v; log %s)", r.Spec.Name, err, r.Proc.LogPath))
		}
	}
	if len(dead) > 0 {
		return fmt.Errorf("exited: %s", strings.Join(dead, ", "))
	}
	return nil
}

// Targets are the running targets, in Specs order.
func (f *Fleet) Targets() []*Running { return f.running }

// Upstream is the mock's process group.
func (f *Fleet) Upstream() sysinfo.Group {
	if f.mock == nil {
		return sysinfo.Group{}
	}
	return sysinfo.Group{Root: f.mock.PID()}.Resolve()
}

// Skipped says why a spec is not running ("" when it is).
func (f *Fleet) Skipped(name string) string { return f.skipped[name] }

func (f *Fleet) logf(format string, a ...any) {
	if f.Logf != nil {
		f.Logf(format, a...)
	}
}
