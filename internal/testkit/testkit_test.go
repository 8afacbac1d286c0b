package testkit

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEventually(t *testing.T) {
	n := 0
	if !Eventually(time.Second, time.Millisecond, func() bool { n++; return n == 3 }) || n != 3 {
		t.Fatalf("Eventually: cond held at the third call, called %d times", n)
	}
	start := time.Now()
	if Eventually(20*time.Millisecond, time.Millisecond, func() bool { return false }) {
		t.Fatal("Eventually reported a condition that never held")
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("Eventually gave up before its time")
	}
}

func TestSyncBufferTakesConcurrentWrites(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
			}
		})
	}
	wg.Wait()
	if got := strings.Count(b.String(), "\n"); got != 800 {
		t.Fatalf("%d lines, want 800", got)
	}
}

func TestServeHandsEachConnection(t *testing.T) {
	addr := Serve(t, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Write([]byte("echo " + line))
	})
	for i := range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "hello %d\n", i)
		got, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if want := fmt.Sprintf("echo hello %d\n", i); err != nil || got != want {
			t.Fatalf("connection %d: %q, %v; want %q", i, got, err, want)
		}
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("listens on %s, want 127.0.0.1", addr)
	}
}

func TestReadJSONLInFileOrder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b.jsonl"), []byte(`{"n":3}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(`{"n":1}`+"\n\n"+`{"n":2}`+"\n"), 0o644)
	got := ReadJSONL[struct{ N int }](t, filepath.Join(dir, "*.jsonl"), "none")
	if len(got) != 3 || got[0].N != 1 || got[1].N != 2 || got[2].N != 3 {
		t.Fatalf("read %+v, want 1, 2, 3", got)
	}
}
