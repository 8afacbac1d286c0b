package edge

import (
	"errors"
	"sync/atomic"
)

// budget is a byte budget shared by all requests: request bodies being held
// (server.max_inflight_body_bytes) or buffered upstream answers
// (llm.max_buffered_response_bytes). Taking is one atomic add; a request
// that cannot take what it needs is answered 503 at once instead of
// growing the heap.
type budget struct {
	limit int64 // <= 0: unlimited
	used  atomic.Int64
}

func (b *budget) take(n int64) bool {
	if b.limit <= 0 || n <= 0 {
		return true
	}
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *budget) give(n int64) {
	if b.limit > 0 && n > 0 {
		b.used.Add(-n)
	}
}

// account is what one exchange holds of a budget.
type account struct {
	b    *budget
	held int64
}

func (a *account) take(n int64) bool {
	if !a.b.take(n) {
		return false
	}
	a.held += n
	return true
}

func (a *account) release() {
	a.b.give(a.held)
	a.held = 0
}

// errResponseBudget fails an upstream read that would take the buffered
// answers past llm.max_buffered_response_bytes.
var errResponseBudget = errors.New("buffered answers in flight would exceed llm.max_buffered_response_bytes")

// responseAccountKey is the upstream request's user value that points to
// its exchange's account of buffered answer bytes (read by framedTransport).
var responseAccountKey = &struct{ name string }{"response account"}
