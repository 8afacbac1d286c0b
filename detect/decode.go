package detect

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Hidden layers: base64 (standard or URL alphabet, ≥ 24 characters), hex
// (≥ 32 digits, or ≥ 8 \xHH escapes) and URL-encoding (≥ 4 %HH escapes)
// are decoded when the result reads as text (valid UTF-8, ≥ 90 %
// printable, ≥ 8 letters), and the secret and injection detectors run on
// it again, up to Options.Decode.MaxDepth layers deep and within the byte
// and blob budgets. A finding in a layer carries Decoded and the span of
// the whole outermost blob.

type blobKind uint8

const (
	blobBase64 blobKind = iota + 1
	blobHex
	blobURL
	blobHexEsc
)

var blobNames = [...]string{blobBase64: "base64", blobHex: "hex", blobURL: "url", blobHexEsc: "hex"}

const (
	clB64 = 1 << iota // base64 alphabet (both variants)
	clHex
	clURL // allowed inside a URL-encoded token
)

var blobClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if isAlnum(b) || b == '+' || b == '/' || b == '-' || b == '_' {
			t[c] |= clB64
		}
		if isHex(b) {
			t[c] |= clHex
		}
		if b > ' ' && b < 0x7f && b != '"' && b != '\'' && b != '<' && b != '>' && b != '`' && b != '(' && b != ')' {
			t[c] |= clURL
		}
	}
	return
}()

// minToken is the shortest token that can decode to text: 4 %HH escapes
// (base64 and hex need 24 and 32 bytes).
const minToken = 12

// decodeLayers decodes the tokens of c.t that may hide a layer. A token
// is a maximal run of the bytes a URL-encoded token allows (clURL), from
// its first base64 byte, '%' or `\x` on; only runs of minToken bytes or
// more can hold one, and every such run covers one of the bytes at
// minToken-1, 2·minToken-1, …, past the end of the run before it, so
// those are the only bytes looked at outside runs: prose, whose words are
// shorter, is mostly skipped.
func (c *scanCtx) decodeLayers() {
	if fullPath {
		c.decodeLayersBytewise()
		return
	}
	t := c.t
	lim := &c.s.opts.Decode
	for p := minToken - 1; p < len(t) && c.blobs > 0 && c.budget > 0; {
		if blobClass[t[p]]&clURL == 0 {
			p += minToken
			continue
		}
		rs, re := p, p+1
		for rs > 0 && blobClass[t[rs-1]]&clURL != 0 {
			rs--
		}
		for re < len(t) && blobClass[t[re]]&clURL != 0 {
			re++
		}
		p = re + minToken
		if re-rs < minToken {
			continue
		}
		s := rs
		for s < re && blobClass[t[s]]&clB64 == 0 && t[s] != '%' && !(t[s] == '\\' && s+1 < len(t) && t[s+1] == 'x') {
			s++
		}
		if re-s >= 24 || re-s >= minToken && strings.IndexByte(t[s:re], '%') >= 0 {
			c.decodeToken(s, re, lim)
		}
	}
}

// decodeLayersBytewise is decodeLayers reading every byte (fullPath).
func (c *scanCtx) decodeLayersBytewise() {
	t := c.t
	lim := &c.s.opts.Decode
	for i := 0; i < len(t) && c.blobs > 0 && c.budget > 0; {
		b := t[i]
		switch {
		case b == '%' || b == '\\' && i+1 < len(t) && t[i+1] == 'x':
			// handled by the token scan below
		case blobClass[b]&clB64 == 0:
			i++
			continue
		}
		// Token: maximal run of URL-safe printable bytes.
		s := i
		for i < len(t) && blobClass[t[i]]&clURL != 0 {
			i++
		}
		if i == s {
			i++
			continue
		}
		// Nothing shorter than 12 bytes decodes to text (4 %HH escapes);
		// base64 and hex need 24 and 32.
		if i-s >= 24 || i-s >= 12 && strings.IndexByte(t[s:i], '%') >= 0 {
			c.decodeToken(s, i, lim)
		}
	}
}

// decodeToken tries the encodings on t[s:e] (a run without spaces).
func (c *scanCtx) decodeToken(s, e int, lim *DecodeLimits) {
	t := c.t
	if e-s > lim.MaxBlob {
		return
	}
	tok := t[s:e]
	pct, hexEsc := 0, 0
	if strings.IndexByte(tok, '%') < 0 && !strings.Contains(tok, `\x`) {
		goto runs
	}
	for k := 0; k+2 < len(tok); k++ {
		if tok[k] == '%' && isHex(tok[k+1]) && isHex(tok[k+2]) {
			pct++
		} else if tok[k] == '\\' && tok[k+1] == 'x' && k+3 < len(tok) && isHex(tok[k+2]) && isHex(tok[k+3]) {
			hexEsc++
		}
	}
	switch {
	case pct >= 4:
		c.tryLayer(blobURL, s, e, urlDecode(tok))
		return
	case hexEsc >= 8:
		c.tryLayer(blobHexEsc, s, e, hexEscDecode(tok))
		return
	}
runs:
	// Base64 / hex runs inside the token (it may be "key=<blob>" or a URL).
	for i := s; i < e; {
		if blobClass[t[i]]&clB64 == 0 {
			i++
			continue
		}
		bs := i
		allHex := true
		for i < e && blobClass[t[i]]&clB64 != 0 {
			if blobClass[t[i]]&clHex == 0 {
				allHex = false
			}
			i++
		}
		be := i
		for i < e && t[i] == '=' && i-be < 2 {
			i++
		}
		n := be - bs
		switch {
		case allHex && n >= 32 && n%2 == 0:
			// Decoded into scratch memory: most candidates (identifiers,
			// hashes) decode to bytes that read as no text.
			out := grow(c.sc.blob, n/2)
			c.sc.blob = out
			if _, err := hex.Decode(out, bytesOf(t[bs:be])); err == nil {
				c.tryLayer(blobHex, bs, be, out)
			}
		case !allHex && n >= 24:
			out := b64DecodeInto(c.sc.blob, t[bs:i])
			if out != nil {
				c.sc.blob = out
			}
			c.tryLayer(blobBase64, bs, i, out)
		}
	}
}

// b64DecodeInto decodes s (padded or not, standard or URL alphabet) into
// buf, grown as needed; nil when s is no base64.
func b64DecodeInto(buf []byte, s string) []byte {
	// Strip padding and pick the alphabet by the characters used.
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	enc := base64.RawStdEncoding
	for i := 0; i < len(s); i++ {
		if s[i] == '-' || s[i] == '_' {
			enc = base64.RawURLEncoding
			break
		}
	}
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	out := grow(buf, enc.DecodedLen(len(s)))
	n, err := enc.Decode(out, bytesOf(s))
	if err != nil {
		return nil
	}
	return out[:n]
}

// grow returns buf resized to n bytes, reallocated only when too small.
func grow(buf []byte, n int) []byte {
	if cap(buf) < n {
		return make([]byte, n)
	}
	return buf[:n]
}

// bytesOf views s as bytes, for decoders that only read their input.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func unhex(b byte) byte {
	switch {
	case b >= '0' && b <= '9':
		return b - '0'
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10
	default:
		return b - 'A' + 10
	}
}

func urlDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case s[i] == '+':
			out = append(out, ' ')
		default:
			out = append(out, s[i])
		}
	}
	return out
}

func hexEscDecode(s string) []byte {
	out := make([]byte, 0, len(s)/4)
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' && isHex(s[i+2]) && isHex(s[i+3]) {
			out = append(out, unhex(s[i+2])<<4|unhex(s[i+3]))
			i += 3
		} else {
			out = append(out, s[i])
		}
	}
	return out
}

// readsAsText reports decoded bytes that look like language or markup, not
// binary: valid UTF-8, ≥ 90 % printable, ≥ 8 letters.
func readsAsText(b []byte) bool {
	if len(b) < 12 || !utf8.Valid(b) {
		return false
	}
	printable, letters := 0, 0
	for _, ch := range b {
		switch {
		case isAlpha(ch):
			letters++
			printable++
		case ch >= 0x20 && ch < 0x7f, ch == '\n', ch == '\t', ch == '\r', ch >= 0x80:
			printable++
		}
	}
	return letters >= 8 && printable*10 >= len(b)*9
}

func (c *scanCtx) tryLayer(kind blobKind, s, e int, dec []byte) {
	if dec == nil || !readsAsText(dec) || c.blobs <= 0 {
		return
	}
	if len(dec) > c.budget {
		dec = dec[:c.budget]
	}
	c.budget -= len(dec)
	c.blobs--
	// Save the state of the enclosing text.
	saveT, saveHits, saveLayer, saveSpan := c.t, c.hits, c.layer, c.lspan
	name := blobNames[kind]
	if c.layer == "" {
		c.lspan.start, c.lspan.end = c.n.Original(s, e)
		c.layer = name
	} else {
		c.layer = c.layer + "+" + name
	}
	c.depth++
	c.text(string(dec))
	c.depth--
	c.t, c.hits, c.layer, c.lspan = saveT, saveHits, saveLayer, saveSpan
}
