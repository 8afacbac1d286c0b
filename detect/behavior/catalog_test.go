package behavior

import "testing"

// Every check an evaluation reports has a definition in its category.
func TestDefinitionsCoverEvaluatedChecks(t *testing.T) {
	defs, cats := Definitions()
	rep, _ := Evaluate(&Input{AgentID: "a", Sessions: []Session{{ID: "s1", Events: 3, LLMRequests: 1}, {ID: "s2", Events: 5, LLMRequests: 2}},
		PII: &PIISummary{ByType: map[string]int64{}}})
	checks := rep.Checks()
	if len(checks) == 0 || len(defs) < len(checks) {
		t.Fatalf("%d definitions for %d checks", len(defs), len(checks))
	}
	for _, c := range checks {
		d, ok := defs[c.CheckID]
		if !ok || d.Name != c.Name || d.CategoryID != c.Category {
			t.Errorf("%s: definition %+v, check %s in %s", c.CheckID, d, c.Name, c.Category)
		}
		if _, ok := cats[d.CategoryID]; !ok {
			t.Errorf("%s: category %s not listed", c.CheckID, d.CategoryID)
		}
	}
}
