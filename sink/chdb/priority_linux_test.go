package chdb

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"golang.org/x/sys/unix"
)

// TestLowerPriorityReachesEveryThread runs LowerPriority in a child process
// with many threads (the test binary re-executed) and checks that every
// thread, including those started afterwards, is at WorkerNice in the
// batch class.
func TestLowerPriorityReachesEveryThread(t *testing.T) {
	out := testkit.RunChild(t, "CHDB_PRIORITY_CHILD")
	lines := strings.Fields(out)
	// Where sched_setattr is refused (some sandboxes), LowerPriority falls
	// back to the nice value alone.
	want := "nice=19,policy=3"
	if strings.Contains(out, "batch=refused") {
		want = "nice=19,policy=0"
		t.Log("sched_setattr refused here: checking the nice value only")
	}
	var checked int
	for _, l := range lines {
		if !strings.HasPrefix(l, "thread=") {
			continue
		}
		checked++
		if !strings.Contains(l, ","+want+",") {
			t.Errorf("a thread was not lowered (want %s): %s", want, l)
		}
	}
	if checked < 4 {
		t.Fatalf("child reported %d threads:\n%s", checked, out)
	}
}

func init() { testkit.AsChild("CHDB_PRIORITY_CHILD", priorityChild) }

// priorityChild lowers its priority, starts more threads, and prints
// every thread's nice value and policy.
func priorityChild() {
	// Threads that exist before: the runtime's, and some locked ones.
	hold := make(chan struct{})
	for range 3 {
		go func() { runtime.LockOSThread(); <-hold }()
	}
	time.Sleep(20 * time.Millisecond)
	probe := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_BATCH}
	if unix.SchedSetAttr(0, &probe, 0) != nil {
		os.Stdout.WriteString("batch=refused\n")
	}
	LowerPriority()
	for range 3 {
		go func() { runtime.LockOSThread(); <-hold }()
	}
	time.Sleep(20 * time.Millisecond)
	testkit.PrintThreads()
	close(hold)
}
