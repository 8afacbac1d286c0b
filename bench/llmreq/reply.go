package llmreq

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/cylestio/perimeter/edge/provider"
)

// Reply is what an answer said: its text and the tool calls it made.
type Reply struct {
	Text  string
	Calls []Call
}

// maxReply bounds what ReadReply and ReadStream read.
const maxReply = 8 << 20

// Kind returns the format as the proxy's parsers name it.
func (f Format) Kind() provider.Kind {
	switch f {
	case Responses:
		return provider.OpenAIResponses
	case Anthropic:
		return provider.AnthropicMessages
	}
	return provider.OpenAIChat
}

// ReadReply reads a whole answer of format f (at most 8 MiB) with the
// proxy's own parser. An error answer is an error.
func ReadReply(f Format, body io.Reader) (Reply, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxReply))
	if err != nil {
		return Reply{}, err
	}
	r := provider.AcquireResponse()
	defer provider.ReleaseResponse(r)
	if err := r.Parse(f.Kind(), 200, b); err != nil {
		return Reply{}, fmt.Errorf("llmreq: %v answer: %w", f, err)
	}
	return replyOf(f, r)
}

// ReadStream reads a streamed answer of format f to its end (at most 8 MiB
// per event) with the proxy's own stream parser. A stream that ends before
// its final event, or carries an error event, is an error.
func ReadStream(f Format, body io.Reader) (Reply, error) {
	p := provider.AcquireStreamParser(f.Kind())
	defer provider.ReleaseStreamParser(p)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), maxReply)
	var ev []byte
	for !p.Complete() && sc.Scan() {
		if line := sc.Bytes(); len(bytes.TrimSpace(line)) > 0 {
			ev = append(append(ev, line...), '\n')
			continue
		}
		_ = p.Event(ev) // an event that is not JSON is skipped, as a client would
		ev = ev[:0]
	}
	if len(ev) > 0 && !p.Complete() {
		_ = p.Event(ev)
	}
	if err := sc.Err(); err != nil {
		return Reply{}, err
	}
	if !p.Complete() {
		return Reply{}, fmt.Errorf("llmreq: %v stream ended before its final event", f)
	}
	return replyOf(f, p.Result())
}

func replyOf(f Format, r *provider.Response) (Reply, error) {
	if r.IsError {
		msg := r.Error.Message.String()
		if msg == "" {
			msg = "no message"
		}
		return Reply{}, fmt.Errorf("llmreq: %v answer is an error: %s", f, msg)
	}
	rep := Reply{Text: r.Text.String()}
	for _, tc := range r.ToolCalls {
		rep.Calls = append(rep.Calls, Call{ID: tc.ID.String(), Name: tc.Name.String(), Arguments: tc.Arguments.String()})
	}
	return rep, nil
}
