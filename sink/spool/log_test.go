package spool

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSpoolAppendReadCommit(t *testing.T) {
	dir := t.TempDir()
	b := &Budget{max: 1 << 20}
	sp, err := openLog(dir, b, 40)
	if err != nil {
		t.Fatal(err)
	}
	if sp.hasBacklog() {
		t.Fatal("new spool has a backlog")
	}
	var want []string
	sp.mu.Lock()
	for i := range 10 {
		p := []byte{byte('a' + i), byte('a' + i), byte('a' + i)}
		want = append(want, string(p))
		if _, err := sp.appendLocked(p); err != nil {
			t.Fatal(err)
		}
	}
	sp.active = true // as the writer's spillLocked does
	sp.mu.Unlock()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) < 3 {
		t.Fatalf("40-byte segments should roll: %v", segs)
	}
	used := b.used.Load()
	if used != sp.backlog.Load() || used == 0 {
		t.Fatalf("budget %d, backlog %d", used, sp.backlog.Load())
	}
	var got []string
	for range 4 {
		p, ok := sp.readNext()
		if !ok {
			t.Fatal("short read")
		}
		got = append(got, string(p))
	}
	sp.commit()
	if !sp.hasBacklog() {
		t.Fatal("backlog cleared before it was read")
	}
	for {
		p, ok := sp.readNext()
		if !ok {
			break
		}
		got = append(got, string(p))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
	sp.commit()
	if sp.hasBacklog() || b.used.Load() != 0 || sp.backlog.Load() != 0 {
		t.Fatalf("after commit: active=%v budget=%d backlog=%d", sp.hasBacklog(), b.used.Load(), sp.backlog.Load())
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "*.seg")); len(segs) != 0 {
		t.Fatalf("segments left: %v", segs)
	}
	sp.close()
}

func TestSpoolBudget(t *testing.T) {
	b := &Budget{max: 100}
	sp, err := openLog(t.TempDir(), b, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if _, err := sp.appendLocked(make([]byte, 50)); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.appendLocked(make([]byte, 50)); err != errBudget {
		t.Fatalf("second append: %v, want errBudget", err)
	}
	if u := b.used.Load(); u != int64(len(segmentMagic))+recordHeaderSize+50 {
		t.Fatalf("used %d", u)
	}
}

func TestSpoolLeftoversAndDamage(t *testing.T) {
	dir := t.TempDir()
	b := &Budget{max: 1 << 20}
	sp, _ := openLog(dir, b, 1<<20)
	sp.mu.Lock()
	for _, p := range []string{"one", "two", "three"} {
		if _, err := sp.appendLocked([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	sp.mu.Unlock()
	sp.close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	// Flip a byte of "three": its checksum fails.
	data, _ := os.ReadFile(segs[0])
	data[len(data)-1] ^= 0xff
	if err := os.WriteFile(segs[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	// Junk files are ignored; an empty segment is removed.
	_ = os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "00000000000000000099.seg"), nil, 0o644)

	b2 := &Budget{max: 1 << 20}
	sp2, err := openLog(dir, b2, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer sp2.close()
	if !sp2.hasBacklog() {
		t.Fatal("leftovers not adopted")
	}
	var got []string
	for {
		p, ok := sp2.readNext()
		if !ok {
			break
		}
		got = append(got, string(p))
	}
	if !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Fatalf("read %q", got)
	}
	if c := sp2.corrupt.Load(); c != recordHeaderSize+5 {
		t.Fatalf("corrupt %d", c)
	}
	sp2.commit()
	if sp2.hasBacklog() || b2.used.Load() != 0 {
		t.Fatalf("after commit: active=%v used=%d", sp2.hasBacklog(), b2.used.Load())
	}
	if _, err := os.Stat(filepath.Join(dir, "00000000000000000099.seg")); !os.IsNotExist(err) {
		t.Fatal("empty segment not removed")
	}
}
