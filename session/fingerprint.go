package session

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/text/unicode/norm"
)

// The original's signature limits (session_utils.py SIGNATURE_CONTENT_MAX_CHARS
// and SYSTEM_PROMPT_MAX_CHARS).
const (
	signatureRunes = 100
	systemRunes    = 100
)

// Fuzzy fingerprints read the first normWindow code points of a text and keep
// the first normRunes code points of its normal form (see doc.go).
const (
	normWindow = 400
	normRunes  = 100
)

var (
	roleUnknown   = []byte("unknown")
	roleSystem    = []byte("system")
	defaultSystem = []byte("default-system")
	colon         = []byte{':'}
)

// chain extends a signature by one part. It is the order-sensitive analogue
// of the original's "|".join(parts).
func chain(sig, part uint64) uint64 {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], sig)
	binary.LittleEndian.PutUint64(b[8:], part)
	return xxhash.Sum64(b[:])
}

// sigSeed starts every signature, so that an empty conversation still has a
// non-zero one (zero marks "no signature" in a slot).
const sigSeed = 0x9e3779b97f4a7c15

// partHash is the fingerprint of the original's signature part
// f"{role}:{content_text[:100].strip()}".
func partHash(role, content []byte, escaped bool) uint64 {
	if role == nil {
		role = roleUnknown
	}
	var buf [signatureRunes * 4]byte
	text := pyStrip(textPrefix(buf[:], content, escaped, signatureRunes))
	var d xxhash.Digest
	d.Reset()
	d.Write(role)
	d.Write(colon)
	d.Write(text)
	return d.Sum64()
}

// systemHash is the fingerprint of the original's part f"system:{prompt[:100]}"
// (not stripped), or 0 when the original adds no part (an empty prompt).
func systemHash(c *Conversation) uint64 {
	sys, escaped := c.systemText()
	if len(sys) == 0 {
		return 0
	}
	var buf [systemRunes * 4]byte
	text := textPrefix(buf[:], sys, escaped, systemRunes)
	var d xxhash.Digest
	d.Reset()
	d.Write(roleSystem)
	d.Write(colon)
	d.Write(text)
	return d.Sum64()
}

// Role classes of fuzzy fingerprints: formats differ in how they spell a
// tool result, and a fingerprint should not.
const (
	classLLM    = 'a'
	classTool   = 't'
	classSystem = 's'
	classUser   = 'u'
	classOther  = 'o'
)

func roleClass(m *Message) byte {
	switch {
	case m.isLLM():
		return classLLM
	case string(m.Role) == "tool" || string(m.Type) == "function_call_output":
		return classTool
	case string(m.Role) == "user":
		if len(m.CallID) > 0 {
			return classTool // an Anthropic tool_result carried by a user message
		}
		return classUser
	case string(m.Role) == "system" || string(m.Role) == "developer":
		return classSystem
	}
	return classOther
}

// normHash is a message's fuzzy fingerprint (doc.go, "Normal form").
func normHash(m *Message) uint64 {
	var d xxhash.Digest
	d.Reset()
	class := roleClass(m)
	var head [1]byte
	head[0] = class
	d.Write(head[:])
	if class == classOther {
		d.Write(m.Role)
		d.Write(colon)
	}
	if len(m.CallID) > 0 {
		d.Write(m.CallID)
		if class == classTool {
			return d.Sum64() // a tool result is its call, whatever its text became
		}
	}
	d.Write(colon)
	var buf [normRunes * 4]byte
	d.Write(normText(buf[:0], m.Content, m.Escaped))
	return d.Sum64()
}

// normSystemHash is the fuzzy fingerprint of the system prompt.
func normSystemHash(sys []byte, escaped bool) uint64 {
	var buf [normRunes * 4]byte
	return xxhash.Sum64(normText(buf[:0], sys, escaped)) ^ 0x5f3759df
}

// normText appends the first normRunes code points of the normal form of a
// text: NFKC, invisible format characters removed, every run of white space
// collapsed to one space, no space at either end.
func normText(dst []byte, src []byte, escaped bool) []byte {
	var buf [normWindow * 4]byte
	text := textPrefix(buf[:], src, escaped, normWindow)
	n := 0
	space := false
	if isASCII(text) { // NFKC is the identity on ASCII
		for _, c := range text {
			if isPySpace(rune(c)) {
				space = n > 0
				continue
			}
			if space {
				dst = append(dst, ' ')
				space = false
				if n++; n == normRunes {
					return dst
				}
			}
			dst = append(dst, c)
			if n++; n == normRunes {
				return dst
			}
		}
		return dst
	}
	var it norm.Iter
	it.Init(norm.NFKC, text)
	for !it.Done() {
		seg := it.Next()
		for len(seg) > 0 {
			r, size := utf8.DecodeRune(seg)
			seg = seg[size:]
			if isInvisible(r) {
				continue
			}
			if isPySpace(r) {
				space = n > 0
				continue
			}
			if space {
				dst = append(dst, ' ')
				space = false
				if n++; n == normRunes {
					return dst
				}
			}
			dst = utf8.AppendRune(dst, r)
			if n++; n == normRunes {
				return dst
			}
		}
	}
	return dst
}

// isInvisible reports the format characters that clients add or drop
// without meaning to: zero-width space and joiners, word joiner, byte order
// mark, soft hyphen.
func isInvisible(r rune) bool {
	switch r {
	case 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD:
		return true
	}
	return false
}
