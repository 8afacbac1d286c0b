package detect

import (
	"math/bits"
	"regexp"
	"slices"
	"sync"
	"unsafe"
)

// regexRule is a regular expression guarded by keywords: it only runs on a
// window around a keyword occurrence, so text without any of its keywords
// never reaches it.
type regexRule struct {
	cat   Category
	id    string
	re    *regexp.Regexp
	kws   []string
	kwIDs []int32
	// needs are words of which one must occur in a window for the
	// expression to be worth running there (the object of a phrase whose
	// keyword is its verb); they are keywords of the automaton too.
	needs   []string
	needIDs []int32
	// kwMask and needMask are 256-bit filters of kwIDs and needIDs (see
	// mayHit).
	kwMask, needMask [4]uint64
	before           int // bytes before a keyword's end that the window starts at
	after            int // bytes after a keyword's end that the window ends at
	sev              Severity
	conf             float32
	// Secrets: the capture group holding the secret (0: whole match) and
	// the minimum Shannon entropy (bits/char) it must have.
	group   int
	entropy float64
	// lower runs the rule on an ASCII-lower-cased copy of the window.
	lower bool
	// anchored rules start their match at the keyword: the expression is
	// compiled with a leading ^ and run once per keyword from its start,
	// which costs the length of the match instead of the window.
	anchored bool
	// verb rules start with their keyword, a verb that a word gap
	// ([\s_*-]+) and a letter follow.
	verb bool
	// signal, when set, makes the rule a scorer input instead of a
	// finding of its own (injection_signals.go).
	signal signalID
	// check validates a match (offsets into c.t) and returns the
	// confidence and severity to report; ok false drops it.
	check func(c *scanCtx, r *regexRule, m []int) (conf float32, sev Severity, ok bool)
	// evidence renders the redacted evidence; nil uses the default of the
	// category.
	evidence func(c *scanCtx, r *regexRule, m []int) string
}

// ruleTables holds everything compiled once and shared by all scanners.
type ruleTables struct {
	kw      *keywordSet
	words   []string
	secrets []*regexRule
	// secretsByKW lists, per keyword id, the secret rules it guards.
	secretsByKW ruleIndex
	injection   []*regexRule
	// injectionByKW, signalsByKW and toolSigsByKW index the lists below
	// like secretsByKW (each has at most 64 rules).
	injectionByKW, signalsByKW, toolSigsByKW ruleIndex
	signals                                  []*regexRule // scorer inputs for messages
	toolSigs                                 []*regexRule // scorer inputs for tool definitions (signals and tool-only ones)
	output                                   []*regexRule
	agency                                   []*regexRule
	// keyword ids of hand-written detectors
	genericKW     []int32
	awsSecretKW   []int32
	awsSecretMask [4]uint64
	bech32KW      []int32
	ethKW         []int32
	urlCredKW     []int32
	// provider names of contextSecrets: keyword id → rule id
	providerIDs  map[int32]string
	providerMask [4]uint64
}

var rules = sync.OnceValue(buildRules)

type ruleBuilder struct {
	words []string
	ids   map[string]int32
}

// maxKeyword is the longest keyword the automaton holds: longer ones are
// cut to it (the rule's expression checks the rest), which keeps the
// transition table small enough for the processor's cache.
const maxKeyword = 12

func (b *ruleBuilder) id(w string) int32 {
	w = lowerString(w)
	if len(w) > maxKeyword {
		w = w[:maxKeyword]
	}
	if id, ok := b.ids[w]; ok {
		return id
	}
	id := int32(len(b.words))
	b.ids[w] = id
	b.words = append(b.words, w)
	return id
}

func (b *ruleBuilder) idsOf(ws ...string) []int32 {
	out := make([]int32, len(ws))
	for i, w := range ws {
		out[i] = b.id(w)
	}
	return out
}

func (b *ruleBuilder) add(list []*regexRule) []*regexRule {
	for _, r := range list {
		r.kwIDs = b.idsOf(r.kws...)
		r.needIDs = b.idsOf(r.needs...)
		r.kwMask, r.needMask = idMask(r.kwIDs), idMask(r.needIDs)
		// A cut keyword ends earlier: widen the window by what was cut.
		longest := 0
		for _, k := range r.kws {
			longest = max(longest, len(k))
		}
		r.after += max(0, longest-maxKeyword)
	}
	return list
}

func buildRules() *ruleTables {
	b := &ruleBuilder{ids: map[string]int32{}}
	t := &ruleTables{}
	t.secrets = b.add(append(append(secretRules(), vendorSecretRules()...), longTailSecretRules()...))
	t.injection = b.add(injectionRules())
	t.signals = b.add(signalRules())
	t.toolSigs = append(append([]*regexRule{}, t.signals...), b.add(toolSignalRules())...)
	t.output = b.add(outputRules())
	t.agency = b.add(agencyRules())
	t.genericKW = b.idsOf(genericKeywords...)
	t.awsSecretKW = b.idsOf("akia", "asia", "abia", "acca", "a3t", "secret_access_key", "secretaccesskey", "aws_secret", "secret access key")
	t.awsSecretMask = idMask(t.awsSecretKW)
	t.bech32KW = b.idsOf("bc1")
	t.ethKW = b.idsOf("0x")
	t.urlCredKW = b.idsOf("://")
	t.providerIDs = map[int32]string{}
	for name, id := range contextProviders {
		kid := b.id(name)
		t.providerIDs[kid] = id
		t.providerMask[(kid>>6)&3] |= 1 << (kid & 63)
	}
	t.words = b.words
	t.kw = buildKeywords(b.words)
	t.secretsByKW = indexRules(t.secrets, len(t.words))
	t.injectionByKW = indexRules(t.injection, len(t.words))
	t.signalsByKW = indexRules(t.signals, len(t.words))
	t.toolSigsByKW = indexRules(t.toolSigs, len(t.words))
	if len(t.injection) > 64 || len(t.signals) > 64 || len(t.toolSigs) > 64 {
		panic("detect: an injection rule list outgrew candidates64")
	}
	return t
}

// ruleIndex maps a keyword id to the rules of a list it guards: the rules
// of keyword k are at[from[k]:from[k+1]], as indexes into the list.
type ruleIndex struct {
	from []int32
	at   []uint16
	n    int // rules in the list
}

func indexRules(list []*regexRule, words int) ruleIndex {
	ix := ruleIndex{from: make([]int32, words+1), n: len(list)}
	for _, r := range list {
		for _, id := range r.kwIDs {
			ix.from[id+1]++
		}
	}
	for k := 0; k < words; k++ {
		ix.from[k+1] += ix.from[k]
	}
	ix.at = make([]uint16, ix.from[words])
	next := append([]int32(nil), ix.from[:words]...)
	for i, r := range list {
		for _, id := range r.kwIDs {
			if p := ix.from[id]; slices.Contains(ix.at[p:next[id]], uint16(i)) {
				continue // a keyword listed twice by one rule
			}
			ix.at[next[id]] = uint16(i)
			next[id]++
		}
	}
	return ix
}

// candidates64 is candidates for a list of at most 64 rules; fullPath
// makes every rule a candidate.
func (c *scanCtx) candidates64(ix *ruleIndex) uint64 {
	if fullPath {
		return 1<<ix.n - 1
	}
	var set uint64
	for w, bits64 := range c.presentKeywords() {
		for bits64 != 0 {
			k := w*64 + bits.TrailingZeros64(bits64)
			bits64 &= bits64 - 1
			for _, i := range ix.at[ix.from[k]:ix.from[k+1]] {
				set |= 1 << i
			}
		}
	}
	return set
}

// candidates returns in dst the set of rules of ix (as a bitmap of their
// indexes) of which a keyword occurs in c.hits: the only rules runRule
// can match anything with.
func (c *scanCtx) candidates(ix *ruleIndex, dst []uint64) []uint64 {
	n := (ix.n + 63) / 64
	if cap(dst) < n {
		dst = make([]uint64, n)
	}
	dst = dst[:n]
	clear(dst)
	present := c.presentKeywords()
	for w, bits64 := range present {
		for bits64 != 0 {
			k := w*64 + bits.TrailingZeros64(bits64)
			bits64 &= bits64 - 1
			for _, i := range ix.at[ix.from[k]:ix.from[k+1]] {
				dst[i>>6] |= 1 << (i & 63)
			}
		}
	}
	return dst
}

func lowerString(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerASCII(b[j])
			}
			return string(b)
		}
	}
	return s
}

// isTokenByte reports bytes that can be part of a key, token or blob.
func isTokenByte(b byte) bool { return tokenByte[b] }

var tokenByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "_-+/=.~" {
		t[c] = true
	}
	return
}()

// runRule runs r on merged windows around its keyword hits and calls visit
// for every match (offsets into c.t).
func (c *scanCtx) runRule(r *regexRule, visit func(m []int)) {
	if r.anchored {
		c.runAnchored(r, visit)
		return
	}
	ends := c.hitEnds(c.sc.ends[:0], r.kwIDs, &r.kwMask)
	c.sc.ends = ends
	if len(ends) == 0 {
		return
	}
	t := c.t
	for i := 0; i < len(ends); {
		ws, we := int(ends[i])-r.before, int(ends[i])+r.after
		j := i + 1
		for j < len(ends) && int(ends[j])-r.before <= we {
			we = int(ends[j]) + r.after
			j++
		}
		i = j
		if ws < 0 {
			ws = 0
		}
		if we > len(t) {
			we = len(t)
		}
		for k := 0; ws > 0 && k < 64 && isTokenByte(t[ws-1]) && isTokenByte(t[ws]); k++ {
			ws--
		}
		for k := 0; we < len(t) && k < 256 && isTokenByte(t[we]) && isTokenByte(t[we-1]); k++ {
			we++
		}
		if len(r.needIDs) > 0 && !c.hitIn(r.needIDs, &r.needMask, ws, we) {
			continue
		}
		w := t[ws:we]
		if r.lower {
			w = c.lowered(w)
		}
		for _, m := range r.re.FindAllStringSubmatchIndex(w, -1) {
			for k := range m {
				if m[k] >= 0 {
					m[k] += ws
				}
			}
			visit(m)
		}
	}
}

// runRules runs a list of rules with their default reporting.
func (c *scanCtx) runRules(list []*regexRule) {
	for _, r := range list {
		c.runRule(r, func(m []int) {
			conf, sev := r.conf, r.sev
			if r.check != nil {
				var ok bool
				if conf, sev, ok = r.check(c, r, m); !ok {
					return
				}
			}
			s, e := m[0], m[1]
			if r.group > 0 && m[2*r.group] >= 0 {
				s, e = m[2*r.group], m[2*r.group+1]
			}
			var ev string
			if r.evidence != nil {
				ev = r.evidence(c, r, m)
			} else {
				ev = c.quote(c.t[s:e], 160)
			}
			c.emit(r.cat, r.id, sev, conf, s, e, ev)
		})
	}
}

// lowered returns an ASCII-lower-cased copy of w in scratch memory, valid
// until the next call.
func (c *scanCtx) lowered(w string) string {
	b := c.sc.low[:0]
	for i := 0; i < len(w); i++ {
		b = append(b, lowerASCII(w[i]))
	}
	c.sc.low = b
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func idMask(ids []int32) (m [4]uint64) {
	for _, id := range ids {
		m[(id>>6)&3] |= 1 << (id & 63)
	}
	return
}

// hitIn reports a hit of one of ids (filter mask) ending within (ws, we].
func (c *scanCtx) hitIn(ids []int32, mask *[4]uint64, ws, we int) bool {
	if !c.hasHit(ids, mask) {
		return false
	}
	for _, h := range c.hits {
		if int(h.end) <= ws {
			continue
		}
		if int(h.end) > we {
			break
		}
		if slices.Contains(ids, h.id) {
			return true
		}
	}
	return false
}

func isPhraseGap(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '_' || b == '*' || b == '-' || b == ',' || b == ':' || b == '.' || b == '"' || b == '\''
}

// wordFollows reports a word gap ([\s_*-]+) and a letter at t[i:].
func wordFollows(t string, i int) bool {
	j := i
	for j < len(t) && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r' || t[j] == '\v' || t[j] == '\f' || t[j] == '_' || t[j] == '*' || t[j] == '-') {
		j++
	}
	return j > i && j < len(t) && isAlpha(t[j])
}

func (c *scanCtx) runAnchored(r *regexRule, visit func(m []int)) {
	if !c.hasHit(r.kwIDs, &r.kwMask) {
		return
	}
	t := c.t
	words := rules().words
	done := -1
	for _, h := range c.hits {
		if !slices.Contains(r.kwIDs, h.id) {
			continue
		}
		ws := int(h.end) - len(words[h.id])
		if ws < done || ws > 0 && isAlnum(t[ws-1]) {
			continue
		}
		// A whole keyword of a phrase rule is followed by the gap to the
		// next word ("cancel()" starts no phrase).
		if r.lower && len(words[h.id]) < maxKeyword && int(h.end) < len(t) && isAlnum(words[h.id][len(words[h.id])-1]) && !isPhraseGap(t[h.end]) {
			continue
		}
		if r.verb && len(words[h.id]) < maxKeyword && !wordFollows(t, int(h.end)) {
			continue
		}
		we := min(len(t), int(h.end)+r.after)
		if len(r.needIDs) > 0 && !c.hitIn(r.needIDs, &r.needMask, ws, we) {
			continue
		}
		w := t[ws:we]
		if r.lower {
			w = c.lowered(w)
		}
		m := r.re.FindStringSubmatchIndex(w)
		if m == nil {
			continue
		}
		for k := range m {
			if m[k] >= 0 {
				m[k] += ws
			}
		}
		done = m[1]
		visit(m)
	}
}
