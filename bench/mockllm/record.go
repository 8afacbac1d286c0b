package mockllm

import (
	"strings"

	"github.com/valyala/fasthttp"
)

// Header is one request header line as received: original name case,
// original order, repeated names kept.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Recorded is a copy of one received request.
type Recorded struct {
	Index   int      `json:"index"`  // 0-based arrival order, as passed to OnEvent
	Method  string   `json:"method"` // e.g. "POST"
	URI     string   `json:"uri"`    // request target as received: path and query
	Headers []Header `json:"headers"`
	Body    []byte   `json:"body"`
}

// Header returns the value of the first header called name (any case).
func (r *Recorded) Header(name string) (string, bool) {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// Values returns the values of every header called name (any case), in order.
func (r *Recorded) Values(name string) []string {
	var vs []string
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			vs = append(vs, h.Value)
		}
	}
	return vs
}

func newRecorded(idx int, ctx *fasthttp.RequestCtx, raw []byte) Recorded {
	r := Recorded{
		Index:  idx,
		Method: string(ctx.Method()),
		URI:    string(ctx.Request.Header.RequestURI()),
		Body:   append([]byte(nil), ctx.PostBody()...),
	}
	for len(raw) > 0 {
		var name, value []byte
		name, value, raw = nextRawHeader(raw)
		if len(name) > 0 {
			r.Headers = append(r.Headers, Header{Name: string(name), Value: string(value)})
		}
	}
	return r
}

func (s *Server) record(r Recorded) {
	s.recMu.Lock()
	if len(s.recs) < s.cfg.MaxRecorded {
		s.recs = append(s.recs, r)
	} else {
		s.recs[s.recNext] = r
		s.recNext = (s.recNext + 1) % len(s.recs)
	}
	s.recMu.Unlock()
}

// Requests returns copies of the recorded requests, oldest first: all of
// them, or the last Config.MaxRecorded.
func (s *Server) Requests() []Recorded {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	out := make([]Recorded, 0, len(s.recs))
	out = append(out, s.recs[s.recNext:]...)
	return append(out, s.recs[:s.recNext]...)
}

// LastRequest returns the most recently received request; ok is false when
// none was recorded.
func (s *Server) LastRequest() (r Recorded, ok bool) {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if len(s.recs) == 0 {
		return r, false
	}
	i := s.recNext - 1
	if i < 0 {
		i = len(s.recs) - 1
	}
	return s.recs[i], true
}

// ClearRequests forgets the recorded requests; counters are kept.
func (s *Server) ClearRequests() {
	s.recMu.Lock()
	s.recs, s.recNext = nil, 0
	s.recMu.Unlock()
}
