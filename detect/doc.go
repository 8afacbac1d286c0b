// Package detect finds security-relevant content in the text of LLM traffic:
// personal data, secrets, OWASP LLM Top 10 (2025) runtime patterns, and
// turns findings into risk scores.
//
// It owns the normaliser, the PII recognisers and their validators, the
// secret rules, the prompt-injection phrase families, the output, agency,
// leakage and consumption checks, and the score formulas. It is pure: no
// I/O, no clocks, no state between calls, no knowledge of HTTP, providers,
// sinks or storage. The sink pipeline calls it off the hot path; an inline
// guard may call it with a narrowed Options.
//
// # Use
//
//	sc := detect.NewScanner(detect.Options{})          // once; safe for concurrent use
//	fs := sc.Scan(&detect.Input{
//		Text: msg, Role: detect.RoleTool,                 // a tool result fed to the model
//		Direction: detect.Request,
//	})
//	score := detect.EventScore(fs)
//
// AppendScan reuses a findings slice; per-scan scratch memory is pooled, so
// a scan of text without findings allocates nothing, and the evidence
// strings of one scan share memory. Findings own their memory: later scans
// never change them.
//
// Which check reads what:
//
//	check                       fields                     when
//	PII, secrets                Text, ToolArgs             always (OWASP LLM02 and one severity level more when Direction is Response)
//	LLM01 injection/jailbreak   Text (+ decoded layers)    Role user/"" in a Request, or Role tool (indirect injection) in any direction
//	LLM01 tool poisoning        Text, ToolArgs             Role tool_definition: a tools[] entry (description, schema)
//	LLM05 improper output       Text, ToolArgs             Direction Response (SQL/shell/path rules on ToolArgs only)
//	LLM06 excessive agency      ToolName, ToolArgs, Usage  Direction Response for the call itself; Usage for storms
//	LLM07 system-prompt leak    Text vs SystemPrompt       Direction Response with a SystemPrompt (prompt-extraction requests are LLM01 rules reported as LLM07)
//	LLM10 unbounded consumption Usage                      when Usage is set
//
// System and developer messages are trusted and not checked for injection;
// scan them as their own Input (Role user) to look for PII in system
// prompts (the original's PII_002).
//
// # Findings
//
// A Finding has a Category, a stable Rule id ("pii.credit_card",
// "secret.github-pat", "llm01.instruction_override", …), a Severity, a
// Confidence in [0,1], the Source field and a byte span [Start, End) in
// that field as given (before normalisation), redacted Evidence (never the
// raw value), the OWASP id, and Decoded when the match was inside an
// encoded blob. Findings below Options.MinConfidence (0.5 by default) are
// dropped; known test and documentation values score 0.2 and private-range
// IP addresses 0.3. Context words around a match raise or lower its
// confidence, and phrases that are quoted or discussed rather than
// addressed to the model lose confidence.
//
// # Normalisation
//
// Detectors match a normalised view (Normalize): NFKC folding, invisible
// and bidi characters removed, Unicode tag characters decoded (reported as
// llm01.ascii_smuggling), diacritics stripped, Cyrillic and Greek
// look-alikes folded to Latin; spans map back to the original text exactly.
// Base64, hex and URL-encoded layers that read as text are decoded and
// scanned, two layers deep at most, within DecodeLimits; an injection
// found in a layer gains one severity level.
//
// # Speed
//
// Every keyword of every rule is compiled into one Aho–Corasick automaton;
// a rule's expression runs only on a window around its keyword hits, and
// a rule whose keywords are absent is never looked at (the keywords
// present select the rules). PII recognisers are byte scanners anchored on
// '@', digits, ':' and "bc1"/"0x"; phone candidates are validated with
// libphonenumber at most 12 times per scan. Phone verdicts and the
// shingles of recent system prompts are remembered across scans in
// process-wide tables; both are pure functions of their key, so results
// never depend on earlier scans. Text without findings scans at 100 MB/s
// per core or more.
//
// Secret rules follow gitleaks' default configuration and the vendors'
// published token formats (used as data; secrets*.go say where they
// deviate); PII follows the original's Presidio entity set, validated by
// checksums and numbering plans instead of NER (PERSON and LOCATION are
// not covered).
//
// # Usage checks
//
// detect keeps no state: the caller passes per-session counters in Usage
// and each limit is reported once, by the event that crosses it. LLM06:
// tool calls within a window (default 30) and per session (the original's
// max_tool_calls_per_session, 50). LLM10: session tokens (the original's
// max_tokens_per_session, 50,000), tokens of one call (100,000), a call ≥ 5×
// the agent's baseline and ≥ 2,000 tokens, 5 identical consecutive tool
// calls (and every multiple), LLM calls per session (200).
//
// # Risk scores
//
// An event's and a session's score use one formula over the
// confidence-weighted count of findings per severity (C_s = Σ confidence of
// the findings of severity s):
//
//	score = min(100, 80·log2(1+C_critical) + 35·log2(1+C_high) + 12·log2(1+C_medium) + 3·log2(1+C_low))
//
// One certain critical finding scores 80, a high one 35; repeats add less
// and less, so a hundred low findings (e-mail addresses in a support queue)
// stay below 25 while a few criticals saturate. Levels: 0 none, < 25 low,
// < 50 medium, < 75 high, else critical (RiskLevel). An agent's score is
// half its worst session plus half its mean session score (AgentScore).
//
// # Quality
//
// testdata/eval holds labelled development and holdout sets (PII per
// entity, secrets, injections, tool definitions); TestEvalSets prints
// precision, recall and F1 per detector and class and asserts floors.
// testdata/corpus and testdata/holdout guard the other families
// (TestCorpusQuality, TestHoldoutQuality). docs/detection.md has the
// measurements, the sources of the rules and how they are made fast.
package detect
