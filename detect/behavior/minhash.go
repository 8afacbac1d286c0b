package behavior

import (
	"crypto/md5"
	"encoding/binary"
	"math"
	"strconv"
)

// MinHash and LSH parameters (the original's).
const (
	NumHashes           = 512
	Bands               = 64
	Rows                = NumHashes / Bands // 8
	SimilarityThreshold = 0.40
	hashSeedStep        = 12345
)

// signature is a session's MinHash signature. Position i holds the least
// h_i over its shingles, h_i(x) = md5(x + "_" + str(i·12345)). The
// original keeps the whole 128-bit digest; this keeps its high 64 bits,
// which order digests as the 128-bit values do except on a 2⁻⁶⁴ tie, and
// halves the memory.
type signature [NumHashes]uint64

// hasher computes signatures, remembering each shingle's 512 hashes:
// sessions of one agent share most shingles, so an analysis computes few
// digests per session.
type hasher struct {
	cache map[string]*[NumHashes]uint64
	buf   []byte
}

func newHasher() *hasher { return &hasher{cache: map[string]*[NumHashes]uint64{}} }

func (h *hasher) hashes(sh string) *[NumHashes]uint64 {
	if v, ok := h.cache[sh]; ok {
		return v
	}
	v := new([NumHashes]uint64)
	for i := range v {
		h.buf = append(append(h.buf[:0], sh...), '_')
		h.buf = strconv.AppendInt(h.buf, int64(i*hashSeedStep), 10)
		sum := md5.Sum(h.buf)
		v[i] = binary.BigEndian.Uint64(sum[:8])
	}
	h.cache[sh] = v
	return v
}

// sign is the signature of a set of shingles; all zeros for none, as in
// the original.
func (h *hasher) sign(shingles []string) *signature {
	sig := new(signature)
	if len(shingles) == 0 {
		return sig
	}
	for i := range sig {
		sig[i] = math.MaxUint64
	}
	for _, sh := range shingles {
		v := h.hashes(sh)
		for i := range sig {
			sig[i] = min(sig[i], v[i])
		}
	}
	return sig
}

// similarity is the fraction of equal positions.
func similarity(a, b *signature) float64 {
	eq := 0
	for i := range a {
		if a[i] == b[i] {
			eq++
		}
	}
	return float64(eq) / NumHashes
}

// components groups signatures into connected components of the graph
// whose edges join two signatures that share an LSH bucket (64 bands of 8
// rows) and are at least SimilarityThreshold similar. Each component lists
// its members' indexes in ascending order; components are ordered by their
// first member.
//
// Equal signatures are merged before banding (they are similar by
// definition), and a candidate pair already in one component is not
// compared again: the components are those of the full graph, found with
// a union-find instead of a walk over every edge.
func components(sigs []*signature) [][]int {
	uniq := map[signature]int{}
	var reps []*signature // one signature per distinct value
	of := make([]int, len(sigs))
	for i, s := range sigs {
		u, ok := uniq[*s]
		if !ok {
			u = len(reps)
			uniq[*s] = u
			reps = append(reps, s)
		}
		of[i] = u
	}
	uf := newUnionFind(len(reps))
	buckets := map[[Rows]uint64][]int32{}
	for band := range Bands {
		clear(buckets)
		for u, s := range reps {
			var key [Rows]uint64
			copy(key[:], s[band*Rows:(band+1)*Rows])
			buckets[key] = append(buckets[key], int32(u))
		}
		for _, members := range buckets {
			if len(members) < 2 || uf.same(members) {
				continue
			}
			for i := 1; i < len(members); i++ {
				a := int(members[i])
				for j := range i {
					b := int(members[j])
					if uf.find(a) != uf.find(b) && similarity(reps[a], reps[b]) >= SimilarityThreshold {
						uf.union(a, b)
					}
				}
			}
		}
	}
	byRoot := map[int]int{}
	var out [][]int
	for i := range sigs {
		r := uf.find(of[i])
		c, ok := byRoot[r]
		if !ok {
			c = len(out)
			byRoot[r] = c
			out = append(out, nil)
		}
		out[c] = append(out[c], i)
	}
	return out
}

type unionFind struct{ parent, rank []int }

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int, n), rank: make([]int, n)}
	for i := range u.parent {
		u.parent[i] = i
	}
	return u
}

func (u *unionFind) find(x int) int {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

func (u *unionFind) union(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if u.rank[ra] < u.rank[rb] {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	if u.rank[ra] == u.rank[rb] {
		u.rank[ra]++
	}
}

// same reports whether all members are in one component.
func (u *unionFind) same(members []int32) bool {
	r := u.find(int(members[0]))
	for _, m := range members[1:] {
		if u.find(int(m)) != r {
			return false
		}
	}
	return true
}

// centroid is the per-position mode of the members' signatures, the
// first-seen value winning a tie.
func centroid(sigs []*signature, members []int) *signature {
	c := new(signature)
	type vc struct {
		v uint64
		n int
	}
	var counts []vc
	for pos := range c {
		counts = counts[:0]
		for _, m := range members {
			v := sigs[m][pos]
			found := false
			for k := range counts {
				if counts[k].v == v {
					counts[k].n++
					found = true
					break
				}
			}
			if !found {
				counts = append(counts, vc{v, 1})
			}
		}
		best := counts[0]
		for _, x := range counts[1:] {
			if x.n > best.n {
				best = x
			}
		}
		c[pos] = best.v
	}
	return c
}
