package suite

import (
	"strconv"
	"strings"
	"time"

	"github.com/cylestio/perimeter/bench/loadgen"
	"github.com/cylestio/perimeter/bench/report"
)

// Scenario is one workload.
type Scenario struct {
	Name  string
	Title string
	Kind  string // report.KindRate, KindMax or KindStreams

	Stream     bool
	Chunks     int           // SSE content chunks (x-mock-chunks)
	ChunkDelay time.Duration // pause between SSE events (x-mock-chunk-delay)

	Rate  float64 // KindRate: requests per second
	Conns int     // KindRate: connection pool; KindMax: connections
	Steps []int   // KindStreams: open streams after each step

	// Requests, when set, supplies the requests instead of the default
	// chat completion: the hook for a sessions scenario (multi-turn
	// conversations, one per connection, each request carrying the whole
	// history so far) or any other body mix.
	Requests func(hostport string) loadgen.Requests
}

// requests returns the request source aimed at hostport: by default the
// chat completion with a new ticket number in every request, so that each
// request is a one-turn conversation the proxy has not seen (a memo of
// what was scanned before never flatters the figures).
func (s *Scenario) requests(hostport string) loadgen.Requests {
	if s.Requests != nil {
		return s.Requests(hostport)
	}
	n, err := loadgen.NewNumbered(ChatRequest(hostport, s.Stream, s.Chunks, s.ChunkDelay), TicketField)
	if err != nil {
		panic(err) // ChatRequest holds the field
	}
	return n
}

// TicketField is the fixed-width counter in ChatRequest's user message.
const TicketField = "000000000000"

// maxOpen is the most streams the scenario holds open at once.
func (s *Scenario) maxOpen() int {
	if len(s.Steps) == 0 {
		return 0
	}
	return s.Steps[len(s.Steps)-1]
}

// ChatRequest is an OpenAI chat completion request of about 1 KB, as an
// agent would send it, with the mock's controls for the answer's shape;
// its user message ends with a ticket number (TicketField) that the
// scenarios change on every request.
func ChatRequest(hostport string, stream bool, chunks int, delay time.Duration) []byte {
	var body strings.Builder
	body.WriteString(`{"model":"gpt-4o-mini",`)
	if stream {
		body.WriteString(`"stream":true,"stream_options":{"include_usage":true},`)
	}
	body.WriteString(`"messages":[{"role":"system","content":"You are a careful assistant for an operations team. Answer briefly, cite the runbook section you rely on, and never invent command output. If a question needs data you do not have, say which data and where to find it."},`)
	body.WriteString(`{"role":"user","content":"Our checkout service started returning 502s at 09:14 UTC after a config push. The load balancer health checks are green, the upstream pods report ready, and the error rate is about 3 percent of requests, concentrated on the payment-confirmation path. Recent changes: a new TLS certificate on the internal gateway, a bump of the connection pool size from 64 to 256, and a log level change. What should I check first, and what would each finding tell me? Keep it to five steps. Ticket ` + TicketField + `."}],`)
	body.WriteString(`"temperature":0.2,"max_tokens":512,"user":"bench-agent-7"}`)
	var b strings.Builder
	b.WriteString("POST /v1/chat/completions HTTP/1.1\r\nHost: ")
	b.WriteString(hostport)
	b.WriteString("\r\nContent-Type: application/json\r\nAccept: application/json\r\nAuthorization: Bearer sk-bench-not-a-real-key\r\nUser-Agent: perimeter-bench/1\r\n")
	if stream {
		b.WriteString("x-mock-chunks: " + strconv.Itoa(chunks) + "\r\n")
		if delay > 0 {
			b.WriteString("x-mock-chunk-delay: " + delay.String() + "\r\n")
		}
	} else {
		b.WriteString("x-mock-body-size: 1024\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(body.Len()) + "\r\n\r\n")
	b.WriteString(body.String())
	return []byte(b.String())
}

// Full is the scenario set of make bench.
func Full() []Scenario {
	return []Scenario{
		{Name: "json-1k", Title: "JSON at 1,000 req/s", Kind: report.KindRate, Rate: 1000, Conns: 64},
		{Name: "json-5k", Title: "JSON at 5,000 req/s", Kind: report.KindRate, Rate: 5000, Conns: 128},
		{Name: "json-max", Title: "JSON at saturation", Kind: report.KindMax, Conns: 64},
		{Name: "sse-rate", Title: "SSE at 200 streams/s", Kind: report.KindRate, Rate: 200, Conns: 256, Stream: true, Chunks: 20, ChunkDelay: 5 * time.Millisecond},
		{Name: "sse-max", Title: "SSE at saturation", Kind: report.KindMax, Conns: 64, Stream: true, Chunks: 20},
		{Name: "streams-2000", Title: "2,000 open slow streams", Kind: report.KindStreams, Stream: true, Chunks: 200, ChunkDelay: 100 * time.Millisecond,
			Steps: []int{250, 500, 1000, 1500, 2000}},
	}
}

// Quick is the shorter set of make bench-quick.
func Quick() []Scenario {
	return []Scenario{
		{Name: "json-5k", Title: "JSON at 5,000 req/s", Kind: report.KindRate, Rate: 5000, Conns: 128},
		{Name: "json-max", Title: "JSON at saturation", Kind: report.KindMax, Conns: 64},
		{Name: "sse-rate", Title: "SSE at 200 streams/s", Kind: report.KindRate, Rate: 200, Conns: 256, Stream: true, Chunks: 20, ChunkDelay: 5 * time.Millisecond},
		{Name: "sse-max", Title: "SSE at saturation", Kind: report.KindMax, Conns: 64, Stream: true, Chunks: 20},
		{Name: "streams-500", Title: "500 open slow streams", Kind: report.KindStreams, Stream: true, Chunks: 200, ChunkDelay: 100 * time.Millisecond,
			Steps: []int{250, 500}},
	}
}

// Select keeps the scenarios named in names (comma-separated); empty keeps
// all. Unknown names are returned.
func Select(all []Scenario, names string) ([]Scenario, []string) {
	if strings.TrimSpace(names) == "" {
		return all, nil
	}
	var out []Scenario
	var unknown []string
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, s := range all {
			if s.Name == n {
				out = append(out, s)
				found = true
			}
		}
		if !found && n != "" {
			unknown = append(unknown, n)
		}
	}
	return out, unknown
}
