package provider

import (
	"errors"

	"github.com/cylestio/perimeter/internal/jsonscan"
)

// The parsers read bodies with the shared JSON scanner (internal/jsonscan):
// one forward pass that validates every byte, as encoding/json.Valid does,
// while the parsers pick the few members they need.

// dec is the scanner's cursor; the parsers' loops use its primitives
// (EnterObj, Key, MoreObj…) directly, the cheapest way to walk a document.
type dec = jsonscan.Decoder

// Errors returned by the parsers. A body that is not valid JSON gets
// ErrInvalidJSON (wrapped with the offset in a *SyntaxError); valid JSON that
// is not an object gets ErrNotObject; nesting deeper than 1,000 levels gets
// ErrTooDeep.
var (
	ErrInvalidJSON = jsonscan.ErrInvalidJSON
	ErrNotObject   = errors.New("provider: JSON body is not an object")
	ErrTooDeep     = jsonscan.ErrTooDeep
)

// notObject reads a body whose value is not an object to its end and
// returns the error that says so: ErrNotObject when it is JSON, the
// syntax error when it is not.
func notObject(d *dec) error {
	d.Skip()
	d.End()
	if d.Failed() {
		return d.Err()
	}
	return ErrNotObject
}

// strAndRaw reads a value that should be a string: it returns the string
// (the zero Str when the value is of another type, which is skipped) and
// the value's JSON whatever its type, for callers that keep both.
func strAndRaw(d *dec) (Str, []byte) {
	start := d.Mark()
	s := d.StrOrSkip()
	return s, d.Since(start)
}

// SyntaxError reports where a body stopped being JSON. It wraps
// ErrInvalidJSON (or ErrTooDeep).
type SyntaxError = jsonscan.SyntaxError

// Valid reports whether b is one JSON value (white space around it
// allowed), with encoding/json.Valid's rules, without allocating: for
// instance to tell whether a tool call's arguments parse, as the original
// does before falling back to {"raw_arguments": …}.
func Valid(b []byte) bool { return jsonscan.Valid(b) }
