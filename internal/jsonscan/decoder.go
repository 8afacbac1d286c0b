package jsonscan

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"unsafe"
)

// MaxDepth bounds nesting, as Python's json module (recursion limit) and
// encoding/json do; deeper documents are rejected, not overflowed.
const MaxDepth = 1000

// Errors a Decoder reports, wrapped in a *SyntaxError.
var (
	ErrInvalidJSON = errors.New("invalid JSON")
	ErrTooDeep     = errors.New("JSON nested too deeply")
)

// SyntaxError reports where a document stopped being JSON. It wraps
// ErrInvalidJSON or ErrTooDeep.
type SyntaxError struct {
	Offset int
	err    error
}

func (e *SyntaxError) Error() string {
	return e.err.Error() + " at offset " + strconv.Itoa(e.Offset)
}

func (e *SyntaxError) Unwrap() error { return e.err }

// Decoder is a cursor over one document. The first error is sticky: it
// moves the cursor to the end, so every loop over members or elements
// terminates, and every later read is a no-op returning a zero value.
// Callers read on and check Failed (or Err) once at the end.
//
// The zero Decoder is an empty document; Reset points it at another. A
// Decoder is not safe for concurrent use.
type Decoder struct {
	b     []byte
	i     int
	depth int
	err   error
	errAt int
	// kbuf holds the last decoded key that held escapes. It is allocated
	// on first use, not embedded: a key handed to a loop body then points
	// at the heap, so a Decoder on the stack stays there.
	kbuf *[maxKey]byte
}

// maxKey is the longest escaped member name Key decodes.
const maxKey = 64

// NewDecoder returns a Decoder at the start of the document b. Prefer it to
// Reset for a Decoder on the stack: the compiler sees that b stays where
// the Decoder is, so a document in a stack buffer stays there too (Reset
// stores b through a pointer, which makes b escape).
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// Reset points d at the document b, at its start, keeping d's key buffer:
// for a Decoder that is reused (pooled parsers). Reset(nil) drops the
// reference to the previous document.
func (d *Decoder) Reset(b []byte) {
	d.b, d.i, d.depth, d.err, d.errAt = b, 0, 0, nil, 0
}

// Fail records err (if no error is recorded yet) at the cursor and moves
// the cursor to the end.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err, d.errAt = err, d.i
	}
	d.i = len(d.b)
}

// Failed reports whether an error has been recorded.
func (d *Decoder) Failed() bool { return d.err != nil }

// Err returns the recorded error as a *SyntaxError, or nil.
func (d *Decoder) Err() error {
	if d.err == nil {
		return nil
	}
	return &SyntaxError{Offset: d.errAt, err: d.err}
}

func (d *Decoder) ws() {
	if d.i < len(d.b) && d.b[d.i] > ' ' {
		return
	}
	d.wsSlow()
}

func (d *Decoder) wsSlow() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// Peek skips white space and returns the first byte of the next value, 0
// at the end of the document.
func (d *Decoder) Peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// AtEnd skips white space and reports whether the document is exhausted.
func (d *Decoder) AtEnd() bool {
	d.ws()
	return d.i == len(d.b)
}

// End checks that nothing but white space follows the value just read.
func (d *Decoder) End() {
	if !d.AtEnd() {
		d.Fail(ErrInvalidJSON)
	}
}

// Expect consumes the byte c (after white space) or fails.
func (d *Decoder) Expect(c byte) bool {
	if d.Peek() != c {
		d.Fail(ErrInvalidJSON)
		return false
	}
	d.i++
	return true
}

// EnterObj enters the object at the cursor and reports whether it has a
// first member, whose name Key reads next; after each member's value,
// MoreObj says whether another follows. A value that is not an object is
// skipped and false returned (Failed tells it from {}).
func (d *Decoder) EnterObj() bool { return d.enter('{', '}') }

// EnterArr is EnterObj for arrays: true when the array has a first
// element; after each element, MoreArr says whether another follows.
func (d *Decoder) EnterArr() bool { return d.enter('[', ']') }

func (d *Decoder) enter(open, close byte) bool {
	if d.Peek() != open {
		d.Skip()
		return false
	}
	d.depth++
	if d.depth > MaxDepth {
		d.Fail(ErrTooDeep)
		return false
	}
	d.i++
	if d.Peek() == close {
		d.i++
		d.depth--
		return false
	}
	return true
}

// more consumes a comma and returns true, or the closing bracket and
// returns false.
func (d *Decoder) more(close byte) bool {
	c := d.Peek()
	if c == ',' {
		d.i++
		return true
	}
	if c == close {
		d.i++
		d.depth--
		return false
	}
	d.Fail(ErrInvalidJSON)
	return false
}

// MoreObj is called after each member's value: it consumes a comma and
// returns true, or the closing brace and returns false.
func (d *Decoder) MoreObj() bool { return d.more('}') }

// MoreArr is MoreObj for arrays.
func (d *Decoder) MoreArr() bool { return d.more(']') }

// Key reads a member name and its colon. The result aliases the document,
// or a buffer inside d (valid until the next Key) when the name holds
// escapes; names longer than 64 bytes holding escapes are returned still
// escaped, so compare them with Str.Equal if they matter.
func (d *Decoder) Key() []byte {
	if d.Peek() != '"' {
		d.Fail(ErrInvalidJSON)
		return nil
	}
	s := d.str()
	if d.Peek() != ':' {
		d.Fail(ErrInvalidJSON)
		return nil
	}
	d.i++
	if s.Escaped && len(s.Raw) <= maxKey {
		if d.kbuf == nil {
			d.kbuf = new([maxKey]byte)
		}
		return AppendUnescaped(d.kbuf[:0], s.Raw)
	}
	return s.Raw
}

// Str reads the string at the cursor, which must be one (Peek() == '"').
// Raw aliases the document.
func (d *Decoder) Str() Str {
	if d.Peek() != '"' {
		d.Fail(ErrInvalidJSON)
		return Str{}
	}
	return d.str()
}

// str reads the string whose opening quote is at the cursor.
func (d *Decoder) str() Str {
	start := d.i + 1
	end, esc := scanString(d.b, start)
	if end < 0 {
		d.Fail(ErrInvalidJSON)
		return Str{}
	}
	d.i = end + 1
	return Str{Raw: d.b[start:end:end], Escaped: esc}
}

// StrOrSkip reads a string value; any other value is skipped and the zero
// Str (Raw nil) returned.
func (d *Decoder) StrOrSkip() Str {
	if d.Peek() == '"' {
		return d.str()
	}
	d.Skip()
	return Str{}
}

// Raw skips the value at the cursor and returns its bytes (nil after an
// error).
func (d *Decoder) Raw() []byte {
	d.ws()
	start := d.i
	d.Skip()
	if d.err != nil {
		return nil
	}
	return d.b[start:d.i:d.i]
}

// Bool reads true or false; other values are skipped and reported as not
// a bool.
func (d *Decoder) Bool() (v, ok bool) {
	switch d.Peek() {
	case 't':
		d.Literal("true")
		return true, d.err == nil
	case 'f':
		d.Literal("false")
		return false, d.err == nil
	}
	d.Skip()
	return false, false
}

// Number reads a number and returns its bytes; other values are skipped
// (ok false).
func (d *Decoder) Number() (raw []byte, ok bool) {
	c := d.Peek()
	if c != '-' && (c < '0' || c > '9') {
		d.Skip()
		return nil, false
	}
	start := d.i
	d.skipNumber()
	if d.err != nil {
		return nil, false
	}
	return d.b[start:d.i:d.i], true
}

// Int reads an integer-valued number (1e3 and 100.0 count); other values
// are skipped (ok false).
func (d *Decoder) Int() (int64, bool) {
	raw, ok := d.Number()
	if !ok {
		return 0, false
	}
	return ParseInt(raw)
}

// Float reads a number as a float64; other values are skipped (ok false).
func (d *Decoder) Float() (float64, bool) {
	raw, ok := d.Number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(unsafe.String(&raw[0], len(raw)), 64)
	return f, err == nil
}

// ParseInt parses a JSON number holding an integer value (1e3 and 100.0
// count) without allocating.
func ParseInt(raw []byte) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	var n int64
	neg := false
	s := raw
	if s[0] == '-' {
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

// Literal consumes the literal lit (true, false or null) at the cursor,
// or fails.
func (d *Decoder) Literal(lit string) {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		d.Fail(ErrInvalidJSON)
		return
	}
	d.i += len(lit)
}

// IsNull consumes a null and reports whether the value was null; any
// other value is left in place.
func (d *Decoder) IsNull() bool {
	if d.Peek() == 'n' {
		d.Literal("null")
		return true
	}
	return false
}

// Skip skips one value, validating it.
func (d *Decoder) Skip() {
	switch c := d.Peek(); {
	case c == '"':
		end, _ := scanString(d.b, d.i+1)
		if end < 0 {
			d.Fail(ErrInvalidJSON)
			return
		}
		d.i = end + 1
	case c == '{':
		if d.EnterObj() {
			for {
				d.Key()
				d.Skip()
				if !d.MoreObj() {
					break
				}
			}
		}
	case c == '[':
		if d.EnterArr() {
			for {
				d.Skip()
				if !d.MoreArr() {
					break
				}
			}
		}
	case c == 't':
		d.Literal("true")
	case c == 'f':
		d.Literal("false")
	case c == 'n':
		d.Literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		d.skipNumber()
	default:
		d.Fail(ErrInvalidJSON)
	}
}

// skipNumber validates the JSON number grammar:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func (d *Decoder) skipNumber() {
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
		d.Fail(ErrInvalidJSON)
		return
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			d.i = i
			d.Fail(ErrInvalidJSON)
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
			d.Fail(ErrInvalidJSON)
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

// Mark skips white space and returns the offset of the next value, for
// Since.
func (d *Decoder) Mark() int {
	d.ws()
	return d.i
}

// Since returns the bytes of the value(s) read after Mark returned start,
// nil after an error.
func (d *Decoder) Since(start int) []byte {
	if d.err != nil || start > d.i {
		return nil
	}
	return d.b[start:d.i:d.i]
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

// escapeLen returns the length of the valid escape sequence at the start
// of b (b[0] == '\\'), or 0.
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

// Valid reports whether b is one JSON value (white space around it
// allowed), with encoding/json.Valid's rules, without allocating.
func Valid(b []byte) bool {
	d := NewDecoder(b)
	d.Skip()
	d.End()
	return d.err == nil
}
