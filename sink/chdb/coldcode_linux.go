package chdb

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// dropColdCode unmaps the resident pages of the library's file mappings
// that hold no private copy (MADV_DONTNEED): starting the engine touches
// about 175 MiB of its code and read-only data once (static initialisers,
// the registries of functions and formats) and keeps using a fraction of
// it. Those pages are the file's own, so the ones the engine uses again
// come back from the page cache on first touch. A mapping with anonymous
// pages (relocated data, RELRO) is left alone: dropping those would lose
// what the loader wrote. It returns the resident bytes it dropped.
func dropColdCode(lib string) int64 {
	if real, err := filepath.EvalSymlinks(lib); err == nil {
		lib = real
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0
	}
	defer f.Close()
	type span struct {
		start, end  uint64
		rss, anon   int64
		readOnlyLib bool
	}
	var spans []span
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && len(fields) >= 5 && !strings.HasSuffix(fields[0], ":") {
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				perms := fields[1]
				spans = append(spans, span{start: start, end: end, readOnlyLib: len(fields) >= 6 && fields[5] == lib && len(perms) >= 4 && perms[1] != 'w' && perms[3] == 'p'})
				continue
			}
		}
		if len(spans) == 0 || len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "Rss:":
			spans[len(spans)-1].rss = kb << 10
		case "Anonymous:":
			spans[len(spans)-1].anon = kb << 10
		}
	}
	var n int64
	for _, s := range spans {
		if !s.readOnlyLib || s.anon != 0 || s.rss == 0 {
			continue
		}
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(s.start), uintptr(s.end-s.start), unix.MADV_DONTNEED); e == 0 {
			n += s.rss
		}
	}
	return n
}
