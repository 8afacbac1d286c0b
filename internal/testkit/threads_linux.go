package testkit

import (
	"os"
	"strconv"

	"github.com/cylestio/perimeter/internal/sched"
	"golang.org/x/sys/unix"
)

// PrintThreads writes a line per thread of this process (as
// sched.EachThread finds them) to stdout: "thread=TID,nice=N,policy=P,
// slice=NS" (sched_getattr's view), or "thread=TID,error" for a thread that
// could not be read. Child processes of priority tests report with it.
func PrintThreads() {
	sched.EachThread(func(tid int) bool {
		id := strconv.Itoa(tid)
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			os.Stdout.WriteString("thread=" + id + ",error\n")
			return false
		}
		os.Stdout.WriteString("thread=" + id + ",nice=" + strconv.Itoa(int(int32(attr.Nice))) +
			",policy=" + strconv.Itoa(int(attr.Policy)) + ",slice=" + strconv.FormatUint(attr.Runtime, 10) + "\n")
		return true
	})
}
