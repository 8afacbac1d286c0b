// Package detect finds security-relevant content in the text of LLM traffic
// — personal data, secrets, OWASP LLM Top 10 (2025) runtime patterns — and
// turns findings into risk scores. It is pure: no I/O, no clocks, no state
// between calls, no knowledge of HTTP, providers, sinks or storage.
//
//	sc := detect.NewScanner(detect.Options{})          // once; safe for concurrent use
//	fs := sc.Scan(&detect.Input{
//		Text: msg, Role: detect.RoleTool,                 // a tool result fed to the model
//		Direction: detect.Request,
//	})
//	score := detect.EventScore(fs)
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
// System and developer messages are not checked for injection; scan one as
// its own Input (Role user) to look for PII in it. A Finding has a
// Category, a stable Rule id ("pii.credit_card", "secret.github-pat",
// "llm01.instruction_override", …), a Severity, a Confidence in [0,1]
// (below Options.MinConfidence, 0.5 by default, it is dropped), the OWASP
// id, the Source field and a byte span in that field as given, and redacted
// Evidence — never the raw value. Findings own their memory; AppendScan
// reuses a slice, and a scan of text without findings allocates nothing.
// Results never depend on earlier scans. Usage limits are each reported
// once, by the event that crosses them (the caller keeps the counters).
//
// Scores: with C_s the sum of the confidences of the findings of severity s,
//
//	score = min(100, 80·log2(1+C_critical) + 35·log2(1+C_high) + 12·log2(1+C_medium) + 3·log2(1+C_low))
//
// for an event and a session alike; levels: 0 none, < 25 low, < 50 medium,
// < 75 high, else critical (RiskLevel); AgentScore is half the worst session
// plus half the mean. TestEvalSets, TestCorpusQuality and TestHoldoutQuality
// hold precision and recall to floors on labelled sets in testdata.
//
// docs/detection.md has how the detectors work (normalisation, decoded
// layers, usage limits, the rules and where they come from), the quality
// and speed measurements, and how scans are made fast.
package detect
