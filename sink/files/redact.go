package files

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"unsafe"

	"github.com/cylestio/perimeter/sink"
)

// credentialPatterns are the original message_logger's patterns, applied
// in order, case-insensitively, to every string value, followed by those
// the original lacked: today's OpenAI and Anthropic keys (sk-proj-…,
// sk-ant-…) have dashes the first pattern does not allow, and tokens that
// announce themselves by a prefix (GitHub, GitLab, Slack, Google, Stripe,
// Hugging Face, npm, JWTs, PEM private keys) are masked with no keyword
// before them.
//
// Each pattern has the literals one of which any match contains (lower
// case): a pattern runs only on strings holding one, found by a
// case-insensitive byte scan, so ordinary text costs no regexp at all.
var credentialPatterns = []struct {
	re      *regexp.Regexp
	repl    string
	needles []string
}{
	{regexp.MustCompile(`(?i)(sk-[a-zA-Z0-9]{20,})`), "[REDACTED_API_KEY]", []string{"sk-"}},
	{regexp.MustCompile(`(?i)(api[_-]?key)["\s:=]+["']?([a-zA-Z0-9_-]{20,})["']?`), "${1}: [REDACTED]", []string{"api"}},
	{regexp.MustCompile(`(?i)(bearer\s+)([a-zA-Z0-9._-]{20,})`), "${1}[REDACTED]", []string{"bearer"}},
	{regexp.MustCompile(`(?i)(AKIA[A-Z0-9]{16})`), "[REDACTED_AWS_KEY]", []string{"akia"}},
	{regexp.MustCompile(`(?i)(password|secret|token|credential)["\s:=]+["']?([^\s"']{8,})["']?`), "${1}: [REDACTED]", []string{"password", "secret", "token", "credential"}},
	{regexp.MustCompile(`(?i)(sk-[a-z0-9]+-[a-zA-Z0-9_-]{20,})`), "[REDACTED_API_KEY]", []string{"sk-"}},
	// Beyond the original: credentials their own prefix gives away, masked
	// wherever they stand, with no keyword before them.
	{regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})`), "[REDACTED_GITHUB_TOKEN]", []string{"hp_", "ho_", "hu_", "hs_", "hr_", "b_pat_"}},
	{regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`), "[REDACTED_GITLAB_TOKEN]", []string{"glpat-"}},
	{regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`), "[REDACTED_SLACK_TOKEN]", []string{"xox"}},
	{regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}`), "[REDACTED_GOOGLE_API_KEY]", []string{"iza"}},
	{regexp.MustCompile(`\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}`), "[REDACTED_STRIPE_KEY]", []string{"k_live_", "k_test_"}},
	{regexp.MustCompile(`\bhf_[A-Za-z0-9]{30,}`), "[REDACTED_HF_TOKEN]", []string{"hf_"}},
	{regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}`), "[REDACTED_NPM_TOKEN]", []string{"npm_"}},
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`), "[REDACTED_JWT]", []string{"eyj"}},
	{regexp.MustCompile(`-----BEGIN[A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z ]*PRIVATE KEY-----|$)`), "[REDACTED_PRIVATE_KEY]", []string{"private"}},
}

// RedactCredentials applies the credential patterns to s.
func RedactCredentials(s string) string {
	for _, p := range credentialPatterns {
		for _, n := range p.needles {
			if containsFold(s, n) {
				s = p.re.ReplaceAllString(s, p.repl)
				break
			}
		}
	}
	return s
}

// containsFold reports whether s contains the lower-case ASCII literal
// lit, ignoring ASCII case (both sides are folded with |0x20, so an '_'
// of lit matches itself). (?i) also folds a few non-ASCII letters onto
// ASCII ones (K, ſ), so a string with a byte ≥ 0x80 where lit's first
// letter could start is checked the slow way.
func containsFold(s, lit string) bool {
	first := lit[0]
	for i := 0; i+len(lit) <= len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.Contains(strings.ToLower(s), lit) || foldsUnicode(s)
		}
		if c|0x20 != first {
			continue
		}
		j := 1
		for ; j < len(lit); j++ {
			if s[i+j]|0x20 != lit[j]|0x20 {
				break
			}
		}
		if j == len(lit) {
			return true
		}
	}
	return false
}

// foldsUnicode reports whether s holds a letter that (?i) matches with an
// ASCII letter: the Kelvin sign and the long s.
func foldsUnicode(s string) bool {
	return strings.ContainsRune(s, '\u212A') || strings.ContainsRune(s, '\u017F')
}

// secretMember reports whether an object member of this name holds a
// secret whatever its value looks like ({"api_key": "short"}), a case
// the patterns, which see values only, miss.
func secretMember(name string) bool {
	n := strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(name))
	return slices.Contains(secretMembers, n)
}

// secretMembers are the member names (lower case, separators removed)
// whose string value is a secret whatever it looks like.
var secretMembers = []string{"apikey", "xapikey", "authorization", "proxyauthorization", "password", "passwd", "secret",
	"clientsecret", "accesstoken", "refreshtoken", "privatekey", "awssecretaccesskey"}

// redactJSON returns the JSON value src with every string value (and,
// beyond the original, every member name) passed through
// RedactCredentials, and every string member named like a secret replaced
// by "[REDACTED]". Everything else is kept byte for byte. src must be
// valid JSON.
func redactJSON(src []byte) []byte {
	return mapJSON(src, RedactCredentials, func(key, s string) string {
		r := RedactCredentials(s)
		if key != "" && secretMember(key) && s != "" {
			r = "[REDACTED]"
		}
		return r
	})
}

// MapStrings returns the JSON value src with every string value replaced
// by fn(member, value), where member is the name of the object member the
// value belongs to ("" in arrays and at the top). Member names, numbers,
// literals and unchanged strings are kept byte for byte. src must be valid
// JSON. storage.content masking (sink/content) is built on it.
func MapStrings(src []byte, fn func(member, value string) string) []byte {
	return mapJSON(src, nil, fn)
}

// mapJSON rewrites member names with names (nil keeps them) and string
// values with values.
func mapJSON(src []byte, names func(string) string, values func(key, s string) string) []byte {
	out := make([]byte, 0, len(src)+16)
	var pendingKey string // member name whose value comes next
	for i := 0; i < len(src); {
		c := src[i]
		if c != '"' {
			switch c {
			case ' ', '\t', '\r', '\n', ':':
			default:
				pendingKey = ""
			}
			out = append(out, c)
			i++
			continue
		}
		end := stringEnd(src, i)
		tok := src[i:end]
		j := end
		for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r' || src[j] == '\n') {
			j++
		}
		if j < len(src) && src[j] == ':' {
			name, _ := unquote(tok)
			pendingKey = name
			// A key used as a member name is as secret as one in a value.
			if names == nil {
				out = append(out, tok...)
			} else if r := names(name); r != name {
				out = appendString(out, r)
			} else {
				out = append(out, tok...)
			}
			i = end
			continue
		}
		if s, ok := unquote(tok); !ok {
			out = append(out, tok...)
		} else {
			r := values(pendingKey, s)
			if r == s {
				out = append(out, tok...)
			} else {
				out = appendString(out, r)
			}
		}
		pendingKey = ""
		i = end
	}
	return out
}

// unquote decodes a JSON string token; one without escapes or non-ASCII
// bytes is simply cut out of its quotes.
func unquote(tok []byte) (string, bool) {
	if len(tok) >= 2 && tok[0] == '"' && tok[len(tok)-1] == '"' {
		plain := true
		for _, c := range tok[1 : len(tok)-1] {
			if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
				plain = false
				break
			}
		}
		if plain {
			return string(tok[1 : len(tok)-1]), true
		}
	}
	var s string
	if json.Unmarshal(tok, &s) != nil {
		return "", false
	}
	return s, true
}

// stringEnd returns the index just past the JSON string starting at
// src[i] (a quote).
func stringEnd(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(src)
}

// RedactEvents masks credentials in the events' attributes before they are
// stored or written anywhere: every string passes RedactCredentials and a
// member named like a secret holds "[REDACTED]" (redactJSON). It runs in
// the pipeline after detection, which has already seen the text and keeps
// only masked evidence, so no writer stores a key a prompt, a tool call or
// a reflected answer carried. An event whose attributes hold no needle of
// any pattern (the common case) is left untouched without a copy.
func RedactEvents(batch []*sink.Event) []*sink.Event {
	for _, ev := range batch {
		if len(ev.Attributes) == 0 || !mayHoldCredential(ev.Attributes) {
			continue
		}
		if out := redactJSON(ev.Attributes); !bytes.Equal(out, ev.Attributes) {
			ev.Attributes = out
		}
	}
	return batch
}

// credentialNeedles are what any credential pattern's match or secret
// member name contains, lower case; for the prefixed tokens, a part whose
// byte pairs are rare in prose ("hp_" of ghp_…, "iza" of AIza…), since
// every occurrence of a needle's first two pairs costs an exact look.
// TestPatternNeedlesArePrefiltered holds the patterns' needles to this
// list. "token" is checked apart (every call
// carries token counts): it counts only followed by the separator its
// pattern needs (a quote, space, ':' or '='). A secret member's name may be spelt with any separator (private-key,
// private_key, privateKey): its needle is the name's first word.
// TestPrefilterCoversSecretMembers holds the list to secretMembers.
var credentialNeedles = []string{"sk-", "api", "bearer", "akia", "password", "passwd", "secret", "credential",
	"authorization", "access", "refresh", "private",
	"hp_", "ho_", "hu_", "hs_", "hr_", "b_pat_", "glpat-", "xox", "iza", "k_live_", "k_test_", "hf_", "npm_", "eyj"}

// mayHoldCredential reports whether b holds one of credentialNeedles,
// ignoring ASCII case, in one pass. Every needle, "token" and the Kelvin
// sign are at least three bytes long, so each occurrence has its first or
// its second byte pair at an odd offset: only those pairs are looked up
// (probeBigrams), and a pair that may belong to an occurrence has the two
// positions it may start at looked at exactly (credentialAt), in order.
// The long s is two bytes: a pair that begins with its last byte is a
// probe too. The first bytes of the Kelvin sign and the long s, which (?i)
// folds onto k and s, send the text to the exact check.
func mayHoldCredential(b []byte) bool {
	n := len(b)
	j := 1
	for ; j+1 < n; j += 2 {
		k := uint16(b[j]) | uint16(b[j+1])<<8
		if probeBigrams[k>>6]&(1<<(k&63)) == 0 {
			continue
		}
		if found, done := credentialAt(b, j-1); done {
			return found
		}
		if found, done := credentialAt(b, j); done {
			return found
		}
	}
	for i := j - 1; i+1 < n; i++ { // the positions no probe covered
		if found, done := credentialAt(b, i); done {
			return found
		}
	}
	return false
}

// credentialAt looks at position i of b (i+1 < len(b)): done when the
// answer of mayHoldCredential is known there, found when it is yes. A
// position is looked at further only when its two bytes, folded, begin a
// needle (needleBigrams).
func credentialAt(b []byte, i int) (found, done bool) {
	k := uint16(b[i]|0x20)<<8 | uint16(b[i+1]|0x20)
	if needleBigrams[k>>6]&(1<<(k&63)) == 0 {
		return false, false
	}
	rest := b[i:]
	switch k {
	case 0xe2<<8 | 0xa4, 0xe5<<8 | 0xbf: // 0xe2 84 aa is the Kelvin sign, 0xc5 bf the long s
		if !bytes.HasPrefix(rest, kelvin) && !bytes.HasPrefix(rest, longS) {
			return false, false
		}
		s := unsafe.String(unsafe.SliceData(b), len(b))
		for _, n := range credentialNeedles {
			if containsFold(s, n) {
				return true, true
			}
		}
		return false, true
	case 't'<<8 | 'o':
		if hasPrefixFold(rest, "token") && len(rest) > 5 {
			switch rest[5] {
			case '"', ' ', '\t', '\n', '\r', '\f', '\v', ':', '=':
				return true, true
			}
		}
		return false, false
	}
	for _, n := range credentialNeedles {
		if n[0]|0x20 == rest[0]|0x20 && n[1]|0x20 == rest[1]|0x20 && hasPrefixFold(rest, n) {
			return true, true
		}
	}
	return false, false
}

// probeBigrams is a bit set of the byte pairs, as they are in the text
// (b[j] | b[j+1]<<8), that may be the first or the second pair of an
// occurrence credentialAt accepts: every case of the needles' first and
// second pairs, of "to" and "ok", of the Kelvin sign's pairs, of the long
// s, and any pair that begins with the long s's last byte.
var probeBigrams = func() (set [1024]uint64) {
	add := func(c0, c1 byte) { // c0, c1 folded (|0x20): both of their cases
		for _, x := range [2]byte{c0, c0 &^ 0x20} {
			for _, y := range [2]byte{c1, c1 &^ 0x20} {
				k := uint16(x) | uint16(y)<<8
				set[k>>6] |= 1 << (k & 63)
			}
		}
	}
	for _, n := range credentialNeedles {
		add(n[0]|0x20, n[1]|0x20)
		add(n[1]|0x20, n[2]|0x20)
	}
	add('t', 'o')
	add('o', 'k')
	add(kelvin[0]|0x20, kelvin[1]|0x20)
	add(kelvin[1]|0x20, kelvin[2]|0x20)
	add(longS[0]|0x20, longS[1]|0x20)
	for c := range 256 {
		add(longS[1]|0x20, byte(c)|0x20)
	}
	return set
}()

// needleBigrams is a bit set of the folded (b|0x20) first two bytes of the
// needles, "to" of "token", and the first two bytes of the Kelvin sign and
// the long s.
var needleBigrams = func() (set [1024]uint64) {
	add := func(c0, c1 byte) {
		k := uint16(c0|0x20)<<8 | uint16(c1|0x20)
		set[k>>6] |= 1 << (k & 63)
	}
	for _, n := range credentialNeedles {
		add(n[0], n[1])
	}
	add('t', 'o')
	add(kelvin[0], kelvin[1])
	add(longS[0], longS[1])
	return set
}()

var kelvin, longS = []byte("\u212a"), []byte("\u017f")

// hasPrefixFold reports whether b starts with the lower-case ASCII lit,
// ignoring ASCII case.
func hasPrefixFold(b []byte, lit string) bool {
	if len(b) < len(lit) {
		return false
	}
	for j := 0; j < len(lit); j++ {
		c := b[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[j] {
			return false
		}
	}
	return true
}
