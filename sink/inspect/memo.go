package inspect

import (
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/cylestio/perimeter/detect"
)

// DefaultMemoBytes is the memory the findings memo of New may use: half
// for its table (16 K sets of two 32-byte slots), half for the findings it
// holds. An agent resends its whole history on every call; without the
// memo every history message is decoded and scanned again at every turn.
const DefaultMemoBytes = 4 << 20

// memoSlotBytes is the size of one slot (key and slice header).
const memoSlotBytes = int(unsafe.Sizeof(memoSlot{}))

// memo remembers the findings of request-side inputs whose findings are a
// function of the input alone (request messages, tool results, tool
// definitions; never an input with Usage or a system prompt). It is keyed
// by an xxhash of the raw JSON the input is decoded from, so a hit skips
// the decoding as well as the scan. A two-way set-associative table of
// fixed size: a hit moves its slot first in its set, a miss evicts the
// second. Most inputs have no finding: their slot holds only the key.
// Findings are held within a byte budget; an input whose findings do not
// fit is scanned every time.
type memo struct {
	mu     sync.Mutex
	slots  []memoSlot // len a power of two; a set is slots[i], slots[i+1] with i even
	mask   uint64
	held   int // bytes of findings held
	budget int

	hits, misses atomic.Uint64
}

type memoSlot struct {
	key   uint64 // 0: empty
	found []detect.Finding
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
		m.mu.Unlock()
		m.misses.Add(1)
		return dst, false
	}
	dst = append(dst, s[0].found...)
	m.mu.Unlock()
	m.hits.Add(1)
	return dst, true
}

// put remembers found (copied) for key.
func (m *memo) put(key uint64, found []detect.Finding) {
	size := findingsBytes(found)
	if size > m.budget/64 {
		return // one input's findings may not crowd out the others'
	}
	if len(found) > 0 {
		found = slices.Clone(found)
	} else {
		found = nil
	}
	i := key & m.mask &^ 1
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.slots[i : i+2 : i+2]
	if s[0].key == key || s[1].key == key {
		return // another Process remembered it meanwhile
	}
	if m.held-findingsBytes(s[1].found)+size > m.budget {
		return
	}
	m.held += size - findingsBytes(s[1].found)
	s[1] = s[0]
	s[0] = memoSlot{key: key, found: found}
}

// findingsBytes is what fs holds: the findings and their evidence (the
// other strings are the rules' constants).
func findingsBytes(fs []detect.Finding) int {
	n := len(fs) * int(unsafe.Sizeof(detect.Finding{}))
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

// memoKey hashes the kind and the parts (each length-prefixed, so that
// parts never run into each other). It never returns 0, the empty slot.
func memoKey(kind byte, parts ...[]byte) uint64 {
	var d xxhash.Digest
	d.Reset()
	var hdr [5]byte
	hdr[0] = kind
	d.Write(hdr[:1])
	for _, p := range parts {
		binary.LittleEndian.PutUint32(hdr[1:], uint32(len(p)))
		d.Write(hdr[1:])
		d.Write(p)
	}
	if k := d.Sum64(); k != 0 {
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
		s.Memo.Hits, s.Memo.Misses = m.hits.Load(), m.misses.Load()
		m.mu.Lock()
		s.Memo.Bytes = len(m.slots)*memoSlotBytes + m.held
		m.mu.Unlock()
	}
	return s
}

// Stats is the processor's part of /metrics.
type Stats struct {
	Memo MemoStats `json:"memo"`
}
