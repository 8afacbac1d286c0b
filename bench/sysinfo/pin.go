package sysinfo

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Pinning says which CPUs the load generator and the servers (proxies and
// the mock upstream) run on.
type Pinning struct {
	Mode       string `json:"mode"`        // "split" or "none"
	LoadCPUs   string `json:"load_cpus"`   // taskset list for the load generator; "" = not pinned
	ServerCPUs string `json:"server_cpus"` // taskset list for every server process; "" = not pinned
	ServerCPUN int    `json:"server_cpu_count"`
	Note       string `json:"note"`
	taskset    string
}

// PlanPinning decides the CPU split. mode "split" gives the load generator
// the first allowed CPU and the servers the others, so the client never
// steals cycles from what it measures; it falls back to "none" (with a Note
// saying why) when there are fewer than two CPUs or no taskset. allowed is
// the list of CPUs this process may use (see AllowedCPUs).
func PlanPinning(mode string, allowed []int, taskset string) Pinning {
	p := Pinning{Mode: "none", ServerCPUN: len(allowed), taskset: taskset}
	switch {
	case mode == "none":
		p.Note = "not pinned (--pin none): load generator, proxies and mock share all CPUs"
	case len(allowed) < 2:
		p.Note = fmt.Sprintf("not pinned: only %d CPU available", len(allowed))
	case taskset == "":
		p.Note = "not pinned: taskset not found (install util-linux)"
	default:
		p.Mode = "split"
		p.LoadCPUs = strconv.Itoa(allowed[0])
		p.ServerCPUs = formatCPUList(allowed[1:])
		p.ServerCPUN = len(allowed) - 1
		p.Note = fmt.Sprintf("load generator on CPU %s; every server (mock upstream, proxy under test) on CPU %s, so GOMAXPROCS=%d and nginx worker_processes=%d",
			p.LoadCPUs, p.ServerCPUs, p.ServerCPUN, p.ServerCPUN)
	}
	if p.Mode == "none" {
		p.ServerCPUN = max(len(allowed), 1)
	}
	return p
}

// Command returns a command for a server process, under taskset when the
// servers are pinned.
func (p Pinning) Command(name string, args ...string) *exec.Cmd {
	if p.ServerCPUs == "" {
		return exec.Command(name, args...)
	}
	return exec.Command(p.taskset, append([]string{"-c", p.ServerCPUs, name}, args...)...)
}

// LoadCommand is the taskset command line that runs argv on the load
// generator's CPUs (nil when not pinned).
func (p Pinning) LoadCommand(argv []string) []string {
	if p.LoadCPUs == "" {
		return nil
	}
	return append([]string{p.taskset, "-c", p.LoadCPUs}, argv...)
}

// Encode and DecodePinning carry a plan across the re-exec that pins the
// load generator.
func (p Pinning) Encode() string {
	return strings.Join([]string{p.Mode, p.LoadCPUs, p.ServerCPUs, strconv.Itoa(p.ServerCPUN), p.taskset}, "|")
}

// DecodePinning reverses Encode; Note is rebuilt.
func DecodePinning(s string) (Pinning, bool) {
	f := strings.Split(s, "|")
	if len(f) != 5 {
		return Pinning{}, false
	}
	n, err := strconv.Atoi(f[3])
	if err != nil {
		return Pinning{}, false
	}
	allowed, err := ParseCPUList(f[1] + "," + f[2])
	if f[0] != "split" || err != nil {
		return Pinning{}, false
	}
	p := PlanPinning("split", allowed, f[4])
	if p.ServerCPUN != n {
		return Pinning{}, false
	}
	return p, true
}

// AllowedCPUs is the CPU list this process may run on
// (/proc/self/status Cpus_allowed_list).
func AllowedCPUs() ([]int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return ParseCPUList(strings.TrimSpace(v))
		}
	}
	return nil, errors.New("no Cpus_allowed_list line in /proc/self/status")
}

// ParseCPUList parses a kernel CPU list such as "0-2,4".
func ParseCPUList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("cpu list %q: bad range %q", s, part)
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

func formatCPUList(cpus []int) string {
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		} else {
			parts = append(parts, strconv.Itoa(cpus[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
