package files

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// EventRecorderOptions mirror the original's event_recorder config
// (configs.EventRecorderConfig).
type EventRecorderOptions struct {
	OutputDir       string // default ./event_logs
	FileFormat      string // jsonl (default) or json
	PrettyPrint     bool   // json only: indent by 2
	IncludeMetadata bool
	// Now is the clock for created_at and last_updated (written as local
	// time without an offset, as the original); nil means time.Now.
	Now func() time.Time
}

// EventRecorder writes every event of a session to
// {output_dir}/session_{id}.{jsonl|json}, each in the
// original's envelope (AppendEnvelope). The id keeps only letters, digits,
// "-" and "_" ("unknown" when nothing is left).
//
// jsonl appends one event per line; a new file starts with
// {"_metadata":{"format","session_id","created_at","interceptor"}} when
// include_metadata is set. json keeps one document,
// {"events":[…],"metadata":{…,"last_updated","events_count"}}, rewritten
// (atomically) once per batch rather than once per event; without
// include_metadata it has no metadata member (the original failed there).
type EventRecorder struct {
	opts    EventRecorderOptions
	mu      sync.Mutex
	written map[[16]byte]bool // events of a failing batch already on disk
}

// NewEventRecorder checks the format and creates the directory (mode 0700).
func NewEventRecorder(o EventRecorderOptions) (*EventRecorder, error) {
	if o.OutputDir == "" {
		o.OutputDir = "./event_logs"
	}
	o.FileFormat = strings.ToLower(strings.TrimSpace(o.FileFormat))
	if o.FileFormat == "" {
		o.FileFormat = "jsonl"
	}
	if o.FileFormat != "jsonl" && o.FileFormat != "json" {
		return nil, fmt.Errorf("event_recorder: file_format %q: use jsonl or json", o.FileFormat)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := ensureDir(o.OutputDir); err != nil {
		return nil, err
	}
	return &EventRecorder{opts: o}, nil
}

// Name implements sink.Writer.
func (r *EventRecorder) Name() string { return "event_recorder" }

// Close implements sink.Writer; every batch is on disk when WriteBatch
// returns.
func (r *EventRecorder) Close() error { return nil }

// SafeSessionName is the file-name form of a session id: letters, digits,
// "-" and "_" only, "unknown" when nothing is left.
func SafeSessionName(id string) string {
	var b strings.Builder
	for _, c := range id {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

// SessionFile is where the recorder keeps a session's events.
func (r *EventRecorder) SessionFile(sessionID string) string {
	return filepath.Join(r.opts.OutputDir, "session_"+SafeSessionName(sessionID)+"."+r.opts.FileFormat)
}

// WriteBatch appends each session's events to its file. A failed write
// is rolled back; the events of sessions already written are remembered
// until a batch succeeds, so the pipeline's retry of the batch does not
// record them twice.
func (r *EventRecorder) WriteBatch(_ context.Context, batch []*sink.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var order []string
	groups := map[string][]*sink.Event{}
	for _, ev := range batch {
		if r.written[ev.ID] {
			continue
		}
		sid := ev.SessionID
		if sid == "" {
			sid = "unknown"
		}
		if _, ok := groups[sid]; !ok {
			order = append(order, sid)
		}
		groups[sid] = append(groups[sid], ev)
	}
	var errs []error
	for _, sid := range order {
		if err := r.writeSession(sid, groups[sid]); err != nil {
			errs = append(errs, err)
			continue
		}
		if len(order) > 1 {
			if r.written == nil {
				r.written = map[[16]byte]bool{}
			}
			for _, ev := range groups[sid] {
				if ev.ID != ([16]byte{}) {
					r.written[ev.ID] = true
				}
			}
		}
	}
	if len(errs) == 0 {
		clear(r.written)
	}
	return errors.Join(errs...)
}

func (r *EventRecorder) writeSession(sid string, evs []*sink.Event) error {
	path := r.SessionFile(sid)
	if r.opts.FileFormat == "jsonl" {
		var buf []byte
		if r.opts.IncludeMetadata {
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				buf = append(buf, `{"_metadata":{"format":"jsonl","session_id":`...)
				buf = appendNullString(buf, evs[0].SessionID)
				buf = append(buf, `,"created_at":"`...)
				buf = appendISO(buf, r.opts.Now(), false)
				buf = append(buf, `","interceptor":"event_recorder"}}`+"\n"...)
			}
		}
		for _, ev := range evs {
			buf = AppendEnvelope(buf, ev)
			buf = append(buf, '\n')
		}
		return appendFile(path, buf)
	}
	return r.rewriteJSON(path, evs)
}

type jsonDoc struct {
	Events   []json.RawMessage `json:"events"`
	Metadata *jsonMeta         `json:"metadata,omitempty"`
}

type jsonMeta struct {
	Format      string  `json:"format"`
	SessionID   *string `json:"session_id"`
	CreatedAt   string  `json:"created_at"`
	LastUpdated string  `json:"last_updated"`
	EventsCount int     `json:"events_count"`
	Interceptor string  `json:"interceptor"`
}

func (r *EventRecorder) rewriteJSON(path string, evs []*sink.Event) error {
	var doc jsonDoc
	if old, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(old, &doc); err != nil {
			return fmt.Errorf("event_recorder: %s is not the recorder's JSON (%v); move it away to start the session's file anew", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("event_recorder: read %s: %w", path, err)
	}
	for _, ev := range evs {
		doc.Events = append(doc.Events, AppendEnvelope(nil, ev))
	}
	if doc.Events == nil {
		doc.Events = []json.RawMessage{}
	}
	if r.opts.IncludeMetadata {
		now := isoString(r.opts.Now(), false)
		if doc.Metadata == nil {
			doc.Metadata = &jsonMeta{Format: "json", SessionID: nullable(evs[0].SessionID), CreatedAt: now, Interceptor: "event_recorder"}
		}
		doc.Metadata.LastUpdated = now
		doc.Metadata.EventsCount = len(doc.Events)
	} else {
		doc.Metadata = nil
	}
	b, err := marshal(doc)
	if err != nil {
		return err
	}
	if r.opts.PrettyPrint {
		var ind bytes.Buffer
		if err := json.Indent(&ind, b, "", "  "); err != nil {
			return err
		}
		b = ind.Bytes()
	}
	return writeFileAtomic(path, b)
}
