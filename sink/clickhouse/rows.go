package clickhouse

import (
	"fmt"
	"math/big"
	"net"
	"reflect"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cylestio/perimeter/sink"
)

// readRows reads a result into memory with sink.Rows' value types: int64,
// uint64, float64, string, bool, time.Time, nil, and []any for arrays and
// tuples (map columns become map[string]any). More than limit rows is an
// error; past maxBytes (sink.RowSize summed, 0 = none) it stops reading
// and says so in Rows.Truncated.
func readRows(rows driver.Rows, limit int, maxBytes int64) (*sink.Rows, error) {
	cts := rows.ColumnTypes()
	out := &sink.Rows{Columns: rows.Columns(), Types: make([]string, len(cts))}
	dest := make([]any, len(cts))
	var size int64
	for i, ct := range cts {
		out.Types[i] = ct.DatabaseTypeName()
		dest[i] = reflect.New(ct.ScanType()).Interface()
	}
	for rows.Next() {
		if len(out.Data) >= limit {
			return nil, fmt.Errorf("result has more than %d rows (add a LIMIT)", limit)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			row[i] = normalize(reflect.ValueOf(d).Elem())
		}
		if maxBytes > 0 {
			if size += sink.RowSize(row); size > maxBytes {
				out.Truncated = sink.TruncatedReason(maxBytes)
				// Close reads the rest of the stream, a block at a time,
				// and drops it.
				break
			}
		}
		out.Data = append(out.Data, row)
	}
	return out, rows.Err()
}

func normalize(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch x := v.Interface().(type) {
	case time.Time:
		return x
	case uuid.UUID:
		return x.String()
	case decimal.Decimal:
		return x.InexactFloat64()
	case *big.Int:
		if x == nil {
			return nil
		}
		return x.String()
	case big.Int:
		return x.String()
	case net.IP:
		return x.String()
	case []byte:
		return string(x)
	case fmt.Stringer:
		if v.Kind() == reflect.Struct {
			return x.String()
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return normalize(v.Elem())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = normalize(v.Index(i))
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			out[fmt.Sprint(normalize(it.Key()))] = normalize(it.Value())
		}
		return out
	}
	return fmt.Sprint(v.Interface())
}
