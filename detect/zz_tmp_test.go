package detect

import "testing"

func TestTmpHits(t *testing.T) {
	r := rules()
	t.Logf("words %d secrets %d injection %d signals %d toolsigs %d output %d agency %d", len(r.words), len(r.secrets), len(r.injection), len(r.signals), len(r.toolSigs), len(r.output), len(r.agency))
	for _, txt := range []string{cleanRequest, cleanAnswer} {
		n := Normalize(txt)
		hits := r.kw.scan(n.Text, nil)
		m := map[string]int{}
		for _, h := range hits {
			m[r.words[h.id]]++
		}
		t.Logf("%d hits: %v", len(hits), m)
		c := &scanCtx{hits: hits, sc: &scratch{}}
		pass, exact := 0, 0
		for _, rr := range r.secrets {
			if c.mayHitMask(&rr.kwMask) {
				pass++
			}
			if c.hasHit(rr.kwIDs, &rr.kwMask) {
				exact++
			}
		}
		t.Logf("secrets: mask pass %d exact %d", pass, exact)
	}
}
