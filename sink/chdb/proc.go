package chdb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Lanes: the worker runs writes, the dashboard's reads and the explorer's
// reads on separate connections, each in order. A lane with an unanswered
// request and no answer for longer than its timeout means the engine is
// hung.
const (
	laneWrite   = 0
	laneRead    = 1
	laneExplore = 2
	lanes       = 3
)

// laneNames name the lanes' connections in messages.
var laneNames = [lanes]string{"write", "read", "explorer"}

// laneOf is the lane a request op runs on.
func laneOf(op byte) int {
	switch op {
	case opQuery:
		return laneRead
	case opExplore:
		return laneExplore
	}
	return laneWrite
}

// errWorkerGone is returned for requests that were in flight when the
// worker died or was killed.
var errWorkerGone = errors.New("embedded engine worker stopped")

// proc is one worker process and the requests in flight to it.
type proc struct {
	cmd *exec.Cmd
	log zerolog.Logger

	wmu sync.Mutex // serialises frames to the worker
	req *os.File   // parent's end of the request pipe
	bw  *bufio.Writer

	mu      sync.Mutex
	pending map[uint32]*waiter
	lanes   [lanes]lane
	nextID  uint32
	why     error // why it stopped; set once
	tail    []string

	hello  chan frame    // the worker's first frame
	dead   chan struct{} // closed when no more answers can come
	exited chan struct{} // closed when the process has been reaped
	state  *os.ProcessState
}

type lane struct {
	outstanding int
	since       time.Time // when the oldest answer became due (last answer or first request)
}

type waiter struct {
	ch   chan frame
	lane int
}

// startProc starts the worker: command, then "--" and the worker flags.
func startProc(command []string, cfg WorkerConfig, log zerolog.Logger) (*proc, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, err
	}
	logR, logW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		respR.Close()
		respW.Close()
		return nil, err
	}
	args := append(append(append([]string(nil), command[1:]...), "--"), cfg.args()...)
	cmd := exec.Command(command[0], args...)
	cmd.ExtraFiles = []*os.File{reqR, respW} // fds 3 and 4
	cmd.Env = cfg.env()
	cmd.Stdout, cmd.Stderr = logW, logW
	cmd.SysProcAttr = workerProcAttr()
	err = startCmd(cmd)
	reqR.Close()
	respW.Close()
	logW.Close()
	if err != nil {
		reqW.Close()
		respR.Close()
		logR.Close()
		return nil, fmt.Errorf("start embedded engine worker %s: %w", command[0], err)
	}
	p := &proc{
		cmd:     cmd,
		log:     log.With().Int("worker_pid", cmd.Process.Pid).Logger(),
		req:     reqW,
		bw:      bufio.NewWriterSize(reqW, 64<<10),
		pending: map[uint32]*waiter{},
		hello:   make(chan frame, 1),
		dead:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	logsDone := make(chan struct{})
	go p.forwardLogs(logR, logsDone)
	go p.readLoop(respR)
	go func() {
		_ = cmd.Wait()
		<-logsDone
		p.mu.Lock()
		p.state = cmd.ProcessState
		p.mu.Unlock()
		p.stop(fmt.Errorf("%w (%s)", errWorkerGone, describeExit(cmd.ProcessState)))
		close(p.exited)
	}()
	return p, nil
}

func describeExit(st *os.ProcessState) string {
	if st == nil {
		return "not started"
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(st.ExitCode())
}

// forwardLogs copies the worker's stdout and stderr into the log and keeps
// the last lines for Status.
func (p *proc) forwardLogs(r *os.File, done chan<- struct{}) {
	defer close(done)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		p.log.Warn().Str("component", "chdb-worker").Msg(line)
		p.mu.Lock()
		if len(p.tail) == 5 {
			p.tail = p.tail[1:]
		}
		p.tail = append(p.tail, line)
		p.mu.Unlock()
	}
}

// readLoop dispatches the worker's answers until the pipe ends or carries
// something that is not a valid answer, which kills the worker: it can no
// longer be trusted to answer the right request.
func (p *proc) readLoop(r *os.File) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 256<<10)
	first := true
	for {
		f, err := readFrame(br)
		if err != nil {
			// A clean end means the worker is exiting; the reaper records
			// how.
			if !errors.Is(err, io.EOF) {
				p.kill(fmt.Errorf("worker protocol: %w", err))
			}
			return
		}
		if first {
			first = false
			if f.id != 0 || (f.op != opHello && f.op != opError) {
				p.kill(fmt.Errorf("worker protocol: first frame %q/%d is not a greeting", f.op, f.id))
				return
			}
			p.hello <- f
			if f.op == opError {
				p.stop(fmt.Errorf("embedded engine cannot start: %s", f.payload))
				return
			}
			continue
		}
		if f.op != opDone && f.op != opRows && f.op != opCut && f.op != opError {
			p.kill(fmt.Errorf("worker protocol: unexpected answer op %q", f.op))
			return
		}
		p.mu.Lock()
		w, ok := p.pending[f.id]
		if ok {
			delete(p.pending, f.id)
			l := &p.lanes[w.lane]
			l.outstanding--
			l.since = time.Now()
		}
		p.mu.Unlock()
		if !ok {
			p.kill(fmt.Errorf("worker protocol: answer to unknown request %d", f.id))
			return
		}
		w.ch <- f // buffered: a caller that gave up never blocks the loop
	}
}

// awaitHello waits for the worker's greeting and returns the version it
// reports.
func (p *proc) awaitHello(timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case f := <-p.hello:
		if f.op == opError {
			return "", fmt.Errorf("%s", f.payload)
		}
		return string(f.payload), nil
	case <-p.dead:
		return "", p.err()
	case <-t.C:
		p.kill(fmt.Errorf("embedded engine did not start within %s", timeout))
		<-p.dead
		return "", p.err()
	}
}

// call sends one request and waits for its answer. When ctx ends first the
// answer is dropped on arrival; the worker is not disturbed (the watchdog
// decides whether it is hung).
func (p *proc) call(ctx context.Context, op byte, payload []byte, writeDeadline time.Time) (frame, error) {
	w := &waiter{ch: make(chan frame, 1), lane: laneOf(op)}
	p.mu.Lock()
	if p.why != nil {
		p.mu.Unlock()
		return frame{}, p.why
	}
	p.nextID++
	if p.nextID == 0 {
		p.nextID = 1
	}
	id := p.nextID
	p.pending[id] = w
	if l := &p.lanes[w.lane]; l.outstanding == 0 {
		l.since = time.Now()
	}
	p.lanes[w.lane].outstanding++
	p.mu.Unlock()

	p.wmu.Lock()
	_ = p.req.SetWriteDeadline(writeDeadline)
	err := writeFrame(p.bw, op, id, payload)
	p.wmu.Unlock()
	if err != nil {
		// Half a frame may be in the pipe: the stream is unusable.
		p.kill(fmt.Errorf("send request to embedded engine: %w", err))
		return frame{}, p.err()
	}
	select {
	case f := <-w.ch:
		if f.op == opError {
			return f, &EngineError{Message: string(f.payload)}
		}
		return f, nil
	case <-p.dead:
		// The answer may have arrived just before the end.
		select {
		case f := <-w.ch:
			if f.op == opError {
				return f, &EngineError{Message: string(f.payload)}
			}
			return f, nil
		default:
		}
		return frame{}, p.err()
	case <-ctx.Done():
		return frame{}, ctx.Err()
	}
}

// EngineError is an error chDB reported for a statement (bad SQL, a memory
// limit, a timeout inside the engine). The engine is fine; retrying the same
// statement fails the same way.
type EngineError struct{ Message string }

func (e *EngineError) Error() string { return "embedded ClickHouse: " + e.Message }

// stop records why the worker is finished and fails every waiting request.
func (p *proc) stop(why error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.why != nil {
		return
	}
	p.why = why
	p.pending = nil
	close(p.dead)
}

// kill ends the worker (and anything it started) at once.
func (p *proc) kill(why error) {
	p.stop(why)
	if p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		_ = p.cmd.Process.Kill()
	}
}

func (p *proc) isDead() bool {
	select {
	case <-p.dead:
		return true
	default:
		return false
	}
}

func (p *proc) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.why
}

// lastLines is the tail of what the worker printed, for Status.
func (p *proc) lastLines() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, " | ")
}

// close asks the worker to finish: it sees the request pipe end, completes
// what it has, closes the engine and exits. After grace it is killed.
func (p *proc) close(grace time.Duration) {
	p.wmu.Lock()
	_ = p.req.Close()
	p.wmu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		p.kill(fmt.Errorf("embedded engine did not stop within %s", grace))
		<-p.exited
	}
}

// watch kills the worker when a lane has waited longer than its limit for
// an answer (the engine is hung) or when its resident memory passes
// maxRSS. It returns when the worker is gone.
func (p *proc) watch(limits [lanes]time.Duration, maxRSS int64) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	n := 0
	for {
		select {
		case <-p.dead:
			return
		case now := <-tick.C:
			p.mu.Lock()
			var hung error
			for i, l := range p.lanes {
				if l.outstanding > 0 && limits[i] > 0 && now.Sub(l.since) > limits[i] {
					hung = fmt.Errorf("embedded engine hung: no answer on the %s connection for %s", laneNames[i], limits[i])
				}
			}
			p.mu.Unlock()
			if hung != nil {
				p.kill(hung)
				return
			}
			if n++; maxRSS > 0 && n%5 == 0 {
				if rss := processRSS(p.cmd.Process.Pid); rss > maxRSS {
					p.kill(fmt.Errorf("embedded engine used %d MiB of memory, over its limit of %d MiB (storage.embedded memory limit)", rss>>20, maxRSS>>20))
					return
				}
			}
		}
	}
}

// processRSS is pid's resident set in bytes, or 0 when unknown.
func processRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
