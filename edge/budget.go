package edge

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/valyala/fasthttp"
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

// hold takes n even past the limit: for memory already in hand (a decoded
// answer), so that the calls that follow see it.
func (a *account) hold(n int64) {
	if a.b.limit > 0 && n > 0 {
		a.b.used.Add(n)
		a.held += n
	}
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

// readBudgeted reads a buffered answer like fasthttp's ReadLimitBody and
// takes its body from the account a (nil: no budget): a Content-Length
// once, before the body is read; a chunked or close-delimited body as it
// is read, each read of ic taken from the budget first. The header is not
// charged: it is parsed in the connection's read buffer, not kept.
func readBudgeted(resp *fasthttp.Response, br *bufio.Reader, maxBody int, a *account, ic *idleConn) error {
	resp.ResetBody()
	if err := resp.Header.Read(br); err != nil {
		return err
	}
	for n := 0; interim(resp.Header.StatusCode()); n++ {
		if n >= maxInterim {
			return errTooManyInterim
		}
		if err := resp.Header.Read(br); err != nil {
			return err
		}
	}
	status := resp.Header.StatusCode()
	if resp.SkipBody || status < 200 || status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified {
		return nil
	}
	cl := resp.Header.ContentLength()
	if a != nil && a.b.limit > 0 {
		switch {
		case cl >= 0:
			if (maxBody <= 0 || cl <= maxBody) && !a.take(int64(cl)) {
				return errResponseBudget
			}
		case ic != nil:
			ic.acct = a
			defer func() { ic.acct = nil }()
		}
	}
	if err := resp.ReadBody(br, maxBody); err != nil {
		return stalled(err)
	}
	if cl == -1 { // chunked: trailers follow the last chunk
		if err := resp.Header.ReadTrailer(br); err != nil {
			if err == io.EOF {
				return errTrailerCut
			}
			return stalled(err)
		}
	}
	return nil
}

// interim reports whether status is an informational answer that another
// follows (101 ends the exchange).
func interim(status int) bool {
	return status >= 100 && status <= 199 && status != fasthttp.StatusSwitchingProtocols
}

// maxInterim bounds the informational answers before the final one, as
// fasthttp does.
const maxInterim = 100

var errTrailerCut = fmt.Errorf("the upstream's chunked answer ended inside its trailer: %w", io.ErrUnexpectedEOF)

var errTooManyInterim = errors.New("the upstream sent more than 100 informational (1xx) answers before its answer")

// answerStalled is a timeout within a buffered answer, after its header:
// the idle timeout (llm.stream_idle_timeout) fired, not the header timeout.
type answerStalled struct{ err error }

func (e *answerStalled) Error() string { return e.err.Error() }
func (e *answerStalled) Unwrap() error { return e.err }

func stalled(err error) error {
	if isTimeout(err) {
		return &answerStalled{err: err}
	}
	return err
}
