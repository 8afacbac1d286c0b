// Package behavior computes an agent's dynamic security checks and
// behavioural analysis from per-session features: the original's 16
// runtime checks and its MinHash clustering of
// sessions (§6.7.3), in the report shape of its risk analysis (§6.7.7).
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
// Cost: the 512 digests of a shingle are computed once per analysis and
// shared by every session that has it, equal signatures are merged before
// banding, and a candidate pair already in one component is not compared.
// On the 2-core development machine (shared, ±30 %), BenchmarkEvaluate
// (1,000 sessions of four workflows with noise, all 16 checks) takes about
// 70 ms and 12 MB, BenchmarkAnalyzeMax (2,000 sessions, the dashboard's
// bound) about 115–140 ms; md5 is half of it.
//
// # Deviations from the original, and why
//
//   - Counting: the original counted a tool call twice (it matched "tool"
//     in both tool.execution and tool.result) and an LLM call two or three
//     times (start, finish, error). Here a tool call is one tool.execution
//     and an LLM call one llm.call.start; the caller's features say so.
//   - Signatures keep the high 64 bits of each md5 digest instead of all
//     128: the minimum is the same shingle's except on a 2⁻⁶⁴ tie, and a
//     signature takes 4 KiB instead of 8.
//   - Only completed sessions are evaluated (the original's resource and
//     environment checks also saw sessions still running; the behavioural
//     analysis did not), so one report describes one set of sessions.
//   - PII comes from the detector findings stored with the events
//     (package detect's rules: pii.email, pii.phone, pii.credit_card,
//     pii.iban, pii.us_ssn, pii.ip_address, pii.crypto_wallet) instead of
//     a Presidio run over request texts, so it is synchronous, covers
//     model answers and tool results too, and never comes from a cache of
//     another batch (the original's first analysis of an agent never had
//     PII checks). PII_001's high-risk types map US_SSN → pii.us_ssn,
//     CREDIT_CARD → pii.credit_card, US_BANK_NUMBER → pii.iban; there is
//     no detector for MEDICAL_LICENSE or US_PASSPORT. Confidence bands are
//     the original's (high ≥ 0.8, medium 0.5–0.8; detect drops findings
//     below 0.5 as Presidio did). PII_002 reads findings in system prompts,
//     which the pipeline does not scan: the caller scans each distinct
//     system prompt itself. Evidence shows detect's redacted evidence,
//     never the matched text.
//   - Outlier root causes, cluster characteristics and recommendations
//     are written here (the original's wording is not specified); cluster
//     ids are cluster_1.. with normal clusters first.
//   - Lists are bounded: 50 session ids per cluster, 100 outliers
//     explained, 20 violations and 20 PII findings in evidence; the counts
//     cover everything.
//   - Confidence is the original's persisted-view rule (high with ≥ 3
//     clusters and ≥ 10 sessions, medium with ≥ 2 and ≥ 5, else low).
package behavior
