package loadgen

import (
	"bytes"
	"fmt"
	"strings"
)

// MaxNumberedWorkers bounds the workers a Numbered source serves.
const MaxNumberedWorkers = 4096

// Numbered sends one request whose counter field changes on every request:
// each worker has its own copy of the bytes, and the counter is written
// over the field in place, so no two requests of a run are alike (a server
// that remembers what it saw gains nothing) and nothing is allocated per
// request. Build it with NewNumbered.
type Numbered struct {
	req   []byte
	at    int // offset of the counter field
	width int
	// copies[w] is worker w's request, made on its first request (only
	// worker w's goroutine touches it).
	copies [MaxNumberedWorkers][]byte
}

// NewNumbered returns a source of req with the first occurrence of field,
// a run of '0's, as a fixed-width decimal counter: request seq of worker w
// carries seq×MaxNumberedWorkers + w + 1 (modulo 10^len(field)), so the
// requests' length never changes.
func NewNumbered(req []byte, field string) (*Numbered, error) {
	if field == "" || strings.Trim(field, "0") != "" {
		return nil, fmt.Errorf("loadgen: counter field %q must be a run of '0's", field)
	}
	at := bytes.Index(req, []byte(field))
	if at < 0 {
		return nil, fmt.Errorf("loadgen: counter field %q is not in the request", field)
	}
	return &Numbered{req: req, at: at, width: len(field)}, nil
}

// Request implements Requests. worker must be below MaxNumberedWorkers.
func (n *Numbered) Request(worker int, seq uint64) []byte {
	b := n.copies[worker]
	if b == nil {
		b = bytes.Clone(n.req)
		n.copies[worker] = b
	}
	v := seq*MaxNumberedWorkers + uint64(worker) + 1
	for i := n.at + n.width - 1; i >= n.at; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}
