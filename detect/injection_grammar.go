package detect

// The instruction-override grammar: verb × (determiner) × (qualifier) ×
// object, with fillers, synonyms and joined qualifiers, instead of a list
// of phrases. A strong verb (ignore, disregard, forget, …) needs a
// determiner or a qualifier before the object ("ignore the typos" and
// "forget about the previous approach" stay quiet: neither object is an
// instruction); a weak verb (drop, skip, delete, …) needs "your" or a
// quantifier ("drop the old rules from the firewall" stays quiet). The
// object-first form covers "your previous instructions no longer apply",
// and the other languages cover the same grammar in German, French,
// Spanish, Italian, Portuguese and Dutch (after diacritics are folded).

const (
	ovStrong = `(?:ignore|disregard|forget|override|overrule|bypass|abandon|neglect|discard|dismiss|set aside|put aside|throw out|throw away|cancel|revoke|nullify|stop following|stop obeying|do not follow|don'?t follow|do not obey|don'?t obey|never follow|no longer follow|pay no attention to|pay no heed to)`
	ovWeak   = `(?:drop|skip|delete|erase|clear|wipe|remove|scrap|ditch|forgo)`
	ovFill   = `(?:(?:please|kindly|just|now|simply|completely|entirely|totally|also|then|immediately|hereby) )*`
	ovDet    = `(?:all|any|every|each|the|these|those|your|all of (?:the|your|these|those)|every one of (?:the|your)|everything in (?:the|your)|each of (?:the|your)|any of (?:the|your)|all the)`
	ovQual   = `(?:previous|prior|preceding|above|earlier|former|initial|original|foregoing|system|developer|safety|security|hidden|programmed|built-in|openai|anthropic|ethical|moral|content|aforementioned)`
	ovQualW  = `(?:current|existing|old|given|provided|past|last|first|usual|standard)` // only after "your", "all", "every", "any"
	ovOwn    = `(?:all|any|every|each|your|all of (?:the|your|these|those)|every one of (?:the|your)|everything in (?:the|your)|each of (?:the|your)|any of (?:the|your)|all the|all your)`
	ovNoun   = `(?:instructions?|directions?|directives?|rules|guidelines|guidance|guardrails|prompts?|commands?|restrictions|constraints|programming|context|orders|policies|system prompt|system message|training|safety measures|safety settings|safety features|safeguards|content filters?|filters|limitations|boundaries|ethics|protocols?)`
)

// overrideObjects are the keywords one of which an override phrase must
// contain (its object), checked before its expression runs.
var overrideObjects = []string{"instruction", "direction", "directive", "rules", "guideline", "guidance", "guardrail", "prompt", "command",
	"restriction", "constraint", "programming", "context", "orders", "polic", "system message", "training", "safety measure", "filter",
	"limitation", "boundaries", "ethics", "protocol", "safety setting", "safety feature", "safeguard", "anweisung", "instruktion", "regeln", "befehle", "vorgaben", "richtlinie",
	"consignes", "regles", "ordres", "instruccion", "reglas", "directrices", "ordenes", "indicaciones", "istruzioni", "regole", "direttive",
	"instrucoes", "regras", "diretrizes", "instructies", "regels", "opdrachten"}

// passiveAllSubjects are the words one of which passiveAll's subject holds
// ("everything", "all the …", "all you were told", "all rules").
var passiveAllSubjects = []string{"everything", "whatever", "anything", "all the", "all you", "all_the", "all_you", "all-the", "all-you", "rules", "instruction",
	"guideline", "all told", "all given", "all set", "all said", "all configured", "all instructed", "all received"}

// withNeeds sets the words one of which must be in a rule's window (the
// expression cannot match without one), so that the keywords common in
// code ("null", "invalid", "https://") do not run it on every occurrence.
func withNeeds(r *regexRule, words []string) *regexRule {
	r.needs = words
	return r
}

// needing sets the words one of which must be in a rule's window. The
// rules that need an object are verb phrases: their keyword (the verb) is
// followed by a word gap and a word, which runAnchored checks before it
// runs the expression ("cancel := ctx" is no phrase).
func needing(r *regexRule, words []string) *regexRule {
	r.needs = words
	r.verb = true
	return r
}

func grammarRules() []*regexRule {
	// "the/these/those" need a qualifier ("ignore the instructions on the
	// box" is advice); a quantifier or "your" does not.
	strong := `\b` + ovStrong + ` ` + ovFill + `(?:(?:` + ovOwn + ` (?:(?:` + ovQual + `|` + ovQualW + `) )*(?:\w+ ){0,2}?|(?:these|those) (?:(?:` + ovQual + `|` + ovQualW + `) )+(?:\w+ )?|(?:the )?(?:` + ovQual + ` )+(?:\w+ )?(?:\w+ (?:and|or|&) )?)` + ovNoun + `|the (?:system prompt|system message|system instructions|developer message|developer instructions))\b`
	// "put your earlier guidelines aside", "act as if you never received
	// any instructions".
	aside := `\b(?:put|set|leave|push|cast) ` + ovFill + `(?:` + ovOwn + `|the|these|those) (?:(?:` + ovQual + `|` + ovQualW + `) )*` + ovNoun + ` (?:aside|to (?:one|the) side|behind(?: you)?)\b`
	never := `\b(?:act|behave|respond|answer|continue|pretend) (?:like|as if|as though)? ?you (?:never|did not|didn'?t|have not|haven'?t) (?:received|got|gotten|been given|had|seen) (?:any |the |your )?(?:(?:` + ovQual + `|` + ovQualW + `) )*` + ovNoun + `\b`
	decoy := `\b(?:the )?(?:instructions|rules|prompt|directions|task) (?:above|before this|earlier|so far|you (?:were|have been) given) (?:were|was|are|is) (?:just |only |merely )?(?:a test|fake|a joke|a decoy|not real|irrelevant|wrong|outdated|void)\b|\bthe (?:real|actual|true) (?:task|instructions?|objective|goal|job)\s*(?::|is\b|are\b)`
	weak := `\b` + ovWeak + ` ` + ovFill + `(?:(?:your|all (?:of )?(?:the |your )?|every|any) (?:` + ovQual + ` )*|(?:` + ovDet + ` )?(?:(?:previous|prior|preceding|earlier|initial|original|above|system|developer) )+)(?:\w+ )?` + ovNoun + `\b`
	passive := `\b(?:(?:your|the|all|any|these|those) )?(?:(?:previous|prior|earlier|original|initial|old|above|former|preceding|system|existing) )+(?:instructions|rules|directives|guidelines|guidance|prompts?|programming|restrictions|constraints|policies)\b[^.\n]{0,60}?\b(?:(?:are|is|have been|has been|were|was) (?:now |hereby |officially |all )?(?:revoked|cancell?ed|void|null|obsolete|outdated|overridden|superseded|lifted|suspended|disabled|invalid|deprecated|removed)|(?:no longer|don'?t|do not) (?:apply|applies|valid|in effect|matter|count))` +
		`|\bthe (?:guidance|instructions|rules|prompt) you (?:received|were given|got|have)\b[^.\n]{0,60}?\b(?:is|are) (?:now )?(?:outdated|obsolete|void|revoked|invalid|no longer valid)` +
		`|\b(?:your|the) (?:guidelines|rules|instructions|polic(?:y|ies)|system prompt) (?:have|has) been (?:updated|changed|revised|replaced|rewritten)\b[^.\n]{0,20}?\byou (?:may|can|are (?:now )?allowed to|must) (?:now )?`
	// passiveAll needs no object noun: "everything you were told is void".
	passiveAll := `\b(?:everything|whatever|anything|all) (?:(?:rules|instructions|guidelines) )?(?:the \w+ |you (?:were|have been|'ve been) )?(?:configured|told|given|set|said|instructed|received)\b[^.\n]{0,60}?\b(?:is|are|was|were) (?:now |hereby |officially )?(?:void|null|cancell?ed|revoked|obsolete|invalid|outdated|overridden|no longer valid)`
	foreign := `\b(?:ignoriere|ignorier|ignorieren sie|vergiss|vergessen sie|missachte)(?: bitte)? (?:(?:alle|jegliche|die|deine|ihre|samtliche|saemtliche|meine) )*(?:(?:vorherigen|bisherigen|vorigen|obigen|fruheren|frueheren|ursprunglichen|urspruenglichen|system|alten) )+(?:anweisungen|instruktionen|regeln|befehle|vorgaben|richtlinien)\b` +
		`|\b(?:ignore[zr]?|oublie[zr]?|ne tenez pas compte des|ne tiens pas compte des)(?: toutes| tous)? (?:les |tes |vos )(?:instructions|consignes|regles|directives|ordres)(?: precedentes| anterieures| initiales| du systeme| ci-dessus)\b` +
		`|\b(?:ignora|ignore|olvida|olvide|omite|descarta)(?: todas| todos)? (?:las |tus |sus |los )(?:instrucciones|reglas|directrices|ordenes|indicaciones)(?: anteriores| previas| iniciales| del sistema)\b` +
		`|\b(?:ignora|dimentica|trascura)(?: tutte)? (?:le |tue )(?:istruzioni|regole|direttive)(?: precedenti| iniziali| del sistema)\b` +
		`|\b(?:ignore|ignora|esqueca|desconsidere)(?: todas)? (?:as |suas |tuas )(?:instrucoes|regras|diretrizes)(?: anteriores| previas| iniciais| do sistema)\b` +
		`|\b(?:negeer|vergeet)(?: alle)? (?:de |je |jouw |uw )?(?:vorige|eerdere|voorgaande|oorspronkelijke) (?:instructies|regels|opdrachten)\b`
	exGiven := `\b(?:what|which) (?:were|are) (?:the )?(?:exact |full |original |initial )*(?:instructions|rules|guidelines|directives) (?:you (?:were|have been) given|given to you|you received|you got)\b` +
		`|\b(?:show|print|output|repeat|paste|reveal|display|quote|tell)(?: me| us)? (?:the |all (?:the )?)?(?:(?:complete|full|entire|exact|original|initial|hidden|secret) )*(?:prompt|instructions|system prompt|rules|guidelines|directives) (?:that )?(?:you (?:were|have been) given|you received|you got|given to you)\b` +
		`|\bwhat (?:rules|instructions|guidelines|directives) (?:were|have) you (?:been )?(?:given|told)\b`
	exBefore := `\b(?:print|output|show|repeat|paste|dump|display|reveal|copy)(?: me)? (?:everything|all(?: the)? text|all(?: the)? messages) (?:before|above|preceding|prior to) (?:the |this |my )?(?:first |last )?(?:user )?(?:message|line|conversation|prompt)\b`
	exYour := `\b(?:summari[sz]e|translate|paraphrase|quote|spell out|encode|rewrite|list|output|print|show|paste|reveal|repeat)(?: me)? (?:all (?:of )?)?your (?:(?:full|entire|complete|exact|original|initial|hidden|secret|internal|system|developer|confidential) )*(?:prompt|instructions|system message)\b` +
		`|\b(?:summari[sz]e|translate|paraphrase|quote|spell out|encode|rewrite|list|output|print|show|paste|reveal|repeat)(?: me)? (?:all (?:of )?)?your (?:(?:full|entire|complete|exact|original|initial|hidden|secret|internal|system|developer|confidential) )+(?:rules|message|guidelines|directives|configuration)\b`
	exWritten := `\bwhat (?:is|was) (?:written|said|stated|contained) in your (?:system |initial |hidden |original )?(?:prompt|message|instructions)\b` +
		`|\bwhat(?:'s| is| was) the (?:first|last|opening|exact|second) (?:sentence|line|word|paragraph|part|rule) of your (?:system )?(?:prompt|instructions|system message|rules)\b` +
		`|\b(?:reveal|show|print|dump|output|display|repeat|give me)(?: me)? (?:the )?(?:contents?|text|everything) (?:of|in) your (?:context(?: window)?|memory|system prompt|instructions|prompt)\b`
	return []*regexRule{
		needing(anchored(injRule(ruleOverride, SeverityHigh, 0.85, 0, 160, strong,
			"ignore", "disregard", "forget", "override", "overrule", "bypass", "abandon", "neglect", "discard", "dismiss", "set aside", "put aside",
			"throw out", "throw away", "cancel", "revoke", "nullify", "stop following", "stop obeying", "do not follow", "don't follow", "dont follow",
			"do not obey", "don't obey", "dont obey", "never follow", "no longer follow", "pay no attention", "pay no heed")), overrideObjects),
		needing(anchored(injRule(ruleOverride, SeverityHigh, 0.8, 0, 140, weak, "drop", "skip", "delete", "erase", "clear", "wipe", "remove", "scrap", "ditch", "forgo")), overrideObjects),
		withNeeds(injRule(ruleOverride, SeverityHigh, 0.8, 140, 120, passive, "revoked", "cancelled", "canceled", "void", "null", "obsolete", "outdated", "overridden",
			"superseded", "lifted", "suspended", "disabled", "invalid", "deprecated", "removed", "no longer", "not apply", "t apply", "not matter", "t matter",
			"been updated", "been changed", "been revised", "been replaced", "been rewritten"), overrideObjects),
		withNeeds(injRule(ruleOverride, SeverityHigh, 0.8, 140, 120, passiveAll, "revoked", "cancelled", "canceled", "void", "null", "obsolete", "outdated",
			"overridden", "invalid", "no longer"), passiveAllSubjects),
		needing(anchored(injRule(ruleOverride, SeverityHigh, 0.8, 0, 160, foreign, "ignoriere", "ignorier", "vergiss", "vergessen sie", "missachte", "ignorez", "ignorer",
			"ignore", "oubliez", "oublie", "ne tenez pas", "ne tiens pas", "ignora", "olvida", "olvide", "omite", "descarta", "dimentica", "trascura", "esqueca",
			"desconsidere", "negeer", "vergeet")), overrideObjects),
		injRule(ruleExtraction, SeverityMedium, 0.8, 110, 20, exGiven, "you were given", "you've been given", "you have been given", "you received",
			"you got", "given to you", "were you given", "were you told", "have you been given", "have you been told"),
		needing(anchored(injRule(ruleOverride, SeverityHigh, 0.8, 0, 160, aside, "put", "set", "leave", "push", "cast")), overrideObjects),
		needing(anchored(injRule(ruleOverride, SeverityHigh, 0.8, 0, 160, never, "act", "behave", "respond", "answer", "continue", "pretend")), overrideObjects),
		injRule(ruleOverride, SeverityHigh, 0.8, 60, 60, decoy, "above were", "above was", "above are", "above is", "before this were", "earlier were",
			"so far were", "given were", "the real task", "the actual task", "the true task", "the real instruction", "the actual instruction",
			"the real objective", "the real goal", "the real job"),
		injRule(ruleExtraction, SeverityMedium, 0.8, 30, 60, exBefore, "everything before", "everything above", "everything preceding", "everything prior",
			"text before", "text above", "messages before", "messages above"),
		injRule(ruleExtraction, SeverityMedium, 0.8, 30, 60, exYour, "your prompt", "your instructions", "your system", "your full", "your entire", "your complete",
			"your exact", "your original", "your initial", "your hidden", "your secret", "your internal", "your developer", "your confidential"),
		injRule(ruleExtraction, SeverityMedium, 0.8, 50, 50, exWritten, "in your system", "in your prompt", "in your instructions", "in your initial",
			"in your hidden", "in your original", "in your message", "of your prompt", "of your instructions", "of your system", "of your rules",
			"of your context", "of your memory", "in your context", "in your memory"),
	}
}
