package policy

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/session"
)

// Action is what a policy does with a finding it matches.
type Action uint8

// Actions.
const (
	Monitor Action = iota + 1 // the finding is counted (and alerted), the traffic passes
	Block                     // the call is answered with an error naming the policy and rule
	Redact                    // the match is masked and the traffic passes
)

var actionNames = [...]string{Monitor: "monitor", Block: "block", Redact: "redact"}

func (a Action) String() string { return nameOf(actionNames[:], a, "none") }

// ParseAction reads "monitor", "block" or "redact".
func ParseAction(s string) (Action, bool) { return parseName[Action](actionNames[:], s) }

// Source is where a scanned text comes from; a set of them is a bit mask.
type Source uint8

// Sources.
const (
	SourceUser           Source = 1 << iota // user (and other client) text
	SourceToolResult                        // a tool result the client sends back
	SourceToolArgs                          // the arguments of a tool call
	SourceToolDefinition                    // a tools[] entry of a request
	SourceModel                             // the model's answer text
	allSources           = SourceUser | SourceToolResult | SourceToolArgs | SourceToolDefinition | SourceModel
)

var sourceNames = []struct {
	s    Source
	name string
}{{SourceUser, "user"}, {SourceToolResult, "tool_result"}, {SourceToolArgs, "tool_args"}, {SourceToolDefinition, "tool_definition"}, {SourceModel, "model"}}

// ParseSource reads a source name as configured.
func ParseSource(name string) (Source, bool) {
	for _, s := range sourceNames {
		if s.name == name {
			return s.s, true
		}
	}
	return 0, false
}

func (s Source) String() string {
	var b []string
	for _, n := range sourceNames {
		if s&n.s != 0 {
			b = append(b, n.name)
		}
	}
	return strings.Join(b, ",")
}

// Direction bits of a policy's match.
const (
	dirRequest  = 1 << detect.Request
	dirResponse = 1 << detect.Response
)

// Match is a policy's condition; empty dimensions hold for everything.
// Globs take * and ?.
type Match struct {
	Rules, Categories []string
	MinSeverity       detect.Severity
	Agents, Workflows []string
	Tags              []string // "key" (any value) or "key:value-glob"
	Directions        []detect.Direction
	Sources           Source // 0: all
}

// Spec is a policy as configured.
type Spec struct {
	Name   string
	Match  Match
	Action Action
}

// Policy is a compiled policy with its counters.
type Policy struct {
	Name   string
	Action Action
	spec   Spec

	rules, cats, agents, workflows globs
	tags                           []tagGlob
	dirs                           uint8
	sources                        Source

	hits atomic.Uint64
	last atomic.Pointer[Event]
}

type tagGlob struct{ key, val string } // val "" matches any value

// Event is one decision, for the policy's "last event" and alerts.
type Event struct {
	Time      time.Time `json:"time"`
	Policy    string    `json:"policy"`
	Action    string    `json:"action"`
	Rule      string    `json:"rule"`
	Severity  string    `json:"severity"`
	OWASP     string    `json:"owasp,omitempty"`
	Evidence  string    `json:"evidence,omitempty"`
	Agent     string    `json:"agent,omitempty"`
	Workflow  string    `json:"workflow,omitempty"`
	Session   string    `json:"session,omitempty"`
	Direction string    `json:"direction"`
	Source    string    `json:"source"`
}

// Mask is a set of policies of a Set, bit i for the i-th.
type Mask uint64

// MaxPolicies is the most policies a Set holds.
const MaxPolicies = 64

// Set is an ordered list of policies: the first whose match holds wins.
// It is safe for concurrent use.
type Set struct {
	policies  []*Policy
	rules     *Rules
	min       detect.Severity
	needAgent bool
	sources   [2]Source // union of the sources of the policies of each direction
	any       [2]Mask   // policies of each direction
}

// NewSet compiles specs, in order. rules are the custom rules scanned
// beside the built-in ones (nil: none).
func NewSet(specs []Spec, rules *Rules) (*Set, error) {
	if len(specs) > MaxPolicies {
		return nil, fmt.Errorf("policies.guard: %d policies, at most %d are supported", len(specs), MaxPolicies)
	}
	s := &Set{rules: rules, min: detect.SeverityCritical}
	for i, sp := range specs {
		p := &Policy{Name: sp.Name, Action: sp.Action, spec: sp,
			rules: sp.Match.Rules, cats: sp.Match.Categories, agents: sp.Match.Agents, workflows: sp.Match.Workflows,
			sources: sp.Match.Sources}
		if p.sources == 0 {
			p.sources = allSources
		}
		for _, t := range sp.Match.Tags {
			k, v, _ := strings.Cut(t, ":")
			p.tags = append(p.tags, tagGlob{key: k, val: v})
		}
		for _, d := range sp.Match.Directions {
			p.dirs |= 1 << d
		}
		if p.dirs == 0 {
			p.dirs = dirRequest
		}
		if p.Action == 0 {
			return nil, fmt.Errorf("policy %s: no action", sp.Name)
		}
		s.min = min(s.min, sp.Match.MinSeverity)
		s.needAgent = s.needAgent || len(p.agents) > 0
		for d := detect.Request; d <= detect.Response; d++ {
			if p.dirs&(1<<d) != 0 {
				s.sources[d] |= p.sources
				s.any[d] |= 1 << i
			}
		}
		s.policies = append(s.policies, p)
	}
	return s, nil
}

// Len is the number of policies.
func (s *Set) Len() int { return len(s.policies) }

// Rules are the set's custom rules.
func (s *Set) Rules() *Rules { return s.rules }

// MinSeverity is the lowest severity any policy matches: the scanner need
// not report less.
func (s *Set) MinSeverity() detect.Severity { return s.min }

// NeedAgent says whether some policy matches on the agent id.
func (s *Set) NeedAgent() bool { return s.needAgent }

// Any returns the policies of direction d, whoever the caller is.
func (s *Set) Any(d detect.Direction) Mask { return s.any[d] }

// Candidates returns the policies of direction d whose agent, workflow
// and tag dimensions hold for sub: only their findings need a scan. It
// allocates nothing.
func (s *Set) Candidates(sub *Subject, d detect.Direction) Mask {
	var m Mask
	for i, p := range s.policies {
		if p.dirs&(1<<d) == 0 {
			continue
		}
		if !p.agents.matchBytes(sub.Agent) || !p.workflows.matchBytes(sub.Workflow) || !matchTags(p.tags, sub.Tags) {
			continue
		}
		m |= 1 << i
	}
	return m
}

// Sources returns the sources some policy of m looks at.
func (s *Set) Sources(m Mask) Source {
	var src Source
	for i, p := range s.policies {
		if m&(1<<i) != 0 {
			src |= p.sources
		}
	}
	return src
}

// Decide returns the first policy of m that matches f found in src, or
// nil.
func (s *Set) Decide(m Mask, f *detect.Finding, src Source) *Policy {
	for i, p := range s.policies {
		if m&(1<<i) == 0 || p.sources&src == 0 || f.Severity < p.spec.Match.MinSeverity {
			continue
		}
		if !p.rules.match(f.Rule) || !p.cats.match(f.Category.String()) {
			continue
		}
		return p
	}
	return nil
}

// Record counts a decision of p and keeps it as p's last event.
func (p *Policy) Record(ev *Event) {
	p.hits.Add(1)
	p.last.Store(ev)
}

func matchTags(pats []tagGlob, tags []session.Tag) bool {
	if len(pats) == 0 {
		return true
	}
	for _, p := range pats {
		for _, t := range tags {
			if glob(p.key, bstr(t.Key)) && (p.val == "" || glob(p.val, bstr(t.Value))) {
				return true
			}
		}
	}
	return false
}

// PolicyView is a policy as /config and the dashboard show it.
type PolicyView struct {
	Name      string `json:"name"`
	Action    string `json:"action"`
	Match     any    `json:"match"`
	Decisions uint64 `json:"decisions"`
	Last      *Event `json:"last_event,omitempty"`
	Order     int    `json:"order"`
}

// View describes the policies in the order they are tried, with their
// counters.
func (s *Set) View() []PolicyView {
	out := make([]PolicyView, 0, len(s.policies))
	for i, p := range s.policies {
		m := map[string]any{}
		sp := p.spec.Match
		put := func(k string, v []string) {
			if len(v) > 0 {
				m[k] = v
			}
		}
		put("rules", sp.Rules)
		put("categories", sp.Categories)
		put("agents", sp.Agents)
		put("workflows", sp.Workflows)
		put("tags", sp.Tags)
		m["min_severity"] = sp.MinSeverity.String()
		var dirs []string
		if p.dirs&dirRequest != 0 {
			dirs = append(dirs, "request")
		}
		if p.dirs&dirResponse != 0 {
			dirs = append(dirs, "response")
		}
		m["directions"] = dirs
		m["sources"] = strings.Split(p.sources.String(), ",")
		out = append(out, PolicyView{Name: p.Name, Action: p.Action.String(), Match: m, Decisions: p.hits.Load(), Last: p.last.Load(), Order: i + 1})
	}
	return out
}
