package loglin

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBucketsCoverEveryValueOnce: every value lies in exactly one bucket,
// at most 1/2^sub below that bucket's upper bound, and buckets follow each
// other without gaps.
func TestBucketsCoverEveryValueOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sub := range []uint{3, 8} {
		for k := range 200000 {
			v := uint64(k)
			if k >= 100000 {
				v = r.Uint64() >> r.UintN(64)
			}
			i := Index(v, sub)
			up := Upper(i, sub)
			if v > up || (i > 0 && v <= Upper(i-1, sub)) {
				t.Fatalf("sub %d: %d in bucket %d of (%d, %d]", sub, v, i, Upper(i-1, sub), up)
			}
			if v >= 1<<sub && float64(up-v) > float64(v)/float64(uint64(1)<<sub) {
				t.Fatalf("sub %d: %d's bucket bound %d is too far above it", sub, v, up)
			}
			if Index(up, sub) != i || (up != math.MaxUint64 && Index(up+1, sub) != i+1) {
				t.Fatalf("sub %d: bucket %d's bounds do not map back to it", sub, i)
			}
		}
	}
}
