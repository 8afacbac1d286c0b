package sink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// A spilled batch is one record payload:
//
//	version byte (1)
//	created      varint unix nanoseconds (when the batch was formed; for lag)
//	count        uvarint
//	count events, each:
//	  id [16]byte, time as varint seconds + uvarint nanoseconds,
//	  name level trace_id span_id session_id agent_id vendor model (uvarint length + bytes),
//	  status varint, duration_ms 8 bytes (IEEE 754, little endian),
//	  input output total cached cache_write tokens varint,
//	  tool_name finish_reason error_type error_message (uvarint length + bytes),
//	  risk_score 4 bytes, attributes (uvarint length+1, 0 meaning nil, + bytes),
//	  version 2 on: category rule severity (uvarint length + bytes)
//	  version 3 on: cache_write_1h reasoning tokens varint, cut byte,
//	    cost_usd 8 bytes, cost_status (uvarint length + bytes)
//	  version 4 on: instance_id (uvarint length + bytes)
//
// Version 1, 2 and 3 records (written before the finding, the cost and
// the instance columns) still decode; their events have no instance id.
// The decoder treats the payload as untrusted: every length is checked
// against what is left, so a damaged record is an error, never a panic or
// an oversized allocation.

const batchCodecVersion = 4

// minEncodedEvent is the fewest bytes one event can take, bounding count.
const minEncodedEvent = 16 + 2 + 8 + 1 + 8 + 5 + 4 + 4 + 1

var errShortRecord = errors.New("spill record truncated")

func encodeBatch(dst []byte, created time.Time, events []*Event) []byte {
	dst = append(dst, batchCodecVersion)
	dst = binary.AppendVarint(dst, created.UnixNano())
	dst = binary.AppendUvarint(dst, uint64(len(events)))
	for _, e := range events {
		dst = append(dst, e.ID[:]...)
		dst = binary.AppendVarint(dst, e.Time.Unix())
		dst = binary.AppendUvarint(dst, uint64(e.Time.Nanosecond()))
		for _, s := range [...]string{e.Name, e.Level, e.TraceID, e.SpanID, e.SessionID, e.AgentID, e.Vendor, e.Model} {
			dst = appendString(dst, s)
		}
		dst = binary.AppendVarint(dst, int64(e.Status))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(e.DurationMs))
		for _, n := range [...]int64{e.InputTokens, e.OutputTokens, e.TotalTokens, e.CachedTokens, e.CacheWrite} {
			dst = binary.AppendVarint(dst, n)
		}
		for _, s := range [...]string{e.ToolName, e.FinishReason, e.ErrorType, e.ErrorMessage} {
			dst = appendString(dst, s)
		}
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(e.RiskScore))
		if e.Attributes == nil {
			dst = binary.AppendUvarint(dst, 0)
		} else {
			dst = binary.AppendUvarint(dst, uint64(len(e.Attributes))+1)
			dst = append(dst, e.Attributes...)
		}
		for _, s := range [...]string{e.Category, e.Rule, e.Severity} {
			dst = appendString(dst, s)
		}
		dst = binary.AppendVarint(dst, e.CacheWrite1h)
		dst = binary.AppendVarint(dst, e.ReasoningTokens)
		cut := byte(0)
		if e.Cut {
			cut = 1
		}
		dst = append(dst, cut)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(e.CostUSD))
		dst = appendString(dst, e.CostStatus)
		dst = appendString(dst, e.InstanceID)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder reads a payload front to back. str is the whole payload as one
// string, so decoded strings are substrings of a single allocation.
type decoder struct {
	b   []byte
	str string
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShortRecord)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errShortRecord)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail(errShortRecord)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	b := d.bytes(d.uvarint())
	if len(b) == 0 {
		return ""
	}
	off := len(d.str) - len(d.b) - len(b)
	return d.str[off : off+len(b)]
}

// decodeBatch parses a payload written by encodeBatch. Nothing aliases
// payload; the events share three allocations (the Event structs, one copy
// of the payload for strings and one for attributes), which live as long as
// any of them does.
func decodeBatch(payload []byte) (created time.Time, events []*Event, err error) {
	if len(payload) == 0 {
		return time.Time{}, nil, errShortRecord
	}
	version := payload[0]
	if version < 1 || version > batchCodecVersion {
		return time.Time{}, nil, fmt.Errorf("spill record version %d, want 1..%d", payload[0], batchCodecVersion)
	}
	d := decoder{b: payload, str: string(payload)}
	d.b = d.b[1:]
	created = time.Unix(0, d.varint()).UTC()
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/minEncodedEvent) {
		return time.Time{}, nil, fmt.Errorf("spill record claims %d events in %d bytes", n, len(d.b))
	}
	events = make([]*Event, 0, n)
	backing := make([]Event, n)
	var raw []byte // attributes alias a copy of the payload
	for i := uint64(0); i < n && d.err == nil; i++ {
		e := &backing[i]
		copy(e.ID[:], d.bytes(16))
		sec := d.varint()
		nsec := d.uvarint()
		if nsec >= 1e9 {
			d.fail(fmt.Errorf("spill record: nanoseconds %d out of range", nsec))
		}
		e.Time = time.Unix(sec, int64(nsec)).UTC()
		e.Name, e.Level, e.TraceID, e.SpanID = d.string(), d.string(), d.string(), d.string()
		e.SessionID, e.AgentID, e.Vendor, e.Model = d.string(), d.string(), d.string(), d.string()
		status := d.varint()
		if status < math.MinInt32 || status > math.MaxInt32 {
			d.fail(fmt.Errorf("spill record: status %d out of range", status))
		}
		e.Status = int(status)
		if b := d.bytes(8); b != nil {
			e.DurationMs = math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		e.InputTokens, e.OutputTokens, e.TotalTokens = d.varint(), d.varint(), d.varint()
		e.CachedTokens, e.CacheWrite = d.varint(), d.varint()
		e.ToolName, e.FinishReason, e.ErrorType, e.ErrorMessage = d.string(), d.string(), d.string(), d.string()
		if b := d.bytes(4); b != nil {
			e.RiskScore = math.Float32frombits(binary.LittleEndian.Uint32(b))
		}
		if a := d.uvarint(); a > 0 {
			if b := d.bytes(a - 1); d.err == nil {
				if raw == nil {
					raw = append([]byte(nil), payload...)
				}
				off := len(payload) - len(d.b) - len(b)
				e.Attributes = raw[off : off+len(b) : off+len(b)]
			}
		}
		if version >= 2 {
			e.Category, e.Rule, e.Severity = d.string(), d.string(), d.string()
		}
		if version >= 3 {
			e.CacheWrite1h, e.ReasoningTokens = d.varint(), d.varint()
			switch b := d.bytes(1); {
			case b == nil:
			case b[0] > 1:
				d.fail(fmt.Errorf("spill record: cut flag %d", b[0]))
			default:
				e.Cut = b[0] == 1
			}
			if b := d.bytes(8); b != nil {
				e.CostUSD = math.Float64frombits(binary.LittleEndian.Uint64(b))
			}
			e.CostStatus = d.string()
		}
		if version >= 4 {
			e.InstanceID = d.string()
		}
		events = append(events, e)
	}
	if d.err != nil {
		return time.Time{}, nil, d.err
	}
	if len(d.b) != 0 {
		return time.Time{}, nil, fmt.Errorf("spill record: %d trailing bytes", len(d.b))
	}
	return created, events, nil
}
