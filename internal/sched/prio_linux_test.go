package sched

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLowerThreadAdjust lowers a thread of its own and checks the
// promises: that thread alone goes to BackgroundNice, Adjust raises it to
// normal above a quarter of capacity and lowers it again below a
// sixteenth, and the test's own thread is untouched throughout.
func TestLowerThreadAdjust(t *testing.T) {
	nice := func(tid int) int {
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			t.Skipf("SKIPPED: sched_getattr refused here: %v", err)
		}
		return int(int32(attr.Nice))
	}
	runtime.LockOSThread() // the test's thread stays this one
	defer runtime.UnlockOSThread()
	self := unix.Gettid()
	before := nice(self)
	type step struct {
		depth, capacity int
		want            int
	}
	steps := []step{
		{0, 100, BackgroundNice},  // lowered by LowerThread
		{25, 100, BackgroundNice}, // exactly a quarter: stays low
		{26, 100, 0},              // over a quarter: normal
		{7, 100, 0},               // not yet below a sixteenth
		{5, 100, BackgroundNice},  // below a sixteenth: low again
	}
	got := make(chan []int)
	tids := make(chan int, 1)
	go func() {
		prio := LowerThread() // never unlocked: the thread ends with the goroutine
		tids <- unix.Gettid()
		var seen []int
		for _, s := range steps {
			prio.Adjust(s.depth, s.capacity)
			attr, err := unix.SchedGetAttr(0, 0)
			if err != nil {
				seen = append(seen, -1)
				continue
			}
			seen = append(seen, int(int32(attr.Nice)))
		}
		got <- seen
	}()
	worker := <-tids
	seen := <-got
	if worker == self {
		t.Fatal("LowerThread ran on the test's own thread")
	}
	for i, s := range steps {
		if seen[i] != s.want {
			t.Errorf("step %d (depth %d of %d): nice %d, want %d", i, s.depth, s.capacity, seen[i], s.want)
		}
	}
	if after := nice(self); after != before {
		t.Errorf("the test's thread went from nice %d to %d: LowerThread reached another thread", before, after)
	}
}

// TestEachThreadVisitsAll checks that EachThread reaches the calling
// thread and reports a failing callback.
func TestEachThreadVisitsAll(t *testing.T) {
	self := unix.Gettid()
	var sawSelf bool
	n := 0
	failed := EachThread(func(tid int) bool {
		n++
		if tid == self {
			sawSelf = true
			return false
		}
		return true
	})
	if !sawSelf || failed != 1 || n < 2 {
		t.Fatalf("EachThread: saw self %v, %d threads, %d failed; want self seen, several threads, 1 failed", sawSelf, n, failed)
	}
}
