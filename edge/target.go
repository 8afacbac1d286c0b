package edge

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// checkTarget refuses request targets the proxy must not forward, and says
// why; it returns "" for the rest. The configured key is attached to every
// forwarded request, so a target must not be able to leave llm.base_url's
// path prefix:
//
//   - CONNECT (authority form, a tunnel request) is not an API call;
//   - a target is origin form (/path) or absolute form (http(s)://...);
//     anything else (authority form, "*", garbage) is refused;
//   - a path with a dot-segment ("." or ".."), literal or percent-encoded
//     (%2e), between any separators ("/", "\", %2f, %5c) is refused: the
//     upstream might resolve it above the prefix. No API path has one.
func checkTarget(ctx *fasthttp.RequestCtx) (errClass, string) {
	if ctx.IsConnect() {
		return errMethod, "CONNECT is not supported: this proxy forwards API requests to llm.base_url; it is not a tunnel"
	}
	uri := ctx.Request.Header.RequestURI()
	if len(uri) == 0 || uri[0] != '/' {
		if !hasPrefixFold(uri, []byte("http://")) && !hasPrefixFold(uri, []byte("https://")) {
			return errBadTarget, "the request target must be a path (/v1/...) or an absolute http(s) URL"
		}
		uri = ctx.URI().PathOriginal()
	}
	if q := bytes.IndexByte(uri, '?'); q >= 0 {
		uri = uri[:q]
	}
	if hasDotSegment(uri) {
		return errBadTarget, "the request path has a dot-segment (. or .., possibly percent-encoded); send the path without it"
	}
	return 0, ""
}

// hasDotSegment reports whether path has a segment "." or "..", decoding
// %2e, %2f and %5c and taking "\" for a separator as some servers do.
func hasDotSegment(path []byte) bool {
	if bytes.IndexByte(path, '.') < 0 && bytes.IndexByte(path, '%') < 0 {
		return false
	}
	dots, other := 0, false
	for i := 0; i <= len(path); i++ {
		c := byte('/')
		if i < len(path) {
			c = path[i]
			if c == '%' && i+2 < len(path) {
				if v, ok := unhex(path[i+1], path[i+2]); ok {
					c = v
					i += 2
				}
			}
		}
		switch c {
		case '/', '\\':
			if !other && (dots == 1 || dots == 2) {
				return true
			}
			dots, other = 0, false
		case '.':
			dots++
		default:
			other = true
		}
	}
	return false
}

func unhex(a, b byte) (byte, bool) {
	h, ok1 := hexVal(a)
	l, ok2 := hexVal(b)
	return h<<4 | l, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
