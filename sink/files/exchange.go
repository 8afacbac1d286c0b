package files

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/sink"
)

// Exchange is the attributes object of an httprec.EventName. The proxy writes
// it without reflection (edge/capture/httprecord.go); the member names here are
// the contract. Bodies are base64 (encoding/json's []byte), as captured:
// a response may still carry its Content-Encoding, which HTTPRecorder
// decodes off the request path. The event's SessionID, AgentID, Vendor
// and Model are the call's.
type Exchange struct {
	Method string `json:"method"`
	URL    string `json:"url"` // as the client addressed the proxy: http://host/path?query
	Path   string `json:"path"`
	Query  string `json:"query"`
	// RequestHeaders are the client's, in order; credentials (Authorization,
	// x-api-key, cookies, …) are "[REDACTED]" already.
	RequestHeaders [][2]string `json:"request_headers"`
	RequestBody    []byte      `json:"request_body"`
	// RequestBodySize is the body's length; when it exceeded the limit the
	// body is absent and RequestTruncated set.
	RequestBodySize  int64 `json:"request_body_size"`
	RequestTruncated bool  `json:"request_truncated,omitempty"`
	Streaming        bool  `json:"streaming"`

	Status          int         `json:"status"`
	ResponseHeaders [][2]string `json:"response_headers"`
	// ResponseBody is the answer as the client got it (for a stream, the
	// SSE text). When it exceeded the limit it is cut there and
	// ResponseTruncated set.
	ResponseBody      []byte `json:"response_body"`
	ResponseTruncated bool   `json:"response_truncated,omitempty"`

	StartUs int64 `json:"start_us"` // Unix microseconds
	EndUs   int64 `json:"end_us"`

	// Failed calls (the proxy answered with its own error) have no
	// response, but an error type and message.
	ErrorType    string `json:"error_type,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
}

// DecodeExchange reads an httprec.EventName's attributes.
func DecodeExchange(ev *sink.Event) (*Exchange, error) {
	if ev.Name != httprec.EventName {
		return nil, fmt.Errorf("event %s is not %s", ev.Name, httprec.EventName)
	}
	x := &Exchange{}
	if err := json.Unmarshal(ev.Attributes, x); err != nil {
		return nil, fmt.Errorf("%s attributes: %w", httprec.EventName, err)
	}
	return x, nil
}

// Start is when the request reached the proxy.
func (x *Exchange) Start() time.Time { return time.UnixMicro(x.StartUs).UTC() }

// End is when the answer was complete.
func (x *Exchange) End() time.Time { return time.UnixMicro(x.EndUs).UTC() }
