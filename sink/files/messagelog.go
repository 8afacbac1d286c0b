package files

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/internal/defaults"
	"github.com/cylestio/perimeter/sink"
)

// MessageLoggerOptions mirror the original's message_logger config
// (configs.MessageLoggerConfig).
type MessageLoggerOptions struct {
	Directory         string // default ./message_logs
	Filename          string // default message_log.jsonl
	IncludeMetadata   bool
	BufferSize        int           // entries held before a write, default 10
	RedactCredentials bool          // run the credential patterns over every string value
	FlushInterval     time.Duration // a partly filled buffer is written after this long; 0 = only when full and on Close
	Logger            zerolog.Logger
}

// MessageLogger writes conversations as JSONL: one
// request line per llm.call.start, one response line per llm.call.finish,
// one error line per llm.call.error, with the original's members and
// order. Entries are buffered up to BufferSize and written when the buffer
// is full, every FlushInterval, and on Close: unlike the original, nothing
// is lost at shutdown.
//
// What the lines hold, from the events (the proxy never re-encodes a body
// on the request path):
//   - request: the call's llm.request.data without _cylestio_metadata —
//     the request body with its message list cut to the messages new in
//     this call (the whole list on a session's first call);
//   - response: {id, content, usage, finish_reason | stop_reason,
//     stop_sequence, system_fingerprint, refusal, incomplete} from the
//     llm.call.finish attributes that are present;
//   - error: error.type and error.message, with the path and method of
//     the session's last request.
type MessageLogger struct {
	opts MessageLoggerOptions
	path string

	mu      sync.Mutex
	pending [][]byte
	since   time.Time // when the oldest pending entry was added
	last    map[string]reqMeta
	closed  bool

	stop chan struct{}
	done chan struct{}
}

type reqMeta struct{ path, method string }

// maxRemembered bounds the per-session request metadata kept for error
// lines.
const maxRemembered = 10000

// NewMessageLogger creates the directory (mode 0700) and starts the
// interval flusher.
func NewMessageLogger(o MessageLoggerOptions) (*MessageLogger, error) {
	if o.Directory == "" {
		o.Directory = "./message_logs"
	}
	if o.Filename == "" {
		o.Filename = "message_log.jsonl"
	}
	defaults.Set(&o.BufferSize, 10)
	if err := ensureDir(o.Directory); err != nil {
		return nil, err
	}
	m := &MessageLogger{
		opts: o,
		path: filepath.Join(o.Directory, o.Filename),
		last: map[string]reqMeta{},
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if o.FlushInterval > 0 {
		go m.flusher()
	} else {
		close(m.done)
	}
	return m, nil
}

// Name implements sink.Writer.
func (m *MessageLogger) Name() string { return "message_logger" }

// Path is the log file.
func (m *MessageLogger) Path() string { return m.path }

// WriteBatch buffers the batch's entries and writes them once the buffer
// holds BufferSize. When that write fails the batch's entries are taken
// back out, so the pipeline's retry does not log them twice.
func (m *MessageLogger) WriteBatch(_ context.Context, batch []*sink.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("message_logger: closed")
	}
	before := len(m.pending)
	for _, ev := range batch {
		if line := m.entry(ev); line != nil {
			if len(m.pending) == 0 {
				m.since = time.Now()
			}
			m.pending = append(m.pending, line)
		}
	}
	if len(m.pending) < m.opts.BufferSize {
		return nil
	}
	if err := m.flushLocked(); err != nil {
		m.pending = m.pending[:before]
		return err
	}
	return nil
}

// Flush writes the buffered entries now.
func (m *MessageLogger) Flush() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.flushLocked()
}

func (m *MessageLogger) flushLocked() error {
	if len(m.pending) == 0 {
		return nil
	}
	n := 0
	for _, l := range m.pending {
		n += len(l) + 1
	}
	buf := make([]byte, 0, n)
	for _, l := range m.pending {
		buf = append(buf, l...)
		buf = append(buf, '\n')
	}
	if err := appendFile(m.path, buf); err != nil {
		return err
	}
	clear(m.pending)
	m.pending = m.pending[:0]
	return nil
}

func (m *MessageLogger) flusher() {
	defer close(m.done)
	t := time.NewTicker(m.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.mu.Lock()
			var err error
			if len(m.pending) > 0 && time.Since(m.since) >= m.opts.FlushInterval {
				err = m.flushLocked()
			}
			m.mu.Unlock()
			if err != nil {
				// Kept in the buffer; the next flush tries again.
				m.opts.Logger.Warn().Err(err).Msg("message_logger: flush failed")
			}
		}
	}
}

// Close stops the flusher and writes what is buffered.
func (m *MessageLogger) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	close(m.stop)
	<-m.done
	return m.Flush()
}

// Lines are encoded from structs: encoding/json keeps field order, and
// puts an embedded struct's fields where it is embedded. Every line is a
// lineHead, its direction's own fields, then a lineTail.
type lineHead struct {
	Timestamp string  `json:"timestamp"`
	SessionID *string `json:"session_id"`
	Direction string  `json:"direction"`
}

type lineTail[M any] struct {
	Model    *string `json:"model"`
	Provider string  `json:"provider"`
	Metadata *M      `json:"metadata,omitempty"`
}

type requestLine struct {
	lineHead
	Request json.RawMessage `json:"request"`
	lineTail[requestMeta]
}

type requestMeta struct {
	Path        string `json:"path"`
	Method      string `json:"method"`
	IsStreaming bool   `json:"is_streaming"`
}

type responseLine struct {
	lineHead
	Response json.RawMessage `json:"response"`
	lineTail[responseMeta]
}

type responseMeta struct {
	StatusCode int     `json:"status_code"`
	DurationMs float64 `json:"duration_ms"`
}

type errorLine struct {
	lineHead
	ErrorType    string `json:"error_type"`
	ErrorMessage string `json:"error_message"`
	lineTail[errorMeta]
}

type errorMeta struct {
	Path   string `json:"path"`
	Method string `json:"method"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// entry renders the line of one event, or nil for events it does not log.
func (m *MessageLogger) entry(ev *sink.Event) []byte {
	var attrs map[string]json.RawMessage
	switch ev.Name {
	case sink.LLMCallStart, sink.LLMCallFinish, sink.LLMCallError:
		if len(ev.Attributes) > 0 && json.Unmarshal(ev.Attributes, &attrs) != nil {
			return nil
		}
	default:
		return nil
	}
	head := func(direction string) lineHead {
		return lineHead{Timestamp: isoString(ev.Time.UTC(), false), SessionID: nullable(ev.SessionID), Direction: direction}
	}
	model := nullable(ev.Model)
	var v any
	switch ev.Name {
	case sink.LLMCallStart:
		body := requestBody(attrs["llm.request.data"])
		if body == nil {
			return nil
		}
		meta := requestMeta{Path: str(attrs["http.path"]), Method: str(attrs["http.method"]), IsStreaming: string(attrs["llm.request.stream"]) == "true"}
		m.remember(ev.SessionID, reqMeta{path: meta.Path, method: meta.Method})
		l := requestLine{head("request"), m.redact(body), lineTail[requestMeta]{Model: model, Provider: ev.Vendor}}
		if m.opts.IncludeMetadata {
			l.Metadata = &meta
		}
		v = l
	case sink.LLMCallFinish:
		l := responseLine{head("response"), m.redact(responseBody(ev, attrs)), lineTail[responseMeta]{Model: model, Provider: ev.Vendor}}
		if m.opts.IncludeMetadata {
			l.Metadata = &responseMeta{StatusCode: ev.Status, DurationMs: ev.DurationMs}
		}
		delete(m.last, ev.SessionID)
		v = l
	case sink.LLMCallError:
		msg := ev.ErrorMessage
		if m.opts.RedactCredentials {
			msg = RedactCredentials(msg)
		}
		l := errorLine{head("error"), ev.ErrorType, msg, lineTail[errorMeta]{Model: model, Provider: ev.Vendor}}
		if m.opts.IncludeMetadata {
			rm := m.last[ev.SessionID]
			l.Metadata = &errorMeta{Path: rm.path, Method: rm.method}
		}
		delete(m.last, ev.SessionID)
		v = l
	}
	b, err := marshal(v)
	if err != nil {
		return nil
	}
	return b
}

func (m *MessageLogger) remember(sid string, rm reqMeta) {
	if len(m.last) >= maxRemembered {
		clear(m.last)
	}
	m.last[sid] = rm
}

func (m *MessageLogger) redact(b []byte) json.RawMessage {
	if m.opts.RedactCredentials {
		return redactJSON(b)
	}
	return b
}

// requestBody is llm.request.data without the proxy's _cylestio_metadata.
func requestBody(data json.RawMessage) json.RawMessage {
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	var members orderedObject
	if err := json.Unmarshal(data, &members); err != nil {
		return data
	}
	members.delete("_cylestio_metadata")
	return members.marshal()
}

// responseBody assembles the response line's object from the finish
// event.
func responseBody(ev *sink.Event, attrs map[string]json.RawMessage) json.RawMessage {
	var o orderedObject
	add := func(name, attr string) {
		if v, ok := attrs[attr]; ok {
			o = append(o, member{name, v})
		}
	}
	add("id", "llm.response.id")
	add("content", "llm.response.content")
	var u orderedObject
	for _, k := range []string{"input_tokens", "output_tokens", "total_tokens", "cached_tokens", "cache_creation_tokens", "reasoning_tokens"} {
		if v, ok := attrs["llm.usage."+k]; ok {
			u = append(u, member{k, v})
		}
	}
	if len(u) > 0 {
		o = append(o, member{"usage", u.marshal()})
	}
	for _, k := range []string{"finish_reason", "stop_reason", "stop_sequence", "system_fingerprint", "refusal"} {
		add(k, k)
	}
	add("incomplete", "llm.response.incomplete")
	return o.marshal()
}

func str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}
