package session

import (
	"bytes"
	"unicode/utf8"

	"github.com/cylestio/perimeter/internal/ascii"
)

// HeaderKind classifies a request header name for the x-cylestio-* scheme.
type HeaderKind uint8

const (
	// NotCylestio: forward the header.
	NotCylestio HeaderKind = iota
	// HeaderSessionID is x-cylestio-session-id: the external session id.
	HeaderSessionID
	// HeaderConversationID is x-cylestio-conversation-id, the alias the
	// original's HEAD uses for the external session id.
	HeaderConversationID
	// HeaderAgentID is x-cylestio-agent-id: the agent id override.
	HeaderAgentID
	// HeaderPromptID is x-cylestio-prompt-id, HEAD's alias of the agent id.
	HeaderPromptID
	// HeaderTags is x-cylestio-tags.
	HeaderTags
	// HeaderOtherCylestio is any other x-cylestio-* header: ignored.
	HeaderOtherCylestio
)

const cylestioPrefix = "x-cylestio-"

// ClassifyHeader returns the kind of header name (matched without regard
// to ASCII case). Every kind but NotCylestio must be stripped before the
// request is forwarded, as the original does.
func ClassifyHeader(name []byte) HeaderKind {
	if len(name) < len(cylestioPrefix) || !ascii.EqualFold(name[:len(cylestioPrefix)], cylestioPrefix) {
		return NotCylestio
	}
	switch rest := name[len(cylestioPrefix):]; {
	case ascii.EqualFold(rest, "session-id"):
		return HeaderSessionID
	case ascii.EqualFold(rest, "conversation-id"):
		return HeaderConversationID
	case ascii.EqualFold(rest, "agent-id"):
		return HeaderAgentID
	case ascii.EqualFold(rest, "prompt-id"):
		return HeaderPromptID
	case ascii.EqualFold(rest, "tags"):
		return HeaderTags
	}
	return HeaderOtherCylestio
}

// SessionIDHeader returns the external session id of a request from the
// values of x-cylestio-session-id and of its alias
// x-cylestio-conversation-id (nil when absent): the first that is
// non-empty once optional white space is trimmed; the canonical name wins
// when both are sent. The result aliases its argument.
func SessionIDHeader(sessionID, conversationID []byte) []byte {
	if v := trimOWS(sessionID); len(v) > 0 {
		return v
	}
	return trimOWS(conversationID)
}

// AgentIDHeader returns the agent id override from the values of
// x-cylestio-agent-id and of its alias x-cylestio-prompt-id, by the rule of
// SessionIDHeader. The result aliases its argument.
func AgentIDHeader(agentID, promptID []byte) []byte {
	if v := trimOWS(agentID); len(v) > 0 {
		return v
	}
	return trimOWS(promptID)
}

// trimOWS trims HTTP optional white space (space, tab).
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// Limits of x-cylestio-tags (the original's HEAD middleware).
const (
	MaxTags          = 50  // distinct keys kept; later ones are dropped
	MaxTagKeyRunes   = 64  // longer keys are skipped
	MaxTagValueRunes = 512 // longer values are truncated
)

// Tag is one parsed x-cylestio-tags entry. Key and Value alias the header
// value passed to ParseTags (a flag's Value is the shared, read-only
// "true"), so they are valid as long as it is and must not be modified.
type Tag struct {
	Key, Value []byte
}

var tagTrue = []byte("true")

// ParseTags appends the tags of an x-cylestio-tags value ("k:v,k2:v2,flag")
// to dst, as the original's HEAD middleware parses them: entries are split
// on ',' and trimmed (Python str.strip), empty ones skipped; an entry splits
// at its first ':' (the value may hold more), key and value trimmed; an
// entry without ':' is a flag whose value is "true"; an empty key, or one
// longer than MaxTagKeyRunes code points, is skipped; a value is cut to
// MaxTagValueRunes code points; a repeated key takes the later value in
// the place of the first; parsing stops once MaxTags keys are held.
// Nothing is allocated when dst has room.
func ParseTags(dst []Tag, value []byte) []Tag {
	base := len(dst)
	for len(value) > 0 {
		var entry []byte
		if i := bytes.IndexByte(value, ','); i >= 0 {
			entry, value = value[:i], value[i+1:]
		} else {
			entry, value = value, nil
		}
		entry = pyStrip(entry)
		if len(entry) == 0 {
			continue
		}
		if len(dst)-base >= MaxTags {
			break
		}
		key, val := entry, tagTrue
		if i := bytes.IndexByte(entry, ':'); i >= 0 {
			key, val = pyStrip(entry[:i]), pyStrip(entry[i+1:])
		}
		if len(key) == 0 || utf8.RuneCount(key) > MaxTagKeyRunes {
			continue
		}
		val = runePrefix(val, MaxTagValueRunes)
		replaced := false
		for i := base; i < len(dst); i++ {
			if string(dst[i].Key) == string(key) {
				dst[i].Value = val
				replaced = true
				break
			}
		}
		if !replaced {
			dst = append(dst, Tag{Key: key, Value: val})
		}
	}
	return dst
}
