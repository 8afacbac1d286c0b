package sysinfo

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where a benchmark ran.
type Machine struct {
	CPUs      int    `json:"cpus"`       // online processors (not only those this process may use)
	Model     string `json:"cpu_model"`  // /proc/cpuinfo "model name"
	Kernel    string `json:"kernel"`     // uname -r
	GoVersion string `json:"go_version"` // of the benchmark binary (and the proxy it builds)
	MemoryMiB uint64 `json:"memory_mib"`
	LoadAvg   string `json:"loadavg_at_start"` // other work on the box shows here
}

// Describe reads the machine's description; fields it cannot read stay
// empty.
func Describe() Machine {
	m := Machine{GoVersion: runtime.Version(), CPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUs, m.Model = parseCPUInfo(b)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseUint(f[1], 10, 64)
				m.MemoryMiB = kb / 1024
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

func parseCPUInfo(b []byte) (n int, model string) {
	for _, l := range bytes.Split(b, []byte{'\n'}) {
		k, v, ok := bytes.Cut(l, []byte{':'})
		if !ok {
			continue
		}
		switch string(bytes.TrimSpace(k)) {
		case "processor":
			n++
		case "model name":
			if model == "" {
				model = string(bytes.TrimSpace(v))
			}
		}
	}
	return n, model
}
