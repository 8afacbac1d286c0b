package edge

import (
	"sync"
	"testing"
	"time"
)

func TestThrottleLetsOneLineASecondThrough(t *testing.T) {
	th := throttle{interval: time.Second}
	t0 := time.Unix(1_700_000_000, 0)
	if ok, held := th.allow(t0); !ok || held != 0 {
		t.Fatalf("first line: %v %d", ok, held)
	}
	for i := range 5 {
		if ok, _ := th.allow(t0.Add(time.Duration(i) * 100 * time.Millisecond)); ok {
			t.Fatalf("line %d within the second was let through", i)
		}
	}
	if ok, held := th.allow(t0.Add(time.Second)); !ok || held != 5 {
		t.Fatalf("after a second: %v, %d held (want 5)", ok, held)
	}
}

func TestThrottleConcurrent(t *testing.T) {
	th := throttle{interval: time.Hour}
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if ok, _ := th.allow(now); ok {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if passed != 1 || th.suppressed.Load() != 7999 {
		t.Fatalf("%d lines passed, %d held; want 1 and 7999", passed, th.suppressed.Load())
	}
}
