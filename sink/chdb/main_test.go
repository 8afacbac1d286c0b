package chdb

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the worker: the supervisor starts
// `env CHDB_TEST_WORKER=<mode> <test binary> -- <worker flags>`.
const testWorkerEnv = "CHDB_TEST_WORKER"

func TestMain(m *testing.M) {
	if mode, ok := os.LookupEnv(testWorkerEnv); ok {
		os.Exit(testWorker(mode, workerFlags(os.Args)))
	}
	os.Exit(m.Run())
}

func workerFlags(args []string) []string {
	for i, a := range args {
		if a == "--" {
			return args[i+1:]
		}
	}
	return nil
}

// workerCommand runs this test binary as a worker in mode. Under -race a
// process sleeps a second at exit unless told otherwise.
func workerCommand(mode string) []string {
	return []string{"/usr/bin/env", testWorkerEnv + "=" + mode, "GORACE=atexit_sleep_ms=0", os.Args[0]}
}

// testWorker is a worker process. "real" is the production worker; the
// other modes misbehave on purpose.
func testWorker(mode string, args []string) int {
	// Only the modes that use it may wrap descriptor 4: an unused *os.File
	// is closed by its finalizer, under the real worker's feet.
	out := func() *os.File { return os.NewFile(workerOutFD, "responses") }
	switch mode {
	case "real":
		return WorkerMain(args)
	case "signals":
		return signalsCheck(args)
	case "exit": // dies before greeting, with a last word
		fmt.Fprintln(os.Stderr, "fake worker: cannot open the engine")
		return 1
	case "refuse":
		return refuse(out(), fmt.Errorf("fake worker refuses: disk full"))
	case "silent": // never greets
		time.Sleep(time.Hour)
		return 0
	case "garbage": // greets, then answers nonsense
		w := bufio.NewWriter(out())
		_ = writeFrame(w, opHello, 0, []byte("fake\n0.0"))
		_, _ = w.Write([]byte("this is not a frame at all"))
		_ = w.Flush()
		time.Sleep(time.Hour)
		return 0
	case "fake":
		return runWorker(&fakeEngine{}, os.NewFile(workerInFD, "requests"), out())
	case "fake-nostream": // a library without the streaming INSERT
		return runWorker(&fakeEngine{noStream: true}, os.NewFile(workerInFD, "requests"), out())
	}
	fmt.Fprintln(os.Stderr, "unknown test worker mode", mode)
	return 2
}

// fakeEngine answers from memory. Statements are commands:
//
//	CRASH            exit 7 at once
//	SEGV             die by SIGSEGV
//	HANG             never answer
//	SLEEP <dur>      answer after dur
//	FAIL <msg>       answer with an engine error
//	GROW <MiB>       allocate and touch MiB of memory, keep it
//	ROWS <n> <width> Explore: n rows of a width-byte string
//	anything else    Exec: count it; Query: "execs\tpid" as one row
type fakeEngine struct {
	noStream bool
	execs    atomic.Int64
	keep     [][]byte
}

func (e *fakeEngine) Version() string { return "fake 1.0 (ClickHouse 26.7.2.1)\n26.7.2.1" }

func (e *fakeEngine) do(q string) error {
	cmd, arg, _ := strings.Cut(q, " ")
	switch cmd {
	case "CRASH":
		os.Exit(7)
	case "SEGV":
		// As a crash in C++ would: no Go handler to turn it into a panic.
		rtSigaction(int(syscall.SIGSEGV), &sigaction{handler: sigDfl}, nil)
		_ = syscall.Kill(os.Getpid(), syscall.SIGSEGV)
		time.Sleep(time.Hour)
	case "HANG":
		time.Sleep(time.Hour)
	case "SLEEP":
		d, _ := time.ParseDuration(arg)
		time.Sleep(d)
	case "FAIL":
		return fmt.Errorf("Code: 62. DB::Exception: %s", arg)
	case "GROW":
		mb, _ := strconv.Atoi(arg)
		for range mb {
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = 1
			}
			e.keep = append(e.keep, b)
		}
	}
	return nil
}

func (e *fakeEngine) Exec(q []byte) (uint64, error) {
	if err := e.do(string(q)); err != nil {
		return 0, err
	}
	return uint64(e.execs.Add(1)), nil
}

// Insert runs stmt as a command, like Exec; the rows written are the
// data's length, so that a test sees it arrive whole.
func (e *fakeEngine) Insert(stmt, format, data []byte) (uint64, error) {
	if e.noStream {
		return 0, errNoInsertStream
	}
	if err := e.do(string(stmt)); err != nil {
		return 0, err
	}
	e.execs.Add(1)
	return uint64(len(data)), nil
}

func (e *fakeEngine) Query(q []byte, use func([]byte)) error {
	if err := e.do(string(q)); err != nil {
		return err
	}
	use(fmt.Appendf(nil, "execs\tpid\nInt64\tInt64\n%d\t%d\n", e.execs.Load(), os.Getpid()))
	return nil
}

// Explore answers like Query, and "ROWS <n> <width>" with n rows of a
// width-byte string.
func (e *fakeEngine) Explore(q []byte, _ uint64, use func([]byte)) error {
	var n, width int
	if _, err := fmt.Sscanf(string(q), "ROWS %d %d", &n, &width); err == nil {
		out := []byte("s\nString\n")
		for range n {
			out = append(append(out, strings.Repeat("x", width)...), '\n')
		}
		use(out)
		return nil
	}
	return e.Query(q, use)
}

func (e *fakeEngine) Close() {}

// TestWorkerEnv: the allocator's options reach the worker through its
// environment, and JE_MALLOC_CONF set by the operator wins.
func TestWorkerEnv(t *testing.T) {
	t.Setenv(mallocConfEnv, "")
	os.Unsetenv(mallocConfEnv)
	if env := (WorkerConfig{}).env(); env != nil {
		t.Fatalf("no MallocConf: env %v, want the proxy's (nil)", env)
	}
	env := WorkerConfig{MallocConf: "dirty_decay_ms:0"}.env()
	if len(env) == 0 || env[len(env)-1] != "JE_MALLOC_CONF=dirty_decay_ms:0" || len(env) != len(os.Environ())+1 {
		t.Fatalf("env ends %q, want the proxy's environment and JE_MALLOC_CONF=dirty_decay_ms:0", env[max(len(env)-1, 0):])
	}
	t.Setenv(mallocConfEnv, "dirty_decay_ms:2000")
	if env := (WorkerConfig{MallocConf: "dirty_decay_ms:0"}).env(); env != nil {
		t.Fatalf("operator's JE_MALLOC_CONF overridden: %v", env)
	}
}

func TestWorkerFlagsRoundTrip(t *testing.T) {
	in := WorkerConfig{Path: "/d", Lib: "/l/libchdb.so", MaxMemory: 1 << 30, QueryTimeout: 1500 * time.Millisecond, Settings: []string{"mark_cache_size=1", "a=b=c"}, KeepCode: true, MallocConf: "dirty_decay_ms:0"}
	got, err := parseWorkerArgs(in.args())
	if want := in; err != nil || !reflect.DeepEqual(got, func() WorkerConfig { want.MallocConf = ""; return want }()) {
		t.Fatalf("parseWorkerArgs(args()) = %+v, %v; want %+v", got, err, in)
	}
	if got.MallocConf != "" {
		t.Fatal("MallocConf travels as a flag; it belongs in the environment")
	}
	if _, err := parseWorkerArgs([]string{"--path", "/d"}); err == nil {
		t.Fatal("missing --lib accepted")
	}
	if _, err := parseWorkerArgs([]string{"--path", "/d", "--lib", "/l", "--setting", "novalue"}); err == nil {
		t.Fatal("a setting without a value accepted")
	}
}
