package stream

import "github.com/cylestio/perimeter/internal/ascii"

// EventEnd returns the length of the first complete event in b, including the
// blank line that ends it, or -1 when b holds no complete event yet.
//
// A lone CR at the very end of b is taken as a line end; the LF that may
// follow it in the next read then reads as an empty line, which ends an empty
// event that taps ignore.
func EventEnd(b []byte) int {
	lineStart := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\n' && c != '\r' {
			continue
		}
		next := i + 1
		if c == '\r' && next < len(b) && b[next] == '\n' {
			next++
		}
		if i == lineStart {
			return next
		}
		lineStart = next
		i = next - 1
	}
	return -1
}

// IsEventStream reports whether a Content-Type names an event stream
// (text/event-stream, any case, parameters allowed).
func IsEventStream(contentType []byte) bool {
	const es = "text/event-stream"
	return len(contentType) >= len(es) && ascii.EqualFold(contentType[:len(es)], es)
}

// ResumeAt returns where EventEnd may resume on b, an event not yet
// complete (EventEnd(b) < 0), once more bytes are appended to it, so that
// the search for an event's end stays linear in its size however many
// reads it takes to arrive (a tool call of megabytes on one line). Every
// line before the resume point is complete and not empty; the point itself
// is a line start (after an LF) or a byte of a non-empty line, which
// EventEnd reads as such. A CR at the very end may be the first half of a
// CRLF: the byte before it is read again.
func ResumeAt(b []byte) int {
	n := len(b)
	switch {
	case n == 0:
		return 0
	case b[n-1] == '\n':
		return n
	case b[n-1] == '\r':
		// Not at a line start: there it would have ended the event.
		return max(n-2, 0)
	}
	return n - 1
}

// Field is one line of an event: "name: value". Comment lines (starting with
// ':') are reported with an empty Name.
type Field struct {
	Name  []byte
	Value []byte
}

// Fields iterates over the lines of one event without allocating. The slices
// it returns alias the event.
type Fields struct {
	rest []byte
}

// NewFields starts iterating over ev.
func NewFields(ev []byte) Fields { return Fields{rest: ev} }

// Next returns the next non-empty line of the event as a field.
func (f *Fields) Next() (Field, bool) {
	for len(f.rest) > 0 {
		line := f.rest
		end := len(line)
		next := end
		for i, c := range line {
			if c == '\n' || c == '\r' {
				end = i
				next = i + 1
				if c == '\r' && next < len(line) && line[next] == '\n' {
					next++
				}
				break
			}
		}
		line = line[:end]
		f.rest = f.rest[next:]
		if len(line) == 0 {
			continue
		}
		if line[0] == ':' {
			return Field{Value: trimSpace1(line[1:])}, true
		}
		for i, c := range line {
			if c == ':' {
				return Field{Name: line[:i], Value: trimSpace1(line[i+1:])}, true
			}
		}
		return Field{Name: line}, true
	}
	return Field{}, false
}

func trimSpace1(b []byte) []byte {
	if len(b) > 0 && b[0] == ' ' {
		return b[1:]
	}
	return b
}

// Name returns the value of the event's "event" field, or nil when it has
// none (the spec's default type "message").
func Name(ev []byte) []byte {
	f := NewFields(ev)
	for {
		fld, ok := f.Next()
		if !ok {
			return nil
		}
		if string(fld.Name) == "event" {
			return fld.Value
		}
	}
}

// Data returns the event's data. When the event has exactly one data line
// the result aliases ev and nothing is allocated; several data lines are
// joined with '\n' into dst (which may be nil) as the spec says.
func Data(dst, ev []byte) []byte {
	f := NewFields(ev)
	var first []byte
	n := 0
	for {
		fld, ok := f.Next()
		if !ok {
			break
		}
		if string(fld.Name) != "data" {
			continue
		}
		switch n {
		case 0:
			first = fld.Value
		case 1:
			dst = append(dst[:0], first...)
			fallthrough
		default:
			dst = append(dst, '\n')
			dst = append(dst, fld.Value...)
		}
		n++
	}
	if n <= 1 {
		return first
	}
	return dst
}
