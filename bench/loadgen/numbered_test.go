package loadgen

import (
	"bytes"
	"sync"
	"testing"
)

// TestNumbered: every request of every worker differs from all others,
// only in the counter field, and a worker's previous request is not
// touched by the other workers.
func TestNumbered(t *testing.T) {
	req := []byte("POST / HTTP/1.1\r\nContent-Length: 24\r\n\r\n{\"ticket\":\"00000000000\"}")
	n, err := NewNumbered(req, "00000000000")
	if err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 8, 500
	seen := make([]map[string]bool, workers)
	var wg sync.WaitGroup
	for w := range workers {
		seen[w] = map[string]bool{}
		wg.Go(func() {
			for seq := range uint64(perWorker) {
				b := n.Request(w, seq)
				if len(b) != len(req) || !bytes.Equal(b[:n.at], req[:n.at]) || !bytes.Equal(b[n.at+n.width:], req[n.at+n.width:]) {
					t.Errorf("worker %d seq %d: %q", w, seq, b)
					return
				}
				seen[w][string(b)] = true
			}
		})
	}
	wg.Wait()
	all := map[string]bool{}
	for _, s := range seen {
		for k := range s {
			all[k] = true
		}
	}
	if len(all) != workers*perWorker {
		t.Fatalf("%d distinct requests of %d", len(all), workers*perWorker)
	}
	if !bytes.Contains(req, []byte(`"00000000000"`)) {
		t.Fatal("the template was modified")
	}
	if _, err := NewNumbered(req, "123"); err == nil {
		t.Error("a field that is not a run of zeros was accepted")
	}
	if _, err := NewNumbered(req, "000000000000000"); err == nil {
		t.Error("a field missing from the request was accepted")
	}
}
