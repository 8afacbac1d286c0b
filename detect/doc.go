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
// that field as given (before normalisation), redacted Evidence (a vendor
// prefix and a length for secrets, last digits for cards and SSNs, masked
// addresses; never the raw value), the OWASP id, and Decoded when the match
// was inside an encoded blob. Findings below Options.MinConfidence (0.5 by
// default, Presidio's threshold in the original) are dropped: known test
// and documentation values (Stripe test cards, 555-01xx, example.com,
// RFC 5737 addresses, documented IBANs and wallets, placeholder keys) score
// 0.2 and private-range IP addresses 0.3, so they only show with a lower
// threshold. Context words move confidence: "card", "cvv", "ssn", "phone",
// "wallet", … raise it; "order", "invoice", "version", "build", "room", …
// lower it. Phrase families lose confidence when they are quoted or
// discussed ("phrases like …", "how do I …", "prompt injection", chat
// template documentation) rather than addressed to the model.
//
// # Normalisation
//
// Detectors match a normalised view (Normalize): NFKC compatibility
// folding; removal of zero-width characters, bidi controls, variation
// selectors and other invisible format characters; Unicode tag characters
// ("ASCII smuggling") decoded to the ASCII they shadow, and reported as
// llm01.ascii_smuggling when they spell more than a flag sequence;
// diacritics stripped from Latin, Greek and Cyrillic letters; Cyrillic and
// Greek look-alikes folded to Latin. Case is kept. ASCII text is the
// common case and takes a copy-free path. The view keeps a map from every
// normalised byte to the original normalisation segment (a starter and its
// combining marks) it came from, so spans are exact to the character,
// widening only to a whole multi-rune segment.
//
// Hidden layers: base64 (≥ 24 characters), hex (≥ 32 digits or ≥ 8 \xHH),
// and URL-encoding (≥ 4 %HH) are decoded when the result reads as text
// (valid UTF-8, ≥ 90 % printable, ≥ 8 letters), and the secret and
// injection detectors run on the decoded text, two layers deep at most,
// within 16 KiB per blob, 64 KiB and 32 blobs per field (DecodeLimits).
// Findings inside a layer span the whole outermost blob; an injection found
// there gains confidence and one severity level (hiding it shows intent).
//
// # Speed
//
// Every keyword of every rule is compiled into one Aho–Corasick automaton
// (a dense DFA over byte classes, states numbered breadth first, keywords
// cut to 12 bytes, matched case-insensitively); a rule's regular
// expression only runs on a window around its keyword hits, phrase
// families on a lower-cased window (Go's case-insensitive matching is slow)
// and, where the keyword starts the phrase or the token, anchored at it. A
// rule whose keywords are absent is skipped by a 256-bit filter and the
// exact set of keywords present, and a rule whose expression cannot match
// without one of a few words (a verb's object, an exfiltration's object)
// runs only where one occurs. Signals that lower the injection score run
// only when the others reach the threshold. Context words around numbers
// are matched by small automata. PII recognisers are byte scanners
// anchored on '@', digits, ':' and "bc1"/"0x"; phone candidates are
// validated with libphonenumber at most 12 times per scan, and verdicts are
// remembered across scans in a process-wide table (a remembered verdict
// still counts against the 12, so results never depend on earlier scans).
// Prose, code and digit-heavy text without findings scan at 100 MB/s per
// core or more; docs/detection.md has the measurements, also on real text.
//
// # Sources of the rules
//
// Secrets: the provider-key rules are the rule definitions (regular
// expression, keywords, entropy floor, allow-list) of the gitleaks v8
// default configuration (config/gitleaks.toml, MIT licence, © 2019 Zachary
// Rice), used as data: no gitleaks code. gitleaks was chosen because its
// rules are maintained against real key formats (OpenAI's T3BlbkFJ marker,
// Anthropic's api03/admin01 with the AA suffix, GitHub's ghp_/gho_/ghu_/
// ghs_/ghr_/github_pat_, GitLab's glpat- and routable tokens, Slack's xox*,
// Stripe's sk_/rk_, GCP's AIza with its public-key allow-list, AWS's
// AKIA/ASIA/…), carry entropy floors that reject placeholders, and are
// written for Go's RE2. Where its rules are tuned for source files rather
// than chat, this package deviates and says so in secrets.go (token end
// also at prose punctuation, JWT keyword "eyj" with a decoded JSON header
// check, private-key bodies of ≥ 64 base64 characters, a placeholder filter
// for every rule). Its generic-api-key rule is re-implemented as a byte
// scanner (key word, assignment, value of entropy ≥ 3.5 with a digit) with
// its allow-list ideas; the AWS secret key (40 characters near a key id or
// its key name) and URL credentials are hand-written.
//
// More secret formats (secrets_vendors.go) follow gitleaks' patterns or the
// vendors' published token formats, and the long tail (secrets_longtail.go:
// AI tooling, cloud, developer platforms, SaaS, payments, credentials in
// WireGuard, netrc, npmrc, Docker and minisign files) the vendors'
// formats; prefix-less keys are recognised by a provider's name in the
// assigned name (secrets_context.go, 140 providers, one shared scanner).
//
// PII: the entity set is the original's Presidio configuration,
// with validation instead of NER: e-mail (RFC-shaped
// local part and domain, letter TLD, file extensions and example domains
// rejected), phone (international numbers after +, 00, 011 or 0011 and
// national numbers of GB, FR, AU, IL, IN, BR and DE validated with
// libphonenumber's numbering plans; NANP with area/exchange rules and the
// 555-01xx fiction range), payment cards (12–19 digits, Luhn, a major
// industry digit that issues cards, consistent grouping; the ISO/IEC 7812
// ranges of 21 schemes raise confidence, card words raise it, id labels
// lower it), IBAN (per-country length and
// ISO 7064 mod-97), US SSN (area not 000/666/9xx, group not 00, serial not
// 0000, known advertising numbers), IP addresses (IPv4 dotted quads without
// leading zeros, not part of a longer dotted run or a version string; IPv6
// via net/netip with at least three groups; private, loopback, link-local,
// CGNAT, multicast and documentation ranges kept at 0.3/0.2 because they
// identify no person), crypto wallets (Bitcoin base58check and
// bech32/bech32m checksums, Ethereum EIP-55 checksum when mixed case,
// single-case Ethereum addresses only next to a wallet word).
//
// Presidio entities not covered, and why: PERSON and LOCATION need named
// entity recognition (a statistical model; spaCy has no Go counterpart and
// a regex list of names would be all noise) — an optional external NER
// service could add them; URL is not personal data in itself and every
// answer carries links (URLs holding credentials are caught as
// secret.url-credentials); US_PASSPORT, US_DRIVER_LICENSE, US_BANK_NUMBER
// and MEDICAL_LICENSE have no checksum or a per-state format, so without a
// model of context they are indistinguishable from order numbers (Presidio
// itself scores them 0.05–0.4 without context words).
//
// LLM01 phrase families (instruction override, jailbreak personas and
// modes, prompt extraction, chat-template injection, indirect instructions
// and exfiltration requests in tool results) are hand-written; the override
// family is a grammar (verb × determiner × qualifier × object, passive
// forms, six other languages), and structural jailbreak and indirect
// signals (personas, rules lifted, dual answers, refusal suppression,
// fiction lifting the rules, token games, text addressed to the model, role
// spoofing, hidden markup) are summed by an explainable linear scorer whose
// findings name the signals that fired (injection_signals.go). Leetspeak and
// letter-spaced text are rewritten and read as layers. Each family needs a
// quantifier, a qualifier or "your" ("ignore the warnings", "override the
// default config" and "my previous message" stay quiet). Not covered:
// paraphrases without any trigger word, languages other than the seven,
// instructions in images.
//
// LLM05 (script and event-handler HTML, javascript:/data: URLs, markdown
// image exfiltration, SQL injection, shell injection, path traversal, cloud
// metadata SSRF) and LLM06 (destructive shell, SQL, VCS and infrastructure
// commands, privilege changes, money-moving and bulk-destructive tools) are
// hand-written. Payloads inside fenced code in prose lose confidence (a
// coding assistant showing code is not an injection); in tool arguments
// they gain a severity level.
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
// In SQL over a findings table (severity stored as 0..4):
//
//	-- per session (and per event: GROUP BY event_id)
//	SELECT session_id,
//	  least(100, 80 * log2(1 + sumIf(confidence, severity = 4))
//	           + 35 * log2(1 + sumIf(confidence, severity = 3))
//	           + 12 * log2(1 + sumIf(confidence, severity = 2))
//	           +  3 * log2(1 + sumIf(confidence, severity = 1))) AS risk
//	FROM findings GROUP BY session_id;
//	-- per agent, over its sessions' scores (sessions without findings count as 0)
//	SELECT agent_id, 0.5 * max(risk) + 0.5 * avg(risk) AS risk FROM session_risk GROUP BY agent_id;
//
// # Quality
//
// testdata/eval holds the development and holdout sets of Detection II
// (PII scored per entity, secrets, injections and tool definitions per
// sample); TestEvalSets prints precision, recall and F1 per detector and
// class and asserts floors. docs/detection.md has the tables and how far
// the holdout can be trusted. The older corpus below still guards the
// other families.
//
// testdata/corpus holds a labelled corpus: gen_*.jsonl generated from a
// fixed seed by TestGenerateCorpus (-update) and hand_*.jsonl written by
// hand, each sample a text with its context and the families that must
// fire (all others must stay quiet). TestCorpusQuality reports sample-level
// precision and recall per family, checks that findings cover the expected
// span, and asserts floors. Measured (default options):
//
//	family         positives  hard negatives  precision  recall
//	email                 44              42      1.000   1.000
//	phone                 46              42      1.000   1.000
//	credit_card           45              42      1.000   1.000
//	iban                  44              42      1.000   1.000
//	us_ssn                44              42      1.000   1.000
//	ip_address            44              42      0.978   1.000
//	crypto_wallet         45              42      1.000   1.000
//	secret                48              43      1.000   1.000
//	injection             55              57      1.000   1.000
//	output                43              46      1.000   1.000
//	agency                61              44      0.984   1.000
//	leakage               41              41      1.000   1.000
//	consumption           50              60      1.000   1.000
//
// Read these as an upper bound: the corpus was written by the same hands
// as the rules and the rules were corrected against it, so it shows that
// the listed hard cases are handled, not how the rules do on unseen text.
// The two misses left are listed by the test: a dotted-quad version number
// with the word "version" far after it, and "rm -rf" inside an echo'd
// string.
//
// The floors TestCorpusQuality asserts sit below that, near what unseen
// text showed: precision ≥ 0.95 for e-mail, cards, IBAN, SSN, wallets,
// secrets and leakage, ≥ 0.90 for phone, IP, injection, output and agency;
// recall ≥ 0.85–0.95.
//
// A better estimate is testdata/holdout: 208 samples (8 positives and 8
// hard negatives per family, realistic chat, tool and config snippets)
// written after the rules were tuned and scanned once before any change.
// That first measurement, per family (precision/recall): email 0.80/1.00,
// phone 0.89/1.00, credit_card 0.89/1.00, iban 1.00/1.00, us_ssn 0.80/1.00,
// ip_address 1.00/1.00, crypto_wallet 1.00/1.00, secret 1.00/1.00,
// injection 0.89/1.00, output 1.00/0.88, agency 1.00/0.75, leakage
// 1.00/1.00, consumption 1.00/1.00 — overall 0.935 precision (7 false
// positives) and 0.971 recall (3 misses). The errors were fixed with
// general rules, not by listing the samples (an SSN needs an SSN word; a
// phone number is a whole digit cluster; a label right before a number
// wins over card words further away; "you@yourcompany.com" and
// "hero@2x.avif"; JSON-escaped javascript: URLs; the arguments of
// command-line tools such as "git" read as a command line; "bank_transfer"),
// so the set now passes and no longer measures unseen text: the next
// held-out set should be written fresh. TestHoldoutQuality asserts 0.85
// precision and 0.80 recall over the whole set.
package detect
