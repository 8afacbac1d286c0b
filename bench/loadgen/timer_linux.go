//go:build linux

package loadgen

import (
	"context"
	"os"
	"time"

	"github.com/cylestio/perimeter/internal/sched"
	"golang.org/x/sys/unix"
)

// pacer sleeps with microsecond precision. The Go runtime waits for timers
// in epoll with millisecond resolution, so on an idle load generator a
// time.Timer of 200 µs fires after up to 1 ms, and that lateness would be
// charged to the server as latency. A timerfd is an hrtimer: registered
// with the runtime's poller, it wakes the goroutine when it expires, to the
// microsecond, without spinning.
type pacer struct {
	fd int
	f  *os.File
}

func newPacer() *pacer {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return &pacer{fd: -1}
	}
	return &pacer{fd: fd, f: os.NewFile(uintptr(fd), "pacer-timerfd")}
}

// sleep waits for d and reports whether ctx is still live. Waits up to
// 50 ms are not interrupted by ctx.
func (p *pacer) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	if p.f == nil || d > 50*time.Millisecond {
		// Long waits gain nothing from precision; a timer also lets the
		// context interrupt them.
		return sched.Sleep(ctx, d)
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(p.fd, 0, &spec, nil); err != nil {
		return sched.Sleep(ctx, d)
	}
	var buf [8]byte
	if _, err := p.f.Read(buf[:]); err != nil {
		return sched.Sleep(ctx, d)
	}
	return ctx.Err() == nil
}

func (p *pacer) close() {
	if p.f != nil {
		p.f.Close()
	}
}
