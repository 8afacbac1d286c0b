package detect

// keywordSet is an Aho–Corasick automaton over ASCII keywords, matched case
// insensitively. It is compiled once into a dense DFA over byte classes
// (every byte that occurs in no keyword shares class 0), so a scan is one
// table load per input byte and most text never reaches a regular
// expression. Immutable after build: safe for concurrent use.
type keywordSet struct {
	class  [256]uint8
	nclass int
	delta  []int32 // delta[state+class] = next state (states are pre-multiplied by nclass)
	out    []int32 // out[state/nclass] = index into outs of this state's first match, -1 if none
	outs   []kwOut
	words  []string
	maxLen int // the longest keyword's length
}

type kwOut struct {
	id   int32 // keyword id
	next int32 // next match of the same state (dictionary suffix), -1 at end
}

// kwHit is one keyword occurrence: the keyword id and its end offset.
type kwHit struct {
	id  int32
	end int32
}

func lowerASCII(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// buildKeywords compiles words (lower-case ASCII) into a keywordSet; the id
// of words[i] is i.
func buildKeywords(words []string) *keywordSet {
	k := &keywordSet{words: words}
	for _, w := range words {
		k.maxLen = max(k.maxLen, len(w))
	}
	// Byte classes.
	next := 1
	for _, w := range words {
		for i := 0; i < len(w); i++ {
			c := lowerASCII(w[i])
			if k.class[c] == 0 {
				k.class[c] = uint8(next)
				next++
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		k.class[c] = k.class[c+'a'-'A']
	}
	k.nclass = next
	if next > 255 {
		panic("detect: too many keyword byte classes")
	}
	// Trie.
	type node struct {
		child map[uint8]int
		fail  int
		ids   []int32
	}
	nodes := []node{{child: map[uint8]int{}}}
	for id, w := range words {
		s := 0
		for i := 0; i < len(w); i++ {
			c := k.class[lowerASCII(w[i])]
			n, ok := nodes[s].child[c]
			if !ok {
				n = len(nodes)
				nodes = append(nodes, node{child: map[uint8]int{}})
				nodes[s].child[c] = n
			}
			s = n
		}
		nodes[s].ids = append(nodes[s].ids, int32(id))
	}
	// Number the states breadth first, so that the shallow states every
	// byte of text goes through share cache lines.
	order := make([]int, 0, len(nodes))
	order = append(order, 0)
	for i := 0; i < len(order); i++ {
		for c := 0; c < k.nclass; c++ {
			if n, ok := nodes[order[i]].child[uint8(c)]; ok {
				order = append(order, n)
			}
		}
	}
	renum := make([]int, len(nodes))
	for i, n := range order {
		renum[n] = i
	}
	bfs := make([]node, len(nodes))
	for old, n := range nodes {
		for c, ch := range n.child {
			n.child[c] = renum[ch]
		}
		bfs[renum[old]] = n
	}
	nodes = bfs
	// BFS for failure links and the dense transition table.
	nc := k.nclass
	k.delta = make([]int32, len(nodes)*nc)
	queue := []int{}
	for c := 0; c < nc; c++ {
		if n, ok := nodes[0].child[uint8(c)]; ok {
			nodes[n].fail = 0
			k.delta[c] = int32(n * nc)
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].ids = append(nodes[s].ids, nodes[f].ids...)
		for c := 0; c < nc; c++ {
			if n, ok := nodes[s].child[uint8(c)]; ok {
				nodes[n].fail = int(k.delta[f*nc+c]) / nc
				k.delta[s*nc+c] = int32(n * nc)
				queue = append(queue, n)
			} else {
				k.delta[s*nc+c] = k.delta[f*nc+c]
			}
		}
	}
	k.out = make([]int32, len(nodes))
	for i, d := range k.delta {
		if len(nodes[int(d)/nc].ids) > 0 {
			k.delta[i] = -d - 1 // negative: the target state has matches
		}
	}
	for s := range nodes {
		k.out[s] = -1
		for i := len(nodes[s].ids) - 1; i >= 0; i-- {
			k.outs = append(k.outs, kwOut{id: nodes[s].ids[i], next: k.out[s]})
			k.out[s] = int32(len(k.outs) - 1)
		}
	}
	return k
}

// scan appends every keyword occurrence in s to hits, in the order of
// their end offsets.
//
// The automaton's state after a byte depends only on the last maxLen bytes
// (no state is deeper than the longest keyword), so a second run started
// maxLen bytes before the middle of s is in the right state from the
// middle on. scan runs both halves in one loop: each step's table load
// depends on the one before, and two independent chains of loads keep the
// processor busy while each waits. The second run notes where its
// occurrences end (up to len(later)); they are appended once the first
// run is done, so hits stay in order. When the notes are full, the second
// run stops and the scan goes on from there alone.
func (k *keywordSet) scan(s string, hits []kwHit) []kwHit {
	if len(s) < splitScanMin || fullPath {
		return k.scanFrom(s, 0, 0, hits)
	}
	delta, class := k.delta, &k.class
	a := (len(s) + k.maxLen) / 2 // the first run reads s[:a]
	b := a - k.maxLen            // the second run's next byte
	i := 0
	sa, sb := int32(0), int32(0)
	var later [64]struct{ end, st int32 }
	nl := 0
	for i < a {
		// Both runs step until either reaches a state with matches; the
		// loop holds no call, so the states stay in registers.
		var na, nb int32
		for ; i < a; i, b = i+1, b+1 {
			na = delta[sa+int32(class[s[i]])]
			nb = delta[sb+int32(class[s[b]])]
			if na|nb < 0 {
				break
			}
			sa, sb = na, nb
		}
		if i == a {
			break
		}
		if na < 0 {
			na = -na - 1
			hits = k.appendHits(hits, na, i+1)
		}
		sa = na
		i++
		if nb < 0 {
			nb = -nb - 1
			if b >= a { // in the second half: the second run's to report
				if nl == len(later) {
					// Notes full: the first run finishes alone, then
					// the scan resumes at b.
					hits = k.scanFrom(s[:a], i, sa, hits)
					for _, h := range later[:nl] {
						hits = k.appendHits(hits, h.st, int(h.end))
					}
					return k.scanFrom(s, b, sb, hits)
				}
				later[nl].end, later[nl].st = int32(b+1), nb
				nl++
			}
		}
		sb = nb
		b++
	}
	for _, h := range later[:nl] {
		hits = k.appendHits(hits, h.st, int(h.end))
	}
	return k.scanFrom(s, b, sb, hits)
}

// splitScanMin is the shortest text scan splits in two.
const splitScanMin = 64

// scanFrom appends the keyword occurrences ending after s[from] to hits,
// starting in state st (the automaton's state after s[:from]).
func (k *keywordSet) scanFrom(s string, from int, st int32, hits []kwHit) []kwHit {
	delta, class := k.delta, &k.class
	i := from
	for i < len(s) {
		var n int32
		for ; i < len(s); i++ {
			n = delta[st+int32(class[s[i]])]
			if n < 0 {
				break
			}
			st = n
		}
		if i == len(s) {
			break
		}
		st = -n - 1
		i++
		hits = k.appendHits(hits, st, i)
	}
	return hits
}

// appendHits appends the keywords that end in state st, at end.
func (k *keywordSet) appendHits(hits []kwHit, st int32, end int) []kwHit {
	for o := k.out[st/int32(k.nclass)]; o >= 0; o = k.outs[o].next {
		hits = append(hits, kwHit{id: k.outs[o].id, end: int32(end)})
	}
	return hits
}
