package content

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/internal/sched"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/files"
)

// Mode is a storage.content mode.
type Mode uint8

const (
	Full Mode = iota
	Masked
	Metadata
)

func (m Mode) String() string {
	switch m {
	case Masked:
		return "masked"
	case Metadata:
		return "metadata"
	}
	return "full"
}

// ParseMode reads storage.content ("" is full).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "full":
		return Full, nil
	case "masked":
		return Masked, nil
	case "metadata":
		return Metadata, nil
	}
	return Full, fmt.Errorf("storage.content %q: use full, masked or metadata", s)
}

// maskConfidence is the lowest detection confidence that is masked:
// documentation and test values (0.2) included.
const maskConfidence = 0.2

// minMaskLen is the shortest string masking scans: nothing detect finds
// is shorter.
const minMaskLen = 6

// Reducer applies a mode to batches. It is safe for concurrent use.
type Reducer struct {
	mode Mode
	sc   *detect.Scanner
}

// New returns the reducer of mode.
func New(mode Mode) *Reducer {
	r := &Reducer{mode: mode}
	if mode == Masked {
		r.sc = detect.NewScanner(detect.Options{
			Categories:    detect.CategoriesOf(detect.CategoryPII, detect.CategorySecret),
			MinConfidence: maskConfidence,
		})
	}
	return r
}

// Mode is the reducer's mode.
func (r *Reducer) Mode() Mode { return r.mode }

// Process reduces every event of the batch in place and returns it.
func (r *Reducer) Process(batch []*sink.Event) []*sink.Event {
	if r.mode == Full {
		return batch
	}
	var y sched.Yielder
	for _, ev := range batch {
		y.Tick()
		r.Event(ev)
	}
	return batch
}

// Event reduces one event in place.
func (r *Reducer) Event(ev *sink.Event) {
	switch r.mode {
	case Masked:
		if ev.Name == httprec.EventName {
			r.exchange(ev)
		} else if len(ev.Attributes) > 0 {
			ev.Attributes = files.MapStrings(ev.Attributes, func(_, s string) string { return r.Mask(s) })
		}
		ev.ErrorMessage = r.Mask(ev.ErrorMessage)
	case Metadata:
		if ev.Name == httprec.EventName {
			r.exchange(ev)
		} else if len(ev.Attributes) > 0 {
			ev.Attributes = files.MapStrings(ev.Attributes, metadataValue)
		}
		if ev.ErrorMessage != "" && !proxyMessage(ev.ErrorMessage) {
			ev.ErrorMessage = Summary(ev.ErrorMessage)
		}
	}
}

// Mask returns s with every personal datum and secret replaced by a typed
// placeholder, and what the credential patterns of the message logger
// match (files.RedactCredentials) masked as they mask it.
func (r *Reducer) Mask(s string) string {
	if len(s) < minMaskLen || r.sc == nil {
		return s
	}
	return files.RedactCredentials(r.mask(s))
}

func (r *Reducer) mask(s string) string {
	fs := r.sc.Scan(&detect.Input{Text: s, Direction: detect.Request})
	if len(fs) == 0 {
		return s
	}
	sort.Slice(fs, func(i, j int) bool {
		return fs[i].Start < fs[j].Start || fs[i].Start == fs[j].Start && fs[i].End > fs[j].End
	})
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for _, f := range fs {
		if f.Source != detect.SourceText || f.End <= at || f.Start < 0 || f.End > len(s) {
			continue
		}
		start := max(f.Start, at)
		b.WriteString(s[at:start])
		b.WriteString(Placeholder(f.Rule))
		at = f.End
	}
	b.WriteString(s[at:])
	return b.String()
}

// Placeholder is what replaces a value found by rule: "pii.email" becomes
// "[PII:email]", "secret.github-pat" "[SECRET:github-pat]".
func Placeholder(rule string) string {
	kind, name, ok := strings.Cut(rule, ".")
	if !ok {
		return "[" + strings.ToUpper(rule) + "]"
	}
	return "[" + strings.ToUpper(kind) + ":" + name + "]"
}

// Summary is what metadata keeps of a text: its length and hash.
func Summary(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "[len=" + strconv.Itoa(len(s)) + " sha256=" + hex.EncodeToString(sum[:8]) + "]"
}

// metadataKeys are the members whose string values metadata keeps: they
// name things (roles, models, tools, ids, reasons), they do not say them.
var metadataKeys = map[string]bool{
	"role": true, "type": true, "model": true, "id": true, "object": true, "status": true,
	"call_id": true, "tool_call_id": true, "tool_use_id": true, "finish_reason": true, "stop_reason": true,
	"system_fingerprint": true, "service_tier": true, "reasoning_effort": true, "tool_choice": true,
	"previous_response_id": true, "encoding_format": true,
	"llm.vendor": true, "llm.model": true, "llm.response.model": true, "llm.response.id": true,
	"session.id": true, "client.type": true, "http.method": true, "http.path": true,
	"tool.name": true, "tool.status": true, "tool.call_id": true, "error.type": true,
	"os.type": true, "os.version": true, "env.go.version": true, "env.machine.type": true, "host.name": true,
	"agent_workflow.id": true, "trace.parent": true,
	"finding.category": true, "finding.rule": true, "finding.severity": true, "finding.owasp": true,
	"finding.source": true, "finding.decoded": true, "finding.event_name": true, "finding.event_id": true,
}

func metadataValue(member, s string) string {
	if metadataKeys[member] || s == "" {
		return s
	}
	return Summary(s)
}

// proxyMessage reports whether an error message is one the proxy wrote
// (no upstream or client text in it).
func proxyMessage(s string) bool {
	return strings.HasPrefix(s, "the proxy could not complete the call: ") || strings.HasPrefix(s, "HTTP ")
}

// exchange reduces an http_recorder exchange: bodies and query masked, or
// dropped with metadata.
func (r *Reducer) exchange(ev *sink.Event) {
	x, err := files.DecodeExchange(ev)
	if err != nil {
		ev.Attributes = nil // unreadable, so unreducible: nothing of it is kept
		return
	}
	switch r.mode {
	case Masked:
		x.RequestBody = r.maskBody(x.RequestBody)
		x.ResponseBody = r.maskBody(x.ResponseBody)
		x.Query = r.Mask(x.Query)
		x.URL = r.Mask(x.URL)
		x.ErrorMessage = r.Mask(x.ErrorMessage)
	case Metadata:
		x.RequestBody, x.ResponseBody = nil, nil
		if x.Query != "" {
			x.URL = strings.TrimSuffix(x.URL, "?"+x.Query)
			x.Query = Summary(x.Query)
		}
		if x.ErrorMessage != "" && !proxyMessage(x.ErrorMessage) {
			x.ErrorMessage = Summary(x.ErrorMessage)
		}
	}
	if b, err := json.Marshal(x); err == nil {
		ev.Attributes = b
	} else {
		ev.Attributes = nil
	}
}

// maskBody masks a recorded body: the strings of a JSON body, every
// data: line of an event stream, else the text as a whole.
func (r *Reducer) maskBody(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	mask := func(_, s string) string { return r.Mask(s) }
	if json.Valid(b) {
		return files.MapStrings(b, mask)
	}
	lines := strings.SplitAfter(string(b), "\n")
	var out strings.Builder
	out.Grow(len(b))
	for _, l := range lines {
		body := strings.TrimRight(l, "\r\n")
		if data, ok := strings.CutPrefix(body, "data:"); ok {
			d := strings.TrimLeft(data, " ")
			if json.Valid([]byte(d)) {
				out.WriteString("data: ")
				out.Write(files.MapStrings([]byte(d), mask))
				out.WriteString(l[len(body):])
				continue
			}
		}
		out.WriteString(r.Mask(body))
		out.WriteString(l[len(body):])
	}
	return []byte(out.String())
}
