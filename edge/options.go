package edge

import (
	"crypto/tls"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/edge/capture"
	"github.com/cylestio/perimeter/internal/defaults"
)

// Provider names the upstream API family; it decides how the key is sent.
type Provider string

// Supported providers.
const (
	OpenAI    Provider = "openai"
	Anthropic Provider = "anthropic"
)

// Options configure a Proxy. Zero values take the defaults noted on each
// field; cmd/perimeter maps the YAML config onto them.
type Options struct {
	BaseURL  string   // upstream base URL, e.g. https://api.openai.com or http://127.0.0.1:8080/v1
	Provider Provider // openai | anthropic
	APIKey   string   // when set, replaces whatever credential the client sent

	ConnectTimeout        time.Duration // dial timeout, default 10s
	ResponseHeaderTimeout time.Duration // max wait for the first response byte, default 30s
	StreamIdleTimeout     time.Duration // max gap between response bytes, default 30s
	MaxConns              int           // upstream connections per pool, default 1024
	MaxIdleConnDuration   time.Duration // keep-alive idle upstream connections, default 90s
	MaxResponseBufferSize int           // largest buffered (non-streaming) answer, default 64 MiB
	TLSConfig             *tls.Config   // nil: system roots, certificates verified

	MaxRequestBodySize int // default 32 MiB; larger bodies get 413
	// MaxRequestHeaderSize bounds a request's line and headers together,
	// default 8 KiB; larger ones get 431. It is the size of each client
	// connection's read buffer, which an open stream holds to its end.
	MaxRequestHeaderSize int
	ReadTimeout          time.Duration // client request read timeout, default 60s
	IdleTimeout          time.Duration // client keep-alive idle timeout, default 120s
	WriteIdleTimeout     time.Duration // max block on one write to a slow client, default 60s
	MaxConnsPerServer    int           // open client connections, beyond it 503 and closed; 0 = unlimited
	MaxConnsPerIP        int           // open client connections from one address; 0 = unlimited

	// MaxInflightBodyBytes bounds the request bodies held by all requests
	// together; a request whose body would pass it is answered 503 before
	// its body is read. Default 256 MiB.
	MaxInflightBodyBytes int64
	// MaxBufferedResponseBytes bounds the buffered answers of all requests
	// together; beyond it a call is answered 503. Default 256 MiB.
	MaxBufferedResponseBytes int64

	// Capture is handed every model call once it has ended (capture_hook.go);
	// nil turns capture off. Its owner closes it after the server.
	Capture *capture.Capture
	// Guard scans new client input before forwarding; nil turns it off.
	Guard *Guard

	Logger    zerolog.Logger
	AccessLog bool   // log every request at info (otherwise at debug)
	Version   string // reported by /health and /metrics

	// ConfigView returns the effective configuration for GET /config, with
	// secrets already redacted. Nil serves an empty object.
	ConfigView func() any
	// MetricsExtra adds sections (sessions, sinks) to GET /metrics.
	MetricsExtra func() map[string]any
	// PrometheusExtra appends further series (text exposition format) to
	// GET /metrics/prometheus after the proxy's own.
	PrometheusExtra func(b []byte) []byte
}

// DefaultMaxRequestHeaderSize is MaxRequestHeaderSize's default: the
// size of nginx's large_client_header_buffers, which holds a request line
// or one header line.
const DefaultMaxRequestHeaderSize = 8 << 10

func (o *Options) setDefaults() {
	defaults.Set(&o.ConnectTimeout, 10*time.Second)
	defaults.Set(&o.ResponseHeaderTimeout, 30*time.Second)
	defaults.Set(&o.StreamIdleTimeout, 30*time.Second)
	defaults.Set(&o.MaxIdleConnDuration, 90*time.Second)
	defaults.Set(&o.ReadTimeout, 60*time.Second)
	defaults.Set(&o.IdleTimeout, 120*time.Second)
	defaults.Set(&o.WriteIdleTimeout, 60*time.Second)
	defaults.Set(&o.MaxConns, 1024)
	defaults.Set(&o.MaxResponseBufferSize, 64<<20)
	defaults.Set(&o.MaxRequestBodySize, 32<<20)
	defaults.Set(&o.MaxRequestHeaderSize, DefaultMaxRequestHeaderSize)
	defaults.Set(&o.MaxInflightBodyBytes, max(256<<20, int64(o.MaxRequestBodySize)))
	defaults.Set(&o.MaxBufferedResponseBytes, max(256<<20, int64(o.MaxResponseBufferSize)))
}
