//go:build !race

package policy

import (
	"testing"

	"github.com/cylestio/perimeter/detect"
)

func TestAllocsNoMatchAndAdmit(t *testing.T) {
	set, lim := benchSet(t)
	lim.limits[0].Spec.RequestsPerMinute = 1 << 60
	miss := subject("sales-bot", "", "team:sales")
	hit := subject("support-1", "", "team:billing")
	m := lim.Applicable(hit)
	lim.Admit(m, hit, ToolUse{}) // creates the counters
	lim.Charge(m, hit, 1, 0)
	if n := testing.AllocsPerRun(200, func() {
		set.Candidates(miss, detect.Request)
		lim.Applicable(miss)
	}); n != 0 {
		t.Errorf("no match: %v allocations", n)
	}
	if n := testing.AllocsPerRun(200, func() {
		lim.Admit(lim.Applicable(hit), hit, ToolUse{Results: 1, Call: 3})
		lim.Charge(m, hit, 1, 0)
	}); n != 0 {
		t.Errorf("admit and charge: %v allocations", n)
	}
}
