package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// The SQL explorer's answers can be large, and a client that does not read
// one must not make the proxy hold it, or many of it, without bound. So an
// explorer request (POST /api/sql, or a POST /mcp that calls query_sql)
// passes a gate before it runs:
//
//   - it takes a turn on the explorer lane (Options.ExplorerLane), apart
//     from the pages' lane, so that explorer queries never queue a page;
//   - it reserves SQLMaxResultBytes of the global SQLResultBudget, held
//     until its answer has been written;
//   - the store cuts its result at SQLMaxResultBytes, a quarter of it for
//     MCP (sink.ExplorerQuerier), and once the result is in, the turn is
//     given back and the reservation shrinks to the result's size, four
//     times it for MCP, whose answer the SDK holds as the result, its JSON,
//     the same as text and the encoded message (an assistant has no use
//     for more than a few MiB of rows anyway);
//   - writing the answer must finish within SQLWriteTimeout.
//
// A full lane or an exhausted budget is a 503 with Retry-After.

// explorerTicket is one explorer request's turn and reservation; explore
// finds it in the context.
type explorerTicket struct {
	s       *Server
	rc      *http.ResponseController
	release func() // gives the lane's turn back
	weight  int64  // bytes of budget per byte of result: 1, mcpShare for MCP

	mu   sync.Mutex
	held int64
}

type ticketKey struct{}

// admitExplorer takes a turn and a reservation for one explorer request,
// or writes the 503 and returns nil.
func (s *Server) admitExplorer(w http.ResponseWriter, r *http.Request, weight int64) (*explorerTicket, *http.Request) {
	release, err := s.explorer.acquire(r.Context())
	if err != nil {
		s.refuse(w, err.(*apiError))
		return nil, r
	}
	hold := s.opts.SQLMaxResultBytes
	if !s.results.take(hold) {
		release()
		s.refuse(w, &apiError{status: http.StatusServiceUnavailable, retryAfter: explorerRetry,
			msg: "the SQL explorer is sending as many results as it may hold at once (" + sink.FormatBytes(s.opts.SQLResultBudget) + "): retry in a few seconds"})
		return nil, r
	}
	t := &explorerTicket{s: s, rc: http.NewResponseController(w), release: release, weight: weight, held: hold}
	// Until the result is in (explore tightens it), the deadline covers
	// the wait, the statement's checks and run, and the write.
	_ = t.rc.SetWriteDeadline(time.Now().Add(s.opts.ExplorerLane.Wait + 2*s.opts.SQLTimeout + s.opts.SQLWriteTimeout))
	return t, r.WithContext(context.WithValue(r.Context(), ticketKey{}, t))
}

// queried is called once the result is in: the turn goes back, the
// reservation shrinks to what the result holds, and the answer has
// SQLWriteTimeout to be written.
func (t *explorerTicket) queried(size int64) {
	t.release()
	t.mu.Lock()
	if n := t.weight * size; n < t.held {
		t.s.results.give(t.held - n)
		t.held = n
	}
	t.mu.Unlock()
	_ = t.rc.SetWriteDeadline(time.Now().Add(t.s.opts.SQLWriteTimeout))
}

// done ends the request: whatever is still buffered is flushed within the
// deadline, then the connection gets its deadline back (a keep-alive
// connection serves other requests) and the reservation is returned.
func (t *explorerTicket) done() {
	t.release()
	if t.rc.Flush() == nil {
		_ = t.rc.SetWriteDeadline(time.Time{})
	}
	t.mu.Lock()
	t.s.results.give(t.held)
	t.held = 0
	t.mu.Unlock()
}

// explorerRetry is the Retry-After of the explorer's 503s.
const explorerRetry = 5 * time.Second

// mcpShare: an MCP result may be a quarter of SQLMaxResultBytes and counts
// four times against the budget.
const mcpShare = 4

type mcpCallKey struct{}

// mcpCall marks ctx as query_sql's, for explore's smaller limit.
func mcpCall(ctx context.Context) context.Context { return context.WithValue(ctx, mcpCallKey{}, true) }

// gateSQL runs POST /api/sql through the explorer's gate.
func (s *Server) gateSQL(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, r := s.admitExplorer(w, r, 1)
		if t == nil {
			return
		}
		defer t.done()
		h(w, r)
	}
}

// refuse writes a busy error.
func (s *Server) refuse(w http.ResponseWriter, e *apiError) {
	setRetryAfter(w, e.retryAfter)
	writeJSON(w, e.status, map[string]any{"error": e.msg, "retry_after_seconds": retrySeconds(e.retryAfter)})
}

func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	if d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(d)))
	}
}

func retrySeconds(d time.Duration) int { return max(1, int((d+time.Second-1)/time.Second)) }

// explore runs a checked explorer statement: on the store's explorer lane
// when it has one (sink.ExplorerQuerier), with the result cut at
// SQLMaxResultBytes; Rows.Truncated says when it was. runSQL calls it,
// once per request, for the statement it has checked.
func (s *Server) explore(ctx context.Context, query string) (*sink.Rows, error) {
	if s.opts.Store == nil {
		return nil, errUnavailable
	}
	maxBytes := s.opts.SQLMaxResultBytes
	if ctx.Value(mcpCallKey{}) != nil {
		maxBytes /= mcpShare
	}
	var rows *sink.Rows
	var err error
	if eq, ok := s.opts.Store.(sink.ExplorerQuerier); ok {
		rows, err = eq.QueryExplorer(ctx, query, maxBytes)
	} else {
		rows, err = s.opts.Store.Query(ctx, query)
	}
	var size int64
	if err == nil {
		size = cutResult(rows, maxBytes)
	}
	if t, ok := ctx.Value(ticketKey{}).(*explorerTicket); ok {
		t.queried(size)
	}
	return rows, err
}

// cutResult drops the rows past maxBytes (sink.RowSize summed), for stores
// that do not cut themselves, and returns the size of what is left.
func cutResult(rows *sink.Rows, maxBytes int64) int64 {
	var size int64
	for i, r := range rows.Data {
		n := sink.RowSize(r)
		if size+n > maxBytes {
			rows.Data = rows.Data[:i:i]
			if rows.Truncated == "" {
				rows.Truncated = sink.TruncatedReason(maxBytes)
			}
			break
		}
		size += n
	}
	return size
}

// callsQuerySQL counts the query_sql calls in a JSON-RPC message or batch.
func callsQuerySQL(body []byte) int {
	type call struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	var calls []call
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		_ = json.Unmarshal(body, &calls)
	} else {
		calls = make([]call, 1)
		_ = json.Unmarshal(body, &calls[0])
	}
	n := 0
	for _, c := range calls {
		if c.Method == "tools/call" && c.Params.Name == "query_sql" {
			n++
		}
	}
	return n
}

// rowsAnswer is an answer whose rows writeJSON writes one at a time
// instead of encoding the whole answer in memory first: a large explorer
// result then costs its rows and a 64 KiB buffer, not a second, encoded
// copy (and the encoder's growing buffer) besides.
type rowsAnswer interface {
	// streamRows points at the answer's "rows" field.
	streamRows() *[][]any
}

func (r *SQLResponse) streamRows() *[][]any { return &r.Rows }

// rowsKey is how the rows' field starts in an encoded answer whose rows
// are empty. Nothing before it can contain it: a quote inside a JSON
// string is escaped.
const rowsKey = `"rows":[]`

// writeRows encodes the answer without its rows, and writes it with the
// rows, one encoded at a time, spliced in.
func writeRows(w http.ResponseWriter, status int, ra rowsAnswer) {
	p := ra.streamRows()
	rows := *p
	*p = [][]any{}
	head, err := json.Marshal(ra)
	*p = rows
	i := bytes.Index(head, []byte(rowsKey))
	if err != nil || i < 0 {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "encode answer: the answer has no rows field"})
		return
	}
	w.WriteHeader(status)
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head[:i+len(rowsKey)-1])
	enc := json.NewEncoder(bw)
	for n, row := range rows {
		if n > 0 {
			bw.WriteByte(',')
		}
		if enc.Encode(row) != nil {
			// A value JSON cannot carry: say null rather than send a
			// broken document.
			bw.WriteString("null")
		}
	}
	bw.Write(head[i+len(rowsKey)-1:])
	bw.WriteByte('\n')
	_ = bw.Flush()
}
