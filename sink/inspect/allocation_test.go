//go:build !race

package inspect

import (
	"encoding/binary"
	"testing"

	"github.com/cylestio/perimeter/detect"
)

// TestMemoEmptyAllocs: remembering and replaying an input without
// findings (most inputs) allocates nothing.
func TestMemoEmptyAllocs(t *testing.T) {
	m := newMemo(DefaultMemoBytes)
	role, content := []byte("user"), []byte(`"What is the weather like in Paris in May?"`)
	var fs []detect.Finding
	var i uint32
	if n := testing.AllocsPerRun(1000, func() {
		i++
		binary.LittleEndian.PutUint32(content[1:], i) // a new input every run: a miss, then a hit
		key := memoKey(memoMessage, role, content, nil)
		if _, hit := m.get(fs, key); hit {
			t.Fatal("hit before put")
		}
		m.put(key, fs)
		if _, hit := m.get(fs, key); !hit {
			t.Fatal("miss after put")
		}
	}); n != 0 {
		t.Fatalf("%v allocations per miss, put and hit", n)
	}
}
