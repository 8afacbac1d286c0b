//go:build !race

package loadgen

import "testing"

func TestNumberedAllocs(t *testing.T) {
	n, _ := NewNumbered([]byte("x 0000 y"), "0000")
	n.Request(3, 0)
	seq := uint64(0)
	if a := testing.AllocsPerRun(100, func() { seq++; n.Request(3, seq) }); a != 0 {
		t.Fatalf("%v allocations per request", a)
	}
}
