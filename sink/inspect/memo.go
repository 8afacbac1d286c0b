package inspect

import (
	"encoding/binary"
	"slices"
	"sync"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/cylestio/perimeter/detect"
)

// DefaultMemoBytes is the memory the findings memo of New may use: half
// for its table (32 K sets of two 16-byte slots), half for the findings it
// holds. Capture stores only the new messages of a call it places in a
// session; a call sent again, or a conversation it could not place, brings
// every message again, and without the memo each is decoded and scanned
// again.
const DefaultMemoBytes = 2 << 20

// memoSlotBytes is the size of one slot.
const memoSlotBytes = int(unsafe.Sizeof(memoSlot{}))

// memo remembers the findings of request-side inputs whose findings are a
// function of the input alone (request messages, tool results, tool
// definitions; never an input with Usage or a system prompt). It is keyed
// by an xxhash of the raw JSON the input is decoded from, so a hit skips
// the decoding as well as the scan. A two-way set-associative table of
// fixed size: a hit moves its slot first in its set, a miss evicts the
// second. Most inputs have no finding: their slot holds only the key, and
// the table holds no pointer (the collector never scans it). Findings are
// held apart within a byte budget; an input whose findings do not fit is
// scanned every time.
type memo struct {
	mu    sync.Mutex
	slots []memoSlot // len a power of two; a set is slots[i], slots[i+1] with i even
	mask  uint64
	// found[ref-1] are the findings of a slot with a ref; free lists the
	// unused indexes.
	found  [][]detect.Finding
	free   []uint32
	held   int // bytes of findings held
	budget int

	hits, misses uint64
}

type memoSlot struct {
	key uint64 // 0: empty
	ref uint32 // 0: no finding
}

// newMemo returns a memo of about bytes, or nil when bytes is too small to
// be worth one (which switches memoization off).
func newMemo(bytes int) *memo {
	n := 1
	for n*2*memoSlotBytes <= bytes/2 {
		n *= 2
	}
	if n < 64 {
		return nil
	}
	return &memo{slots: make([]memoSlot, n), mask: uint64(n - 1), budget: bytes / 2}
}

// get appends the findings remembered for key to dst; false when key is
// not remembered.
func (m *memo) get(dst []detect.Finding, key uint64) ([]detect.Finding, bool) {
	i := key & m.mask &^ 1
	m.mu.Lock()
	s := m.slots[i : i+2 : i+2]
	switch key {
	case s[0].key:
	case s[1].key:
		s[0], s[1] = s[1], s[0]
	default:
		m.misses++
		m.mu.Unlock()
		return dst, false
	}
	if s[0].ref != 0 {
		dst = append(dst, m.found[s[0].ref-1]...)
	}
	m.hits++
	m.mu.Unlock()
	return dst, true
}

// put remembers found (copied) for key.
func (m *memo) put(key uint64, found []detect.Finding) {
	size := 0
	if len(found) > 0 {
		size = findingsBytes(found)
		if size > m.budget/64 {
			return // one input's findings may not crowd out the others'
		}
		found = slices.Clone(found)
	}
	i := key & m.mask &^ 1
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.slots[i : i+2 : i+2]
	if s[0].key == key || s[1].key == key {
		return // another Process remembered it meanwhile
	}
	if s[1].ref != 0 { // evicted
		m.held -= findingsBytes(m.found[s[1].ref-1])
		m.found[s[1].ref-1] = nil
		m.free = append(m.free, s[1].ref-1)
	}
	s[1] = s[0]
	s[0] = memoSlot{key: key}
	if size == 0 || m.held+size > m.budget {
		// Over budget the input is forgotten: its empty slot would
		// replay no finding.
		if size != 0 {
			s[0].key = 0
		}
		return
	}
	var ref uint32
	if n := len(m.free); n > 0 {
		ref, m.free = m.free[n-1], m.free[:n-1]
		m.found[ref] = found
	} else {
		ref = uint32(len(m.found))
		m.found = append(m.found, found)
	}
	s[0].ref = ref + 1
	m.held += size
}

// findingsBytes is what fs holds: the findings, their evidence (the other
// strings are the rules' constants) and their entry in found.
func findingsBytes(fs []detect.Finding) int {
	n := len(fs)*int(unsafe.Sizeof(detect.Finding{})) + int(unsafe.Sizeof(fs)) + 4
	for i := range fs {
		n += len(fs[i].Evidence)
	}
	return n
}

// Input kinds, hashed first so that inputs of different kinds never share
// a key.
const (
	memoMessage byte = iota + 1
	memoToolResult
	memoToolDefinition
)

// memoKey hashes the kind and the hashes of the parts (a part's hash
// depends on its length, so parts never run into each other). It never
// returns 0, the empty slot.
func memoKey(kind byte, a, b, c []byte) uint64 {
	var buf [32]byte
	buf[0] = kind
	binary.LittleEndian.PutUint64(buf[8:], xxhash.Sum64(a))
	binary.LittleEndian.PutUint64(buf[16:], xxhash.Sum64(b))
	binary.LittleEndian.PutUint64(buf[24:], xxhash.Sum64(c))
	if k := xxhash.Sum64(buf[:]); k != 0 {
		return k
	}
	return 1
}

// MemoStats are the memo's counters since New.
type MemoStats struct {
	Hits   uint64 `json:"hits"`   // request-side inputs whose findings were replayed
	Misses uint64 `json:"misses"` // request-side inputs decoded and scanned
	Bytes  int    `json:"bytes"`  // table and findings held
}

// Stats returns the detection counters; safe to call at any time.
func (p *Processor) Stats() Stats {
	var s Stats
	if m := p.memo; m != nil {
		m.mu.Lock()
		s.Memo.Hits, s.Memo.Misses = m.hits, m.misses
		s.Memo.Bytes = len(m.slots)*memoSlotBytes + m.held
		m.mu.Unlock()
	}
	return s
}

// Stats is the processor's part of /metrics.
type Stats struct {
	Memo MemoStats `json:"memo"`
}
