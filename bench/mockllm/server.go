package mockllm

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// Server is one mock provider. All its methods are safe for concurrent use.
type Server struct {
	cfg Config
	srv *fasthttp.Server
	tag [8]byte // per-server prefix that keeps ids unique across servers

	defaultModels [apiMessages + 1][]byte // JSON string tokens, per api

	step      chan struct{}
	closing   chan struct{}
	closeOnce sync.Once

	seq          atomic.Int64
	streams      atomic.Int64
	active       atomic.Int64
	aborted      atomic.Int64
	hangsAborted atomic.Int64

	recMu   sync.Mutex
	recs    []Recorded // ring of the last cfg.MaxRecorded requests
	recNext int
}

// New returns a Server for cfg. It serves nothing until Serve is called or
// its Handler is mounted elsewhere.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:     cfg,
		step:    make(chan struct{}),
		closing: make(chan struct{}),
	}
	for a := range s.defaultModels {
		s.defaultModels[a] = defaultModelToken(cfg.Model, api(a))
	}
	t := uint64(time.Now().UnixNano())
	for i := range s.tag {
		s.tag[i] = hexDigits[(t>>(4*i))&0xf]
	}
	logger := cfg.Logger
	if logger == nil {
		logger = discardLogger{}
	}
	s.srv = &fasthttp.Server{
		Handler:                      s.handle,
		Name:                         "mockllm",
		ReadBufferSize:               16 << 10, // LLM clients send large headers now and then
		MaxRequestBodySize:           64 << 20, // long conversations are big
		NoDefaultContentType:         true,
		CloseOnShutdown:              true,
		Logger:                       logger,
		DisablePreParseMultipartForm: true,
		// Keep header names as written: recorded requests show the case the
		// client sent and answers use the providers' lowercase names.
		DisableHeaderNamesNormalizing: true,
	}
	return s
}

// Start serves a new Server on 127.0.0.1 at a free port and returns it with
// its base URL ("http://127.0.0.1:PORT"). Close it when done.
func Start(cfg Config) (*Server, string, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	s := New(cfg)
	go s.Serve(ln) //nolint:errcheck // Serve returns nil after Close
	return s, "http://" + ln.Addr().String(), nil
}

// StartInmemory serves a new Server on an in-memory listener, for benchmarks
// and tests that want no sockets; dial it with ln.Dial. Close the Server when
// done (that also closes ln).
func StartInmemory(cfg Config) (*Server, *fasthttputil.InmemoryListener) {
	ln := fasthttputil.NewInmemoryListener()
	s := New(cfg)
	go s.Serve(ln) //nolint:errcheck // Serve returns nil after Close
	return s, ln
}

// Handler returns the request handler, to mount in another fasthttp server.
func (s *Server) Handler() fasthttp.RequestHandler { return s.handle }

// Serve accepts connections on ln until Close.
func (s *Server) Serve(ln net.Listener) error { return s.srv.Serve(ln) }

// Close ends hangs, gated and delayed streams (streams in flight are cut,
// not counted as aborted), closes the listeners and connections, and waits
// up to five seconds for connections to finish.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.ShutdownWithContext(ctx)
}

// Step returns the gate of x-mock-step streams: every send releases one
// event of one waiting gated stream (which one is unspecified when several
// wait). A send blocks until a gated stream is waiting.
func (s *Server) Step() chan<- struct{} { return s.step }

// RequestCount returns how many requests the server has received.
func (s *Server) RequestCount() int { return int(s.seq.Load()) }

// StreamsStarted returns how many SSE bodies the server has begun.
func (s *Server) StreamsStarted() int { return int(s.streams.Load()) }

// ActiveStreams returns how many SSE bodies are being written now.
func (s *Server) ActiveStreams() int { return int(s.active.Load()) }

// StreamsAborted returns how many SSE bodies ended early because the peer
// went away: a write or flush failed, or the peer closed the connection while
// the stream waited for its delay or gate.
func (s *Server) StreamsAborted() int { return int(s.aborted.Load()) }

// HangsAborted returns how many x-mock-hang waits ended early because the
// peer closed the connection.
func (s *Server) HangsAborted() int { return int(s.hangsAborted.Load()) }
