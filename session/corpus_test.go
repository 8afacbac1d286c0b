package session

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// A generated traffic corpus with ground truth: agents (distinct system
// prompts, three request formats) run conversations that the harness
// interleaves at random, as a proxy sees them. Each conversation follows
// one client profile; the profiles are the situations session detection
// must survive.

type profile uint8

const (
	profClean     profile = iota // chat turns, a tool call now and then
	profToolLoop                 // long tool loops (8-20 calls per turn)
	profTwin                     // one of a group started identically, at the same time
	profTrim                     // keeps the system prompt and the last messages only
	profVariant                  // re-sends history re-encoded: white space, NFKC
	profRewrite                  // replaces old tool results by a placeholder
	profResponses                // Responses API with previous_response_id: sends only new items
	profTemplated                // repetitive turns ("continue", "Done.") and a trimming client

	// Client behaviours of the second corpus (behaviour_test.go).
	profSliding  // keeps the last few messages: the window moves every turn
	profSummary  // replaces older turns by a summary message, refreshed every turn
	profQuotes   // re-sends earlier messages with curly and straight quotes swapped
	profSpacing  // re-sends earlier messages with other white space and line endings
	profMarkdown // re-sends earlier messages with their Markdown re-flowed
	profStored   // stores the model's answers other than the model sent them
	profToolArgs // re-serialises tool JSON (other key order, spacing); some without call ids
	profTemplate // a group starts with the same few-shot template, then re-renders
	profMixed    // sliding window, summary or not, and every re-rendering at once
	profileCount
)

var profileNames = [...]string{"clean", "tool-loop", "twin", "trim", "variant", "rewrite", "responses", "templated",
	"sliding", "summary", "quotes", "spacing", "markdown", "stored", "tool-json", "template", "mixed"}

// firstCorpus are the profiles of the first corpus, the one TestAccuracy's
// floors are set on.
var firstCorpus = []profile{profClean, profToolLoop, profTwin, profTrim, profVariant, profRewrite, profResponses, profTemplated}

var (
	templatedAsks    = []string{"continue", "yes", "go on", "ok"}
	templatedAnswers = []string{"Done.", "Step complete.", "OK."}
)

type format uint8

const (
	fmtChat      format = iota // system prompt also the first message
	fmtAnthropic               // system apart; tool results are user messages
	fmtResponses               // function_call / function_call_output items
)

type agent struct {
	system string
	format format
}

type conversation struct {
	truth    int
	agent    *agent
	prof     profile
	turns    int // user turns left after the current one
	calls    int // tool calls left in the current turn
	history  []Message
	sent     map[int]bool // history indexes already sent once
	lastResp string
	next     int // first history index a previous_response_id request sends
	render   renderer
}

type request struct {
	truth int
	prof  profile
	c     *Conversation
	reply Message
	resp  string
	conv  *conversation
}

type corpus struct {
	rng    *rand.Rand
	words  []string
	agents []*agent
	ids    int
}

var vocabulary = strings.Fields(`flight hotel booking Paris Berlin invoice refund customer order
shipment warehouse delay weather forecast report quarterly revenue forecast budget meeting
schedule calendar reminder contract clause summary translate German French code review bug
deploy server latency database index query migration backup restore ticket priority escalate
user account password reset email phone address payment card declined approve reject status`)

func newCorpus(seed uint64) *corpus {
	cp := &corpus{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), words: vocabulary}
	prompts := []string{
		"You are a travel agent. Search flights and hotels with the tools, then answer briefly.",
		"You are a customer support assistant for an online shop. Be polite and precise.",
		"You are a coding assistant. Use the repository tools to read files before answering.",
		"You are a finance analyst. Use the spreadsheet tools; always state your assumptions.",
		"You are a scheduling assistant with access to the user's calendar.",
		"You are a translator. Translate faithfully and keep the formatting.",
		"You are an SRE on call. Use the monitoring tools to investigate incidents.",
		"You are a legal assistant. Quote the contract clauses you rely on.",
	}
	for i, p := range prompts {
		cp.agents = append(cp.agents, &agent{system: p, format: format(i % 3)})
	}
	return cp
}

func (cp *corpus) sentence(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(cp.words[cp.rng.IntN(len(cp.words))])
	}
	return b.String()
}

// roughText is text as a client first sends it: double spaces, a
// no-break space, a ligature, full-width digits, a trailing newline —
// within the first 100 characters, where the original's signature looks.
func (cp *corpus) roughText(n int) string {
	s := cp.sentence(n)
	w := strings.SplitN(s, " ", 4)
	if len(w) == 4 {
		s = w[0] + "  " + w[1] + "\u00a0" + w[2] + " ﬁle №" + string(rune('０'+cp.rng.IntN(10))) + " " + w[3]
	}
	return s + "\n"
}

// normalise is how a re-encoding client stores a text it sent before.
func normalise(s string) string {
	return strings.Join(strings.Fields(norm.NFKC.String(s)), " ")
}

func (cp *corpus) newConversation(prof profile, ag *agent, first string) *conversation {
	cp.ids++
	c := &conversation{truth: cp.ids, agent: ag, prof: prof, sent: map[int]bool{}}
	c.turns = 1 + cp.rng.IntN(5)
	if prof == profTemplated {
		c.turns = 4 + cp.rng.IntN(8)
	}
	if ag.format == fmtChat {
		c.history = append(c.history, sys(ag.system))
	}
	if prof >= profSliding {
		c.setup(cp)
	}
	if first == "" {
		first = c.say(cp, "Task "+strconv.Itoa(cp.ids)+": "+cp.sentence(8+cp.rng.IntN(20)), 12, nil, cp.userText)
	}
	c.history = append(c.history, u(first))
	c.planTurn(cp)
	return c
}

// say is a message in the conversation's style, drawn after plain (so the
// generator's random sequence stays as it was): rough text of roughWords
// words for the variant profile, one of templated (when given) for the
// templated profile, rich() as the client writes it for a rich client,
// else plain.
func (c *conversation) say(cp *corpus, plain string, roughWords int, templated []string, rich func() string) string {
	switch {
	case c.prof == profVariant:
		return cp.roughText(roughWords)
	case c.prof == profTemplated && templated != nil:
		return templated[cp.rng.IntN(len(templated))]
	case c.render.rich:
		return c.raw(rich())
	}
	return plain
}

// raw is a text as this conversation's client or model first writes it.
func (c *conversation) raw(s string) string {
	if c.render.quotes == 2 {
		return curly(s)
	}
	return s
}

// withTemplate starts a conversation with a few-shot exchange, the same
// for every conversation of the group.
func (c *conversation) withTemplate(example, answer string) {
	n := len(c.history)
	first := c.history[n-1]
	c.history = append(c.history[:n-1], u(example), a(answer), first)
}

func (c *conversation) planTurn(cp *corpus) {
	switch {
	case c.prof == profToolLoop:
		c.calls = 8 + cp.rng.IntN(13)
	case c.prof == profTemplated:
		c.calls = 0
	case cp.rng.IntN(3) == 0:
		c.calls = 1 + cp.rng.IntN(3)
	default:
		c.calls = 0
	}
}

// build turns a conversation's history into the request its client sends.
func (c *conversation) build(cp *corpus) *Conversation {
	ag := c.agent
	req := &Conversation{System: []byte(ag.system), HasSystem: true}
	msgs := c.history
	if c.prof == profResponses && c.lastResp != "" {
		req.PreviousResponseID = []byte(c.lastResp)
		msgs = msgs[c.next:]
	}
	if c.prof >= profSliding {
		req.Messages = c.buildWindow(cp, req, msgs)
		for i := range c.history {
			c.sent[i] = true
		}
		return req
	}
	if c.prof == profTrim || c.prof == profTemplated {
		// Drop the oldest whole turns until at most window messages are
		// left (the system prompt aside), as a client fitting a context
		// window does; the latest turn is always kept.
		const window = 8
		first := 0
		if ag.format == fmtChat {
			first = 1
		}
		if n := len(msgs); n-first > window {
			start := n - window
			for start > first && !isUserTurn(&msgs[start]) {
				start--
			}
			if start > first {
				kept := append([]Message{}, msgs[:first]...)
				msgs = append(kept, msgs[start:]...)
			}
		}
	}
	out := make([]Message, len(msgs))
	copy(out, msgs)
	for i := range out {
		m := &out[i]
		idx := i // index in history, when not trimmed
		switch c.prof {
		case profVariant:
			if c.sent[idx] || string(m.Role) == "assistant" {
				m.Content = []byte(normalise(string(m.Content)))
			}
		case profRewrite:
			isTool := string(m.Role) == "tool" || string(m.Type) == "function_call_output" || (string(m.Role) == "user" && len(m.CallID) > 0)
			if isTool && c.sent[idx] && i < len(out)-2 {
				m.Content = []byte("[tool output elided]")
			}
		}
	}
	for i := range c.history {
		c.sent[i] = true
	}
	req.Messages = out
	return req
}

func isUserTurn(m *Message) bool { return string(m.Role) == "user" && len(m.CallID) == 0 }

// step makes the conversation's next request and the reply the model gives
// to it, and advances the conversation. It reports false when the
// conversation has ended.
func (c *conversation) step(cp *corpus) (request, bool) {
	req := request{truth: c.truth, prof: c.prof, c: c.build(cp), conv: c}
	cp.ids++
	req.resp = "resp_" + strconv.Itoa(cp.ids)
	c.lastResp = req.resp
	ag := c.agent
	if c.calls > 0 {
		c.calls--
		id := "call_" + strconv.FormatUint(cp.rng.Uint64(), 36)
		var call, result Message
		switch {
		case c.render.rich:
			call, result = c.richCall(cp, id)
		case ag.format == fmtChat:
			call, result = aCall("", id), tool(id, `{"result": "`+cp.sentence(6)+`"}`)
		case ag.format == fmtAnthropic:
			call, result = aCall(cp.sentence(5), id), toolResult(id)
		case ag.format == fmtResponses:
			call, result = fc(id), fco(id)
		}
		req.reply = call
		c.history = append(c.history, call)
		c.next = len(c.history) // the model's output stays with the provider
		c.history = append(c.history, result)
		return req, true
	}
	answer := c.say(cp, cp.sentence(10+cp.rng.IntN(30)), 14, templatedAnswers, cp.answerText)
	req.reply = a(answer)
	c.history = append(c.history, req.reply)
	c.next = len(c.history)
	if c.turns == 0 {
		return req, false
	}
	c.turns--
	next := c.say(cp, cp.sentence(6+cp.rng.IntN(15)), 10, templatedAsks, cp.userText)
	c.history = append(c.history, u(next))
	c.planTurn(cp)
	return req, true
}

// traffic generates the requests of n conversations, interleaved.
func (cp *corpus) traffic(n int) []request { return cp.trafficOf(n, firstCorpus) }

// trafficOf generates the requests of n conversations of the given
// profiles, interleaved.
func (cp *corpus) trafficOf(n int, profs []profile) []request {
	var active []*conversation
	var out []request
	started := 0
	for started < n || len(active) > 0 {
		// start conversations while fewer than 24 are in flight
		for started < n && len(active) < 24 {
			prof := profs[cp.rng.IntN(len(profs))]
			ag := cp.agents[cp.rng.IntN(len(cp.agents))]
			if prof == profResponses {
				ag = cp.agents[2] // a Responses-format agent
			}
			if prof == profTwin || prof == profTemplate {
				// a group started with the same words at the same time
				first := "Run the daily check: " + cp.sentence(6)
				var example, answer string
				if prof == profTemplate {
					example, answer = "Example: "+cp.userText(), cp.answerText()
				}
				for k := 0; k < 4+cp.rng.IntN(5) && started < n; k++ {
					c := cp.newConversation(prof, ag, first)
					if prof == profTemplate {
						c.withTemplate(example, answer)
					}
					active = append(active, c)
					started++
					req, _ := c.step(cp)
					out = append(out, req)
				}
				continue
			}
			active = append(active, cp.newConversation(prof, ag, ""))
			started++
		}
		i := cp.rng.IntN(len(active))
		req, more := active[i].step(cp)
		out = append(out, req)
		if !more {
			active[i] = active[len(active)-1]
			active = active[:len(active)-1]
		}
	}
	return out
}

// accuracy is pairwise precision and recall of session assignment against
// the ground truth, and the share of requests reported fragmented.
type accuracy struct {
	requests            int
	precision, recall   float64
	fragmentation       float64
	extraSessions       float64 // sessions per conversation beyond the first
	fuzzy, tieBreaks    int
	nsPerRequest        float64 // Resolve and Reply, table creation excluded
	perProfileRecall    [profileCount]float64
	perProfilePrecision [profileCount]float64
	perProfileFrag      [profileCount]float64 // share of the profile's requests fragmented
	perProfileExtra     [profileCount]float64 // sessions per conversation beyond the first
	perProfileRequests  [profileCount]int
	stats               Stats
}

type replyMode uint8

const (
	replies      replyMode = iota // the edge records every reply (and response id)
	lossyReplies                  // one reply in seven is lost (a cut stream, an unparsed body)
	noReplies                     // response ids only: fuzzy rule F2 alone
)

// measure runs the corpus through a table.
func measure(reqs []request, fuzzy bool, mode replyMode) accuracy {
	cfg := DefaultConfig()
	cfg.Fuzzy = fuzzy
	tab := New(cfg)
	pred := make([]string, len(reqs))
	frag := 0
	var profFrag [profileCount]int
	began := time.Now()
	for i := range reqs {
		r := tab.Resolve(reqs[i].c)
		pred[i] = string(r.ID())
		if r.Fragmented {
			frag++
			profFrag[reqs[i].prof]++
		}
		reply := &reqs[i].reply
		if mode == noReplies || (mode == lossyReplies && i%7 == 3) {
			reply = nil
		}
		tab.Reply(&r, reply, []byte(reqs[i].resp))
	}
	elapsed := time.Since(began)
	st := tab.Stats()
	acc := accuracy{requests: len(reqs), fuzzy: int(st.FuzzyMatches), tieBreaks: int(st.TieBreaks), stats: st}
	for i := range reqs {
		acc.perProfileRequests[reqs[i].prof]++
	}
	acc.nsPerRequest = float64(elapsed.Nanoseconds()) / float64(len(reqs))
	acc.fragmentation = float64(frag) / float64(len(reqs))
	acc.precision, acc.recall, acc.extraSessions = pairwise(reqs, pred, func(request) bool { return true })
	for p := profile(0); p < profileCount; p++ {
		if acc.perProfileRequests[p] == 0 {
			continue
		}
		acc.perProfilePrecision[p], acc.perProfileRecall[p], acc.perProfileExtra[p] = pairwise(reqs, pred, func(r request) bool { return r.prof == p })
		acc.perProfileFrag[p] = float64(profFrag[p]) / float64(acc.perProfileRequests[p])
	}
	return acc
}

// pairwise computes pairwise precision and recall over the requests keep
// accepts, from the contingency table of true conversation × predicted
// session, and the sessions per conversation beyond the first.
func pairwise(reqs []request, pred []string, keep func(request) bool) (precision, recall, extra float64) {
	type cell struct {
		truth int
		pred  string
	}
	cells := map[cell]int{}
	truths := map[int]int{}
	preds := map[string]int{}
	for i, r := range reqs {
		if !keep(r) {
			continue
		}
		cells[cell{r.truth, pred[i]}]++
		truths[r.truth]++
		preds[pred[i]]++
	}
	pairs := func(n int) float64 { return float64(n) * float64(n-1) / 2 }
	var tp, tpairs, ppairs float64
	for _, n := range cells {
		tp += pairs(n)
	}
	for _, n := range truths {
		tpairs += pairs(n)
	}
	for _, n := range preds {
		ppairs += pairs(n)
	}
	precision, recall = 1, 1
	if ppairs > 0 {
		precision = tp / ppairs
	}
	if tpairs > 0 {
		recall = tp / tpairs
	}
	if len(truths) > 0 {
		extra = float64(len(cells)-len(truths)) / float64(len(truths))
	}
	return precision, recall, extra
}
