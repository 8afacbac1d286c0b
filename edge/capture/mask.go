package capture

import "bytes"

// minSecretLen is the shortest configured key that is masked in captured
// text: a shorter one would mask ordinary words.
const minSecretLen = 8

// SetSecret makes c mask every occurrence of key (the configured upstream
// key) in what it publishes: an upstream that reflects the key in an
// answer (an error quoting the request, say) must not put it in the store.
// NewProxy calls it with Options.APIKey; it must be called before traffic.
func (c *Capture) SetSecret(key string) {
	if len(key) >= minSecretLen {
		c.secret = []byte(key)
	}
}

// maskSecret overwrites each occurrence of secret in b with a mask of the
// same length, so that slices into b stay valid.
func maskSecret(b, secret []byte) {
	if len(secret) == 0 {
		return
	}
	for i := 0; ; {
		j := bytes.Index(b[i:], secret)
		if j < 0 {
			return
		}
		i += j
		fillMask(b[i : i+len(secret)])
		i += len(secret)
	}
}

var maskText = []byte("[REDACTED]")

func fillMask(b []byte) {
	n := copy(b, maskText)
	if n < len(maskText) {
		for i := range b {
			b[i] = '*'
		}
		return
	}
	for i := n; i < len(b); i++ {
		b[i] = '*'
	}
}

// maskedCopy returns b, or a masked copy of b when it holds secret.
func maskedCopy(b, secret []byte) []byte {
	if len(secret) == 0 || !bytes.Contains(b, secret) {
		return b
	}
	c := bytes.Clone(b)
	maskSecret(c, secret)
	return c
}
