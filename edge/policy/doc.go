// Package policy decides, inline, what the proxy does with a call: the
// guard policies that act on findings, the custom rules that add
// findings, and the limits (budgets and rate limits) that refuse calls.
// It is a library for edge: it sees a Subject (agent, workflow, session,
// tags) and detect.Findings, never HTTP or JSON, and does no I/O.
//
// # Policies
//
// A Set is an ordered list of policies. Each matches on a finding's rule
// id and category (globs with * and ?), its minimum severity, the
// caller's agent id, workflow and x-cylestio-tags, the direction
// (request: what the agent sends; response: the model's answer) and the
// source of the text (user text, tool result, tool arguments, tool
// definition, model text). Empty dimensions match everything. The first
// policy that matches a finding decides: Monitor (count it), Block (the
// call is answered with an error naming the policy and rule) or Redact
// (the match is masked and the call passes). Candidates narrows the set
// to the policies whose caller dimensions hold before anything is
// scanned, so a call no policy applies to is not scanned at all.
//
// Custom rules (Rules) are literal or RE2 patterns with an id, severity,
// category and OWASP id, compiled once. Their findings carry the evidence
// of the built-in secret rules (detect.RedactEvidence): a prefix and a
// length, never the match.
//
// # Limits
//
// A Limiter keeps counters per key of each limit's scope: the agent id,
// the workflow, the session, or a tag's key:value. Windows are fixed and
// aligned to the clock (this second, minute, hour, UTC day), so
// Retry-After is the time to the window's end. A call's counters are
// locked, checked and incremented together in a fixed order: N
// concurrent calls against a limit of L admit exactly min(N, L), and a
// refused call counts nothing. Tool calls are counted from the request:
// the tool results it sends back are the calls the agent ran, and the
// calls they answer (name and arguments) are compared with the previous
// turn's to break loops. Tokens and cost are charged when the answer's
// usage is known (Charge), so calls admitted while a budget had room
// finish even if together they pass it; the next call is refused.
// Budget thresholds (0.8, 1.0 of a limit) are reported once per window.
//
// Counters live in memory, per process: two instances count separately,
// and a restart starts from zero. Each limit tracks at most
// DefaultMaxKeys keys; idle keys are forgotten first, then new keys go
// uncounted (reported as untracked).
//
// A session without x-cylestio-session-id is keyed by its start (edge
// hashes the system prompt and first message, which every turn of a
// conversation repeats): two conversations that start word for word alike
// share their tool-call counts.
//
// # Cost
//
// Candidates and Applicable for a caller nothing matches take tens of
// nanoseconds and allocate nothing; Admit with one limit some hundred
// nanoseconds (policy_timing_test.go, allocation_test.go).
package policy
