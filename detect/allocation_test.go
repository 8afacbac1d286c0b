//go:build !race

package detect

import "testing"

// TestScanAllocations turns the allocation figures of docs/detection.md
// into limits: text without findings costs no allocation, and text with
// findings well under what it cost before the long-tail rules (89 per KiB
// dense with findings, 109 per KiB of phone numbers): evidence strings
// share memory, phone numbers seen before are not validated again, and
// numbers never seen are validated against numbering plans compiled once
// instead of parsed.
func TestScanAllocations(t *testing.T) {
	sc := NewScanner(Options{})
	for _, tc := range []struct {
		name string
		in   Input
		max  float64
	}{
		{"prose 8 KiB", Input{Text: benign8K, Role: RoleUser}, 0},
		{"code 8 KiB", Input{Text: code8K, Role: RoleTool}, 0},
		{"digits 8 KiB", Input{Text: digits8K, Role: RoleUser}, 0},
		{"findings 1 KiB", Input{Text: findings1K, Role: RoleUser}, 60},
		{"phones 1 KiB", Input{Text: phones1K, Role: RoleUser}, 20},
	} {
		var dst []Finding
		dst = sc.AppendScan(dst[:0], &tc.in) // warm the pools and the phone verdicts
		got := testing.AllocsPerRun(20, func() { dst = sc.AppendScan(dst[:0], &tc.in) })
		if got > tc.max {
			t.Errorf("%s: %.0f allocations per scan, want at most %.0f", tc.name, got, tc.max)
		}
	}
}

// TestScanAllocationsUnseenPhones is the contact list with the verdicts
// remembered across scans forgotten before every scan: each number is
// validated again, within the 109 allocations per KiB it cost before
// Detection II (Parse and IsValidNumber cost 30 to 40 each).
func TestScanAllocationsUnseenPhones(t *testing.T) {
	sc := NewScanner(Options{})
	in := Input{Text: phones1K, Role: RoleUser}
	var dst []Finding
	dst = sc.AppendScan(dst[:0], &in) // warm the pools and compile the plans
	got := testing.AllocsPerRun(20, func() {
		for k := range phoneVerdicts {
			phoneVerdicts[k].Store(0)
		}
		dst = sc.AppendScan(dst[:0], &in)
	})
	if got > 20 {
		t.Errorf("contact list with unseen numbers: %.0f allocations per scan, want at most 20", got)
	}
}
