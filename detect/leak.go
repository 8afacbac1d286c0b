package detect

import (
	"strconv"
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

// words appends the words of t (runs of letters and digits; other UTF-8
// sequences count as letters) with a case-folded hash.
func appendWords(dst []wordSpan, t string) []wordSpan {
	for i := 0; i < len(t); {
		b := t[i]
		if !isAlnum(b) && b < utf8.RuneSelf {
			i++
			continue
		}
		s := i
		h := uint64(14695981039346656037)
		for i < len(t) && (isAlnum(t[i]) || t[i] >= utf8.RuneSelf) {
			h ^= uint64(lowerASCII(t[i]))
			h *= 1099511628211
			i++
		}
		dst = append(dst, wordSpan{start: s, end: i, h: h})
	}
	return dst
}

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
	spn := Normalize(sp)
	pw := appendWords(c.sc.words[:0], spn.Text)
	promptWords := len(pw)
	if promptWords < shingleK {
		c.sc.words = pw
		return
	}
	set := make(map[uint64]struct{}, promptWords)
	for i := 0; i+shingleK <= len(pw); i++ {
		set[shingleHash(pw[i:i+shingleK])] = struct{}{}
	}
	t := c.n.Text
	rw := appendWords(pw[len(pw):], t)
	c.sc.words = pw[:0]
	need := c.s.opts.LeakMinWords
	if promptWords < 2*need {
		need = max(promptWords/2, shingleK)
	}
	copied := 0
	first, last := -1, -1
	covered := -1 // last response word index already counted
	for i := 0; i+shingleK <= len(rw); i++ {
		if _, ok := set[shingleHash(rw[i:i+shingleK])]; !ok {
			continue
		}
		from := max(i, covered+1)
		to := i + shingleK - 1
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
