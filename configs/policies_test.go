package configs

import (
	"strings"
	"testing"
)

func TestPoliciesValidate(t *testing.T) {
	cfg, _, err := Parse([]byte(`
llm: {base_url: "http://127.0.0.1:1", type: openai}
policies:
  custom_rules:
    - {id: custom.ok, regex: 'TCK-\d{6}'}
    - {id: Bad Id, literal: x}
    - {id: custom.both, literal: x, regex: y}
    - {id: custom.look, regex: '(?<=a)b'}
    - {id: custom.empty, regex: 'a*'}
    - {id: custom.ok, literal: dup, severity: urgent, category: gossip}
  guard:
    - {name: p1, match: {rules: ["custom.*"], categories: [pii, "prompt_*", nonsense], directions: [request, sideways], sources: [user, mail]}, action: block}
    - {name: p1, action: delete}
limits:
  - {name: l1, scope: agent, requests_per_minute: 10}
  - {name: l2, scope: team, tokens_per_hour: -1}
  - {name: l3, scope: agent, tool_calls_per_session: 5}
  - {name: l4, scope: session}
alerts:
  budget_thresholds: [0.8, 0]
  destinations:
    - {type: webhook, url: "ftp://x"}
    - {type: pager}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range cfg.Validate() {
		got[p.Path] += p.Message + "|"
	}
	for path, want := range map[string]string{
		"policies.custom_rules[1].id":           "lower-case id",
		"policies.custom_rules[2]":              "exactly one of literal and regex",
		"policies.custom_rules[3].regex":        "RE2",
		"policies.custom_rules[4].regex":        "empty string",
		"policies.custom_rules[5].id":           "used by an earlier rule",
		"policies.custom_rules[5].severity":     "urgent",
		"policies.custom_rules[5].category":     "gossip",
		"policies.guard[0].match.categories[2]": "nonsense",
		"policies.guard[0].match.directions[1]": "sideways",
		"policies.guard[0].match.sources[1]":    "mail",
		"policies.guard[1].name":                "used by an earlier policy",
		"policies.guard[1].action":              "delete",
		"limits[1].scope":                       "team",
		"limits[1]":                             "must not be negative",
		"limits[2].scope":                       "must be session",
		"limits[3]":                             "sets no limit",
		"alerts.budget_thresholds[1]":           "fraction",
		"alerts.destinations[0].url":            "http(s) URL",
		"alerts.destinations[1].type":           "pager",
		"alerts.destinations[0].secret":         "unsigned",
	} {
		if !strings.Contains(got[path], want) {
			t.Errorf("%s: got %q, want it to mention %q", path, got[path], want)
		}
	}
	for _, ok := range []string{"policies.custom_rules[0]", "policies.custom_rules[0].regex", "limits[0]", "limits[0].scope", "policies.guard[0].match.categories[1]"} {
		if got[ok] != "" {
			t.Errorf("%s: unexpected problem %q", ok, got[ok])
		}
	}
	if cfg.Policies.CustomRules[0].Severity != "high" || cfg.Policies.CustomRules[0].Category != "secret" || cfg.Limits[0].Match != "*" || cfg.Limits[0].Action != "block" {
		t.Errorf("defaults not applied: %+v %+v", cfg.Policies.CustomRules[0], cfg.Limits[0])
	}
}
