package sink

import (
	"encoding/hex"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/cylestio/perimeter/internal/sched"
)

// maxDateTime is the last second a ClickHouse DateTime (UInt32) can hold.
const maxDateTime = math.MaxUint32

// rowTime is an event's time as the table stores it, clamped to what
// DateTime can hold: seconds since the epoch, microseconds since the
// epoch, and the UTC day.
func rowTime(t time.Time) (sec int64, us uint64) {
	sec = t.Unix()
	switch {
	case sec < 0:
		return 0, 0
	case sec > maxDateTime:
		return maxDateTime, maxDateTime * 1e6
	}
	return sec, uint64(sec)*1e6 + uint64(t.Nanosecond()/1e3)
}

func rowStatus(s int) uint16 {
	if s < 0 || s > math.MaxUint16 {
		return 0
	}
	return uint16(s)
}

// rowFloat maps NaN and ±Inf to 0: neither text VALUES nor aggregates want
// them, and both engines must store the same thing.
func rowFloat(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// rowAttributes is the attributes JSON, "{}" when absent. It aliases the
// event's bytes instead of copying them (the largest field, copied again
// by the driver anyway): events are immutable once published, and the
// string lives only until the ColumnBatch is reset.
func rowAttributes(a []byte) string {
	if len(a) == 0 {
		return "{}"
	}
	return unsafe.String(unsafe.SliceData(a), len(a))
}

// ColumnBatch is a batch of events in column-major form, in InsertColumns
// order, with the Go types clickhouse-go's native batch API accepts. It is
// the only mapping from Event to columns for native inserts; AppendValues
// is the same mapping as text.
type ColumnBatch struct {
	ID               [][16]byte
	Date             []time.Time // UTC midnight of the event's day
	TS               []int64     // unix seconds (DateTime)
	TSMicro          []uint64    // unix microseconds
	Name             []string
	Level            []string
	TraceID          []string
	SpanID           []string
	SessionID        []string
	AgentID          []string
	Vendor           []string
	Model            []string
	Status           []uint16
	DurationMs       []float64
	InputTokens      []int64
	OutputTokens     []int64
	TotalTokens      []int64
	CachedTokens     []int64
	CacheWriteTokens []int64
	ToolName         []string
	FinishReason     []string
	ErrorType        []string
	ErrorMessage     []string
	RiskScore        []float32
	Attributes       []string
	Category         []string
	Rule             []string
	Severity         []string
	// CostUSD holds every row's cost, 0 where it has none; Priced says
	// which rows have one. Columns turns them into the Nullable column.
	CostUSD    []float64
	Priced     []bool
	CostStatus []string
	Tags       []string // see rowTags
	InstanceID []string
	costPtrs   []*float64
}

// Reset empties the batch, keeping its memory.
func (c *ColumnBatch) Reset() {
	c.ID = c.ID[:0]
	c.Date, c.TS, c.TSMicro = c.Date[:0], c.TS[:0], c.TSMicro[:0]
	c.Name, c.Level, c.TraceID, c.SpanID = c.Name[:0], c.Level[:0], c.TraceID[:0], c.SpanID[:0]
	c.SessionID, c.AgentID, c.Vendor, c.Model = c.SessionID[:0], c.AgentID[:0], c.Vendor[:0], c.Model[:0]
	c.Status, c.DurationMs = c.Status[:0], c.DurationMs[:0]
	c.InputTokens, c.OutputTokens, c.TotalTokens = c.InputTokens[:0], c.OutputTokens[:0], c.TotalTokens[:0]
	c.CachedTokens, c.CacheWriteTokens = c.CachedTokens[:0], c.CacheWriteTokens[:0]
	c.ToolName, c.FinishReason, c.ErrorType, c.ErrorMessage = c.ToolName[:0], c.FinishReason[:0], c.ErrorType[:0], c.ErrorMessage[:0]
	c.RiskScore, c.Attributes = c.RiskScore[:0], c.Attributes[:0]
	c.Category, c.Rule, c.Severity = c.Category[:0], c.Rule[:0], c.Severity[:0]
	c.CostUSD, c.Priced, c.CostStatus = c.CostUSD[:0], c.Priced[:0], c.CostStatus[:0]
	c.Tags = c.Tags[:0]
	c.InstanceID = c.InstanceID[:0]
	clear(c.costPtrs)
	c.costPtrs = c.costPtrs[:0]
}

// Len is the number of rows.
func (c *ColumnBatch) Len() int { return len(c.ID) }

// Append adds one event as a row.
func (c *ColumnBatch) Append(e *Event) {
	sec, us := rowTime(e.Time)
	c.ID = append(c.ID, e.ID)
	c.Date = append(c.Date, time.Unix(sec-sec%86400, 0).UTC())
	c.TS = append(c.TS, sec)
	c.TSMicro = append(c.TSMicro, us)
	c.Name = append(c.Name, e.Name)
	c.Level = append(c.Level, e.Level)
	c.TraceID = append(c.TraceID, e.TraceID)
	c.SpanID = append(c.SpanID, e.SpanID)
	c.SessionID = append(c.SessionID, e.SessionID)
	c.AgentID = append(c.AgentID, e.AgentID)
	c.Vendor = append(c.Vendor, e.Vendor)
	c.Model = append(c.Model, e.Model)
	c.Status = append(c.Status, rowStatus(e.Status))
	c.DurationMs = append(c.DurationMs, rowFloat(e.DurationMs))
	c.InputTokens = append(c.InputTokens, e.InputTokens)
	c.OutputTokens = append(c.OutputTokens, e.OutputTokens)
	c.TotalTokens = append(c.TotalTokens, e.TotalTokens)
	c.CachedTokens = append(c.CachedTokens, e.CachedTokens)
	c.CacheWriteTokens = append(c.CacheWriteTokens, e.CacheWrite)
	c.ToolName = append(c.ToolName, e.ToolName)
	c.FinishReason = append(c.FinishReason, e.FinishReason)
	c.ErrorType = append(c.ErrorType, e.ErrorType)
	c.ErrorMessage = append(c.ErrorMessage, e.ErrorMessage)
	c.RiskScore = append(c.RiskScore, float32(rowFloat(float64(e.RiskScore))))
	c.Attributes = append(c.Attributes, rowAttributes(e.Attributes))
	c.Category = append(c.Category, e.Category)
	c.Rule = append(c.Rule, e.Rule)
	c.Severity = append(c.Severity, e.Severity)
	priced := e.Priced()
	cost := 0.0
	if priced {
		cost = rowFloat(e.CostUSD)
	}
	c.CostUSD = append(c.CostUSD, cost)
	c.Priced = append(c.Priced, priced)
	c.CostStatus = append(c.CostStatus, e.CostStatus)
	c.Tags = append(c.Tags, rowTags(e))
	c.InstanceID = append(c.InstanceID, e.InstanceID)
}

// Columns returns the column slices in InsertColumns order. The UUID
// column is [][16]byte; a driver that wants its own UUID type converts it.
// The Nullable cost column is []*float64 (nil for NULL), pointing into
// CostUSD: call Columns after the last Append of a batch.
func (c *ColumnBatch) Columns() []any {
	c.costPtrs = c.costPtrs[:0]
	for i, ok := range c.Priced {
		var p *float64
		if ok {
			p = &c.CostUSD[i]
		}
		c.costPtrs = append(c.costPtrs, p)
	}
	return []any{
		c.ID, c.Date, c.TS, c.TSMicro,
		c.Name, c.Level, c.TraceID, c.SpanID, c.SessionID, c.AgentID,
		c.Vendor, c.Model, c.Status, c.DurationMs,
		c.InputTokens, c.OutputTokens, c.TotalTokens, c.CachedTokens, c.CacheWriteTokens,
		c.ToolName, c.FinishReason, c.ErrorType, c.ErrorMessage, c.RiskScore, c.Attributes,
		c.Category, c.Rule, c.Severity,
		c.costPtrs, c.CostStatus, c.Tags, c.InstanceID,
	}
}

// AppendUUID appends id in the canonical 8-4-4-4-12 text form, the form
// ClickHouse prints with toString(id).
func AppendUUID(dst []byte, id [16]byte) []byte {
	var buf [36]byte
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:36], id[10:16])
	return append(dst, buf[:]...)
}

// AppendValues appends the batch as VALUES tuples, "(…),(…)", in
// InsertColumns order, for engines that take SQL text (chDB) and for
// tests. Strings are escaped as Bind escapes them, so event content can
// never leave its literal. Prefix it with InsertPrefix(o) + " VALUES ".
func AppendValues(dst []byte, batch []*Event) []byte {
	var y sched.Yielder
	for i, e := range batch {
		y.Tick()
		if i > 0 {
			dst = append(dst, ',')
		}
		sec, us := rowTime(e.Time)
		dst = append(dst, "('"...)
		dst = AppendUUID(dst, e.ID)
		dst = append(dst, "','"...)
		dst = time.Unix(sec, 0).UTC().AppendFormat(dst, "2006-01-02")
		dst = append(dst, "',"...)
		dst = strconv.AppendInt(dst, sec, 10)
		dst = append(dst, ',')
		dst = strconv.AppendUint(dst, us, 10)
		for _, s := range [...]string{e.Name, e.Level, e.TraceID, e.SpanID, e.SessionID, e.AgentID, e.Vendor, e.Model} {
			dst = append(dst, ',')
			dst = appendQuoted(dst, s)
		}
		dst = append(dst, ',')
		dst = strconv.AppendUint(dst, uint64(rowStatus(e.Status)), 10)
		dst = append(dst, ',')
		dst = strconv.AppendFloat(dst, rowFloat(e.DurationMs), 'g', -1, 64)
		for _, n := range [...]int64{e.InputTokens, e.OutputTokens, e.TotalTokens, e.CachedTokens, e.CacheWrite} {
			dst = append(dst, ',')
			dst = strconv.AppendInt(dst, n, 10)
		}
		for _, s := range [...]string{e.ToolName, e.FinishReason, e.ErrorType, e.ErrorMessage} {
			dst = append(dst, ',')
			dst = appendQuoted(dst, s)
		}
		dst = append(dst, ',')
		dst = strconv.AppendFloat(dst, rowFloat(float64(e.RiskScore)), 'g', -1, 32)
		dst = append(dst, ',')
		if len(e.Attributes) == 0 {
			dst = append(dst, "'{}'"...)
		} else {
			dst = appendQuoted(dst, e.Attributes)
		}
		for _, s := range [...]string{e.Category, e.Rule, e.Severity} {
			dst = append(dst, ',')
			dst = appendQuoted(dst, s)
		}
		if e.Priced() {
			dst = append(dst, ',')
			dst = strconv.AppendFloat(dst, rowFloat(e.CostUSD), 'g', -1, 64)
		} else {
			dst = append(dst, ",NULL"...)
		}
		dst = append(dst, ',')
		dst = appendQuoted(dst, e.CostStatus)
		dst = append(dst, ',')
		dst = appendQuoted(dst, rowTags(e))
		dst = append(dst, ',')
		dst = appendQuoted(dst, e.InstanceID)
		dst = append(dst, ')')
	}
	return dst
}

// RenderInsert is a complete INSERT … VALUES statement for batch.
func RenderInsert(o SchemaOptions, batch []*Event) string {
	dst := make([]byte, 0, 256+len(batch)*512)
	dst = append(dst, InsertPrefix(o)...)
	dst = append(dst, " VALUES "...)
	return string(AppendValues(dst, batch))
}

// appendQuoted appends s as a single-quoted ClickHouse string literal:
// quotes and backslashes escaped, NUL as \0. Bind's quote uses it too.
func appendQuoted[T ~string | ~[]byte](dst []byte, s T) []byte {
	dst = append(dst, '\'')
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '\\':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', c)
			start = i + 1
		case 0:
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', '0')
			start = i + 1
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '\'')
}
