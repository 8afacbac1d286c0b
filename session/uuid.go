package session

import "math/rand/v2"

// uuidLen is the length of a session id: a UUID4 in its 36-character text
// form, the original's str(uuid.uuid4()).
const uuidLen = 36

const hexDigits = "0123456789abcdef"

// newUUID writes a random (version 4, RFC 4122 variant) UUID into dst.
// math/rand/v2's global source is ChaCha8 seeded from the OS, per thread:
// unpredictable enough for ids that are not secrets, and allocation-free.
func newUUID(dst *[inlineID]byte) {
	var b [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j] = hexDigits[c>>4]
		dst[j+1] = hexDigits[c&15]
		j += 2
	}
}
