package provider

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"unsafe"
)

// The scanner: one forward pass over a JSON document that validates every
// byte (as encoding/json.Valid does) while the parsers above pick the few
// members they need. Nothing is decoded unless asked: strings come back as
// spans of the input plus a flag telling whether they hold escapes.

// maxDepth bounds nesting, as Python's json module (recursion limit) and
// encoding/json do; deeper documents are rejected, not overflowed.
const maxDepth = 1000

// Errors returned by the parsers. A body that is not valid JSON gets
// ErrInvalidJSON (wrapped with the offset); valid JSON that is not an object
// gets ErrNotObject.
var (
	ErrInvalidJSON = errors.New("provider: invalid JSON")
	ErrNotObject   = errors.New("provider: JSON body is not an object")
	ErrTooDeep     = errors.New("provider: JSON nested too deeply")
)

// SyntaxError reports where a body stopped being JSON. It wraps
// ErrInvalidJSON (or ErrTooDeep).
type SyntaxError struct {
	Offset int
	err    error
}

func (e *SyntaxError) Error() string {
	return e.err.Error() + " at offset " + strconv.Itoa(e.Offset)
}

func (e *SyntaxError) Unwrap() error { return e.err }

// dec is a cursor over one document. The first error is sticky: it moves
// the cursor to the end so every loop above terminates, and every later
// call is a no-op.
type dec struct {
	b     []byte
	i     int
	depth int
	err   error
	errAt int
	kbuf  [64]byte // decoded object keys that hold escapes
}

func (d *dec) reset(b []byte) {
	d.b, d.i, d.depth, d.err, d.errAt = b, 0, 0, nil, 0
}

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err, d.errAt = err, d.i
	}
	d.i = len(d.b)
}

// error returns the sticky error as a *SyntaxError, or nil.
func (d *dec) error() error {
	if d.err == nil {
		return nil
	}
	return &SyntaxError{Offset: d.errAt, err: d.err}
}

func (d *dec) ws() {
	if d.i < len(d.b) && d.b[d.i] > ' ' {
		return
	}
	d.wsSlow()
}

func (d *dec) wsSlow() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the first byte of the next value, 0 at the end.
func (d *dec) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// end checks that nothing but white space follows the top-level value.
func (d *dec) end() {
	d.ws()
	if d.i != len(d.b) {
		d.fail(ErrInvalidJSON)
	}
}

// enterObj enters the object at the cursor and reports whether it has a
// first member, whose key key() reads next. A value that is not an object
// is skipped and false returned; check d.err to tell it from {}.
func (d *dec) enterObj() bool { return d.enter('{', '}') }

// enterArr is enterObj for arrays: true when the array has a first element.
func (d *dec) enterArr() bool { return d.enter('[', ']') }

func (d *dec) enter(open, close byte) bool {
	if d.peek() != open {
		d.skip()
		return false
	}
	d.depth++
	if d.depth > maxDepth {
		d.fail(ErrTooDeep)
		return false
	}
	d.i++
	if d.peek() == close {
		d.i++
		d.depth--
		return false
	}
	return true
}

// more is called after each member or element: it consumes a comma and
// returns true, or the closing bracket and returns false.
func (d *dec) more(close byte) bool {
	c := d.peek()
	if c == ',' {
		d.i++
		return true
	}
	if c == close {
		d.i++
		d.depth--
		return false
	}
	d.fail(ErrInvalidJSON)
	return false
}

func (d *dec) moreObj() bool { return d.more('}') }
func (d *dec) moreArr() bool { return d.more(']') }

// key reads a member name and its colon. The result aliases the input, or
// d.kbuf when the name holds escapes (long escaped names are returned raw:
// they match no name the parsers look for).
func (d *dec) key() []byte {
	if d.peek() != '"' {
		d.fail(ErrInvalidJSON)
		return nil
	}
	s := d.str()
	if d.peek() != ':' {
		d.fail(ErrInvalidJSON)
		return nil
	}
	d.i++
	if s.Escaped && len(s.Raw) <= len(d.kbuf) {
		return appendUnescaped(d.kbuf[:0], s.Raw)
	}
	return s.Raw
}

// str reads the string at the cursor (which must be '"').
func (d *dec) str() Str {
	start := d.i + 1
	end, esc := scanString(d.b, start)
	if end < 0 {
		d.fail(ErrInvalidJSON)
		return Str{}
	}
	d.i = end + 1
	return Str{Raw: d.b[start:end:end], Escaped: esc}
}

// strOrSkip reads a string value; any other value is skipped and the zero
// Str (Raw nil) returned.
func (d *dec) strOrSkip() Str {
	if d.peek() == '"' {
		return d.str()
	}
	d.skip()
	return Str{}
}

// raw skips the value at the cursor and returns its bytes.
func (d *dec) raw() []byte {
	d.ws()
	start := d.i
	d.skip()
	if d.err != nil {
		return nil
	}
	return d.b[start:d.i:d.i]
}

// boolean reads true or false; other values are skipped and reported as
// not a bool.
func (d *dec) boolean() (v, ok bool) {
	switch d.peek() {
	case 't':
		d.literal("true")
		return true, d.err == nil
	case 'f':
		d.literal("false")
		return false, d.err == nil
	}
	d.skip()
	return false, false
}

// number reads a number; other values are skipped (ok false).
func (d *dec) number() (raw []byte, ok bool) {
	c := d.peek()
	if c != '-' && (c < '0' || c > '9') {
		d.skip()
		return nil, false
	}
	start := d.i
	d.skipNumber()
	if d.err != nil {
		return nil, false
	}
	return d.b[start:d.i:d.i], true
}

// int reads an integer-valued number (1e3 and 100.0 count).
func (d *dec) int() (int64, bool) {
	raw, ok := d.number()
	if !ok {
		return 0, false
	}
	return parseInt(raw)
}

func (d *dec) float() (float64, bool) {
	raw, ok := d.number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(unsafe.String(&raw[0], len(raw)), 64)
	return f, err == nil
}

// parseInt parses a JSON number holding an integer value.
func parseInt(raw []byte) (int64, bool) {
	var n int64
	neg := false
	s := raw
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) > 0 && len(s) <= 18 {
		simple := true
		for _, c := range s {
			if c < '0' || c > '9' {
				simple = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if simple {
			if neg {
				n = -n
			}
			return n, true
		}
	}
	f, err := strconv.ParseFloat(unsafe.String(&raw[0], len(raw)), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

func (d *dec) literal(lit string) {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		d.fail(ErrInvalidJSON)
		return
	}
	d.i += len(lit)
}

// isNull consumes a null and reports whether the value was null; any other
// value is left in place.
func (d *dec) isNull() bool {
	if d.peek() == 'n' {
		d.literal("null")
		return true
	}
	return false
}

// skip skips one value, validating it.
func (d *dec) skip() {
	switch c := d.peek(); {
	case c == '"':
		end, _ := scanString(d.b, d.i+1)
		if end < 0 {
			d.fail(ErrInvalidJSON)
			return
		}
		d.i = end + 1
	case c == '{':
		if d.enterObj() {
			for {
				d.key()
				d.skip()
				if !d.moreObj() {
					break
				}
			}
		}
	case c == '[':
		if d.enterArr() {
			for {
				d.skip()
				if !d.moreArr() {
					break
				}
			}
		}
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		d.skipNumber()
	default:
		d.fail(ErrInvalidJSON)
	}
}

// skipNumber validates the JSON number grammar:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func (d *dec) skipNumber() {
	b, i := d.b, d.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		d.fail(ErrInvalidJSON)
		return
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			d.i = i
			d.fail(ErrInvalidJSON)
			return
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			d.i = i
			d.fail(ErrInvalidJSON)
			return
		}
		i = j
	}
	d.i = i
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// scanString finds the closing quote of the string whose body starts at
// b[i]. It returns the quote's index and whether the body holds escape
// sequences, or -1 when the string is unterminated, holds a raw control
// character or a malformed escape. Eight bytes are tested at a time: LLM
// bodies are mostly long strings.
func scanString(b []byte, i int) (int, bool) {
	// Member names and short values end within a few bytes: a plain loop
	// finds their quote before the word-at-a-time loop would have started.
	for n := min(len(b), i+16); i < n; i++ {
		c := b[i]
		if c == '"' {
			return i, false
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	esc := false
	for {
		for len(b)-i >= 8 {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (lsb * '"')
			s := x ^ (lsb * '\\')
			m := ((q - lsb) &^ q) | ((s - lsb) &^ s) | ((x - lsb*0x20) &^ x)
			if m&msb == 0 {
				i += 8
				continue
			}
			// The lowest flagged byte is exact; higher ones may be borrows.
			i += bits.TrailingZeros64(m&msb) >> 3
			break
		}
		if i >= len(b) {
			return -1, esc
		}
		c := b[i]
		switch {
		case c == '"':
			return i, esc
		case c == '\\':
			esc = true
			n := escapeLen(b[i:])
			if n == 0 {
				return -1, esc
			}
			i += n
		case c < 0x20:
			return -1, esc
		default:
			i++
		}
	}
}

// escapeLen returns the length of the valid escape sequence at the start of
// b (b[0] == '\\'), or 0.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) < 6 {
			return 0
		}
		for _, c := range b[2:6] {
			if unhex(c) < 0 {
				return 0
			}
		}
		return 6
	}
	return 0
}

func unhex(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// mark skips white space and returns the start of the next value, for since.
func (d *dec) mark() int {
	d.ws()
	return d.i
}

// since returns the bytes of the value(s) read after mark returned start,
// nil after an error.
func (d *dec) since(start int) []byte {
	if d.err != nil || start > d.i {
		return nil
	}
	return d.b[start:d.i:d.i]
}

// Valid reports whether b is one JSON value (white space around it
// allowed), with encoding/json.Valid's rules, without allocating: for
// instance to tell whether a tool call's arguments parse, as the original
// does before falling back to {"raw_arguments": …}.
func Valid(b []byte) bool {
	var d dec
	d.reset(b)
	d.skip()
	d.end()
	return d.err == nil
}
