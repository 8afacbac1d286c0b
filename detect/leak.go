package detect

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// LLM07 system-prompt leakage: long verbatim overlap between a response
// and the system prompt it was produced under, measured with word
// shingles. Both texts are normalised and compared case-insensitively word
// by word (punctuation and spacing do not matter); every run of
// consecutive response words whose 8-word shingles all occur in the prompt
// counts, and runs are summed. A finding needs LeakMinWords words in total
// (default 20, or half the prompt when it has fewer than 40 words, never
// below 8); its span runs from the first to the last copied word.

const shingleK = 8

type wordSpan struct {
	start, end int
	h          uint64
}

// appendWords appends the words of t (runs of letters and digits; other
// UTF-8 sequences count as letters) with a case-folded hash. The hash
// takes the folded bytes eight at a time, so its multiplications do not
// form a chain through every byte.
func appendWords(dst []wordSpan, t string) []wordSpan {
	for i := 0; i < len(t); {
		if wordFold[t[i]] == 0 {
			i++
			continue
		}
		s := i
		h := uint64(14695981039346656037)
		var acc uint64
		n := 0
		for i < len(t) {
			b := wordFold[t[i]]
			if b == 0 {
				break
			}
			acc = acc<<8 | uint64(b)
			i++
			if n++; n == 8 {
				h = (h ^ acc) * 0x9E3779B97F4A7C15
				h ^= h >> 32
				acc, n = 0, 0
			}
		}
		h = (h ^ acc ^ uint64(i-s)<<56) * 0x9E3779B97F4A7C15
		h ^= h >> 29
		dst = append(dst, wordSpan{start: s, end: i, h: h})
	}
	return dst
}

// wordFold maps a byte of a word to its ASCII-lower-cased form, and every
// other byte to 0.
var wordFold = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		if b := byte(c); isAlnum(b) || b >= utf8.RuneSelf {
			t[c] = lowerASCII(b)
		}
	}
	return
}()

func shingleHash(ws []wordSpan) uint64 {
	var h uint64
	for _, w := range ws {
		h = (h ^ w.h) * 0x9E3779B97F4A7C15
		h ^= h >> 29
	}
	return h
}

func (c *scanCtx) leakage() {
	in := c.in
	if in.Direction != Response || in.SystemPrompt == "" || !c.enabled(CategoryPromptLeak) {
		return
	}
	sp := in.SystemPrompt
	if len(sp) > c.s.opts.MaxBytes {
		sp = sp[:c.s.opts.MaxBytes]
	}
	p := promptShingles(sp)
	promptWords := p.words
	if promptWords < shingleK {
		return
	}
	t := c.n.Text
	rw := appendWords(c.sc.words[:0], t)
	c.sc.words = rw[:0]
	need := c.s.opts.LeakMinWords
	if promptWords < 2*need {
		need = max(promptWords/2, shingleK)
	}
	copied := 0
	first, last := -1, -1
	covered := -1 // last response word index already counted
	// run counts the consecutive response words, up to the current one,
	// that may be prompt words: a shingle needs shingleK of them.
	run := 0
	for j := range rw {
		if !p.mayHaveWord(rw[j].h) && !fullPath {
			run = 0
			continue
		}
		if run++; run < shingleK {
			continue
		}
		i := j - shingleK + 1
		if !p.has(shingleHash(rw[i : j+1])) {
			continue
		}
		from := max(i, covered+1)
		to := j
		copied += to - from + 1
		covered = to
		if first < 0 {
			first = i
		}
		last = to
	}
	if copied < need || first < 0 {
		return
	}
	share := float64(copied) / float64(promptWords)
	sev := SeverityMedium
	if share >= 0.5 || copied >= 60 {
		sev = SeverityHigh
	}
	conf := float32(0.8)
	if copied >= 30 || share >= 0.5 {
		conf = 0.9
	}
	if share > 1 {
		share = 1
	}
	c.t = t
	c.emit(CategoryPromptLeak, "llm07.system_prompt_leak", sev, conf, rw[first].start, rw[last].end,
		strconv.Itoa(copied)+" words copied from the system prompt ("+strconv.Itoa(int(share*100+0.5))+"% of it)")
}

// leakPrompt is what the leakage check needs of a system prompt: its word
// count, the set of its shingle hashes (open addressing, 0 marks an empty
// slot and zero is kept aside) and a filter of its word hashes.
type leakPrompt struct {
	prompt  string
	words   int
	set     []uint64
	hasZero bool
	wordBit [16]uint64 // 1024-bit filter of the word hashes
}

func (p *leakPrompt) mayHaveWord(h uint64) bool {
	b := h >> 54
	return p.wordBit[b>>6]&(1<<(b&63)) != 0
}

func (p *leakPrompt) has(h uint64) bool {
	if h == 0 {
		return p.hasZero
	}
	mask := uint64(len(p.set) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch p.set[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

func newLeakPrompt(sp string) *leakPrompt {
	p := &leakPrompt{prompt: sp}
	pw := appendWords(nil, Normalize(sp).Text)
	p.words = len(pw)
	if len(pw) < shingleK {
		return p
	}
	for _, w := range pw {
		b := w.h >> 54
		p.wordBit[b>>6] |= 1 << (b & 63)
	}
	size := 16
	for size < 2*len(pw) {
		size *= 2
	}
	p.set = make([]uint64, size)
	mask := uint64(size - 1)
	for i := 0; i+shingleK <= len(pw); i++ {
		h := shingleHash(pw[i : i+shingleK])
		if h == 0 {
			p.hasZero = true
			continue
		}
		j := h & mask
		for p.set[j] != 0 && p.set[j] != h {
			j = (j + 1) & mask
		}
		p.set[j] = h
	}
	return p
}

// leakPrompts remembers the shingles of recent system prompts, shared by
// all scanners: a session sends the same prompt with every call, and
// shingling it is most of the check's cost. An entry is a pure function of
// its prompt, which it keeps to compare, so a lost race or an evicted
// entry only costs shingling the prompt again. Prompts over
// maxCachedPrompt bytes are shingled per scan and not kept.
var (
	leakPrompts    [64]atomic.Pointer[leakPrompt]
	leakPromptSeed = maphash.MakeSeed()
)

const maxCachedPrompt = 64 << 10

func promptShingles(sp string) *leakPrompt {
	if len(sp) > maxCachedPrompt || fullPath {
		return newLeakPrompt(sp)
	}
	slot := &leakPrompts[maphash.String(leakPromptSeed, sp)%uint64(len(leakPrompts))]
	if p := slot.Load(); p != nil && p.prompt == sp {
		return p
	}
	p := newLeakPrompt(strings.Clone(sp))
	slot.Store(p)
	return p
}
