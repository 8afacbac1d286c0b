package session

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// How the clients of the second corpus (behaviour_test.go) change a
// conversation before they send it again. A client sends a message the
// first time as it was typed or received; what it sends later is its
// stored, re-rendered copy. The model's answers are re-rendered from the
// start: the copy a client keeps is never the bytes the model sent.

// renderer is one client's behaviour.
type renderer struct {
	rich        bool   // texts with quotes, apostrophes, Markdown, line breaks
	window      int    // sliding window: messages kept after the system prompt; 0: all
	summaryKeep int    // summary: messages kept after the summary; 0: no summary
	summaryRole string // the summary message's role
	quotes      int    // 0: none; 1: straight → curly on resend; 2: curly → straight
	spacing     bool   // other white space and line endings
	markdown    bool   // Markdown re-flowed
	stored      int    // 0: none; else 1 + how the stored answer differs (storedKinds)
	toolJSON    bool   // tool JSON re-serialised: sorted keys, compact
	legacy      bool   // Chat functions without call ids
}

const storedKinds = 6

// setup chooses the behaviour of a conversation of profile prof.
func (c *conversation) setup(cp *corpus) {
	r := &c.render
	rng := cp.rng
	switch c.prof {
	case profSliding:
		r.rich = true
		r.window = 2 + rng.IntN(7)
	case profSummary:
		r.rich = true
		r.summaryKeep = 2 + rng.IntN(3)
		r.summaryRole = [...]string{"system", "user"}[rng.IntN(2)]
	case profQuotes:
		r.rich = true
		r.quotes = 1 + rng.IntN(2)
	case profSpacing:
		r.rich = true
		r.spacing = true
	case profMarkdown:
		r.rich = true
		r.markdown = true
	case profStored:
		// with a window, so that the stored answers are most of what
		// links a request to the one before
		r.rich = true
		r.stored = 1 + rng.IntN(storedKinds)
		r.window = 3 + rng.IntN(3)
	case profToolArgs:
		r.rich = true
		r.toolJSON = true
		r.legacy = c.agent.format == fmtChat && rng.IntN(2) == 0
	case profTemplate:
		r.rich = true
		r.quotes = 1
		r.markdown = true
	case profMixed:
		r.rich = true
		if rng.IntN(2) == 0 {
			r.window = 3 + rng.IntN(6)
		} else {
			r.summaryKeep = 2 + rng.IntN(3)
			r.summaryRole = "user"
		}
		r.quotes = 1 + rng.IntN(2)
		r.spacing = true
		r.markdown = true
		r.stored = 1 + rng.IntN(storedKinds)
		r.toolJSON = true
	}
}

// userText is a rich user turn: quotes, an apostrophe, a line break.
func (cp *corpus) userText() string {
	w := func() string { return cp.words[cp.rng.IntN(len(cp.words))] }
	switch cp.rng.IntN(3) {
	case 0:
		return `Could you look at the "` + w() + `" ` + w() + ` ` + w() + `? It's for ` + w() + `'s ` + cp.sentence(4) + ".\n" + cp.sentence(6)
	case 1:
		return "I'd like the " + w() + " " + w() + ` for "` + cp.sentence(3) + `", please.` + "\n\nAlso: " + cp.sentence(5)
	}
	return w() + " " + w() + ` — what's "` + w() + `" here? ` + cp.sentence(8)
}

// answerText is a rich model answer: a heading, a list, bold text, quotes.
func (cp *corpus) answerText() string {
	w := func() string { return cp.words[cp.rng.IntN(len(cp.words))] }
	switch cp.rng.IntN(3) {
	case 0:
		return "## " + w() + " " + w() + "\n\nHere's what I found about \"" + w() + " " + w() + "\":\n\n* **" + w() + "**: " +
			cp.sentence(6) + "\n* It's " + cp.sentence(5) + "\n\n" + cp.sentence(12) + " " + cp.sentence(10)
	case 1:
		return "The " + w() + " " + w() + " isn't " + w() + `; it's "` + cp.sentence(3) + `".` + "\n\n1. " + cp.sentence(5) +
			"\n2. **" + w() + "** " + cp.sentence(4) + "\n\n" + cp.sentence(15)
	}
	return "**" + w() + " " + w() + "** — " + cp.sentence(7) + " I'd " + cp.sentence(6) + ".\n" + cp.sentence(9) +
		" `" + w() + "` " + cp.sentence(8)
}

// toolJSON is a tool's output or a call's arguments as a tool writes it.
func (cp *corpus) toolJSON() string {
	return `{"status": "ok", "result": "` + cp.sentence(6) + `", "count": ` + strconv.Itoa(cp.rng.IntN(1000)) +
		`, "items": [{"name": "` + cp.sentence(2) + `", "id": ` + strconv.Itoa(cp.rng.IntN(100)) + `}]}`
}

// reserialise is the JSON as a client re-encodes it: keys sorted, compact.
func reserialise(s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return s
	}
	return string(b)
}

func curly(s string) string {
	var b strings.Builder
	open := true
	for _, r := range s {
		switch r {
		case '"':
			if open {
				b.WriteRune('“')
			} else {
				b.WriteRune('”')
			}
			open = !open
		case '\'':
			b.WriteRune('’')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func straight(s string) string {
	return strings.NewReplacer("“", `"`, "”", `"`, "„", `"`, "‘", "'", "’", "'").Replace(s)
}

// respace changes white space and line endings as editors and transports
// do: CRLF, trailing blanks, a tab, an extra blank line, a leading newline.
func respace(s string) string {
	s = strings.ReplaceAll(s, "\n\n", "\n \n\n")
	s = strings.ReplaceAll(s, "\n", "  \r\n")
	s = strings.Replace(s, ": ", ":\t", 1)
	return "\r\n" + s + "\r\n"
}

// reflow re-renders Markdown: other list markers and emphasis, headings
// underlined, paragraphs re-wrapped at 36 columns.
func reflow(s string) string {
	s = strings.ReplaceAll(s, "**", "__")
	var out []string
	for _, para := range strings.Split(s, "\n\n") {
		lines := strings.Split(para, "\n")
		switch {
		case strings.HasPrefix(para, "## "):
			h := strings.TrimPrefix(lines[0], "## ")
			out = append(out, h+"\n"+strings.Repeat("-", utf8.RuneCountInString(h)))
		case strings.HasPrefix(para, "* "), strings.HasPrefix(para, "1. "):
			for i, l := range lines {
				l = strings.Replace(l, "* ", "- ", 1)
				if len(l) > 2 && l[0] >= '0' && l[0] <= '9' && l[1] == '.' {
					l = l[:1] + ")" + l[2:]
				}
				lines[i] = l
			}
			out = append(out, strings.Join(lines, "\n"))
		default:
			out = append(out, wrap(strings.Fields(para), 36))
		}
	}
	return strings.Join(out, "\n\n")
}

func wrap(words []string, width int) string {
	var b strings.Builder
	col := 0
	for i, w := range words {
		if i > 0 {
			if col+1+len(w) > width {
				b.WriteByte('\n')
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// storedAnswer is the copy of a model answer a client keeps, when it is
// not what the model sent.
func storedAnswer(kind int, s string) string {
	switch kind {
	case 1: // rendered to plain text: Markdown markers gone
		s = strings.NewReplacer("**", "", "__", "", "`", "", "## ", "", "* ", "").Replace(s)
	case 2: // flattened: one line, trimmed
		s = strings.Join(strings.Fields(s), " ")
	case 3: // cut after 160 characters
		if r := []rune(s); len(r) > 160 {
			s = string(r[:160]) + "…"
		}
	case 4: // typographic quotes and dashes
		s = strings.ReplaceAll(curly(s), " — ", " -- ")
	case 5: // the blank lines a streaming client kept, trailing space gone
		s = "\n\n" + strings.TrimSpace(s)
	case 6: // the heading dropped
		if strings.HasPrefix(s, "## ") {
			if i := strings.Index(s, "\n\n"); i > 0 {
				s = s[i+2:]
			}
		}
	}
	return s
}

// rerender is the copy of history message m a client sends again; resent
// says it was sent before.
func (r *renderer) rerender(m *Message, resent bool) {
	model := m.isLLM()
	if !resent && !model {
		return
	}
	text := string(m.Content)
	isJSON := strings.HasPrefix(text, "{")
	switch {
	case isJSON && r.toolJSON:
		text = reserialise(text)
	case isJSON:
	case model && len(m.CallID) > 0 && r.stored > 0:
		text = "" // the text beside a tool call is not kept
	default:
		if model && r.stored > 0 {
			text = storedAnswer(r.stored, text)
		}
		switch r.quotes {
		case 1:
			text = curly(text)
		case 2:
			text = straight(text)
		}
		if r.markdown {
			text = reflow(text)
		}
		if r.spacing {
			text = respace(text)
		}
	}
	m.Content = []byte(text)
}
