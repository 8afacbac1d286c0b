package detect

// wordList is a fixed list of context words ("card", "phone", "order", …)
// matched case-insensitively (ASCII) in one pass of a small automaton, so
// asking whether any of them occurs near a number costs one table load per
// byte of the window however many words the list holds, and allocates
// nothing.
type wordList struct{ kw *keywordSet }

func newWordList(words ...string) *wordList {
	low := make([]string, len(words))
	for i, w := range words {
		low[i] = lowerString(w)
	}
	return &wordList{kw: buildKeywords(low)}
}

// in reports whether one of the words occurs in s. A word that starts with
// a letter or digit must start a word of s ("ver" is not in "server"); the
// start of s counts as a word start.
func (l *wordList) in(s string) bool {
	k := l.kw
	delta, class, out, nc := k.delta, &k.class, k.out, int32(k.nclass)
	st := int32(0)
	for i := 0; i < len(s); i++ {
		st = delta[st+int32(class[s[i]])]
		if st >= 0 {
			continue
		}
		st = -st - 1
		for o := out[st/nc]; o >= 0; o = k.outs[o].next {
			w := k.words[k.outs[o].id]
			start := i + 1 - len(w)
			if start == 0 || !isAlnum(w[0]) || !isAlnum(s[start-1]) {
				return true
			}
		}
	}
	return false
}
