package cputime

import (
	"runtime"
	"testing"
)

func TestThreadCountsWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the thread's CPU time is read on Linux only")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := Thread()
	x := uint64(1)
	for Thread()-start < 5e6 { // 5 ms of this thread's CPU
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	if Thread() <= start || x == 0 {
		t.Fatal("the thread's CPU time did not grow while it computed")
	}
}
