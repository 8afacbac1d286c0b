package chdb

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLowerPriorityReachesEveryThread runs LowerPriority in a child process
// with many threads (the test binary re-executed) and checks that every
// thread, including those started afterwards, is at WorkerNice in the
// batch class.
func TestLowerPriorityReachesEveryThread(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CHDB_PRIORITY_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	lines := strings.Fields(string(out))
	// Where sched_setattr is refused (some sandboxes), LowerPriority falls
	// back to the nice value alone.
	want := "nice=19,policy=3"
	if strings.Contains(string(out), "batch=refused") {
		want = "nice=19,policy=0"
		t.Log("sched_setattr refused here: checking the nice value only")
	}
	var checked int
	for _, l := range lines {
		if !strings.HasPrefix(l, "thread=") {
			continue
		}
		checked++
		if !strings.HasSuffix(l, want) {
			t.Errorf("a thread was not lowered (want %s): %s", want, l)
		}
	}
	if checked < 4 {
		t.Fatalf("child reported %d threads:\n%s", checked, out)
	}
}

func init() {
	if os.Getenv("CHDB_PRIORITY_CHILD") != "" {
		priorityChild()
		os.Exit(0)
	}
}

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
	ents, _ := os.ReadDir("/proc/self/task")
	for _, e := range ents {
		tid, _ := strconv.Atoi(e.Name())
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			os.Stdout.WriteString("thread=" + e.Name() + ",error\n")
			continue
		}
		os.Stdout.WriteString("thread=" + e.Name() + ",nice=" + strconv.Itoa(int(int32(attr.Nice))) + ",policy=" + strconv.Itoa(int(attr.Policy)) + "\n")
	}
	close(hold)
}
