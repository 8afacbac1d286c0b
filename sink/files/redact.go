package files

import (
	"encoding/json"
	"regexp"
	"strings"
)

// credentialPatterns are the original message_logger's patterns, applied
// in order, case-insensitively, to every string value (seed-anatomy §5.2),
// followed by one the original lacked: today's OpenAI and Anthropic keys
// (sk-proj-…, sk-ant-…) have dashes the first pattern does not allow.
var credentialPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)(sk-[a-zA-Z0-9]{20,})`), "[REDACTED_API_KEY]"},
	{regexp.MustCompile(`(?i)(api[_-]?key)["\s:=]+["']?([a-zA-Z0-9_-]{20,})["']?`), "${1}: [REDACTED]"},
	{regexp.MustCompile(`(?i)(bearer\s+)([a-zA-Z0-9._-]{20,})`), "${1}[REDACTED]"},
	{regexp.MustCompile(`(?i)(AKIA[A-Z0-9]{16})`), "[REDACTED_AWS_KEY]"},
	{regexp.MustCompile(`(?i)(password|secret|token|credential)["\s:=]+["']?([^\s"']{8,})["']?`), "${1}: [REDACTED]"},
	{regexp.MustCompile(`(?i)(sk-[a-z0-9]+-[a-zA-Z0-9_-]{20,})`), "[REDACTED_API_KEY]"},
}

// RedactCredentials applies the credential patterns to s.
func RedactCredentials(s string) string {
	for _, p := range credentialPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// secretMember reports whether an object member of this name holds a
// secret whatever its value looks like ({"api_key": "short"}), a case
// the patterns, which see values only, miss.
func secretMember(name string) bool {
	n := strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(name))
	switch n {
	case "apikey", "xapikey", "authorization", "proxyauthorization", "password", "passwd", "secret",
		"clientsecret", "accesstoken", "refreshtoken", "privatekey", "awssecretaccesskey":
		return true
	}
	return false
}

// redactJSON returns the JSON value src with every string value (and,
// beyond the original, every member name) passed through
// RedactCredentials, and every string member named like a secret replaced
// by "[REDACTED]". Everything else is kept byte for byte. src must be
// valid JSON.
func redactJSON(src []byte) []byte {
	out := make([]byte, 0, len(src)+16)
	var pendingKey string // member name whose value comes next
	for i := 0; i < len(src); {
		c := src[i]
		if c != '"' {
			switch c {
			case ' ', '\t', '\r', '\n', ':':
			default:
				pendingKey = ""
			}
			out = append(out, c)
			i++
			continue
		}
		end := stringEnd(src, i)
		tok := src[i:end]
		j := end
		for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r' || src[j] == '\n') {
			j++
		}
		if j < len(src) && src[j] == ':' {
			var name string
			_ = json.Unmarshal(tok, &name)
			pendingKey = name
			// A key used as a member name is as secret as one in a value.
			if r := RedactCredentials(name); r != name {
				out = appendString(out, r)
			} else {
				out = append(out, tok...)
			}
			i = end
			continue
		}
		var s string
		if json.Unmarshal(tok, &s) != nil {
			out = append(out, tok...)
		} else {
			r := RedactCredentials(s)
			if pendingKey != "" && secretMember(pendingKey) && s != "" {
				r = "[REDACTED]"
			}
			if r == s {
				out = append(out, tok...)
			} else {
				out = appendString(out, r)
			}
		}
		pendingKey = ""
		i = end
	}
	return out
}

// stringEnd returns the index just past the JSON string starting at
// src[i] (a quote).
func stringEnd(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(src)
}
