package sink

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/cylestio/perimeter/internal/sched"
)

// AppendNative appends the batch as one block of ClickHouse's Native
// format (without block info, as the Native input format reads it): the
// column and row counts, then each column of InsertColumns with its name,
// its portable type (String for a LowCardinality column: the engine
// converts on insert) and its values. The engine copies fixed-width values
// and strings into its columns without parsing text, so this costs it far
// less per row than VALUES; the embedded store sends it through chDB's
// streaming INSERT.
//
// It is built from ColumnBatch.Columns, the one mapping from Event to
// columns, so a column added there and in the schema is encoded here too;
// a column whose Go type does not fit its ClickHouse type panics (a test
// covers every column).
func AppendNative(dst []byte, c *ColumnBatch) []byte {
	cols := c.Columns()
	if len(cols) != len(eventColumns) {
		panic(fmt.Sprintf("sink: ColumnBatch has %d columns, the events table %d", len(cols), len(eventColumns)))
	}
	rows := c.Len()
	dst = binary.AppendUvarint(dst, uint64(len(cols)))
	dst = binary.AppendUvarint(dst, uint64(rows))
	var y sched.Yielder
	for i, col := range cols {
		y.Tick()
		ec := eventColumns[i]
		dst = appendNativeString(dst, ec.name)
		dst = appendNativeString(dst, ec.typ)
		var err error
		if dst, err = appendNativeColumn(dst, ec.typ, col, &y); err != nil {
			panic(fmt.Sprintf("sink: native column %s: %v", ec.name, err))
		}
	}
	return dst
}

func appendNativeString[T ~string | ~[]byte](dst []byte, s T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendNativeColumn appends one column's values in typ's binary layout.
// Strings (kilobytes each in the attributes column) tick y every 64.
func appendNativeColumn(dst []byte, typ string, col any, y *sched.Yielder) ([]byte, error) {
	le := binary.LittleEndian
	switch v := col.(type) {
	case [][16]byte:
		if typ != "UUID" {
			break
		}
		// A UUID is two little-endian UInt64s, the high half first.
		for _, id := range v {
			dst = le.AppendUint64(dst, binary.BigEndian.Uint64(id[0:8]))
			dst = le.AppendUint64(dst, binary.BigEndian.Uint64(id[8:16]))
		}
		return dst, nil
	case []time.Time:
		if typ != "Date" {
			break
		}
		for _, t := range v {
			days := t.Unix() / 86400
			dst = le.AppendUint16(dst, uint16(min(max(days, 0), math.MaxUint16)))
		}
		return dst, nil
	case []int64:
		switch typ {
		case "DateTime":
			for _, n := range v {
				dst = le.AppendUint32(dst, uint32(min(max(n, 0), maxDateTime)))
			}
			return dst, nil
		case "Int64":
			for _, n := range v {
				dst = le.AppendUint64(dst, uint64(n))
			}
			return dst, nil
		}
	case []uint64:
		if typ != "UInt64" {
			break
		}
		for _, n := range v {
			dst = le.AppendUint64(dst, n)
		}
		return dst, nil
	case []uint16:
		if typ != "UInt16" {
			break
		}
		for _, n := range v {
			dst = le.AppendUint16(dst, n)
		}
		return dst, nil
	case []float64:
		if typ != "Float64" {
			break
		}
		for _, f := range v {
			dst = le.AppendUint64(dst, math.Float64bits(f))
		}
		return dst, nil
	case []float32:
		if typ != "Float32" {
			break
		}
		for _, f := range v {
			dst = le.AppendUint32(dst, math.Float32bits(f))
		}
		return dst, nil
	case []string:
		if typ != "String" {
			break
		}
		for i, s := range v {
			if i&63 == 63 {
				y.Tick()
			}
			dst = appendNativeString(dst, s)
		}
		return dst, nil
	case []*float64:
		if typ != "Nullable(Float64)" {
			break
		}
		// The null map, then a value for every row (0 under NULL).
		for _, p := range v {
			if p == nil {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		}
		for _, p := range v {
			f := 0.0
			if p != nil {
				f = *p
			}
			dst = le.AppendUint64(dst, math.Float64bits(f))
		}
		return dst, nil
	}
	return dst, fmt.Errorf("no Native encoding of %T as %s", col, typ)
}
