package sysinfo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// clockTick is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is 100
// on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

type statFields struct {
	ppid         int
	utime, stime uint64 // clock ticks
}

// parseStat reads /proc/PID/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted after the last ')'.
func parseStat(b []byte) (statFields, error) {
	var s statFields
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return s, fmt.Errorf("stat: no command name")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return s, fmt.Errorf("stat: %d fields", len(f)+2)
	}
	var err error
	if s.ppid, err = strconv.Atoi(string(f[1])); err != nil {
		return s, fmt.Errorf("stat ppid: %w", err)
	}
	if s.utime, err = strconv.ParseUint(string(f[11]), 10, 64); err != nil {
		return s, fmt.Errorf("stat utime: %w", err)
	}
	if s.stime, err = strconv.ParseUint(string(f[12]), 10, 64); err != nil {
		return s, fmt.Errorf("stat stime: %w", err)
	}
	return s, nil
}

func readStat(pid int) (statFields, error) { return readProc(pid, "stat", parseStat) }

// readProc parses /proc/PID/name with parse.
func readProc[T any](pid int, name string, parse func([]byte) (T, error)) (T, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
	if err != nil {
		var zero T
		return zero, err
	}
	return parse(b)
}

// CPUTime is the user plus system CPU time pid has used (all its threads,
// not its children), with 10 ms resolution.
func CPUTime(pid int) (time.Duration, error) {
	s, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	return time.Duration(s.utime+s.stime) * clockTick, nil
}

// Tree returns pid followed by all its live descendants (nginx's master and
// workers, for instance).
func Tree(pid int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	parent := map[int]int{}
	for _, d := range dirs {
		p, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if s, err := readStat(p); err == nil {
			parent[p] = s.ppid
		}
	}
	return descendants(pid, parent)
}

func descendants(root int, parent map[int]int) []int {
	out := []int{root}
	for i := 0; i < len(out); i++ {
		for p, pp := range parent {
			if pp == out[i] && p != root {
				out = append(out, p)
			}
		}
	}
	return out
}

// Memory is a process's resident set in KiB: now and its peak since start or
// since the last ResetPeak.
type Memory struct {
	RSS, Peak uint64
}

func parseStatus(b []byte) (Memory, error) {
	var m Memory
	found := 0
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		var dst *uint64
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst = &m.RSS
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst = &m.Peak
		default:
			continue
		}
		f := bytes.Fields(line)
		if len(f) < 2 {
			return m, fmt.Errorf("status: %q", line)
		}
		v, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil {
			return m, fmt.Errorf("status: %q: %w", line, err)
		}
		*dst = v
		found++
	}
	if found < 2 {
		return m, fmt.Errorf("status: VmRSS or VmHWM missing")
	}
	return m, nil
}

// ReadMemory reads pid's VmRSS and VmHWM.
func ReadMemory(pid int) (Memory, error) { return readProc(pid, "status", parseStatus) }

// ResetPeak sets pid's VmHWM back to its current RSS (writes 5 to
// /proc/PID/clear_refs; needs to own the process).
func ResetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// Group is a set of processes measured together: a proxy and, for nginx,
// its workers.
type Group struct {
	Root int
	// Pids, when set by Resolve, are read instead of walking /proc, so a
	// snapshot costs a few file reads.
	Pids []int
}

// Resolve fixes the group's processes to those alive now.
func (g Group) Resolve() Group {
	g.Pids = Tree(g.Root)
	return g
}

func (g Group) pids() []int {
	if len(g.Pids) > 0 {
		return g.Pids
	}
	return Tree(g.Root)
}

// Snapshot is a Group's figures at one moment.
type Snapshot struct {
	CPU   time.Duration
	Mem   Memory // sums over the processes
	Procs int
}

// Read sums CPU time and memory over the group's processes. Peak memory is
// the sum of each process's own peak, an upper bound of the group's.
func (g Group) Read() (Snapshot, error) {
	var s Snapshot
	for _, pid := range g.pids() {
		cpu, err := CPUTime(pid)
		if err != nil {
			if pid == g.Root {
				return s, err
			}
			continue // a worker that just exited
		}
		m, err := ReadMemory(pid)
		if err != nil {
			continue
		}
		s.CPU += cpu
		s.Mem.RSS += m.RSS
		s.Mem.Peak += m.Peak
		s.Procs++
	}
	return s, nil
}

// ResetPeak resets the peak of every process of the group.
func (g Group) ResetPeak() error {
	var first error
	for _, pid := range g.pids() {
		if err := ResetPeak(pid); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// BusyCPU is the CPU time the whole machine has spent on anything but
// idling and waiting for I/O since boot (the cpu line of /proc/stat: user,
// nice, system, irq, softirq, steal), summed over CPUs.
func BusyCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := bytes.Fields(line)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy uint64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		v, err := strconv.ParseUint(string(f[i]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		busy += v
	}
	return time.Duration(busy) * clockTick, nil
}
