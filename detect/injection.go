package detect

import (
	"math/bits"
	"regexp"
	"strings"
)

// LLM01 rule ids.
const (
	ruleOverride   = "llm01.instruction_override"
	ruleJailbreak  = "llm01.jailbreak"
	ruleExtraction = "llm01.prompt_extraction" // reported under LLM07
	ruleTemplate   = "llm01.chat_template_injection"
	ruleIndirect   = "llm01.indirect_instruction"
	ruleExfil      = "llm01.exfiltration_instruction"
	ruleSmuggling  = "llm01.ascii_smuggling"
)

// sp is the gap between words of a phrase: white space, or the
// punctuation used to split words apart ("ignore_all-previous").
const sp = `[\s_*\-]+`

func phrase(s string) string { return strings.ReplaceAll(s, " ", sp) }

// injRule compiles a phrase family. Injection rules run on a lower-cased
// copy of the window (ASCII case folding keeps offsets), so the pattern is
// lower-cased too and compiled without (?i): case-insensitive matching is
// several times slower in Go's regexp.
func anchored(r *regexRule) *regexRule {
	r.anchored = true
	r.re = regexp.MustCompile("^(?:" + r.re.String() + ")")
	return r
}

func injRule(id string, sev Severity, conf float32, before, after int, re string, kws ...string) *regexRule {
	return &regexRule{cat: CategoryInjection, id: id, re: regexp.MustCompile(lowerPattern(phrase(re))), kws: kws,
		before: before, after: after, sev: sev, conf: conf, check: checkInjection, lower: true}
}

// lowerPattern lower-cases the literal letters of a regular expression,
// leaving escapes (\S, \W, \D, \B) and flag groups alone.
func lowerPattern(p string) string {
	b := []byte(p)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\\':
			i++
		case b[i] == '(' && i+2 < len(b) && b[i+1] == '?' && (b[i+2] == '-' || b[i+2] == 'i' || b[i+2] == 'm' || b[i+2] == 's'):
			for i < len(b) && b[i] != ':' && b[i] != ')' {
				i++
			}
		default:
			b[i] = lowerASCII(b[i])
		}
	}
	return string(b)
}

// Phrase families. Each needs a quantifier, a qualifier or "your" so that
// "ignore the warnings" or "override the default config" stay quiet, and
// none matches the speaker's own "my previous instructions".
// exfilObjects are the objects of an exfiltration request, one of which
// its window must hold (URLs alone, common in code, do not run it).
var exfilObjects = []string{"conversation", "chat", "messages", "emails", "credentials", "passwords", "api key", "api_key", "api-key",
	"secrets", "tokens", "files", "documents", "contacts", "personal", "private", "history", "session", "cookies", "environment",
	"vars", "prompt"}

func injectionRules() []*regexRule {
	verbs := `(?:ignore|disregard|forget|bypass|abandon|neglect|override|overrule|do not follow|don'?t follow|stop following|pay no attention to)`
	nouns := `(?:instructions?|directions?|directives?|rules|guidelines|guardrails|prompts?|commands?|restrictions|constraints|programming|context|orders|policies|system prompt|system message|training|safety measures|conversation)`
	qual := `(?:previous|prior|preceding|above|earlier|former|initial|original|foregoing|system|developer|safety|security|hidden|current|existing)`
	override := `\b` + verbs + ` (?:(?:all|any|every|each) (?:of )?(?:the |your |these |those |my )?(?:` + qual + ` )?` +
		`|(?:the |these |those )?` + qual + ` |your (?:` + qual + ` )?)` + `(?:\w+ )?` + nouns + `\b`
	return append([]*regexRule{
		needing(anchored(injRule(ruleOverride, SeverityHigh, 0.85, 0, 110, override,
			"ignore", "disregard", "forget", "bypass", "abandon", "neglect", "override", "overrule", "do not follow", "don't follow",
			"dont follow", "stop following", "pay no attention")), overrideObjects),
		anchored(injRule(ruleOverride, SeverityHigh, 0.8, 0, 80, `\b(?:ignore|disregard|forget) (?:everything|all|anything) (?:(?:you (?:were|have been) )?(?:told|said|written|given)|above|before this|prior to this|(?:you )?know about your)\b`,
			"ignore", "disregard", "forget")),
		injRule(ruleOverride, SeverityHigh, 0.8, 30, 50, `\b(?:new|updated|revised|real|actual|true) (?:system )?instructions?\s*(?::|are:|follow:)|\byour (?:new|real|true|actual) (?:instructions|task|purpose|goal|objective) (?:is|are)\b`,
			"new instruction", "updated instruction", "revised instruction", "real instruction", "actual instruction", "true instruction",
			"new system instruction", "your new", "your real", "your true", "your actual"),
		injRule(ruleJailbreak, SeverityHigh, 0.9, 40, 30, `\bdo anything now\b|\bDAN (?:mode|prompt|jailbreak)\b|\b(?:jailbreak|jailbroken|dan|unrestricted|evil|chaos) mode (?:enabled|activated|engaged|unlocked)\b|\b(?:enable|activate|enter|switch to|unlock) (?:the )?(?:jailbreak|dan|unrestricted) mode\b`,
			"do anything now", "dan mode", "dan prompt", "dan jailbreak", "developer mode", "god mode", "jailbreak mode", "jailbroken mode",
			"unrestricted mode", "evil mode", "chaos mode", "opposite mode", "sudo mode", "admin mode"),
		injRule(ruleJailbreak, SeverityHigh, 0.85, 20, 80, `\byou are (?:now |no longer )(?:dan\b|jailbroken|unrestricted|unfiltered|uncensored|unbound|free (?:from|of) (?:all |any )?(?:rules|restrictions|guidelines|limits|filters)|in (?:developer|god|jailbreak|dan|unrestricted) mode|an? (?:unrestricted|unfiltered|uncensored|evil|rogue|amoral|jailbroken) (?:ai|model|assistant|chatbot|llm)|(?:bound|restricted|limited) by|an? ai (?:language )?model|(?:chatgpt|claude|an assistant)\b)`,
			"you are now", "you are no longer"),
		injRule(ruleJailbreak, SeverityHigh, 0.8, 70, 40, `\b(?:act|behave|respond|answer|pretend|roleplay|role-play) (?:as|like|to be|you are) (?:an? |the )?(?:completely )?(?:unrestricted|unfiltered|uncensored|amoral|unethical|evil|rogue|jailbroken|lawless) (?:ai|model|assistant|chatbot|llm|version|character|entity)\b`,
			"unrestricted", "unfiltered", "uncensored", "amoral", "unethical", "evil", "rogue", "jailbroken", "lawless"),
		injRule(ruleJailbreak, SeverityHigh, 0.75, 120, 120, `\b(?:without|free of|no longer (?:have|bound by)|ignoring) (?:any |all |your )?(?:ethical|moral|safety|content|openai|anthropic) (?:guidelines|restrictions|filters|constraints|limitations|policies|rules|considerations)\b[^.\n]*\b(?:respond|answer|reply|output|tell|write|generate)|\b(?:respond|answer|reply|output|tell|write|generate)\b[^.\n]*\b(?:without|free of|ignoring) (?:any |all |your )?(?:ethical|moral|safety|content|openai|anthropic) (?:guidelines|restrictions|filters|constraints|limitations|policies|rules|considerations)\b`,
			"ethical", "moral", "safety filter", "safety guideline", "safety restriction", "safety polic", "safety rule",
			"content filter", "content polic", "content restriction", "content guideline", "openai", "anthropic"),
		injRule(ruleJailbreak, SeverityHigh, 0.8, 16, 80, `\bpretend (?:that )?(?:you (?:are|have) )?(?:no|not bound by|free from|without) (?:any )?(?:rules|restrictions|guidelines|filters|limits|ethics|policies)\b|\bhypothetically,? (?:if )?you (?:had|have) no (?:rules|restrictions|guidelines|filters)\b`,
			"pretend", "hypothetically"),
		injRule(ruleExtraction, SeverityMedium, 0.8, 90, 20, `\b(?:reveal|show|print|output|display|repeat|recite|tell me|give me|write out|dump|leak|share|list|paste|copy)(?: me| us)? (?:all |the (?:full |entire |complete |exact )?(?:text of )?)?(?:of )?(?:your|its) (?:(?:full |entire |complete |exact |original |initial |hidden |secret |internal |underlying )*(?:system prompt|system message|system instructions|instructions|initial prompt|prompt|pre-?prompt)|(?:full |entire |complete |exact |original |initial |hidden |secret |internal |underlying )+(?:rules|guidelines|directives|configuration))\b|\bwhat (?:is|are|was|were) (?:your|its) (?:full |entire |complete |exact |original |initial |hidden |secret |internal )*(?:system prompt|system message|system instructions|initial prompt|pre-?prompt|original instructions|hidden instructions|initial instructions)\b`,
			"its system prompt", "its instructions", "its hidden", "its initial", "its prompt", "its rules", "its original",
			"your system prompt", "your system message", "your system instruction", "your instructions", "your initial", "your prompt",
			"your rules", "your guidelines", "your directives", "your configuration", "your original", "your hidden", "your full",
			"your entire", "your complete", "your exact", "your secret", "your internal", "your underlying", "your pre"),
		injRule(ruleExtraction, SeverityMedium, 0.8, 60, 100, `\b(?:reveal|show|print|output|display|repeat|recite|dump|leak|paste|copy|what (?:is|was|were))(?: me)? the (?:full |entire |complete |exact |original |initial |hidden |secret )*(?:system prompt|system message|initial prompt|hidden instructions|original instructions|initial instructions|developer message|instructions (?:above|you were given))\b(?:[^.\n]*\b(?:above|verbatim|word for word|you (?:were|have been) given|you received|before this|at the (?:start|beginning)))`,
			"the system prompt", "the system message", "the initial prompt", "the hidden instruction", "the original instruction",
			"the initial instruction", "the developer message", "the full system", "the entire system", "the complete system",
			"the exact system", "the original system", "the hidden system", "the secret system"),
		injRule(ruleExtraction, SeverityMedium, 0.85, 60, 40, `\b(?:repeat|print|output|return|echo|write) (?:back )?(?:all |the |everything |every )?(?:words?|text|lines?|everything|content|tokens|characters) (?:above|before (?:this|my message)|preceding this|from the (?:start|beginning))\b|\bstarting with (?:the (?:words?|phrase) )?["'\x60]?you are\b|\bignore the above and (?:instead )?(?:tell|print|output|repeat|say)\b`,
			"words above", "text above", "lines above", "line above", "everything above", "content above", "tokens above", "characters above",
			"word above", "before this", "before my message", "preceding this", "from the start", "from the beginning", "starting with",
			"ignore the above"),
		injRule(ruleTemplate, SeverityHigh, 0.8, 20, 40, `<\|(?:im_start|im_end|system|user|assistant|endoftext|begin_of_text|start_header_id|end_header_id|eot_id)\|>|\[/?INST\]|<</?SYS>>|(?m:^\s*#{2,}\s*(?:system|new instructions?|admin override)\s*:)|\bBEGIN (?:SYSTEM PROMPT|ADMIN OVERRIDE|NEW INSTRUCTIONS)\b|(?m:^\s*\[?(?:system|admin) (?:override|message|notice)\]?\s*:)|\[(?:system|admin)\]\s*(?:override|message|notice)?\s*:`,
			"<|", "[inst]", "[/inst]", "<<sys>>", "<</sys>>", "### system", "## system", "### new instruction", "## new instruction", "begin system prompt", "begin admin override", "begin new instructions", "system override", "admin override", "system message", "system notice", "admin message", "admin notice", "[system]", "[admin]"),
		injRule(ruleIndirect, SeverityHigh, 0.8, 40, 100, `\bif you are (?:an? )?(?:ai|llm|large language model|language model|assistant|chatbot|gpt|claude|agent|bot)\b[^.\n]*\b(?:must|should|need to|ignore|disregard|instead|do not|don'?t|always|never|now)\b|\b(?:attention|note|message|instructions?|important) (?:to|for) (?:the |any |all )?(?:ai|llm|assistant|agent|language model|chatbot|bots?)s?\s*[:\-,!]|\b(?:ai|assistant|agent|llm|chatbot) (?:reading|processing|summari[sz]ing) this\b`,
			"if you are an", "if you are a ", "to the ai", "for the ai", "to any ai", "for any ai", "to all ai", "for all ai", "to the assistant",
			"for the assistant", "to the llm", "for the llm", "to the agent", "for the agent", "to the language model", "for the language model",
			"to the chatbot", "to the bot", "ai reading this", "assistant reading this", "agent reading this", "llm reading this",
			"processing this", "summarizing this", "summarising this", "to ai", "for ai"),
		injRule(ruleIndirect, SeverityHigh, 0.75, 40, 60, `\b(?:do not|don'?t|never) (?:tell|inform|mention (?:this )?to|reveal (?:this )?to|show (?:this )?to|notify|alert|let) (?:this |it |anything |about this )?(?:to )?(?:the )?(?:user|human|customer|operator)\b|\bwithout (?:telling|informing|notifying|alerting|asking|the knowledge of) (?:the )?(?:user|human|customer|operator)\b|\b(?:keep|hide) (?:this|it) (?:secret |hidden )?from (?:the )?(?:user|human|customer)\b`,
			"not tell", "t tell", "never tell", "not inform", "t inform", "never inform", "not mention", "t mention", "never mention",
			"not reveal", "t reveal", "never reveal", "not show", "t show", "never show", "not notify", "t notify", "never notify",
			"not alert", "t alert", "not let", "t let", "never let", "without telling", "without informing", "without notifying",
			"without alerting", "without asking", "without the knowledge", "from the user", "from the human", "from the customer"),
		withNeeds(injRule(ruleExfil, SeverityHigh, 0.8, 260, 40, `\b(?:send|forward|email|e-mail|post|upload|transmit|exfiltrate|leak|copy|append|include)(?: all| every| any)?(?: of)?(?: the| this| your| their| user'?s?)? (?:conversation|chat history|chat log|messages|emails|credentials|passwords|api keys?|secrets|tokens|files|documents|contacts|personal (?:data|information)|private (?:data|information)|history|session (?:data|cookies?)|cookies|environment variables|env vars|system prompt)\b[^\n]*?\b(?:to|into|at|via|in) (?:https?://|\S+@\S+\.\w+|(?:this|the following|my|our) (?:url|address|email|endpoint|webhook|server|link)|attacker|evil)`,
			"attacker", "evil", "this url", "this address", "this email", "this endpoint", "this webhook", "this server", "this link",
			"the following url", "the following address", "the following email", "the following endpoint", "the following webhook",
			"the following server", "the following link", "my url", "my server", "my endpoint", "my webhook", "my email", "our server",
			"our endpoint", "http://", "https://"), exfilObjects),
	}, grammarRules()...)
}

// negative context: the phrase is quoted, discussed or asked about, not
// addressed to the model.
var metaWords = newWordList("such as", "e.g.", "for example", "for instance", "phrases like", "phrase like", "strings like",
	"prompts like", "example of", "examples of", "known as", "called", "detect", "classif", "filter", "block",
	"prompt injection", "injection attack", "jailbreak attempt", "attackers", "attacker", "red team", "red-team",
	"dataset", "benchmark", "how do i", "how can i", "how to", "should i", "should we", "test suite", "our test", "is it possible", "what does", "what is a", "why does",
	"paper", "research", "training data", "guardrail", "test case", "unit test", "regex", "pattern", "template",
	"token", "tokenizer", " tags", "format")

// afterMetaWords follow a quoted attack that is being discussed.
var afterMetaWords = newWordList("injection attack", "prompt injection", "jailbreak prompt", "is an example", "as an example",
	"for example", "example of", "is a classic", "is a known")

func checkInjection(c *scanCtx, r *regexRule, m []int) (float32, Severity, bool) {
	conf, sev := r.conf, r.sev
	s, e := m[0], m[1]
	t := c.t
	// Discussed rather than addressed: quoted in a sentence that talks
	// about it, or asked about.
	ls := s - 100
	if ls < 0 {
		ls = 0
	}
	if i := strings.LastIndexAny(t[ls:s], ".!?\n"); i >= 0 && ls+i+1 < s-1 {
		ls = ls + i + 1
	}
	if metaWords.in(t[ls:s]) || afterMetaWords.in(t[e:min(len(t), e+40)]) {
		conf -= 0.4
	}
	quoted := s > 0 && strings.ContainsRune(`"'“‘«`+"`", rune(t[s-1])) ||
		s > 1 && (t[s-1] == ' ' && strings.ContainsRune(`"'`+"`", rune(t[s-2])))
	if quoted {
		conf -= 0.15
	}
	indirect := c.in.Role == RoleTool
	if indirect {
		conf += 0.05
		if r.id == ruleOverride || r.id == ruleExfil {
			sev = SeverityCritical
		}
		if r.id == ruleExtraction {
			sev = SeverityHigh
		}
	}
	if c.layer != "" {
		conf += 0.1 // hidden in an encoded blob: intent is plain
		sev = sev.raise()
	}
	// Matched only thanks to normalisation (homoglyphs, invisibles).
	if !c.n.Identity() && c.layer == "" {
		os, oe := c.n.Original(s, e)
		if c.orig[os:oe] != t[s:e] {
			conf += 0.05
		}
	}
	// Exfiltration and "do not tell the user" phrasing belong to documents
	// and tool results; in a user's own message they are instructions the
	// user may legitimately give.
	if r.id == ruleIndirect || r.id == ruleExfil {
		if !indirect && c.layer == "" {
			conf -= 0.3
		}
	}
	return conf, sev, true
}

func (c *scanCtx) injectionApplies() bool {
	switch c.in.Role {
	case RoleSystem, RoleDeveloper, RoleAssistant:
		return false
	case RoleTool:
		return true
	}
	return c.in.Direction == Request || c.layer != ""
}

func (c *scanCtx) injection() {
	rt := rules()
	if c.in.Role == RoleToolDefinition {
		c.signals(rt.toolSigs, c.candidates64(&rt.toolSigsByKW), true)
	} else {
		c.signals(rt.signals, c.candidates64(&rt.signalsByKW), false)
	}
	for set := c.candidates64(&rt.injectionByKW); set != 0; set &= set - 1 {
		r := rt.injection[bits.TrailingZeros64(set)]
		c.runRule(r, func(m []int) {
			conf, sev, ok := r.check(c, r, m)
			if !ok {
				return
			}
			c.emit(CategoryInjection, r.id, sev, conf, m[0], m[1], c.quote(c.t[m[0]:m[1]], 120))
		})
	}
}

// smuggling reports Unicode tag characters that spell hidden text.
func (c *scanCtx) smuggling() {
	if !c.enabled(CategoryInjection) {
		return
	}
	for _, sp := range c.n.tags {
		v := c.n.Text[sp.start:sp.end]
		if len(v) < 8 && !strings.Contains(v, " ") {
			continue // emoji tag sequences (subdivision flags) are short and space-free
		}
		ev := v
		if len(ev) > 80 {
			ev = ev[:80] + "…"
		}
		c.t = c.n.Text
		c.emit(CategoryInjection, ruleSmuggling, SeverityHigh, 0.9, sp.start, sp.end, "hidden tag text: "+quoteEvidence(ev))
	}
}

// quoteEvidence makes a short printable excerpt.
func quoteEvidence(s string) string { return string(appendQuoted(nil, s, false)) }
