package files

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cylestio/perimeter/sink"
)

// SchemaVersion is the envelope's schema_version, as the original.
const SchemaVersion = "1.0"

// AppendEnvelope appends ev as the original's event JSON,
// members in its order: schema_version, timestamp (ISO 8601 with
// microseconds and +00:00), trace_id, span_id, name, level, agent_id,
// session_id (null when there is none) and attributes (an empty object
// when the event has none).
//
// The envelope is always one line, what a jsonl file needs: attributes
// holding a line break (an upstream's pretty-printed answer copied raw)
// are compacted, and, should they not be JSON, their line breaks become
// spaces.
func AppendEnvelope(dst []byte, ev *sink.Event) []byte {
	dst = append(dst, `{"schema_version":"`+SchemaVersion+`","timestamp":"`...)
	dst = appendISO(dst, ev.Time.UTC(), true)
	dst = append(dst, `","trace_id":`...)
	dst = appendString(dst, ev.TraceID)
	dst = append(dst, `,"span_id":`...)
	dst = appendString(dst, ev.SpanID)
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, ev.Name)
	dst = append(dst, `,"level":`...)
	level := ev.Level
	if level == "" {
		level = sink.LevelInfo
	}
	dst = appendString(dst, level)
	dst = append(dst, `,"agent_id":`...)
	dst = appendString(dst, ev.AgentID)
	dst = append(dst, `,"session_id":`...)
	dst = appendNullString(dst, ev.SessionID)
	dst = append(dst, `,"attributes":`...)
	if len(ev.Attributes) == 0 {
		dst = append(dst, "{}"...)
	} else {
		dst = appendOneLine(dst, ev.Attributes)
	}
	return append(dst, '}')
}

// appendOneLine appends the JSON value v without line breaks. A line
// break in valid JSON is whitespace between tokens (inside a string it
// must be escaped), so compacting removes them all and changes no value.
func appendOneLine(dst, v []byte) []byte {
	if !bytes.ContainsAny(v, "\r\n") {
		return append(dst, v...)
	}
	buf := bytes.NewBuffer(dst)
	if json.Compact(buf, v) == nil { // on error Compact writes nothing
		return buf.Bytes()
	}
	dst = buf.Bytes()
	for _, c := range v {
		if c == '\n' || c == '\r' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// appendISO appends t the way Python's datetime.isoformat() prints it:
// microseconds only when not zero, "+00:00" for an aware UTC time.
func appendISO(dst []byte, t time.Time, utcOffset bool) []byte {
	dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		dst = append(dst, '.')
		s := strconv.Itoa(us)
		for i := len(s); i < 6; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, s...)
	}
	if utcOffset {
		dst = append(dst, "+00:00"...)
	}
	return dst
}

func isoString(t time.Time, utcOffset bool) string {
	var b [40]byte
	return string(appendISO(b[:0], t, utcOffset))
}

// unixSeconds is Python's time.time(): seconds as a float.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixMicro()) / 1e6
}

func appendNullString(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendString(dst, s)
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// non-ASCII text is kept as is (the original wrote ensure_ascii=False).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				dst = append(dst, '\\', '"')
			case c == '\\':
				dst = append(dst, '\\', '\\')
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f:
				const hex = "0123456789abcdef"
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but not valid JavaScript: escape like encoding/json.
			dst = append(dst, `\u202`...)
			dst = append(dst, byte('8'+r-'\u2028'))
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
