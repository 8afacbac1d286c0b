package sink

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/sched"
)

// TestAppendNativeLayout reads a block back: the counts, then every
// InsertColumns column with its portable type and exactly its rows' bytes.
// (sink/chdb's TestRealNativeInsertMatchesValues checks the values against
// the engine.)
func TestAppendNativeLayout(t *testing.T) {
	var cb ColumnBatch
	unpriced := fullEvent()
	unpriced.CostStatus = CostUnpriced
	for _, e := range []*Event{fullEvent(), unpriced, {Time: time.Unix(86400*3+5, 0)}} {
		cb.Append(e)
	}
	b := AppendNative(nil, &cb)
	uv := func() uint64 {
		n, k := binary.Uvarint(b)
		if k <= 0 {
			t.Fatal("truncated varint")
		}
		b = b[k:]
		return n
	}
	str := func() string {
		n := uv()
		s := string(b[:n])
		b = b[n:]
		return s
	}
	if nc, nr := uv(), uv(); nc != uint64(len(eventColumns)) || nr != 3 {
		t.Fatalf("block of %d columns, %d rows", nc, nr)
	}
	width := map[string]int{"UUID": 16, "Date": 2, "DateTime": 4, "UInt64": 8, "Int64": 8, "UInt16": 2, "Float64": 8, "Float32": 4, "Nullable(Float64)": 9}
	for _, c := range eventColumns {
		if name, typ := str(), str(); name != c.name || typ != c.typ {
			t.Fatalf("column %s %s, want %s %s", name, typ, c.name, c.typ)
		}
		switch c.name {
		case "date":
			if d := binary.LittleEndian.Uint16(b[4:]); d != 3 {
				t.Fatalf("third row's date is day %d, want 3", d)
			}
		case "cost_usd":
			if got := b[:3]; got[0] != 0 || got[1] != 1 || got[2] != 1 {
				t.Fatalf("null map %v, want priced, unpriced, none", got)
			}
			if f := math.Float64frombits(binary.LittleEndian.Uint64(b[3:])); f != 0.000125 {
				t.Fatalf("cost %v", f)
			}
		}
		if c.typ == "String" {
			for range 3 {
				str()
			}
			continue
		}
		w, ok := width[c.typ]
		if !ok {
			t.Fatalf("no width for %s", c.typ)
		}
		b = b[3*w:]
	}
	if len(b) != 0 {
		t.Fatalf("%d bytes after the last column", len(b))
	}
}

func TestAppendNativeRefusesMismatch(t *testing.T) {
	if _, err := appendNativeColumn(nil, "UInt16", []string{"x"}, new(sched.Yielder)); err == nil {
		t.Fatal("a string column encoded as UInt16")
	}
	if _, err := appendNativeColumn(nil, "LowCardinality(String)", []string{"x"}, new(sched.Yielder)); err == nil {
		t.Fatal("a LowCardinality type accepted: the block must carry the portable type")
	}
}
