package detect

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestSplitScanMatchesSequential checks that scan, which runs the two
// halves of a text interleaved, reports exactly the hits of one run over
// the whole text, in the same order: on texts built from keywords, their
// pieces and separators (occurrences at and around the split point, dense
// and sparse), and on the benchmark texts.
func TestSplitScanMatchesSequential(t *testing.T) {
	kw := rules().kw
	r := rand.New(rand.NewPCG(1, 2))
	texts := []string{benign8K, code8K, digits8K, findings1K, phones1K, cleanRequest, cleanAnswer, transcript100K}
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		size := r.IntN(400)
		for b.Len() < size {
			w := kw.words[r.IntN(len(kw.words))]
			switch r.IntN(6) {
			case 0:
				w = w[:r.IntN(len(w)+1)]
			case 1:
				w = strings.ToUpper(w)
			case 2:
				w = benignParagraph[r.IntN(100):][:r.IntN(40)]
			}
			b.WriteString(w)
			if r.IntN(3) == 0 {
				b.WriteByte(" \n_-.:/"[r.IntN(7)])
			}
		}
		texts = append(texts, b.String())
	}
	for _, s := range texts {
		for _, cut := range []int{len(s), len(s) - 1, len(s) / 2, len(s)/2 + 7} {
			if cut < 0 || cut > len(s) {
				continue
			}
			got := kw.scan(s[:cut], nil)
			want := kw.scanFrom(s[:cut], 0, 0, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("scan of %q:\n got %v\nwant %v", s[:cut], got, want)
			}
		}
	}
}
