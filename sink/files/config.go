package files

import (
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/sink"
)

// Types are the interceptor types this package implements.
var Types = []string{"message_logger", "event_recorder", "http_recorder"}

// New builds the writer of a message_logger, event_recorder or
// http_recorder interceptor entry with the original's defaults. llmType
// (llm.type) names the provider of calls whose vendor is unknown.
func New(ic configs.InterceptorConfig, llmType string, log zerolog.Logger) (sink.Writer, error) {
	log = log.With().Str("component", ic.Type).Logger()
	switch strings.ToLower(strings.TrimSpace(ic.Type)) {
	case "message_logger":
		c, err := ic.MessageLogger()
		if err != nil {
			return nil, err
		}
		return NewMessageLogger(MessageLoggerOptions{
			Directory: c.Directory, Filename: c.Filename, IncludeMetadata: c.IncludeMetadata,
			BufferSize: c.BufferSize, RedactCredentials: c.RedactCredentials,
			FlushInterval: time.Duration(c.FlushInterval), Logger: log,
		})
	case "event_recorder":
		c, err := ic.EventRecorder()
		if err != nil {
			return nil, err
		}
		return NewEventRecorder(EventRecorderOptions{
			OutputDir: c.OutputDir, FileFormat: c.FileFormat, PrettyPrint: c.PrettyPrint, IncludeMetadata: c.IncludeMetadata,
		})
	case "http_recorder":
		c, err := ic.HTTPRecorder()
		if err != nil {
			return nil, err
		}
		if !c.RedactSensitiveHeaders {
			log.Warn().Msg("redact_sensitive_headers is false, but credential headers (authorization, x-api-key, cookies, …) are redacted anyway: keys never reach a recording")
		}
		return NewHTTPRecorder(HTTPRecorderOptions{
			OutputDir: c.OutputDir, MaxEventsPerFile: c.MaxEventsPerFile, IncludeHeaders: c.IncludeHeaders,
			IncludeTiming: c.IncludeTiming, MaxBodySizeMB: c.MaxBodySizeMB,
			RedactSensitiveHeaders: c.RedactSensitiveHeaders, Provider: strings.ToLower(llmType), Logger: log,
		})
	}
	return nil, fmt.Errorf("%q is not a file interceptor", ic.Type)
}

// Route wraps every writer but the HTTPRecorder so that exchange events
// reach the recorder only.
func Route(writers []sink.Writer) []sink.Writer {
	out := make([]sink.Writer, len(writers))
	for i, w := range writers {
		if _, ok := w.(*HTTPRecorder); ok {
			out[i] = w
		} else {
			out[i] = Except(w, httprec.EventName)
		}
	}
	return out
}
