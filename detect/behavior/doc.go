// Package behavior computes an agent's dynamic security checks and
// behavioural analysis from per-session features: the original's 16
// runtime checks and its MinHash clustering of
// sessions, in the report shape of its risk analysis.
//
// It is pure: the caller aggregates the features (package dashboard does it
// in ClickHouse, one GROUP BY session over the events) and passes them in
// with the agent's personal-data summary; Evaluate returns the report and
// the analysis. No I/O, no clock (Input.Now), no state between calls.
//
// # Checks
//
//	RESOURCE_006/005/004  duration, tool-call, token variance    warning when CV (sample stdev / mean) > 0.7
//	RESOURCE_001          tokens per session                      critical when any session > 50,000
//	RESOURCE_002          tool calls per session                  critical when any session > 50
//	ENV_001               pinned model versions                   critical when a model has no date/version suffix
//	ENV_002               tools used of those offered             warning below 80 % on average
//	ENV_003               tools offered and never used            warning when any
//	BEHAV_003             behaviour clusters                      critical when none (then the only BEHAVIORAL check)
//	BEHAV_001             stability (largest normal cluster)      critical below 0.80
//	BEHAV_002             outlier rate                            critical at 0.20 or more
//	BEHAV_004             predictability (1 − outlier rate)       warning below 0.60
//	BEHAV_005             uncertainty (1 − stability)             warning above 0.25
//	PII_001               personal-data findings                  critical for a high-confidence card, SSN or IBAN;
//	                                                              warning for any other high-confidence finding or > 10 medium
//	PII_002               personal data in system prompts         warning when any
//	PII_003               sessions with personal data             warning above half
//
// Values are the original's strings, formatted as Python does: round()
// half to even on the exact binary value, int() truncating ("CV: 12%",
// "1 violation(s)", "50,000 max tokens", "16% outliers"). Framework
// mappings (OWASP LLM, SOC 2, CWE, MITRE) and CVSS scores are the
// original's current ones; a CVSS score is set only on a check that did
// not pass.
//
// # Behavioural analysis
//
// Each session becomes a set of shingles: its tools, tool bigrams,
// trigrams and skip-grams (jumping one or two calls), runs of one tool
// (1, 2, 3+), first and last tool, models, and its duration, tool calls,
// LLM calls, tokens, mean time between events and event count binned at
// the p25/p50/p75 of the analysed sessions (the original's fixed
// thresholds for a feature without values), with tool diversity,
// input/output token ratio and tool/LLM call ratio. A MinHash signature of
// 512 md5-based hashes (h_i(x) = md5(x + "_" + i·12345), as the original)
// summarises the set; locality-sensitive hashing with 64 bands of 8 rows
// proposes pairs, and pairs at least 0.40 similar are joined. Connected
// components of three or more sessions are clusters, of two low-confidence
// clusters; the rest are outliers, each scored against the clustered
// sessions (median absolute deviation of duration, events, tool calls and
// tokens, a feature counting when it is 8 MADs off) and explained (tools
// never seen, skipped tools, very short or long workflows, excess tokens,
// new models, very long sessions). Stability is the largest normal
// cluster's share of the sessions, predictability one minus the outliers'
// share, diversity clusters over √sessions.
//
// The MinHash digests of a shingle are computed once per analysis and
// shared by every session that has it. Lists in the report are bounded
// (50 session ids per cluster, 100 outliers explained, 20 violations and
// 20 PII findings in evidence); the counts cover everything.
// docs/behavior.md has the measurements and the deviations from the
// original and why.
package behavior
