package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// The log. Each lane has a directory of segment files named by a
// growing sequence number ("00000000000000000042.seg"). A segment is
//
//	magic "PRMSPL01"
//	records: length uint32 LE | CRC-32C of payload uint32 LE | payload
//
// Records are appended with one write each and are only read back up to
// the size recorded after that write returned, so a reader never sees half
// a record written by this process. Segments left by a crashed process are
// read up to their first damaged record (a torn tail); the rest is counted
// as corrupt and skipped. A segment is deleted once every record in it has
// been written to the store, so after a crash at most the records of the
// oldest segment are replayed twice — harmless, because stores deduplicate
// by event id. Segments are fsynced when they roll or at shutdown, not per
// record and not when an ack seals them (durability, see ack): a process
// crash loses nothing written (the page cache survives it), a power loss
// may lose the unsynced tail.

const (
	segmentMagic     = "PRMSPL01"
	recordHeaderSize = 8
	segmentExt       = ".seg"
	// maxRecordSize bounds one record; a larger length field is damage.
	maxRecordSize = 1 << 30
)

var (
	crcTable = crc32.MakeTable(crc32.Castagnoli)

	errBudget      = errors.New("spill disk budget exhausted")
	errDiskFull    = errors.New("spill disk full")
	errShortRecord = errors.New("spill record truncated")
)

// Budget is the disk space all lanes' logs share. Leftovers adopted from a
// previous run count against it even beyond its maximum: they are data.
type Budget struct {
	max  int64
	used atomic.Int64
}

// NewBudget is a budget of max bytes.
func NewBudget(max int64) *Budget { return &Budget{max: max} }

// Used is how many bytes the logs hold.
func (b *Budget) Used() int64 { return b.used.Load() }

func (b *Budget) reserve(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *Budget) release(n int64) { b.used.Add(-n) }

// logPos is the end of a record: segment seq, offset just past it. ok is
// false for a batch whose append failed (kept in memory only).
type logPos struct {
	seq uint64
	end int64
	ok  bool
}

type segment struct {
	seq  uint64
	path string
	size int64 // readable bytes: the header plus complete records
	disk int64 // bytes charged to the budget
}

// segLog is one writer's FIFO of spilled batches. The dispatcher appends,
// the writer's goroutine reads, commits and clears; mu orders the two and
// guards active, which routes new batches to the log (not to memory)
// while it has a backlog, so batches stay in order.
type segLog struct {
	dir    string
	budget *Budget
	segMax int64

	mu     sync.Mutex
	active bool      // backlog exists: new batches must be appended, not queued in memory
	segs   []segment // oldest first; the last one takes appends while w != nil
	// inMem is, with durability, where each batch held in the writer's
	// memory queue ends in the log (its record was appended first),
	// oldest first; ack drops the records of stored ones.
	inMem []logPos
	acked logPos // the last position ack saw
	w     *os.File
	next  uint64 // next segment sequence number
	buf   []byte // record being appended

	// Reader state, touched only by the writer goroutine (r, rIdx, rOff)
	// except that segs entries are read under mu.
	r     *os.File
	rSeq  uint64
	rOff  int64
	rSet  bool // ack placed the reader at rSeq/rOff; the file is opened there
	rBuf  []byte
	ahead int // segments fully read but not yet committed

	backlog atomic.Int64 // bytes on disk not yet committed
	corrupt atomic.Int64 // bytes skipped as damaged
}

// openLog opens (creating) dir and adopts leftover segments from a
// previous run, which makes the log active: they are replayed before
// anything new.
func openLog(dir string, b *Budget, segMax int64) (*segLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("spill: create %s: %w", dir, err)
	}
	s := &segLog{dir: dir, budget: b, segMax: segMax}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spill: read %s: %w", dir, err)
	}
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, segmentExt) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, segmentExt), 10, 64)
		if err != nil {
			continue
		}
		path := filepath.Join(dir, name)
		fi, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
		if fi.Size() <= int64(len(segmentMagic)) {
			_ = os.Remove(path)
			continue
		}
		s.segs = append(s.segs, segment{seq: seq, path: path, size: fi.Size(), disk: fi.Size()})
		if seq >= s.next {
			s.next = seq + 1
		}
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i].seq < s.segs[j].seq })
	var total int64
	for _, sg := range s.segs {
		total += sg.disk
	}
	// Leftovers count against the budget even beyond it: they are data.
	b.used.Add(total)
	s.backlog.Store(total)
	s.active = len(s.segs) > 0
	return s, nil
}

func (s *segLog) segPath(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, segmentExt))
}

// appendLocked writes one record; mu must be held. It returns errBudget,
// errDiskFull or another I/O error, leaving the log as it was. The
// caller decides whether the record makes the log active.
func (s *segLog) appendLocked(payload []byte) (int64, error) {
	if len(payload) > maxRecordSize {
		return 0, fmt.Errorf("spill: batch of %d bytes exceeds the %d-byte record limit", len(payload), maxRecordSize)
	}
	s.buf = append(s.buf[:0], make([]byte, recordHeaderSize)...)
	s.buf = append(s.buf, payload...)
	Seal(s.buf)
	return s.appendRecordLocked(s.buf)
}

// HeaderSize is the length of a record's header: a record Push takes is
// HeaderSize bytes left for the header, then the payload.
const HeaderSize = recordHeaderSize

// Seal fills the header of rec, a record whose first HeaderSize bytes were
// left for it, so that one encoding serves every lane's Push.
func Seal(rec []byte) {
	payload := rec[recordHeaderSize:]
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:8], crc32.Checksum(payload, crcTable))
}

// appendRecordLocked writes rec, a whole record (Seal), with one
// write; mu must be held. Errors as appendLocked.
func (s *segLog) appendRecordLocked(rec []byte) (int64, error) {
	if len(rec)-recordHeaderSize > maxRecordSize {
		return 0, fmt.Errorf("spill: batch of %d bytes exceeds the %d-byte record limit", len(rec)-recordHeaderSize, maxRecordSize)
	}
	n := int64(len(rec))
	if s.w != nil && s.segs[len(s.segs)-1].disk+n > s.segMax {
		s.closeWriteLocked(true)
	}
	newSeg := s.w == nil
	need := n
	if newSeg {
		need += int64(len(segmentMagic))
	}
	if !s.budget.reserve(need) {
		return 0, errBudget
	}
	if newSeg {
		seq := s.next
		path := s.segPath(seq)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			s.budget.release(need)
			return 0, classify(fmt.Errorf("spill: create segment: %w", err))
		}
		if _, err := f.Write([]byte(segmentMagic)); err != nil {
			_ = f.Close()
			_ = os.Remove(path)
			s.budget.release(need)
			return 0, classify(fmt.Errorf("spill: write segment header: %w", err))
		}
		s.next++
		s.w = f
		s.segs = append(s.segs, segment{seq: seq, path: path, size: int64(len(segmentMagic)), disk: int64(len(segmentMagic))})
		s.backlog.Add(int64(len(segmentMagic)))
	}
	last := &s.segs[len(s.segs)-1]
	if _, err := s.w.Write(rec); err != nil {
		// Cut a partial record so the segment stays readable.
		_ = s.w.Truncate(last.size)
		s.budget.release(n)
		return 0, classify(fmt.Errorf("spill: write: %w", err))
	}
	last.size += n
	last.disk += n
	s.backlog.Add(n)
	return n, nil
}

// tailLocked is the end of the last record appended.
func (s *segLog) tailLocked() logPos {
	last := s.segs[len(s.segs)-1]
	return logPos{seq: last.seq, end: last.size, ok: true}
}

// ack records that the oldest k batches of inMem are stored: the records
// up to the last of them are done. Segments wholly before it are removed;
// when nothing else waits the log is emptied; otherwise the segment the
// position falls in is sealed (new records go to a fresh one, so that a
// crash replays the records of at most the last two writes again) and the
// reader is set just past it, where the next unstored record starts.
func (s *segLog) ack(k int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k = min(k, len(s.inMem))
	var pos logPos
	for _, p := range s.inMem[:k] {
		if p.ok {
			pos = p
		}
	}
	s.inMem = s.inMem[k:]
	if !pos.ok {
		pos = s.acked // batches without a record: the log may be caught up now
	}
	if !pos.ok {
		return
	}
	s.acked = pos
	for len(s.segs) > 0 && s.segs[0].seq < pos.seq {
		s.removeLocked(0)
	}
	if len(s.segs) == 0 || s.segs[0].seq != pos.seq {
		return // already gone (skipped as damaged)
	}
	if len(s.inMem) == 0 && !s.active && len(s.segs) == 1 && pos.end >= s.segs[0].size {
		s.closeWriteLocked(false)
		s.removeLocked(0)
		return
	}
	if s.w != nil && len(s.segs) == 1 {
		s.closeWriteLocked(false)
	}
	if s.r != nil && s.rSeq != pos.seq {
		_ = s.r.Close()
		s.r = nil
	}
	s.rSeq, s.rOff, s.rSet = pos.seq, pos.end, true
}

// dropMemLocked forgets the memory queue's positions: its batches are
// read back from the log instead (the writer is failing).
func (s *segLog) dropMemLocked() { s.inMem = s.inMem[:0] }

func classify(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", errDiskFull, err)
	}
	return err
}

// closeWriteLocked seals the segment taking appends, syncing it to disk
// unless it is about to be removed.
func (s *segLog) closeWriteLocked(sync bool) {
	if s.w == nil {
		return
	}
	if sync {
		_ = s.w.Sync()
	}
	_ = s.w.Close()
	s.w = nil
}

// hasBacklog reports whether records wait on disk.
func (s *segLog) hasBacklog() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// readNext returns the next unread record's payload, or ok=false when the
// reader has caught up with the writer. The payload is valid until the
// next call. Damaged or vanished segments are skipped and counted.
func (s *segLog) readNext() (payload []byte, ok bool) {
	for {
		s.mu.Lock()
		idx := s.ahead
		if idx >= len(s.segs) {
			s.mu.Unlock()
			return nil, false
		}
		seg := s.segs[idx]
		isWrite := idx == len(s.segs)-1 && s.w != nil
		s.mu.Unlock()

		if s.r == nil || s.rSeq != seg.seq {
			resume := s.r == nil && s.rSet && s.rSeq == seg.seq
			if s.r != nil {
				_ = s.r.Close()
				s.r = nil
			}
			if !resume {
				s.rSeq, s.rOff = seg.seq, 0
			}
			s.rSet = false
			f, err := os.Open(seg.path)
			if err != nil {
				s.skipCorrupt(seg, idx)
				continue
			}
			s.r = f
			if !resume {
				var magic [len(segmentMagic)]byte
				if _, err := io.ReadFull(f, magic[:]); err != nil || string(magic[:]) != segmentMagic {
					s.skipCorrupt(seg, idx)
					continue
				}
				s.rOff = int64(len(segmentMagic))
			}
		}
		if s.rOff >= seg.size {
			if isWrite {
				return nil, false
			}
			s.mu.Lock()
			s.ahead++
			s.mu.Unlock()
			continue
		}
		p, err := s.readRecord(seg.size)
		if err != nil {
			s.skipCorrupt(seg, idx)
			continue
		}
		return p, true
	}
}

func (s *segLog) readRecord(limit int64) ([]byte, error) {
	if limit-s.rOff < recordHeaderSize {
		return nil, errShortRecord
	}
	var h [recordHeaderSize]byte
	if _, err := s.r.ReadAt(h[:], s.rOff); err != nil {
		return nil, err
	}
	n := int64(binary.LittleEndian.Uint32(h[0:4]))
	sum := binary.LittleEndian.Uint32(h[4:8])
	if n > maxRecordSize || s.rOff+recordHeaderSize+n > limit {
		return nil, errShortRecord
	}
	if int64(cap(s.rBuf)) < n {
		s.rBuf = make([]byte, n)
	}
	p := s.rBuf[:n]
	if _, err := s.r.ReadAt(p, s.rOff+recordHeaderSize); err != nil {
		return nil, err
	}
	if crc32.Checksum(p, crcTable) != sum {
		return nil, errors.New("spill record checksum mismatch")
	}
	s.rOff += recordHeaderSize + n
	return p, nil
}

// skipCorrupt gives up on the rest of segment idx: a damaged record can't
// be resynchronised in a length-prefixed stream.
func (s *segLog) skipCorrupt(seg segment, idx int) {
	lost := seg.size - s.rOff
	if lost < 0 {
		lost = 0
	}
	s.corrupt.Add(lost)
	s.mu.Lock()
	if idx == len(s.segs)-1 && s.w != nil {
		// Never happens for records this process wrote; seal it anyway so
		// new records land in a fresh segment.
		s.closeWriteLocked(true)
	}
	s.segs[idx].size = s.rOff
	s.ahead++
	s.mu.Unlock()
}

// commit records that everything read so far is stored: fully read
// segments are deleted, and when the reader has caught up completely the
// segLog goes inactive so that new batches take the memory path again.
func (s *segLog) commit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.ahead > 0 {
		s.removeLocked(0)
		s.ahead--
	}
	if len(s.segs) == 1 && s.rSeq == s.segs[0].seq && s.r != nil && s.rOff >= s.segs[0].size {
		s.closeWriteLocked(false)
		s.removeLocked(0)
	}
	if len(s.segs) == 0 {
		s.active = false
	}
}

func (s *segLog) removeLocked(i int) {
	seg := s.segs[i]
	if s.r != nil && s.rSeq == seg.seq {
		_ = s.r.Close()
		s.r = nil
	}
	_ = os.Remove(seg.path)
	s.budget.release(seg.disk)
	s.backlog.Add(-seg.disk)
	s.segs = append(s.segs[:i], s.segs[i+1:]...)
}

// close seals the write segment and closes the reader; the files stay for
// the next run.
func (s *segLog) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeWriteLocked(true)
	if s.r != nil {
		_ = s.r.Close()
		s.r = nil
	}
}

// ReadDir calls fn with the payload of every readable record a log left
// in dir, oldest first, changing nothing there but removing empty
// segments (and creating dir if absent): a look at what a
// stopped (or crashed) process left for its next start. The payload is
// valid during the call.
func ReadDir(dir string, fn func(payload []byte)) error {
	s, err := openLog(dir, NewBudget(0), 1)
	if err != nil {
		return err
	}
	defer s.close()
	for {
		p, ok := s.readNext()
		if !ok {
			return nil
		}
		fn(p)
	}
}
