// Package httprec is the part of the http_recorder's format that both
// sides need: the name of the event that carries one raw model call
// (written by edge/capture, recorded by sink/files.HTTPRecorder), the
// credential headers whose values never leave the proxy, and the mask
// that replaces them. It imports nothing of the project, so the writer
// and the reader depend on it rather than on each other; the attributes'
// layout is sink/files.Exchange.
package httprec

import "strings"

// EventName names the event the proxy publishes per model call when the
// http_recorder is on. Only the HTTP recorder stores it.
const EventName = "http.exchange"

// Redacted replaces a sensitive header's (or query parameter's) value.
const Redacted = "[REDACTED]"

// SensitiveHeaders are the headers whose values are recorded as Redacted,
// lower case.
var SensitiveHeaders = []string{
	"authorization", "x-api-key", "api-key", "x-auth-token", "x-access-token", "cookie", "set-cookie",
	"proxy-authorization", "www-authenticate", "x-amz-security-token", "x-csrf-token",
}

// IsSensitiveHeader reports whether name (any case) is one of
// SensitiveHeaders.
func IsSensitiveHeader(name string) bool {
	for _, s := range SensitiveHeaders {
		if strings.EqualFold(name, s) {
			return true
		}
	}
	return false
}
