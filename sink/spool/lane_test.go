package spool

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
)

// tb is a test batch: its payload is its name.
type tb string

func (b tb) Len() int       { return 1 }
func (b tb) Record() []byte { return []byte(b) }

// record is b's whole sealed record, as the pipeline's batcher builds it.
func record(b tb) []byte {
	rec := append(make([]byte, HeaderSize), b...)
	Seal(rec)
	return rec
}

type drops map[Reason]int

func openLane(t *testing.T, cfg Config[tb]) (*Lane[tb], drops) {
	t.Helper()
	d := drops{}
	cfg.Drop = func(r Reason, n int, _ error) { d[r] += n }
	cfg.Decode = func(p []byte) (tb, error) { return tb(p), nil }
	if cfg.SegmentBytes == 0 {
		cfg.SegmentBytes = 1 << 20
	}
	l, err := Open[tb](cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l, d
}

func push(l *Lane[tb], names ...string) {
	for _, n := range names {
		l.Push(tb(n), record(tb(n)))
	}
}

// takeAll empties the memory queue.
func takeAll(l *Lane[tb]) (got []string) {
	for {
		select {
		case b := <-l.Queue():
			got = append(got, string(b))
		default:
			return got
		}
	}
}

// readAll reads the log's backlog and commits it.
func readAll(l *Lane[tb]) (got []string) {
	group, _, _ := l.ReadBack(1 << 30)
	for _, b := range group {
		got = append(got, string(b))
	}
	l.Commit()
	return got
}

func onDisk(t *testing.T, dir string) (got []string) {
	t.Helper()
	if err := ReadDir(dir, func(p []byte) { got = append(got, string(p)) }); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLaneWithoutLogDropsWhatItCannotQueue(t *testing.T) {
	l, d := openLane(t, Config[tb]{Queue: 2})
	push(l, "a", "b", "c")
	if d[DropQueueFull] != 1 || l.Depth() != 2 || l.Backlog() {
		t.Fatalf("drops %v, depth %d, backlog %v; want c dropped for a full queue", d, l.Depth(), l.Backlog())
	}
	if spilled, _ := l.Spill([]tb{"a"}); spilled {
		t.Fatal("a lane without a log spilled")
	}
	if closed := l.Evacuate([]tb{"x"}); closed || d[DropShutdown] != 3 || l.Depth() != 0 {
		t.Fatalf("Evacuate: closed %v, drops %v, depth %d; want x, a and b dropped at shutdown", closed, d, l.Depth())
	}
	l.CloseQueue()
	if closed := l.Evacuate(nil); !closed {
		t.Fatal("Evacuate did not report the closed queue")
	}
}

// TestLaneKeepsOrderAcrossTheLog: a full queue sends batches to the log,
// and while the log holds a backlog new batches follow them there, so the
// writer reads everything in push order; once the log is read and
// committed, batches take the memory path again.
func TestLaneKeepsOrderAcrossTheLog(t *testing.T) {
	l, d := openLane(t, Config[tb]{Queue: 2, Dir: t.TempDir(), Budget: NewBudget(1 << 20)})
	push(l, "1", "2", "3")
	if got := takeAll(l); !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Fatalf("queue %q", got)
	}
	push(l, "4") // the queue has room, but 3 waits on disk
	if l.Depth() != 0 || !l.Backlog() {
		t.Fatalf("depth %d, backlog %v: 4 overtook 3", l.Depth(), l.Backlog())
	}
	select {
	case <-l.Wake():
	default:
		t.Fatal("an append to the log did not wake the writer")
	}
	if got := readAll(l); !reflect.DeepEqual(got, []string{"3", "4"}) {
		t.Fatalf("log %q", got)
	}
	if l.Backlog() || l.BacklogBytes() != 0 || l.SpilledBytes() == 0 {
		t.Fatalf("after commit: backlog %v (%d bytes), spilled %d", l.Backlog(), l.BacklogBytes(), l.SpilledBytes())
	}
	push(l, "5")
	if got := takeAll(l); !reflect.DeepEqual(got, []string{"5"}) || len(d) != 0 {
		t.Fatalf("after catching up: queue %q, drops %v", got, d)
	}
}

// TestLaneSpillWaitsForAnEmptyLog: without durability a failing writer's
// batches go to the log only when it holds no backlog (else they would
// overtake it); then the rest of the queue follows, in order.
func TestLaneSpillWaitsForAnEmptyLog(t *testing.T) {
	l, _ := openLane(t, Config[tb]{Queue: 2, Dir: t.TempDir(), Budget: NewBudget(1 << 20)})
	push(l, "1", "2")
	first := <-l.Queue()
	if spilled, _ := l.Spill([]tb{first}); !spilled {
		t.Fatal("Spill refused with an empty log")
	}
	if l.Depth() != 0 || !l.Backlog() {
		t.Fatalf("depth %d, backlog %v: the queue did not follow", l.Depth(), l.Backlog())
	}
	push(l, "3")
	if spilled, _ := l.Spill([]tb{"x"}); spilled {
		t.Fatal("Spill went ahead of a backlog")
	}
	if got := readAll(l); !reflect.DeepEqual(got, []string{"1", "2", "3"}) {
		t.Fatalf("log %q", got)
	}
}

// TestLaneDurableLogsBeforeTheWriterSees: with durability a batch is on
// disk before it is in the queue; Stored lets the log drop the records
// of stored batches (a segment at a time: one record per segment here)
// and read on after them; a failing writer's Spill reads the rest back
// from the log (not appended twice), in order.
func TestLaneDurableLogsBeforeTheWriterSees(t *testing.T) {
	dir := t.TempDir()
	l, d := openLane(t, Config[tb]{Queue: 4, Dir: dir, Budget: NewBudget(1 << 20), Durable: true, SegmentBytes: 20})
	push(l, "a", "b", "c")
	if got := onDisk(t, dir); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("on disk before any write: %q", got)
	}
	<-l.Queue()
	<-l.Queue()
	l.Stored(2)
	if got := onDisk(t, dir); len(got) == 0 || got[0] == "a" || got[len(got)-1] != "c" {
		t.Fatalf("on disk after a and b were stored: %q; want a gone, c kept", got)
	}
	group := []tb{<-l.Queue()}
	if spilled, _ := l.Spill(group); !spilled || l.Depth() != 0 {
		t.Fatalf("durable Spill: spilled %v, depth %d", spilled, l.Depth())
	}
	push(l, "d")
	if got := readAll(l); !reflect.DeepEqual(got, []string{"c", "d"}) {
		t.Fatalf("read back %q, want c d once each", got)
	}
	if l.BacklogBytes() != 0 || len(onDisk(t, dir)) != 0 || len(d) != 0 {
		t.Fatalf("after commit: %d bytes, %q on disk, drops %v", l.BacklogBytes(), onDisk(t, dir), d)
	}
}

// TestLaneDurableFullQueueStaysInTheLog: a batch that finds the queue
// full is only in the log, and the batches after it follow it there.
func TestLaneDurableFullQueueStaysInTheLog(t *testing.T) {
	l, _ := openLane(t, Config[tb]{Queue: 1, Dir: t.TempDir(), Budget: NewBudget(1 << 20), Durable: true})
	push(l, "a", "b", "c")
	if got := takeAll(l); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("queue %q", got)
	}
	l.Stored(1)
	if got := readAll(l); !reflect.DeepEqual(got, []string{"b", "c"}) {
		t.Fatalf("log %q", got)
	}
}

// TestLaneBudget: what does not fit in the shared budget is dropped and
// counted; two lanes share one budget; a durable batch the log refuses
// still takes the memory path when there is room.
func TestLaneBudget(t *testing.T) {
	b := NewBudget(int64(len(segmentMagic)) + 2*(HeaderSize+8))
	one, d1 := openLane(t, Config[tb]{Queue: 1, Dir: filepath.Join(t.TempDir(), "one"), Budget: b})
	two, d2 := openLane(t, Config[tb]{Queue: 4, Dir: filepath.Join(t.TempDir(), "two"), Budget: b, Durable: true})
	push(one, "aaaaaaaa", "bbbbbbbb", "cccccccc", "dddddddd") // a queued, b and c logged, d over budget
	if d1[DropBudget] != 1 || b.Used() != int64(len(segmentMagic))+2*(HeaderSize+8) {
		t.Fatalf("drops %v, used %d", d1, b.Used())
	}
	push(two, "eeeeeeee")
	if d2[DropBudget] != 0 || two.Depth() != 1 {
		t.Fatalf("durable over budget: drops %v, depth %d; want e queued without a record", d2, two.Depth())
	}
	if got := fmt.Sprint(takeAll(one), readAll(one)); got != "[aaaaaaaa] [bbbbbbbb cccccccc]" {
		t.Fatalf("lane one: %s", got)
	}
	if b.Used() != 0 {
		t.Fatalf("budget still holds %d bytes after commit", b.Used())
	}
}

// TestLaneGather: a writer that fell behind takes what queued behind its
// first batch, up to a number of events, in order.
func TestLaneGather(t *testing.T) {
	l, _ := openLane(t, Config[tb]{Queue: 8})
	push(l, "1", "2", "3", "4")
	first := <-l.Queue()
	group, closed := l.Gather(first, 3)
	if fmt.Sprint(group) != "[1 2 3]" || closed || l.Depth() != 1 {
		t.Fatalf("Gather(3): %v closed %v, %d left", group, closed, l.Depth())
	}
	l.CloseQueue()
	group, closed = l.Gather(<-l.Queue(), 3)
	if fmt.Sprint(group) != "[4]" || !closed {
		t.Fatalf("Gather at the end: %v closed %v", group, closed)
	}
}

// TestLaneReadBackSkipsWhatDoesNotDecode: ReadBack stops at the event
// limit, and a record the caller cannot decode is skipped, counted as
// corrupt and reported, never returned.
func TestLaneReadBackSkipsWhatDoesNotDecode(t *testing.T) {
	d := drops{}
	l, err := Open[tb](Config[tb]{Queue: 1, Dir: t.TempDir(), Budget: NewBudget(1 << 20), SegmentBytes: 1 << 20,
		Drop: func(r Reason, n int, _ error) { d[r] += n },
		Decode: func(p []byte) (tb, error) {
			if string(p) == "bad" {
				return "", fmt.Errorf("undecodable")
			}
			return tb(p), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	push(l, "q", "a", "bad", "b", "c") // q queued, the rest logged
	<-l.Queue()
	group, n, err := l.ReadBack(2)
	if fmt.Sprint(group) != "[a b]" || err == nil || n != 2*(HeaderSize+1) || l.CorruptBytes() != HeaderSize+3 {
		t.Fatalf("ReadBack(2): %v, %d bytes, err %v, corrupt %d", group, n, err, l.CorruptBytes())
	}
	l.Commit()
	if !l.Backlog() {
		t.Fatal("c was committed unread")
	}
	if got := readAll(l); fmt.Sprint(got) != "[c]" || l.Backlog() {
		t.Fatalf("rest %v, backlog %v", got, l.Backlog())
	}
}

// TestLaneReadBackWaitsForTheQueue: the log's turn comes only once the
// queue is empty, whatever the writer saw before: a batch queued just
// before a newer one was logged must be written first.
func TestLaneReadBackWaitsForTheQueue(t *testing.T) {
	for _, durable := range []bool{false, true} {
		l, _ := openLane(t, Config[tb]{Queue: 1, Dir: t.TempDir(), Budget: NewBudget(1 << 20), Durable: durable})
		if l.ReadBackDue() {
			t.Fatal("an empty lane has a read back due")
		}
		push(l, "0", "1") // 0 queued, 1 logged behind it
		if !l.Backlog() || l.ReadBackDue() {
			t.Fatalf("durable %v: backlog %v, read back due %v with 0 still queued", durable, l.Backlog(), l.ReadBackDue())
		}
		<-l.Queue()
		l.Stored(1)
		if !l.ReadBackDue() {
			t.Fatalf("durable %v: no read back due once the queue is empty", durable)
		}
		if got := readAll(l); fmt.Sprint(got) != "[1]" || l.ReadBackDue() {
			t.Fatalf("durable %v: read back %v, due after %v", durable, got, l.ReadBackDue())
		}
	}
	if l, _ := openLane(t, Config[tb]{Queue: 1}); l.ReadBackDue() {
		t.Fatal("a lane without a log has a read back due")
	}
}
