package sched

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestYielderLetsOthersRun spins on one Go processor for 30 ms, calling
// Tick per iteration, and counts how often another goroutine got to run
// meanwhile: about every YieldEvery, where without Tick it would wait for
// the runtime's preemption (every 10 ms).
func TestYielderLetsOthersRun(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var ran atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			ran.Add(1)
			runtime.Gosched()
		}
	}()
	runtime.Gosched()
	var y Yielder
	start := ran.Load()
	for end := time.Now().Add(30 * time.Millisecond); time.Now().Before(end); {
		y.Tick()
	}
	others := ran.Load() - start
	close(stop)
	<-done
	// 30 ms of spinning holds ~300 yields; 20 leaves room for a loaded
	// machine and is still twice what preemption alone would allow.
	if others < 20 {
		t.Fatalf("the other goroutine ran %d times during 30 ms of Tick; want it to run about every %v", others, YieldEvery)
	}
	t.Logf("the other goroutine ran %d times in 30 ms", others)
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("Sleep reported an interruption without one")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if Sleep(ctx, time.Minute) || time.Since(start) > 10*time.Second {
		t.Fatal("Sleep did not end with its context")
	}
}
