package session

import (
	"encoding/binary"
	"math/bits"
	"sync"
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
// the first normRunes code points of its normal form (see docs/sessions.md).
const (
	normWindow      = 400
	normRunes       = 100
	normSystemRunes = 64
)

var (
	roleUnknown   = []byte("unknown")
	roleSystem    = []byte("system")
	defaultSystem = []byte("default-system")
)

// chain extends a signature by one part: the order-sensitive analogue of
// the original's "|".join(parts). The step is a bijection of sig for a
// given part (multiply by an odd constant, then the murmur3 finaliser), so
// distinct states never merge by a step, and its output is as well mixed
// as the fingerprints it feeds on.
func chain(sig, part uint64) uint64 {
	x := (sig ^ part) * 0x9e3779b97f4a7c15
	x = (x ^ bits.RotateLeft64(part, 29)) * 0xbf58476d1ce4e5b9
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// signature is the fingerprint of the original's signature string,
// "|".join(["system:" + prompt[:100]] + [f"{role}:{text[:100].strip()}" ...]):
// each part is hashed (xxhash of the text, combined with the role), and
// parts are chained in order. Equal signatures mean equal lists of parts —
// the original's notion of equal states, up to 64-bit collisions (and up
// to texts crafted to contain the "|" separator, which the original alone
// would confuse). One hash per part is markedly faster than streaming the
// whole string through one digest in many small writes.
//
// With calls set (fuzzy matching), a message's part also covers its CallID:
// conversations whose messages differ by their call ids alone — tool loops
// whose calls and results carry no text — are states the original
// confuses and fuzzy matching tells apart.
type signature struct {
	sig   uint64
	calls bool
}

// sigSeed starts every signature, so that an empty conversation still has
// a non-zero one (zero marks "no signature" in a slot).
const sigSeed = 0x9e3779b97f4a7c15

func (g *signature) reset() { g.sig = sigSeed }

// sum is the signature of the parts written so far.
func (g *signature) sum() uint64 { return g.sig }

// system adds the part "system:{prompt[:100]}" (not stripped); the original
// adds none for an empty prompt.
func (g *signature) system(sys []byte, escaped bool) {
	if len(sys) == 0 {
		return
	}
	if p, ok := plainPrefix(sys, systemRunes, escaped); ok {
		g.sig = chain(g.sig, textHash(roleSystem, p))
		return
	}
	g.sig = chain(g.sig, decodedHash(roleSystem, sys, escaped, false))
}

// message adds the part "{role}:{text[:100].strip()}".
func (g *signature) message(m *Message) {
	role := m.Role
	if role == nil {
		role = roleUnknown
	}
	var part uint64
	if p, ok := plainPrefix(m.Content, signatureRunes, m.Escaped); ok {
		part = textHash(role, pyStrip(p))
	} else {
		part = decodedHash(role, m.Content, m.Escaped, true)
	}
	if g.calls && len(m.CallID) > 0 {
		part = chain(part, xxhash.Sum64(m.CallID))
	}
	g.sig = chain(g.sig, part)
}

// decodedHash hashes the first 100 code points of a text that is not plain
// ASCII: apart, so that the common path needs no decoding buffer.
//
//go:noinline
func decodedHash(role, text []byte, escaped, strip bool) uint64 {
	var buf [signatureRunes * 4]byte
	text = text[:min(len(text), ContentReadLimit)]
	var p []byte
	if escaped {
		p = unescapePrefix(buf[:0], text, signatureRunes)
	} else {
		p = runePrefix(text, signatureRunes)
	}
	if strip {
		p = pyStrip(p)
	}
	return textHash(role, p)
}

// textHash is the fingerprint of the part "{role}:{text}".
func textHash(role, text []byte) uint64 {
	return xxhash.Sum64(text) ^ roleHash(role)
}

// roleHash fingerprints a role, with the common ones precomputed.
func roleHash(role []byte) uint64 {
	switch string(role) {
	case "user":
		return roleUserHash
	case "assistant":
		return roleAssistantHash
	case "tool":
		return roleToolHash
	case "system":
		return roleSystemHash
	}
	return mixRole(xxhash.Sum64(role))
}

func mixRole(h uint64) uint64 { return h*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019 }

var (
	roleUserHash      = mixRole(xxhash.Sum64String("user"))
	roleAssistantHash = mixRole(xxhash.Sum64String("assistant"))
	roleToolHash      = mixRole(xxhash.Sum64String("tool"))
	roleSystemHash    = mixRole(xxhash.Sum64String("system"))
)

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

// normHash is a message's fuzzy fingerprint (docs/sessions.md, "Normal form").
func normHash(m *Message) uint64 {
	class := roleClass(m)
	h := uint64(class) * 0x9e3779b97f4a7c15
	if class == classOther {
		h ^= xxhash.Sum64(m.Role)
	}
	if len(m.CallID) > 0 {
		h = chain(h, xxhash.Sum64(m.CallID))
		if class == classTool || class == classLLM {
			// A tool call and its result are their call id, whatever the
			// client made of the text beside the call or of the result.
			return h
		}
	}
	return chain(h^0x27d4eb2f165667c5, canonHash(m.Content, m.Escaped))
}

// normSystemHash is the fuzzy fingerprint of a system prompt: the first
// normSystemRunes code points of the normal form of its first 100 code
// points (the window of the exact signature, so that it can be cached by the
// exact fingerprint).
func normSystemHash(sys []byte, escaped bool) uint64 {
	var buf [normRunes * 4]byte
	var raw [systemRunes * 4]byte
	text := textPrefix(raw[:], sys, escaped, systemRunes)
	return xxhash.Sum64(runePrefix(normText(buf[:0], text, false), normSystemRunes)) ^ 0x5f3759df
}

// normText appends the first normRunes code points of the normal form of a
// text: NFKC, invisible format characters removed, every run of white space
// collapsed to one space, no space at either end.
func normText(dst []byte, src []byte, escaped bool) []byte {
	if p, ok := alreadyNormal(src, escaped); ok {
		return append(dst, p...)
	}
	return normSlow(dst, src, escaped)
}

func normSlow(dst []byte, src []byte, escaped bool) []byte {
	if len(src) > ContentReadLimit {
		src = src[:ContentReadLimit]
	}
	if out, ok := normASCII(dst, src, escaped); ok { // NFKC is the identity on ASCII
		return out
	}
	return normDecoded(dst, src, escaped)
}

//go:noinline
func normDecoded(dst, src []byte, escaped bool) []byte {
	var buf [normWindow * 4]byte
	var text []byte
	if escaped {
		text = unescapePrefix(buf[:0], src, normWindow)
	} else {
		text = runePrefix(src, normWindow)
	}
	if isASCII(text) {
		out, _ := normASCII(dst, text, false)
		return out
	}
	return normUnicode(dst, text)
}

// alreadyNormal returns the first normRunes code points of the normal form
// of text when text starts as its own normal form: printable ASCII (no
// backslash when escaped), single spaces between words, none leading. It
// decides with word-wide bit tricks, so the most common texts cost no
// per-byte branches.
func alreadyNormal(text []byte, escaped bool) ([]byte, bool) {
	w := text
	if len(w) > normRunes+1 {
		w = w[:normRunes+1] // one more byte tells whether a space at the cut is inside
	}
	if len(w) == 0 || w[0] == ' ' {
		return nil, len(w) == 0
	}
	const lo7, hi = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	// zeroes sets the high bit of exactly the zero bytes of x.
	zeroes := func(x uint64) uint64 { return ^((x&lo7 + lo7) | x | lo7) }
	var bad uint64
	prevSpace := uint64(0)
	var tail [8]byte
	for len(w) > 0 {
		var x uint64
		if len(w) >= 8 {
			x = binary.LittleEndian.Uint64(w)
			w = w[8:]
		} else {
			tail = [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
			copy(tail[:], w)
			x = binary.LittleEndian.Uint64(tail[:])
			w = nil
		}
		bad |= x & hi                                             // not ASCII
		bad |= (x&lo7 - 0x2020202020202020) & ^x & hi &^ (x & hi) // control characters, white space but ' '
		bad |= zeroes(x ^ 0x7f7f7f7f7f7f7f7f)                     // DEL
		if escaped {
			bad |= zeroes(x ^ 0x5c5c5c5c5c5c5c5c) // backslash
		}
		sp := zeroes(x ^ 0x2020202020202020)
		bad |= sp & (sp<<8 | prevSpace) // two spaces in a row
		prevSpace = sp >> 56            // the last byte's space bit, at the first byte's
	}
	if bad != 0 {
		return nil, false
	}
	if len(text) > normRunes {
		return text[:normRunes], true
	}
	if text[len(text)-1] == ' ' {
		return text[:len(text)-1], true
	}
	return text, true
}

// normASCII is normText for plain ASCII text, reading no further than it
// needs. It reports false, having appended nothing, when it meets a byte
// that is not plain (not ASCII, or a backslash of an escaped text) before
// it is done.
func normASCII(dst, text []byte, escaped bool) ([]byte, bool) {
	if len(text) > normWindow {
		text = text[:normWindow]
	}
	base := len(dst)
	n := 0
	space := false
	for _, c := range text {
		switch {
		case c >= utf8.RuneSelf || (escaped && c == '\\'):
			return dst[:base], false
		case asciiSpace[c]:
			space = n > 0
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
			if n++; n == normRunes {
				return dst, true
			}
		}
		dst = append(dst, c)
		if n++; n == normRunes {
			return dst, true
		}
	}
	return dst, true
}

// nfkc is the state of the NFKC path, pooled: a norm.Iter keeps a pointer to
// its input, which would move both to the heap on every call.
type nfkc struct {
	it  norm.Iter
	buf [normWindow * 4]byte
}

var nfkcPool = sync.Pool{New: func() any { return new(nfkc) }}

// normUnicode is normText's path for text that is not all ASCII.
func normUnicode(dst, text []byte) []byte {
	st := nfkcPool.Get().(*nfkc)
	defer nfkcPool.Put(st)
	st.it.Init(norm.NFKC, st.buf[:copy(st.buf[:], text)])
	n := 0
	space := false
	for !st.it.Done() {
		seg := st.it.Next()
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
