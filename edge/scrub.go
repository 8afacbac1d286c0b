package edge

import "regexp"

// credentialPatterns match what may carry a credential in text that quotes
// a raw request: the values of credential headers (up to the end of the
// line or quoted string) and bearer tokens or provider-shaped keys anywhere.
var credentialPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)((?:proxy-)?authorization|x[-_]api[-_]key|api[-_]key|cookie|set-cookie)(\s*[:=]\s*)[^\r\n"\\]*`),
	regexp.MustCompile(`(?i)(bearer|basic)(\s+)[A-Za-z0-9._~+/=\-]+`),
	regexp.MustCompile(`()()sk-[A-Za-z0-9_\-]{8,}`),
}

// scrubCredentials replaces credential values in s with [REDACTED]. It is
// for log lines off the hot path (fasthttp's own messages).
func scrubCredentials(s string) string {
	for _, re := range credentialPatterns {
		s = re.ReplaceAllString(s, "${1}${2}[REDACTED]")
	}
	return s
}
