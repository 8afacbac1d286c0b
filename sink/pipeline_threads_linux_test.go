package sink

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/sched"
	"github.com/cylestio/perimeter/internal/testkit"
	"golang.org/x/sys/unix"
)

// TestPipelineThreadsAloneRunLow runs a pipeline with two writers in a
// child process that asked for short slices (sched.ShortenSlices) while many
// goroutines force the runtime to start new threads, and checks that
// exactly the batcher's and the writers' threads run at sched.BackgroundNice with
// the default slice, and every other thread, old or new, at normal
// priority with the short one: a thread the runtime started from a
// pipeline thread would otherwise inherit the low priority and serve
// requests with it.
func TestPipelineThreadsAloneRunLow(t *testing.T) {
	out := testkit.RunChild(t, "SINK_THREADPRIO_CHILD")
	var low, normal, batchLow, shortNormal, shortLow int
	for _, f := range strings.Fields(out) {
		if !strings.HasPrefix(f, "thread=") || strings.HasSuffix(f, ",error") {
			continue
		}
		kv := map[string]string{}
		for _, part := range strings.Split(f, ",") {
			k, v, _ := strings.Cut(part, "=")
			kv[k] = v
		}
		short := kv["slice"] == strconv.Itoa(int(sched.LatencySlice))
		switch kv["nice"] {
		case strconv.Itoa(sched.BackgroundNice):
			low++
			if kv["policy"] == "3" {
				batchLow++
			}
			if short {
				shortLow++
			}
		case "0":
			normal++
			if short {
				shortNormal++
			}
		default:
			t.Errorf("unexpected thread priority %s", f)
		}
	}
	if low != 3 || normal < 4 {
		t.Fatalf("want 3 low-priority threads (batcher, two writers) and the rest normal; got %d low, %d normal:\n%s", low, normal, out)
	}
	t.Logf("%d pipeline threads at nice %d (%d in the batch class), %d normal", low, sched.BackgroundNice, batchLow, normal)
	switch {
	case !kernelKeepsSlices():
		t.Logf("SKIPPED the slice check: this kernel (before Linux 6.12) keeps no custom slice for normal threads")
	case shortNormal != normal || shortLow != 0:
		t.Fatalf("want every normal thread (%d) at the %v slice ShortenSlices asked for and no pipeline thread; got %d normal and %d pipeline threads with it:\n%s",
			normal, sched.LatencySlice, shortNormal, shortLow, out)
	}
}

// kernelKeepsSlices reports whether a normal thread can ask for its own
// slice here (Linux 6.12+), trying it on a thread of its own that ends
// with the check.
func kernelKeepsSlices() bool {
	ok := make(chan bool)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL, Runtime: uint64(sched.LatencySlice)}
		if unix.SchedSetAttr(0, &attr, 0) != nil {
			ok <- false
			return
		}
		got, err := unix.SchedGetAttr(0, 0)
		ok <- err == nil && got.Runtime == uint64(sched.LatencySlice)
	}()
	return <-ok
}

func init() { testkit.AsChild("SINK_THREADPRIO_CHILD", threadPrioChild) }

// blockingWriter makes a blocking system call per batch, so that the
// runtime hands its processor to other threads while it waits.
type blockingWriter struct{ name string }

func (w *blockingWriter) Name() string { return w.name }
func (w *blockingWriter) WriteBatch(_ context.Context, _ []*Event) error {
	ts := syscall.Timespec{Nsec: int64(2 * time.Millisecond)}
	_ = syscall.Nanosleep(&ts, nil)
	return nil
}
func (w *blockingWriter) Close() error { return nil }

func threadPrioChild() {
	sched.ShortenSlices(sched.LatencySlice)
	p, err := NewPipeline(Options{MaxRows: 10, MaxDelay: 4 * time.Millisecond, QueueSize: 10000, WriteTimeout: time.Second},
		&blockingWriter{name: "a"}, &blockingWriter{name: "b"})
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		return
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Goroutines that block in system calls and lock threads make the
	// runtime start threads while the pipeline's run.
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%4 == 0 {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				ts := syscall.Timespec{Nsec: int64(time.Millisecond)}
				_ = syscall.Nanosleep(&ts, nil)
			}
		}()
	}
	for range 2000 {
		p.Publish(&Event{Name: "x"})
		time.Sleep(50 * time.Microsecond)
	}
	time.Sleep(50 * time.Millisecond)
	testkit.PrintThreads()
	close(stop)
	wg.Wait()
}
