package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/fasthttp/router"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/internal/netlimit"
	"github.com/cylestio/perimeter/internal/rawio"
)

// Server is the proxy's HTTP server: admin routes plus the catch-all proxy.
type Server struct {
	proxy *Proxy
	srv   *fasthttp.Server
	log   zerolog.Logger
}

// NewServer builds the proxy and its fasthttp server.
func NewServer(o Options) (*Server, error) {
	p, err := NewProxy(o)
	if err != nil {
		return nil, err
	}
	s := &Server{proxy: p, log: p.opts.Logger}
	r := router.New()
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = false
	r.HandleOPTIONS = false
	r.GET("/health", s.health)
	r.GET("/metrics", s.metrics)
	r.GET("/metrics/prometheus", s.prometheus)
	r.GET("/config", s.config)
	r.NotFound = p.forward
	r.PanicHandler = s.panicked

	po := &p.opts
	s.srv = &fasthttp.Server{
		Handler:               r.Handler,
		ErrorHandler:          s.requestError,
		Name:                  "perimeter",
		NoDefaultServerHeader: true,
		NoDefaultDate:         true,
		NoDefaultContentType:  true,
		MaxRequestBodySize:    po.MaxRequestBodySize,
		// The handler reads bodies itself (body.go), within the in-flight
		// budget: fasthttp would allocate a body's full Content-Length
		// before its first byte arrived. Multipart bodies pass as sent.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  po.ReadTimeout,
		WriteTimeout:                 po.WriteIdleTimeout,
		IdleTimeout:                  po.IdleTimeout,
		CloseOnShutdown:              true,
		// The read buffer holds the whole request header, so its size is
		// the largest header accepted (Options.MaxRequestHeaderSize).
		ReadBufferSize: po.MaxRequestHeaderSize,
		Logger:         fasthttpLogger{s.log},
		// fasthttp's parse errors otherwise quote the raw request, headers
		// and credentials included.
		SecureErrorLogMessage: true,
	}
	return s, nil
}

// Proxy returns the server's proxy.
func (s *Server) Proxy() *Proxy { return s.proxy }

// Serve accepts connections on ln until Shutdown. Accept errors, such as
// running out of file descriptors, are waited out, never fatal; connections
// beyond MaxConnsPerServer or MaxConnsPerIP are answered 503 and closed
// (internal/netlimit). Client connections read and write with raw system
// calls (internal/rawio).
func (s *Server) Serve(ln net.Listener) error {
	po := &s.proxy.opts
	l := netlimit.Wrap(rawio.Listener{Listener: ln}, netlimit.Limits{
		MaxConns: po.MaxConnsPerServer, MaxConnsPerIP: po.MaxConnsPerIP, Name: "proxy",
		Reject: RejectAnswer(fasthttp.StatusServiceUnavailable, "connection_limit",
			"the proxy holds as many connections as it may (server.max_conns, server.max_conns_per_ip); retry later, reuse connections, or raise the limit"),
	}, s.log)
	s.proxy.listener.Store(l)
	return s.srv.Serve(l)
}

// Shutdown stops accepting connections and waits for in-flight requests and
// streams to finish until ctx ends; then it closes what is left.
//
// fasthttp also waits for connections that never sent a request, which it
// counts as idle only after 5 s (as net/http does); a client holding such
// a connection would hold Ctrl-C that long. So Shutdown also returns once no
// request has been in flight for shutdownQuiet: what is left open then
// carries no request and closes with the process.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.srv.ShutdownWithContext(ctx) }()
	tick := time.NewTicker(shutdownQuiet / 10)
	defer tick.Stop()
	var quietSince time.Time
	for {
		select {
		case err := <-done:
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return fmt.Errorf("graceful shutdown: %d requests still in flight at the deadline: %w",
					s.proxy.stats.inFlight.Load(), err)
			}
			return err
		case now := <-tick.C:
			switch {
			case s.proxy.stats.inFlight.Load() > 0:
				quietSince = time.Time{}
			case quietSince.IsZero():
				quietSince = now
			case now.Sub(quietSince) >= shutdownQuiet:
				return nil
			}
		}
	}
}

// shutdownQuiet is how long Shutdown waits with nothing in flight before it
// stops waiting for idle connections.
const shutdownQuiet = 500 * time.Millisecond

// InFlight is the number of requests being proxied now.
func (s *Server) InFlight() int64 { return s.proxy.stats.inFlight.Load() }

func (s *Server) health(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, map[string]any{"status": "healthy", "service": "llm-proxy", "version": s.proxy.opts.Version})
}

func (s *Server) config(ctx *fasthttp.RequestCtx) {
	var view any = map[string]any{}
	if f := s.proxy.opts.ConfigView; f != nil {
		view = f()
	}
	writeJSON(ctx, view)
}

func (s *Server) metrics(ctx *fasthttp.RequestCtx) {
	accept := string(ctx.Request.Header.Peek("Accept"))
	if strings.Contains(accept, "text/plain") || strings.Contains(accept, "openmetrics") {
		s.prometheus(ctx)
		return
	}
	writeJSON(ctx, s.proxy.Snapshot())
}

func (s *Server) prometheus(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	ctx.SetBody(s.proxy.appendPrometheus(nil))
}

// panicked answers a handler panic with 500; the process keeps serving.
func (s *Server) panicked(ctx *fasthttp.RequestCtx, v any) {
	s.proxy.stats.errors[errInternal].Add(1)
	s.log.Error().Interface("panic", v).Bytes("path", ctx.Path()).Msg("handler panicked; answered 500")
	writeError(ctx, errInternal, "the proxy hit an internal error handling this request; it was logged, please report it")
}

// requestError answers requests fasthttp could not read.
func (s *Server) requestError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		s.proxy.stats.errors[errRequestTooLarge].Add(1)
		writeError(ctx, errRequestTooLarge, fmt.Sprintf(
			"the request body exceeds server.max_request_body_size (%d bytes); send less or raise the limit", s.proxy.opts.MaxRequestBodySize))
		return
	}
	// The error may quote the request (headers, credentials): it is never
	// echoed, only classified.
	var small *fasthttp.ErrSmallBuffer
	if errors.As(err, &small) {
		s.proxy.stats.errors[errHeaderTooLarge].Add(1)
		writeError(ctx, errHeaderTooLarge, fmt.Sprintf(
			"the request line and headers exceed server.max_request_header_size (%d bytes); send smaller headers or raise the limit", s.proxy.opts.MaxRequestHeaderSize))
		return
	}
	s.proxy.stats.errors[errBadRequest].Add(1)
	switch {
	case isTimeout(err):
		writeError(ctx, errBadRequest, fmt.Sprintf("the request was not received within server.read_timeout (%s)", s.proxy.opts.ReadTimeout))
	default:
		writeError(ctx, errBadRequest, "the request is not valid HTTP/1.1 (its request line, headers or body framing could not be parsed); nothing was forwarded")
	}
}

func writeJSON(ctx *fasthttp.RequestCtx, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		writeError(ctx, errInternal, "cannot encode the answer: "+err.Error())
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// Snapshot returns the numbers GET /metrics serves.
func (p *Proxy) Snapshot() map[string]any {
	st := &p.stats
	q := st.latency.quantiles(0.5, 0.9, 0.99, 0.999)
	ms := func(us uint64) float64 { return float64(us) / 1000 }
	errs := map[string]uint64{}
	for c := errClass(0); c < numErrClasses; c++ {
		errs[c.String()] = st.errors[c].Load()
	}
	status := map[string]uint64{"1xx": st.status[1].Load(), "2xx": st.status[2].Load(), "3xx": st.status[3].Load(),
		"4xx": st.status[4].Load(), "5xx": st.status[5].Load(), "other": st.status[0].Load()}
	out := map[string]any{
		"service":        "llm-proxy",
		"version":        p.opts.Version,
		"timestamp":      time.Now().UTC().Format(time.RFC3339Nano),
		"uptime_seconds": int64(time.Since(p.start).Seconds()),
		"requests": map[string]any{
			"total":          st.requests.Load(),
			"in_flight":      st.inFlight.Load(),
			"streams_total":  st.streams.Load(),
			"streams_active": st.streamsActive.Load(),
			"bytes_streamed": st.bytesStreamed.Load(),
		},
		"errors": errs,
		"upstream": map[string]any{
			"base_url": p.up.scheme + "://" + p.up.host + p.up.basePath,
			"status":   status,
			// connections closed because the upstream sent bytes
			// nobody asked for (transport.go)
			"framing_errors": st.framing.Load(),
			"latency_ms": map[string]any{
				"count": st.latency.count(),
				"p50":   ms(q[0]), "p90": ms(q[1]), "p99": ms(q[2]), "p999": ms(q[3]),
				"max": ms(st.latency.maxUs.Load()),
			},
		},
	}
	if l := p.listener.Load(); l != nil {
		out["connections"] = l.Stats()
	}
	if f := p.opts.MetricsExtra; f != nil {
		for k, v := range f() {
			out[k] = v
		}
	}
	return out
}

func (p *Proxy) appendPrometheus(b []byte) []byte {
	st := &p.stats
	line := func(name, labels string, v any) {
		b = fmt.Appendf(b, "%s%s %v\n", name, labels, v)
	}
	b = append(b, "# HELP perimeter_requests_total Requests the proxy received.\n# TYPE perimeter_requests_total counter\n"...)
	line("perimeter_requests_total", "", st.requests.Load())
	b = append(b, "# HELP perimeter_requests_in_flight Requests being served now.\n# TYPE perimeter_requests_in_flight gauge\n"...)
	line("perimeter_requests_in_flight", "", st.inFlight.Load())
	b = append(b, "# HELP perimeter_streams_total Streamed (event-stream) answers.\n# TYPE perimeter_streams_total counter\n"...)
	line("perimeter_streams_total", "", st.streams.Load())
	b = append(b, "# HELP perimeter_streams_active Streamed answers open now.\n# TYPE perimeter_streams_active gauge\n"...)
	line("perimeter_streams_active", "", st.streamsActive.Load())
	b = append(b, "# HELP perimeter_upstream_responses_total Upstream answers by status class.\n# TYPE perimeter_upstream_responses_total counter\n"...)
	for i, cl := range []string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"} {
		line("perimeter_upstream_responses_total", `{class="`+cl+`"}`, st.status[i].Load())
	}
	b = append(b, "# HELP perimeter_errors_total Requests the proxy failed or refused itself, by error type.\n# TYPE perimeter_errors_total counter\n"...)
	for c := errClass(0); c < numErrClasses; c++ {
		line("perimeter_errors_total", `{type="`+c.String()+`"}`, st.errors[c].Load())
	}
	b = append(b, "# HELP perimeter_upstream_framing_errors_total Upstream answers with broken HTTP framing.\n# TYPE perimeter_upstream_framing_errors_total counter\n"...)
	line("perimeter_upstream_framing_errors_total", "", st.framing.Load())
	b = append(b, "# HELP perimeter_upstream_latency_seconds Time from a request's arrival to the upstream's answer (its headers for a stream, its whole body otherwise), in seconds.\n# TYPE perimeter_upstream_latency_seconds summary\n"...)
	qs := []float64{0.5, 0.9, 0.99, 0.999}
	for i, v := range st.latency.quantiles(qs...) {
		line("perimeter_upstream_latency_seconds", fmt.Sprintf(`{quantile="%g"}`, qs[i]), float64(v)/1e6)
	}
	line("perimeter_upstream_latency_seconds_sum", "", float64(st.latency.sumUs.Load())/1e6)
	line("perimeter_upstream_latency_seconds_count", "", st.latency.count())
	b = st.latency.appendHistogram(b, "perimeter_upstream_response_seconds", "Upstream time to response headers.")
	b = st.firstEvent.appendHistogram(b, "perimeter_time_to_first_token_seconds",
		"Event streams: time from the request's arrival to the answer's first event reaching the client (the provider sends it with or just before the first token).")
	if f := p.opts.PrometheusExtra; f != nil {
		b = f(b)
	}
	return b
}

// fasthttpLogger routes fasthttp's own messages to zerolog.
type fasthttpLogger struct{ log zerolog.Logger }

// Messages are scrubbed of anything shaped like a credential first: they
// may quote a request that could not be parsed.
func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Warn().Str("component", "fasthttp").Msg(scrubCredentials(fmt.Sprintf(format, args...)))
}
