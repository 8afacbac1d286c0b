package mockllm

import (
	"strconv"
	"time"
)

// Header names of the per-request behaviour controls. Names are matched
// case-insensitively.
const (
	HeaderChunks          = "x-mock-chunks"            // content deltas (int ≥ 0)
	HeaderChunkDelay      = "x-mock-chunk-delay"       // pause before each SSE event after the first ("50ms"; a bare number is ms)
	HeaderStatus          = "x-mock-status"            // answer this status (≥ 400) with a provider-format error
	HeaderHang            = "x-mock-hang"              // wait this long before answering; ends early if the peer closes
	HeaderDisconnectAfter = "x-mock-disconnect-after"  // stream: K events then drop the connection; non-stream: K body bytes then drop
	HeaderErrorEventAfter = "x-mock-error-event-after" // stream: K events then a provider error event
	HeaderBodySize        = "x-mock-body-size"         // pad non-stream bodies to about N bytes
	HeaderEcho            = "x-mock-echo"              // "1": answer with the request as received
	HeaderTool            = "x-mock-tool"              // "1": force a tool call, "0": never call a tool
	HeaderStep            = "x-mock-step"              // "1": wait on Server.Step before each event after the first
	HeaderCachedTokens    = "x-mock-cached-tokens"     // cached prompt tokens reported in usage
)

// controls are the x-mock-* values of one request; -1 means "not set" for
// the integer ones.
type controls struct {
	chunks          int
	delay           time.Duration
	hasDelay        bool
	status          int
	hang            time.Duration
	disconnectAfter int
	errorAfter      int
	bodySize        int
	cachedTokens    int
	echo            bool
	step            bool
	tool            int8 // 0 auto, 1 force, -1 never

	badHeader string // set when a control value does not parse
	badValue  string
}

// parseControls scans the raw request header block once and picks up every
// x-mock-* header. It never allocates unless a value is malformed.
func parseControls(raw []byte) controls {
	c := controls{chunks: -1, disconnectAfter: -1, errorAfter: -1, bodySize: -1, cachedTokens: -1}
	for len(raw) > 0 {
		var name, value []byte
		name, value, raw = nextRawHeader(raw)
		if len(name) <= len("x-mock-") || !equalFoldASCII(name[:len("x-mock-")], "x-mock-") {
			continue
		}
		ok := true
		switch {
		case equalFoldASCII(name, HeaderChunks):
			c.chunks, ok = parseCount(value)
			if c.chunks > maxChunks {
				ok = false
			}
		case equalFoldASCII(name, HeaderChunkDelay):
			c.delay, ok = parseDuration(value)
			c.hasDelay = true
		case equalFoldASCII(name, HeaderStatus):
			c.status, ok = parseCount(value)
			ok = ok && c.status >= 100 && c.status <= 999
		case equalFoldASCII(name, HeaderHang):
			c.hang, ok = parseDuration(value)
		case equalFoldASCII(name, HeaderDisconnectAfter):
			c.disconnectAfter, ok = parseCount(value)
		case equalFoldASCII(name, HeaderErrorEventAfter):
			c.errorAfter, ok = parseCount(value)
		case equalFoldASCII(name, HeaderBodySize):
			c.bodySize, ok = parseCount(value)
		case equalFoldASCII(name, HeaderCachedTokens):
			c.cachedTokens, ok = parseCount(value)
		case equalFoldASCII(name, HeaderEcho):
			c.echo, ok = parseFlag(value)
		case equalFoldASCII(name, HeaderStep):
			c.step, ok = parseFlag(value)
		case equalFoldASCII(name, HeaderTool):
			var on bool
			if on, ok = parseFlag(value); ok {
				c.tool = -1
				if on {
					c.tool = 1
				}
			}
		}
		if !ok && c.badHeader == "" {
			c.badHeader, c.badValue = string(name), string(value)
		}
	}
	return c
}

// nextRawHeader splits the first "Name: value" line off raw.
func nextRawHeader(raw []byte) (name, value, rest []byte) {
	line := raw
	for i, c := range raw {
		if c == '\n' {
			line, rest = raw[:i], raw[i+1:]
			break
		}
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	for i, c := range line {
		if c == ':' {
			return line[:i], trimSpace(line[i+1:]), rest
		}
	}
	return nil, nil, rest
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func parseCount(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 9 {
		return -1, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return -1, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func parseDuration(v []byte) (time.Duration, bool) {
	if n, ok := parseCount(v); ok {
		return time.Duration(n) * time.Millisecond, true
	}
	d, err := time.ParseDuration(string(v))
	return d, err == nil && d >= 0
}

func parseFlag(v []byte) (bool, bool) {
	switch {
	case string(v) == "1" || equalFoldASCII(v, "true") || equalFoldASCII(v, "yes"):
		return true, true
	case string(v) == "0" || equalFoldASCII(v, "false") || equalFoldASCII(v, "no"):
		return false, true
	}
	return false, false
}

func (c *controls) badMessage() string {
	return "mockllm: cannot parse header " + strconv.Quote(c.badHeader) + " value " + strconv.Quote(c.badValue) +
		" (counts are non-negative integers, durations look like 50ms or 2s, flags are 1 or 0)"
}
