package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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
// {output_dir}/session_{name}.{jsonl|json}, each in the original's
// envelope (AppendEnvelope); SafeSessionName says how an id becomes a
// name.
//
// jsonl appends one event per line; a new file starts with
// {"_metadata":{"format","session_id","created_at","interceptor"}} when
// include_metadata is set. json keeps one document,
// {"events":[…],"metadata":{…,"last_updated","events_count"}}, rewritten
// (atomically) once per batch rather than once per event; without
// include_metadata it has no metadata member (the original failed there).
//
// A session whose file can never be written (its path is a directory, a
// json file that is not the recorder's, a name the file system refuses)
// must not hold up the others: its events are dropped and reported in a
// sink.RejectedError, which the pipeline counts (reason "rejected") and
// logs with the file and what to do. Every other error fails the batch,
// which the pipeline retries.
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

// maxPlainName is the longest id used as is in a file name, and the
// longest readable prefix of a hashed name: with "session_", the hash and
// ".json.tmp" a name stays far below the 255 bytes file systems allow.
const maxPlainName = 128

// SafeSessionName is the file-name form of a session id. An id of at most
// 128 letters, digits, "-" and "_" is its own name, as in the original.
// Any other id keeps those characters (at most 128 of them) as a readable
// prefix followed by "." and 16 hex digits of the SHA-256 of the whole id:
// "a/b" is "ab.c14cddc033f64b9d", apart from "ab"; "日本" is
// ".cf2abf0c5be326cb". The "." never occurs in a plain name, so distinct ids never share
// a file. The empty id is "unknown", as in the original.
func SafeSessionName(id string) string {
	if id == "" {
		return "unknown"
	}
	b := make([]byte, 0, min(len(id), maxPlainName)+1+16)
	altered := false
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			if len(b) < maxPlainName {
				b = append(b, c)
				continue
			}
		}
		altered = true
	}
	if !altered {
		return string(b)
	}
	sum := sha256.Sum256([]byte(id))
	b = append(b, '.')
	return string(hex.AppendEncode(b, sum[:8]))
}

// SessionFile is where the recorder keeps a session's events.
func (r *EventRecorder) SessionFile(sessionID string) string {
	return filepath.Join(r.opts.OutputDir, "session_"+SafeSessionName(sessionID)+"."+r.opts.FileFormat)
}

// WriteBatch appends each session's events to its file. A failed write
// is rolled back; the events of sessions already written (or rejected) are
// remembered until a batch succeeds, so the pipeline's retry of the batch
// does not record (or count) them twice.
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
	var errs, rejects []error
	rejected := 0
	for _, sid := range order {
		err := r.writeSession(sid, groups[sid])
		switch {
		case err == nil:
			if len(order) == 1 {
				continue
			}
		case neverWritable(err) != "":
			rejects = append(rejects, fmt.Errorf("%w (%s; until then the session's events are dropped)", err, neverWritable(err)))
			rejected += len(groups[sid])
		default:
			errs = append(errs, err)
			continue
		}
		if r.written == nil {
			r.written = map[[16]byte]bool{}
		}
		for _, ev := range groups[sid] {
			if ev.ID != ([16]byte{}) {
				r.written[ev.ID] = true
			}
		}
	}
	if len(errs) == 0 {
		clear(r.written)
	}
	if rejected > 0 {
		errs = append(errs, &sink.RejectedError{Events: rejected, Err: errors.Join(rejects...)})
	}
	return errors.Join(errs...)
}

// errNotOurs marks a json session file the recorder did not write.
var errNotOurs = errors.New("move it away to start the session's file anew")

// neverWritable says what the operator must do when a session's write
// failed in a way no retry can mend, and is "" for any other error.
func neverWritable(err error) string {
	switch {
	case errors.Is(err, errNotOurs):
		return "the file is not the recorder's"
	case errors.Is(err, syscall.EISDIR):
		return "a directory is in the way: move it"
	case errors.Is(err, syscall.ENAMETOOLONG):
		return "the path is too long: set a shorter event_recorder output_dir"
	}
	return ""
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
			return fmt.Errorf("event_recorder: %s is not the recorder's JSON (%v); %w", path, err, errNotOurs)
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
