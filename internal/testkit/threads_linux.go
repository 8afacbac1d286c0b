package testkit

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// PrintThreads writes a line per thread of this process to stdout:
// "thread=TID,nice=N,policy=P,slice=NS" (sched_getattr's view), or
// "thread=TID,error" for a thread that could not be read. Child processes
// of priority tests report with it.
func PrintThreads() {
	ents, _ := os.ReadDir("/proc/self/task")
	for _, e := range ents {
		tid, _ := strconv.Atoi(e.Name())
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			os.Stdout.WriteString("thread=" + e.Name() + ",error\n")
			continue
		}
		os.Stdout.WriteString("thread=" + e.Name() + ",nice=" + strconv.Itoa(int(int32(attr.Nice))) +
			",policy=" + strconv.Itoa(int(attr.Policy)) + ",slice=" + strconv.FormatUint(attr.Runtime, 10) + "\n")
	}
}
