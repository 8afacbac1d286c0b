package edge

import (
	"strings"
	"testing"
)

func TestScrubCredentials(t *testing.T) {
	const secret = "s3cr3t-t0ken-value"
	for _, in := range []string{
		"contents: \"POST / HTTP/1.1\\r\\nAuthorization: Bearer " + secret + "\\r\\nHost: x\"",
		"Authorization: Basic " + secret,
		"x-api-key: " + secret,
		"X_Api_Key=" + secret,
		"cookie: session=" + secret + "; other=1",
		"invalid header value \"Bearer " + secret + "\"",
		"key sk-" + secret,
	} {
		out := scrubCredentials(in)
		if strings.Contains(out, secret) || !strings.Contains(out, "[REDACTED]") {
			t.Errorf("scrubCredentials(%q) = %q", in, out)
		}
	}
	if in := "error when reading request headers: cannot find whitespace"; scrubCredentials(in) != in {
		t.Errorf("changed a line without credentials: %q", scrubCredentials(in))
	}
}
