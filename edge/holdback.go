package edge

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/cylestio/perimeter/edge/provider"
)

// errWithheld ends the copy of a streamed answer a response policy
// blocked inside the hold-back window.
var errWithheld = errors.New("streamed answer withheld by a response policy")

// holdback is the opt-in window (policies.stream_holdback_bytes) that
// lets response policies see the start of a streamed answer before the
// client does. It holds the answer's bytes until the window is full, the
// answer ends, or — when a tool call is open at that point — until the
// call is complete (another call starts or the answer finishes; at most
// four windows or maxToolHold bytes); then it checks what the stream's parser has read
// and either writes the held bytes and passes everything after unchecked,
// or drops them and ends the stream with an error event. A redact policy
// blocks here: the text is spread over events and is not masked in place.
// What it costs is the time the upstream takes to produce the window: the
// client's first byte waits for it.
type holdback struct {
	g     *Guard
	ex    *exchange
	dst   io.Writer
	held  []byte
	seen  int // bytes of the events the parser has read: the window is judged on them, not on held (one read may hold many events)
	limit int
	state uint8
	err   error
}

// maxToolHold bounds the wait for an open tool call's arguments.
const maxToolHold = 64 << 10

const (
	holding uint8 = iota
	passing
	withheld
)

func (h *holdback) Write(b []byte) (int, error) {
	switch h.state {
	case passing:
		if h.err != nil {
			return 0, h.err
		}
		return h.dst.Write(b)
	case withheld:
		return 0, errWithheld
	}
	h.held = append(h.held, b...)
	return len(b), nil
}

// afterEvent counts an event of n bytes the parser has read and decides
// once the window is over; final says the stream ended.
func (h *holdback) afterEvent(final bool, n int) {
	if h.state != holding {
		return
	}
	h.seen += n
	r := h.ex.sp.Result()
	if !final && !r.Complete {
		if h.seen < h.limit {
			return
		}
		if len(r.ToolCalls) == 1 && r.FinishReason.IsEmpty() && h.seen < max(4*h.limit, maxToolHold) {
			return // the first tool call may still be growing
		}
	}
	_, msg := h.g.scanAnswer(h.ex, r, nil)
	if msg == "" {
		h.state = passing
		_, h.err = h.dst.Write(h.held)
		h.held = nil
		return
	}
	h.g.respBlocked.Add(1)
	h.state = withheld
	h.held = nil
	_, h.err = h.dst.Write(sseError(h.ex.pol.kind, msg))
}

// sseError is an error event in the stream's own format: Anthropic's
// "event: error", OpenAI's data line with an error object.
func sseError(kind provider.Kind, msg string) []byte {
	body, _ := json.Marshal(newErrorBody("guard_blocked", msg))
	var b []byte
	if kind.Vendor() == "anthropic" {
		b = append(b, "event: error\n"...)
	}
	b = append(b, "data: "...)
	b = append(b, body...)
	return append(b, "\n\n"...)
}
