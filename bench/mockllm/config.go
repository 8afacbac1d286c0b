package mockllm

import (
	"time"

	"github.com/valyala/fasthttp"
)

// Config sets the defaults a Server uses when a request carries no x-mock-*
// header that overrides them. The zero Config is ready to use.
type Config struct {
	// Chunks is how many content deltas a stream carries and how many
	// token-sized pieces make up a non-streaming answer. 0 means 20.
	// Overridden per request by x-mock-chunks.
	Chunks int

	// ChunkDelay is the pause before each SSE event after the first.
	// Overridden per request by x-mock-chunk-delay.
	ChunkDelay time.Duration

	// Model is reported when a request names no model. Empty means
	// "gpt-4o-mini" for OpenAI routes and "claude-sonnet-4-5" for Anthropic.
	// A model named in the request is always echoed unchanged.
	Model string

	// BodySize pads non-streaming answers to about this many bytes by adding
	// content pieces. 0 leaves the natural size (about 1 KB for an OpenAI chat
	// completion of 20 pieces). Overridden per request by x-mock-body-size.
	BodySize int

	// MaxRecorded bounds how many of the most recent requests Requests keeps.
	// 0 means 1024; negative turns recording off, which benchmarks should do:
	// recording copies every request and takes a lock.
	MaxRecorded int

	// OnEvent, when set, is called right after SSE event eventIndex (0-based)
	// of request reqIndex (0-based arrival order) has been flushed to the
	// connection. It runs on the connection's goroutine: keep it short.
	OnEvent func(reqIndex, eventIndex int)

	// OnStreamEnd, when set, is called once when a streamed body ends: sent is
	// the number of events flushed, aborted is true when the peer went away
	// (a write failed or the connection was closed while the stream waited).
	OnStreamEnd func(reqIndex, sent int, aborted bool)

	// Logger receives fasthttp's connection errors. nil discards them: the
	// mock provokes broken connections on purpose.
	Logger fasthttp.Logger
}

const (
	defaultChunks      = 20
	defaultMaxRecorded = 1024
	defaultOpenAIModel = "gpt-4o-mini"
	defaultClaudeModel = "claude-sonnet-4-5"
	defaultToolName    = "get_weather"
	maxChunks          = 1 << 20
)

func (c Config) withDefaults() Config {
	if c.Chunks <= 0 {
		c.Chunks = defaultChunks
	}
	if c.Chunks > maxChunks {
		c.Chunks = maxChunks
	}
	if c.MaxRecorded == 0 {
		c.MaxRecorded = defaultMaxRecorded
	}
	return c
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
