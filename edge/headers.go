package edge

import (
	"bytes"

	"github.com/cylestio/perimeter/internal/ascii"
	"github.com/valyala/fasthttp"
)

// Hop-by-hop headers (RFC 9110 §7.6.1) and the ones fasthttp frames itself.
// They describe one connection, never the end-to-end message.
var hopHeaders = []string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// Credentials a client may send; all are removed when a key is configured.
var credentialHeaders = []string{"Authorization", "X-Api-Key", "Api-Key"}

// isCredentialHeader reports whether k names a credential header, taking
// "_" for "-" (X_Api_Key is X-Api-Key).
func isCredentialHeader(k []byte) bool {
	for _, c := range credentialHeaders {
		if ascii.EqualFoldDash(k, c) {
			return true
		}
	}
	return ascii.EqualFoldDash(k, "Proxy-Authorization")
}

var cylestioPrefix = []byte("x-cylestio-")

const defaultAnthropicVersion = "2023-06-01"

// credential is the header that carries the configured key upstream.
type credential struct {
	name  string
	value []byte
}

func newCredential(p Provider, key string) *credential {
	if key == "" {
		return nil
	}
	if p == Anthropic {
		return &credential{name: "X-Api-Key", value: []byte(key)}
	}
	return &credential{name: "Authorization", value: []byte("Bearer " + key)}
}

// prepareRequestHeader turns a copy of the client's header into the upstream
// header: hop-by-hop, Host, Expect and x-cylestio-* headers are dropped, the
// configured credential replaces the client's, and Anthropic requests get an
// anthropic-version when they lack one. A request without Content-Type
// goes without one (fasthttp would send application/octet-stream). scratch is reused to hold header
// names between the scan and the deletes; the grown slice is returned.
//
// One pass over the header finds what is to go; only those are deleted (a
// delete scans the header again), so a request that carries none of them
// costs the one pass.
func prepareRequestHeader(h *fasthttp.RequestHeader, p Provider, cred *credential, scratch [][]byte) [][]byte {
	scratch = connectionTokens(h.Peek("Connection"), scratch[:0])
	var present uint32 // bit i: dropNames[i] is in the header
	for k := range h.All() {
		switch {
		case hasPrefixFold(k, cylestioPrefix):
			scratch = append(scratch, k)
		case cred != nil && bytes.IndexByte(k, '_') >= 0 && isCredentialHeader(k):
			// X_Api_Key and the like: servers that map "-" and "_" to
			// one name (CGI, WSGI) would read the client's credential.
			scratch = append(scratch, k)
		default:
			present |= dropBit(k)
		}
	}
	// The names alias the header's own storage. fasthttp deletes by moving
	// entries, never by rewriting their bytes, and copies the key it is given
	// before comparing, so they stay valid through the deletes below.
	for _, k := range scratch {
		h.DelBytes(k)
	}
	drop := present & (hopBits | expectBit)
	if cred != nil {
		drop |= present & credentialBits
	}
	for i, k := range dropNames {
		if drop&(1<<i) != 0 {
			h.Del(k)
		}
	}
	h.ResetConnectionClose()
	h.SetNoDefaultContentType(true)
	if cred != nil {
		h.SetBytesV(cred.name, cred.value)
	}
	if p == Anthropic && len(h.Peek("Anthropic-Version")) == 0 {
		h.Set("Anthropic-Version", defaultAnthropicVersion)
	}
	return scratch
}

// prepareResponseHeader removes what describes the upstream connection from
// a copy of the upstream response header.
func prepareResponseHeader(h *fasthttp.ResponseHeader, scratch [][]byte) [][]byte {
	scratch = connectionTokens(h.Peek("Connection"), scratch[:0])
	for _, k := range scratch {
		h.DelBytes(k)
	}
	var present uint32
	for k := range h.All() {
		present |= dropBit(k)
	}
	for i, k := range dropNames {
		if present&hopBits&(1<<i) != 0 {
			h.Del(k)
		}
	}
	h.ResetConnectionClose()
	return scratch
}

// dropNames are the headers the proxy may delete by name: the hop-by-hop
// ones, then the credentials, then Expect.
var dropNames = append(append(append([]string(nil), hopHeaders...), credentialHeaders...), "Expect")

var (
	hopBits        = uint32(1)<<len(hopHeaders) - 1
	credentialBits = (uint32(1)<<len(credentialHeaders) - 1) << len(hopHeaders)
	expectBit      = uint32(1) << (len(dropNames) - 1)
)

// dropBit is the bit of k's name in dropNames, 0 for any other name.
func dropBit(k []byte) uint32 {
	for i, name := range dropNames {
		if len(k) == len(name) && ascii.EqualFold(k, name) {
			return 1 << i
		}
	}
	return 0
}

var comma = []byte{','}

// connectionTokens appends the header names listed in a Connection header
// value ("keep-alive, X-Foo"), which are hop-by-hop too.
func connectionTokens(v []byte, dst [][]byte) [][]byte {
	for len(v) > 0 {
		var tok []byte
		tok, v, _ = bytes.Cut(v, comma)
		tok = bytes.TrimSpace(tok)
		if len(tok) == 0 || ascii.EqualFold(tok, "close") || ascii.EqualFold(tok, "keep-alive") {
			continue
		}
		dst = append(dst, tok)
	}
	return dst
}

func hasPrefixFold(s, prefix []byte) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i, c := range prefix {
		if ascii.Lower(s[i]) != c {
			return false
		}
	}
	return true
}
