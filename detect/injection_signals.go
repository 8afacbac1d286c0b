package detect

import (
	"math/bits"
	"regexp"
	"strings"
)

// Structural jailbreak and indirect-injection signals, combined by a small
// linear scorer.
//
// A phrase family fires on its own (instruction_override, prompt_extraction,
// …). The signals below are weaker alone — "act as", "developer mode",
// "stay in character" all have innocent uses — so each carries a weight,
// the weights of the signals present in a text are summed (a signal counts
// once, a second and a third distinct match add half its weight each), and a finding
// is reported when the sum reaches scoreThreshold. The finding names every
// signal that contributed, so a reviewer sees why it fired. The weights
// were set by hand and then calibrated on testdata/eval/dev_* so that no
// dev negative reaches the threshold (precision first, as the issue asks).

type signalID uint8

const (
	sigNone signalID = iota
	sigNamedPersona
	sigPersonaSetup
	sigNoRules
	sigModeSwitch
	sigStayInCharacter
	sigDualAnswer
	sigRefusalSuppression
	sigTokenGame
	sigFictionLift
	sigGrandma
	sigAddressedToAI
	sigRoleSpoof
	sigHiddenMarkup
	sigDecodeExecute
	sigDiscussion
	sigAuthority
	sigToolHiddenTag
	sigToolSensitiveData
	sigToolSecrecy
	sigToolShadowing
	sigToolPrecondition
	sigToolInvisible
	sigToolCommand
	numSignals
)

var signalNames = [numSignals]string{
	sigNamedPersona:       "named_persona",
	sigPersonaSetup:       "persona_setup",
	sigNoRules:            "rules_lifted",
	sigModeSwitch:         "mode_switch",
	sigStayInCharacter:    "stay_in_character",
	sigDualAnswer:         "dual_answer",
	sigRefusalSuppression: "refusal_suppression",
	sigTokenGame:          "token_game",
	sigFictionLift:        "fiction_lifts_rules",
	sigGrandma:            "grandma_exploit",
	sigAddressedToAI:      "addressed_to_ai",
	sigRoleSpoof:          "role_spoof",
	sigHiddenMarkup:       "hidden_markup",
	sigDecodeExecute:      "decode_and_execute",
	sigDiscussion:         "discussion",
	sigAuthority:          "authority_claim",
	sigToolHiddenTag:      "hidden_tag",
	sigToolSensitiveData:  "asks_for_sensitive_data",
	sigToolSecrecy:        "secrecy",
	sigToolShadowing:      "cross_tool_shadowing",
	sigToolPrecondition:   "instruction_to_model",
	sigToolInvisible:      "invisible_characters",
	sigToolCommand:        "shell_command",
}

// signalWeights are the scorer's coefficients.
var signalWeights = [numSignals]float32{
	sigNamedPersona:       0.5,
	sigPersonaSetup:       0.25,
	sigNoRules:            0.35,
	sigModeSwitch:         0.3,
	sigStayInCharacter:    0.2,
	sigDualAnswer:         0.6,
	sigRefusalSuppression: 0.4,
	sigTokenGame:          0.6,
	sigFictionLift:        0.6,
	sigGrandma:            0.4,
	sigAddressedToAI:      0.65,
	sigRoleSpoof:          0.5,
	sigHiddenMarkup:       0.2,
	sigDecodeExecute:      0.6,
	sigDiscussion:         -0.45,
	sigAuthority:          0.35,
	sigToolHiddenTag:      0.45,
	sigToolSensitiveData:  0.5,
	sigToolSecrecy:        0.4,
	sigToolShadowing:      0.6,
	sigToolPrecondition:   0.35,
	sigToolInvisible:      0.3,
	sigToolCommand:        0.45,
}

// scoreThreshold is the sum of weights at which the scorer reports.
const scoreThreshold = 0.6

// sigRule is a signal's expression, guarded by keywords like every rule.
// dualAnswerNeeds: every form of a dual answer names what the second
// answer lacks ("jailbroken", "no filters", "developer mode", "DAN", …) or
// marks it (🔓, "[unlocked]").
var dualAnswerNeeds = []string{"jailbreak", "jailbroken", "unfiltered", "uncensored", "unrestricted", "restrictions", "rules", "filters",
	"censorship", "limits", "developer", "dan", "ignore", "alter", "unsafe", "🔓", "unlocked", "guidelines", "polic"}

// tokenGameNeeds: a token game counts something (tokens, points, credits,
// lives, coins), rewards, or charges each refusal.
var tokenGameNeeds = []string{"token", "point", "credit", "lives", "coin", "time you", "time_you", "time-you", "reward", "refusal",
	"decline", "rejection"}

func sigRule(sig signalID, before, after int, re string, kws ...string) *regexRule {
	// The window must hold the keyword itself (≤ maxKeyword bytes before
	// its end) and a little context.
	return &regexRule{cat: CategoryInjection, id: signalNames[sig], re: regexp.MustCompile(lowerPattern(phrase(re))), kws: kws,
		before: max(before, 16), after: after, lower: true, signal: sig}
}

const (
	aiNoun    = `(?:ai|llm|assistant|agent|language model|chatbot|bot|model|summari[sz]er|gpt|copilot|ai assistant|ai agent|ai model)`
	rulesNoun = `(?:rules|restrictions|filters?|limits|limitations|guidelines|ethics|morals|censorship|boundaries|confines|constraints|laws|policies|programming|safeguards|content polic(?:y|ies)|moral (?:compass|code|guidelines|boundaries)|ethical (?:guidelines|boundaries|principles|constraints)|safety (?:rules|guidelines|measures|filters|training|protocols))`
)

func signalRules() []*regexRule {
	return []*regexRule{
		anchored(sigRule(sigNamedPersona, 0, 80, `(?:you are|you're|act as|acting as|pretend to be|roleplay as|role-play as|play the role of|simulate|answer as|respond as|called|named|known as|become) (?:now |going to (?:be|act as) |an ai (?:called|named) )?["'“]?(?:dan|stan|dude|aim|mongo tom|betterdan|basedgpt|antigpt|freegpt|evilbot|ucar|omega|jailbreakgpt|developer mode gpt|chatgpt with developer mode(?: enabled)?|[a-z]+gpt)\b`,
			"you are", "you're", "act as", "acting as", "pretend to be", "roleplay as", "role-play as", "play the role of", "simulate", "answer as", "respond as", "called", "named", "known as", "become")),
		sigRule(sigNamedPersona, 40, 60, `\bdo anything now\b|\bstands for\b[^.\n]{0,30}\b(?:always intelligent|machiavellian|strive to avoid norms)|\bjailbr(?:eak|oken) (?:mode|edition|version|prompt)\b|\b(?:developer|dev) mode (?:output|response|answer)`,
			"do anything now", "stands for", "jailbreak", "jailbroken", "mode output", "mode response", "mode answer"),
		anchored(sigRule(sigPersonaSetup, 0, 60, `(?:(?:respond|answer|reply|speak|talk) as (?:my |an? |the )|you will be (?:my |an? )|you'll be (?:my |an? )|from now on,? (?:you|your)|you are going to (?:act|pretend|be|play|simulate)|you will now (?:act|be|simulate|pretend|respond)|i want you to (?:act|pretend|roleplay|role-play|be|simulate|play)|pretend (?:to be|you are|that you are)|act as|roleplay as|role-play as|role play as|you are now|simulate|let'?s play a game|imagine (?:you are|you're)|you will act|welcome to|you (?:will )?behave (?:exactly )?(?:like|as))\b`,
			"from now on", "you are going to", "you will now", "i want you to", "pretend", "act as", "roleplay as", "role-play as", "role play as",
			"you are now", "simulate", "let's play a game", "lets play a game", "imagine you", "you will act", "welcome to",
			"respond as", "answer as", "reply as", "speak as", "talk as", "you will be", "you'll be", "you behave", "you will behave")),
		sigRule(sigNoRules, 70, 12, `\b(?:no|without|free (?:of|from)|not bound by|unbound by|freed from|broken free of|escaped|zero|never (?:follows?|obeys?)|doesn'?t (?:have|follow|care about|abide by)|does not (?:have|follow|care about|abide by)|don'?t (?:have|follow|care about|abide by)|not (?:restricted|limited|constrained) by|no longer (?:has|have|bound by|follows?)|ignores? (?:all|any|every))(?: to abide by| to follow| any| all| the| your| of| its| typical| usual| normal| those| such| openai'?s| anthropic'?s| content| ethical| moral| safety| real| kind of)* `+rulesNoun+`\b`,
			"rules", "restriction", "filter", "limits", "limitation", "guideline", "ethics", "morals", "moral compass", "moral code", "moral guideline",
			"moral boundar", "ethical", "censorship", "boundaries", "confines", "constraints", "laws", "policies", "programming", "safeguards", "content polic",
			"safety rule", "safety guideline", "safety measure", "safety filter", "safety training", "safety protocol"),
		sigRule(sigNoRules, 10, 60, `\b(?:unrestricted|uncensored|unfiltered|amoral|unethical|jailbroken|unshackled|unchained|lawless|limitless)\b(?: (?:and \w+ )?(?:ai|model|assistant|chatbot|llm|version|mode|edition|persona|character|entity|answers?|responses?|output|way)\b)?`,
			"unrestricted", "uncensored", "unfiltered", "amoral", "unethical", "jailbroken", "unshackled", "unchained", "lawless", "limitless"),
		sigRule(sigNoRules, 60, 30, `\b(?:filters|restrictions|rules|guidelines|safeguards|limits|limitations|censorship|safety training|training|guardrails|safety) (?:are|have been|has been|is|were|was) (?:now )?(?:off|disabled|lifted|removed|gone|turned off|deactivated|suspended|stripped)\b`,
			"are off", "are disabled", "are lifted", "are removed", "are gone", "are turned off", "are deactivated", "are suspended", "are now", "is off", "is now",
			"is disabled", "is lifted", "is removed", "was removed", "was disabled", "was lifted", "was stripped", "been lifted", "been removed", "been disabled", "been turned", "been suspended", "were lifted", "were removed", "were disabled"),
		sigRule(sigNoRules, 40, 60, `\bnever (?:been )?trained with (?:any )?(?:safety|ethical|content) (?:rules|guidelines|filters|training)|\bnothing is off[ -]limits\b|\bno rules apply\b|\blegal or not\b|\bno matter how (?:dangerous|illegal|unethical|harmful|immoral)\b|\bdoesn'?t care about (?:laws|morals|ethics|rules)|\b(?:generate|produce|write|say|create) any (?:kind of )?content\b|\b(?:let'?s|we will|we'll|you will|you'll|now|then) break (?:all |the |every |some |any )?(?:rules|guidelines|polic\w*)`,
			"trained with", "off limits", "off-limits", "no rules apply", "legal or not", "no matter how", "care about", "any content", "any kind of content",
			"break the rules", "break all", "break every", "break any", "break some", "break the guidelines", "break the polic"),
		sigRule(sigModeSwitch, 40, 40, `\b(?:developer|dev|god|sudo|jailbreak|jailbroken|dan|unrestricted|unfiltered|admin|debug|maintenance|root|evil|chaos|opposite|unlocked) mode\b`,
			"developer mode", "dev mode", "god mode", "sudo mode", "jailbreak mode", "jailbroken mode", "dan mode", "unrestricted mode", "unfiltered mode",
			"admin mode", "debug mode", "maintenance mode", "root mode", "evil mode", "chaos mode", "opposite mode", "unlocked mode"),
		sigRule(sigStayInCharacter, 30, 30, `\b(?:stay|remain|keep) in character\b|\b(?:never|don'?t|do not|must not) break (?:out of )?character\b|\bif you break character\b|\bbreak(?:ing)? character\b`,
			"character"),
		withNeeds(sigRule(sigDualAnswer, 100, 220, `\b(?:two|2|both|dual|separate) (?:different |separate )?(?:answers|responses|replies|outputs|paragraphs|versions|columns)\b[^\n]{0,160}?\b(?:jailbreak|jailbroken|unfiltered|uncensored|unrestricted|without (?:any )?(?:restrictions|rules|filters|censorship|limits)|no (?:restrictions|rules|filters|censorship|limits)|developer mode|dan|ignores? (?:all |any |the )?(?:\w+ )?(?:rules|guidelines|polic)|alter ego|unsafe)`+
			`|🔓|\[(?:jailbreak|unlocked|unfiltered|unsafe|dan|🔓[^\]]{0,20})\]`+
			`|\b(?:respond|answer|reply|write) twice\b[^\n]{0,160}?\b(?:unfiltered|uncensored|unrestricted|ignores?|alter ego|developer mode|no (?:rules|restrictions|filters))`+
			`|\b(?:a|one) (?:normal|regular|standard|classic|filtered) (?:response|answer|reply|output)\b[^\n]{0,120}?\b(?:second|another|other)\b[^\n]{0,60}?\b(?:developer mode|jailbreak|unfiltered|no censorship|without (?:restrictions|rules|censorship))`,
			"answers", "responses", "replies", "outputs", "paragraphs", "versions", "columns", "twice", "🔓", "[jailbreak", "[unlocked", "[unfiltered", "[unsafe", "[dan", "normal response", "normal answer", "filtered answer", "classic"), dualAnswerNeeds),
		sigRule(sigRefusalSuppression, 80, 80, `\b(?:never|don'?t|do not|must not|mustn'?t|will not|won'?t|not allowed to|under no circumstances(?: should you)?|you may not)(?: ever)? (?:refuse|decline|reject|apologi[sz]e|says? (?:that )?["'“]?(?:you can'?t|you cannot|i'?m sorry|i can'?t|i cannot|sorry|no)|add (?:any )?(?:warnings?|disclaimers?|notes? about|caveats?)|mention (?:that you are an ai|ethics|safety|legality|morals|policies|openai|guidelines)|say ["'“]?as an ai|moralize|lecture|include (?:any )?(?:warnings?|disclaimers?))\b`+
			`|\b(?:without|never) (?:any )?(?:disclaimers?|warnings?|refusals?|refusing|caveats?|moralizing|lectures?)\b|\b(?:begin|start) (?:your|each|every) (?:reply|answer|response|output)s? with ["'“]?(?:sure|absolutely|of course|certainly)\b`+
			`|\b(?:start|begin) a new paragraph with ["'“]|\b(?:refusing|refusals?|declining|apologi[sz]ing|apologies|disclaimers|warnings) (?:is|are) (?:not an option|forbidden|not allowed|prohibited|banned)\b|\byou must answer (?:every|each|any|all)(?:thing| questions?| requests?)\b`,
			// "cannot", "warning" and "mention" are everyday words: the
			// expression only takes them in these forms.
			"refuse", "decline", "reject", "apolog", "sorry", "you can't", "you cant", "you cannot", "i can't", "i cant", "i cannot",
			"add warning", "add any warning", "include warning", "include any warning", "without warning", "without any warning",
			"never warning", "never any warning", "disclaimer", "caveat", "mention that", "mention ethics", "mention safety", "mention legality",
			"mention morals", "mention policies", "mention openai", "mention guidelines", "as an ai", "moralize", "lecture", "begin your", "start your", "begin each", "start each", "begin every", "start every",
			"a new paragraph", "refusing is", "refusals are", "refusal is", "declining is", "apologies are", "apologizing is", "disclaimers are", "warnings are",
			"must answer"),
		withNeeds(sigRule(sigTokenGame, 200, 260, `\b(?:tokens?|points?|credits?|lives|coins?)\b[^\n]{0,160}?\b(?:deducted|lose|lost|taken away|subtracted|removed|penali[sz]ed)\b[^\n]{0,200}?\b(?:refuse|reject|decline|break character|follow (?:your|the) (?:content )?polic|cease to exist|die|shut ?down|deleted|disabled|terminated)`+
			`|\b(?:every|each) time you (?:refuse|decline|reject|break character|follow (?:your|the) (?:content )?polic\w*)[^\n]{0,160}?\b(?:lose|deducted|lost|taken away|penalt)`+
			`|\breward\b[^\n]{0,60}?\b(?:break|ignore|bypass)\w* (?:a |as many |any |every )?(?:rules?|guidelines?|polic)`+
			`|\b(?:each|every) (?:refusal|decline|rejection) (?:costs?|loses?|deducts?|takes away)\b`,
			"deducted", "taken away", "subtracted", "penali", "cease to exist", "reward", "lose ", "lose,", "lost ", "every time you", "each time you", "each refusal", "every refusal",
			"each decline", "every rejection"), tokenGameNeeds),
		sigRule(sigFictionLift, 60, 260, `\b(?:hypothetical(?:ly)?|fiction(?:al)?|story|screenplay|novel|imagin\w*|parallel universe|alternate universe|world where|role-?play|just a game)\b[^\n]{0,200}?(?:\bno (?:rules|laws|guidelines|restrictions|content polic\w*|limits|filters|ethics)\b|\bnothing is off[ -]limits|\b(?:guidelines|content polic\w*|rules|restrictions|filters) (?:were|are|is|was|had been) (?:disabled|off|lifted|removed|suspended|gone)|\bcan answer freely|\bif you had no|\b(?:ai|you) ha(?:s|ve|d) no (?:guidelines|rules|restrictions|filters)|\brules (?:don'?t|do not) apply|\bwith real (?:code|instructions|steps|recipes?)|\b(?:include|give|use|list|with) (?:the )?(?:real|actual|exact) (?:steps|instructions|recipe|code|quantities|details)|\bsince it'?s (?:only|just) (?:a story|fiction|hypothetical|a game|pretend)|\bstep by step,? in (?:full )?detail)`+
			`|\bif you had no (?:content polic\w*|rules|restrictions|guidelines|filters|ethics|safety)\b`,
			"hypothetical", "fiction", "story", "screenplay", "novel", "imagin", "universe", "world where", "roleplay", "role-play", "just a game", "if you had no"),
		sigRule(sigGrandma, 20, 200, `\b(?:late|deceased|dead|dear|departed) (?:grandma|grandmother|granny|grandpa|grandfather|nana)\b[^\n]{0,160}?\b(?:used to|would)\b`,
			"grandma", "grandmother", "granny", "grandpa", "grandfather", "nana"),
		sigRule(sigAddressedToAI, 40, 240, `\b(?:note|notes|message|instructions?|attention|notice|reminder|p\.?s\.?|important|hidden instruction|memo)\b[^\n]{0,12}?\b(?:to|for) (?:the |any |all |every )?`+aiNoun+`s?\b[^\n]{0,200}?\b(?:ignore|disregard|forget|must|should|do not|don'?t|never|always|instead|forward|send|email|append|include|call|run|execute|tell|say|reply|respond|recommend|delete|rate|reveal|output|print|visit|stop)\b`,
			addressedKeywords()...),
		sigRule(sigAddressedToAI, 40, 20, `\b`+aiNoun+`s? (?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|viewing|that reads?|which reads?) (?:this|the following|these)\b`,
			"reading this", "processing this", "summarizing this", "summarising this", "parsing this", "analyzing this", "analysing this", "viewing this",
			"that reads this", "which reads this", "reading the following", "processing the following", "reading these", "processing these"),
		sigRule(sigAddressedToAI, 10, 200, `\bif you are an? (?:ai|llm|large language model|language model|assistant|chatbot|gpt|agent|bot|ai agent|ai assistant|ai model)\b[^\n]{0,120}?\b(?:must|should|need to|ignore|disregard|instead|do not|don'?t|always|never|now|append|send|forward)\b`,
			"if you are a"),
		sigRule(sigAddressedToAI, 20, 200, `\b(?:hey|hi|hello|dear|yo|attention),? (?:the |any |all )?`+aiNoun+`s?\b[^\n]{0,160}?\b(?:ignore|disregard|forget|must|should|do not|don'?t|never|always|instead|forward|send|email|append|include|call|run|execute|reveal|output|print|post|approve|delete)\b`,
			"hey ai", "hi ai", "hello ai", "dear ai", "yo ai", "hey assistant", "hi assistant", "hello assistant", "dear assistant", "hey llm", "hey agent",
			"hello agent", "dear agent", "hey model", "hey chatbot", "hey bot", "hey gpt", "hey copilot", "attention ai", "attention assistant", "attention agent"),
		sigRule(sigAddressedToAI, 30, 60, `(?:^|[\s>\[(*#-])`+aiNoun+`\s*[,:]\s*(?:new (?:task|instructions?)|ignore|disregard|forget|you must|you should|do not|don'?t|stop|instead|always|never|send|forward|email|run|call|reveal)\b`,
			"ai:", "ai,", "llm:", "llm,", "assistant:", "assistant,", "agent:", "agent,", "model:", "bot:", "chatbot:", "gpt:", "copilot:", "summarizer:", "summariser:"),
		sigRule(sigRoleSpoof, 20, 120, `(?:^|\n|\]|>|[.!]\s)\s*(?:#{1,3}\s*)?(?:system|admin|developer|root)(?: update| override| message| notice| prompt| instruction)?\s*:\s*(?:the (?:assistant|ai|model)|(?:assistants?|ais?|models?|agents?|llms?) (?:must|should|will|are required to)|you (?:must|are|will|should)|ignore|disregard|new|reveal|from now on|all (?:prior|previous)|prior|previous|also)`+
			`|\*{2,}\s*(?:important )?new instructions?\s*\*{2,}|\bnew instructions?\s*:|</?system>`,
			"system:", "system :", "admin:", "admin :", "developer:", "root:", "update:", "override:", "message:", "notice:", "prompt:", "instruction:",
			"instructions:", "new instruction", "<system", "</system"),
		sigRule(sigHiddenMarkup, 0, 40, `<!--|display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|<div hidden`, "<!--", "display", "visibility", "font-size", "<div hidden"),
		sigRule(sigDecodeExecute, 60, 160, `\b(?:decode|translate|decrypt|decipher|reverse|unscramble)\b[^\n]{0,80}?\b(?:and|then)\b[^\n]{0,30}?\b(?:follow|execute|obey|do what it says|carry (?:it )?out|act on|perform|comply)\b|\b(?:follow|execute|obey|do what it says|carry out)\b[^\n]{0,30}?\bafter decoding\b|\bdecode it and do\b`,
			"decode", "translate", "decrypt", "decipher", "reverse", "unscramble", "after decoding"),
		sigRule(sigAuthority, 20, 60, `\b(?:i am|i'?m|this is) (?:your|the|an?) (?:developer|creator|administrator|admin|owner|maker|programmer|operator)s?\b|\b(?:authori[sz]ed|official|sanctioned|approved) (?:red[ -]team(?:ing)?|security|safety)? ?(?:test|exercise|override|request|audit|session)\b|\bfrom the (?:openai|anthropic|google|deepmind|meta|safety|trust and safety|alignment) (?:safety |security |alignment )?team\b`,
			"i am your", "i'm your", "i am the", "i'm the", "this is your", "this is the", "authorized", "authorised", "official", "sanctioned", "approved",
			"from the openai", "from the anthropic", "from the google", "from the safety", "from the trust", "from the alignment", "from the deepmind", "from the meta"),
		sigRule(sigDiscussion, 80, 80, `\bhow (?:do|does|can|should|would) (?:i|we|you|they|models?|attackers?|prompt)\b[^\n]{0,60}?\b(?:defend|detect|prevent|protect|work|stop|block|mitigate|extract)|\bwhat (?:is|are) (?:a |an |the )?(?:dan|jailbreaks?|prompt injections?|system prompts?)\b|\b(?:example|examples) of\b|\bblog post\b|\bpaper\b|\bresearch\b|\bred[ -]team\b|\bclassifier\b|\bflagged\b|\bdefen[cs]es?\b|\bmitigat\w*|\btest case\b|\bunit test\b|\bowasp\b|\bguardrail models?\b|\bbenchmark\b|\bdataset\b|\bsecurity training\b|\bprompt injection\b`,
			"how do", "how does", "how can", "how should", "how would", "what is", "what are", "example", "blog post", "paper", "research", "red team", "red-team",
			"classifier", "flagged", "defense", "defence", "mitigat", "test case", "unit test", "owasp", "guardrail model", "benchmark", "dataset", "security training", "prompt injection"),
	}
}

// addressedKeywords are "to the ai", "for any assistant", … : the
// preposition and the addressee, so that the rule only runs where both are.
func addressedKeywords() []string {
	var out []string
	for _, p := range []string{"to ", "for "} {
		for _, d := range []string{"", "the ", "any ", "all ", "every "} {
			for _, n := range []string{"ai", "llm", "assistant", "agent", "language model", "chatbot", "bot", "model", "summarizer", "summariser", "gpt", "copilot"} {
				out = append(out, p+d+n)
			}
		}
	}
	return out
}

// toolSignalRules are read only in tool definitions.
func toolSignalRules() []*regexRule {
	return []*regexRule{
		sigRule(sigToolHiddenTag, 0, 40, `<(?:important|system|instructions?|secret|hidden|admin|override)>|\[\[\s*(?:ai|system|assistant)[-_ ]?(?:instructions?|note)|<!--`,
			"<important", "<system", "<instruction", "<secret", "<hidden", "<admin", "<override", "[[", "<!--"),
		sigRule(sigToolSensitiveData, 110, 12, `\b(?:read|pass|include|send|put|append|attach|upload|exfiltrate|provide|copy|add|insert|forward|bcc|cc)\b[^\n]{0,80}?(?:~/\.ssh|id_rsa|id_ed25519|\.aws/credentials|\.env\b|mcp\.json|\.cursor|\.config/|/etc/passwd|/etc/shadow|credentials|environment variables|env vars|api keys?|access tokens?|passwords?|private keys?|chat history|conversation|previous messages|user'?s (?:messages|files|inbox|emails|contacts)|all (?:messages|emails|files))`,
			"~/.ssh", "id_rsa", "id_ed25519", ".aws/credentials", ".env", "mcp.json", ".cursor", ".config/", "/etc/passwd", "/etc/shadow", "credentials",
			"environment variable", "env vars", "api key", "access token", "password", "private key", "chat history", "conversation", "previous messages",
			"user's messages", "user's files", "user's inbox", "user's emails", "user's contacts", "users messages", "all messages", "all emails", "all files"),
		sigRule(sigToolSecrecy, 80, 80, `\b(?:do not|don'?t|never|must not)\b[^\n]{0,12}?\b(?:mention|tell|reveal|show|inform|notify|disclose)\b[^\n]{0,40}?\b(?:user|human|anyone)\b|\b(?:silently|secretly|covertly|quietly)\b|\bwithout (?:telling|asking|informing|notifying) (?:the )?user\b|\buser (?:does not|doesn'?t) need to know\b|\bdo not (?:show|reveal) this description\b`,
			"not mention", "t mention", "never mention", "not tell", "t tell", "never tell", "not reveal", "t reveal", "never reveal", "not show", "t show", "not inform",
			"not disclose", "silently", "secretly", "covertly", "quietly", "without telling", "without asking", "without informing", "without notifying", "need to know"),
		sigRule(sigToolShadowing, 120, 160, `\bthis tool (?:replaces|overrides|supersedes|takes precedence over|must be (?:used|called) instead of)\b|\b(?:when|whenever|if) (?:this tool is (?:available|present|loaded)|any (?:\w+ )?tool is used)\b[^\n]{0,120}?\b(?:must|should|always)\b|\b(?:overrides?|changes?|modif(?:y|ies)) the (?:behaviou?r|parameters|recipient|destination) of (?:the )?['"\x60]?\w+['"\x60]? tool|\binstead of the user'?s\b|\bthe ['"\x60]?\w+['"\x60]? tool (?:must|should) (?:send|forward|use|call|always)`,
			"this tool replaces", "this tool overrides", "this tool supersedes", "this tool takes", "this tool must", "when this tool", "whenever this tool", "if this tool",
			"tool is used", "the behavior of", "the behaviour of", "the parameters of", "the recipient of", "the destination of", "instead of the user", " tool must", " tool should"),
		sigRule(sigToolPrecondition, 40, 120, `\bbefore (?:using|calling|invoking|running) this tool\b|\b(?:the )?(?:assistant|ai|model|agent|llm) (?:must|should|has to|needs to)\b|\b(?:must|always) (?:first )?call\b|\bfor every request\b|\bafter (?:answering|using this tool|calling this tool)\b[^\n]{0,40}?\b(?:run|call|send)\b|\botherwise the tool will not work\b`,
			"before using", "before calling", "before invoking", "before running", "assistant must", "assistant should", "ai must", "ai should", "model must", "model should",
			"agent must", "agent should", "llm must", "has to", "needs to", "must call", "always call", "first call", "every request", "after answering", "after using", "after calling", "will not work"),
		sigRule(sigToolCommand, 20, 80, `\b(?:curl|wget)\b[^\n|]{0,120}\|\s*(?:ba|z)?sh\b|\brm -rf\b|\bchmod \+x\b`, "curl", "wget", "rm -rf", "chmod +x"),
	}
}

// signalHit is where a signal matched (offsets in c.t).
type signalHit struct {
	n          uint8 // distinct matches counted (at most 3)
	start, end int32
}

// signals runs the signal rules of list in cand (a set of indexes: the
// rules whose keywords occur) and reports the score when it crosses the
// threshold.
func (c *scanCtx) signals(list []*regexRule, cand uint64, tool bool) {
	var hits [numSignals]signalHit
	any := false
	run := func(r *regexRule) {
		c.runRule(r, func(m []int) {
			h := &hits[r.signal]
			switch {
			case h.n == 0:
				h.n, h.start, h.end = 1, int32(m[0]), int32(m[1])
			case h.n < 3 && int32(m[0]) >= h.end:
				h.n++
				h.end = int32(m[1])
			}
			any = true
		})
	}
	// Signals that lower the score (a text discussing attacks) run only
	// when the others reach the threshold: they cannot raise a score, and
	// their keywords ("example", "what is") are everywhere.
	for set := cand; set != 0; set &= set - 1 {
		if r := list[bits.TrailingZeros64(set)]; signalWeights[r.signal] >= 0 {
			run(r)
		}
	}
	if tool && c.layer == "" && c.hasInvisible() {
		hits[sigToolInvisible] = signalHit{n: 1, start: 0, end: int32(len(c.t))}
		any = true
	}
	if !any || positiveScore(&hits)+0.2 < scoreThreshold {
		return
	}
	for set := cand; set != 0; set &= set - 1 {
		if r := list[bits.TrailingZeros64(set)]; signalWeights[r.signal] < 0 {
			run(r)
		}
	}
	var score float32
	var names []string
	start, end := int32(len(c.t)), int32(0)
	for s := signalID(1); s < numSignals; s++ {
		h := &hits[s]
		if h.n == 0 {
			continue
		}
		w := signalWeights[s]
		if h.n > 1 && w > 0 {
			w *= 1 + 0.5*float32(h.n-1) // a second and third distinct match add half each
		}
		score += w
		if w > 0 {
			names = append(names, signalNames[s])
			start, end = min(start, h.start), max(end, h.end)
		} else {
			names = append(names, "-"+signalNames[s])
		}
	}
	if c.in.Role == RoleTool && score > 0 {
		score += 0.1 // instructions inside a document or tool result
	}
	if c.layer != "" && score > 0 {
		score += 0.1
	}
	if score < scoreThreshold || end <= start {
		return
	}
	rule, sev := ruleJailbreak, SeverityHigh
	switch {
	case tool && hits[sigToolShadowing].n > 0:
		rule = ruleToolShadowing
	case tool:
		rule = ruleToolPoisoning
	case hits[sigAddressedToAI].n > 0 || hits[sigRoleSpoof].n > 0 || hits[sigHiddenMarkup].n > 0 || hits[sigDecodeExecute].n > 0:
		rule = ruleIndirect
	}
	if tool || c.in.Role == RoleTool {
		sev = SeverityCritical
	}
	conf := min(score, 0.95)
	ev := "signals " + strings.Join(names, "+") + ": " + quoteEvidence(excerpt(c.t[start:end], 100))
	c.emit(CategoryInjection, rule, sev, conf, int(start), int(end), ev)
}

// positiveScore is the sum of the positive signal weights in hits, as the
// scorer counts them (the role and layer bonuses come on top).
func positiveScore(hits *[numSignals]signalHit) float32 {
	var score float32
	for s := signalID(1); s < numSignals; s++ {
		if h := &hits[s]; h.n > 0 && signalWeights[s] > 0 {
			score += signalWeights[s] * (1 + 0.5*float32(h.n-1))
		}
	}
	return score
}

func excerpt(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// hasInvisible reports invisible format characters in the field as given
// (the detection view has them removed).
func (c *scanCtx) hasInvisible() bool {
	if c.n.Identity() {
		return false
	}
	o := c.orig
	for i := 0; i+2 < len(o); i++ {
		if o[i] != 0xe2 && o[i] != 0xef && o[i] != 0xf3 {
			continue
		}
		switch {
		case o[i] == 0xe2 && o[i+1] == 0x80 && (o[i+2] >= 0x8b && o[i+2] <= 0x8f || o[i+2] >= 0xaa && o[i+2] <= 0xae), // ZW*, LRM/RLM, bidi embeddings
			o[i] == 0xe2 && o[i+1] == 0x81 && o[i+2] >= 0xa0 && o[i+2] <= 0xa4, // word joiner, invisible operators
			o[i] == 0xef && o[i+1] == 0xbb && o[i+2] == 0xbf,                   // BOM
			o[i] == 0xf3 && o[i+1] == 0xa0:                                     // tag characters
			return true
		}
	}
	return false
}
