package provider

import "github.com/cylestio/perimeter/internal/jsonscan"

// Str is a piece of text as it appears in a body: the bytes of a JSON
// string between its quotes (Escaped tells whether they hold escape
// sequences), or plain text. Raw is nil when the value is absent; Append,
// Equal and String decode. See jsonscan.Str for the whole contract, and the
// package doc for how long Raw stays valid.
type Str = jsonscan.Str
