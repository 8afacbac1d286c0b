package sysinfo

import (
	"os"
	"reflect"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// The command name holds a space and a parenthesis.
	line := "4242 (nginx: wo) rker) S 4241 4241 4241 0 -1 4194624 120 0 0 0 731 129 0 0 20 0 1 0 5000 10000000 300 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n"
	s, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if s.ppid != 4241 || s.utime != 731 || s.stime != 129 {
		t.Errorf("got %+v", s)
	}
	if _, err := parseStat([]byte("12 (x) S 1 2")); err == nil {
		t.Error("short stat accepted")
	}
}

func TestParseStatus(t *testing.T) {
	st := "Name:\tperimeter\nVmPeak:\t  800000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t5\n"
	m, err := parseStatus([]byte(st))
	if err != nil || m.RSS != 40960 || m.Peak != 51200 {
		t.Errorf("got %+v, %v", m, err)
	}
	if _, err := parseStatus([]byte("Name:\tx\n")); err == nil {
		t.Error("status without VmRSS accepted")
	}
}

func TestDescendants(t *testing.T) {
	parent := map[int]int{1: 0, 10: 1, 11: 10, 12: 10, 13: 11, 20: 1}
	got := descendants(10, parent)
	want := map[int]bool{10: true, 11: true, 12: true, 13: true}
	if len(got) != len(want) || got[0] != 10 {
		t.Fatalf("got %v", got)
	}
	for _, p := range got {
		if !want[p] {
			t.Errorf("unexpected %d in %v", p, got)
		}
	}
}

func TestOwnProcess(t *testing.T) {
	// Burn a little CPU and check the readers see this very process.
	deadline := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	g := Group{Root: os.Getpid()}
	s, err := g.Read()
	if err != nil {
		t.Fatal(err)
	}
	if s.CPU <= 0 || s.Mem.RSS == 0 || s.Mem.Peak < s.Mem.RSS || s.Procs < 1 {
		t.Errorf("own snapshot %+v", s)
	}
	if err := g.ResetPeak(); err != nil {
		t.Logf("ResetPeak: %v (allowed to fail without privileges)", err)
	}
}

func TestCPUList(t *testing.T) {
	got, err := ParseCPUList("0-2,4, 6-7")
	if err != nil || !reflect.DeepEqual(got, []int{0, 1, 2, 4, 6, 7}) {
		t.Errorf("ParseCPUList = %v, %v", got, err)
	}
	if s := formatCPUList(got); s != "0-2,4,6-7" {
		t.Errorf("formatCPUList = %q", s)
	}
	for _, bad := range []string{"a", "3-1", "1-x"} {
		if _, err := ParseCPUList(bad); err == nil {
			t.Errorf("ParseCPUList(%q) accepted", bad)
		}
	}
}

func TestPlanPinning(t *testing.T) {
	p := PlanPinning("split", []int{0, 1}, "/usr/bin/taskset")
	if p.Mode != "split" || p.LoadCPUs != "0" || p.ServerCPUs != "1" || p.ServerCPUN != 1 {
		t.Errorf("2 CPUs: %+v", p)
	}
	cmd := p.Command("nginx", "-c", "x")
	if want := []string{"/usr/bin/taskset", "-c", "1", "nginx", "-c", "x"}; !reflect.DeepEqual(cmd.Args, want) {
		t.Errorf("Command args %v", cmd.Args)
	}
	back, ok := DecodePinning(p.Encode())
	if !ok || back.Encode() != p.Encode() || back.Note != p.Note {
		t.Errorf("round trip: %+v", back)
	}
	p4 := PlanPinning("split", []int{0, 1, 2, 3}, "/usr/bin/taskset")
	if p4.ServerCPUs != "1-3" || p4.ServerCPUN != 3 {
		t.Errorf("4 CPUs: %+v", p4)
	}
	for _, c := range []struct {
		mode    string
		allowed []int
		taskset string
	}{{"split", []int{0}, "/usr/bin/taskset"}, {"split", []int{0, 1}, ""}, {"none", []int{0, 1}, "/usr/bin/taskset"}} {
		p := PlanPinning(c.mode, c.allowed, c.taskset)
		if p.Mode != "none" || p.ServerCPUs != "" || p.Note == "" || p.ServerCPUN != len(c.allowed) {
			t.Errorf("%+v: %+v", c, p)
		}
		if cmd := p.Command("x"); cmd.Args[0] != "x" {
			t.Errorf("unpinned command %v", cmd.Args)
		}
	}
}

func TestParseCPUInfo(t *testing.T) {
	n, model := parseCPUInfo([]byte("processor\t: 0\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n"))
	if n != 2 || model != "AMD EPYC" {
		t.Errorf("got %d %q", n, model)
	}
}

func TestParseProcStat(t *testing.T) {
	b := []byte("cpu  100 5 50 9999 7 3 2 1 0 0\ncpu0 50 2 25 5000 3 1 1 0 0 0\n")
	got, err := parseProcStat(b)
	if err != nil || got != 161*clockTick {
		t.Errorf("got %v, %v; want 1.61s", got, err)
	}
	if _, err := parseProcStat([]byte("intr 1 2 3\n")); err == nil {
		t.Error("bad /proc/stat accepted")
	}
	if live, err := BusyCPU(); err != nil || live <= 0 {
		t.Errorf("BusyCPU() = %v, %v", live, err)
	}
}
