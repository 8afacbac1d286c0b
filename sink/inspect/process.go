package inspect

import (
	"encoding/json"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/internal/jsonscan"
	"github.com/cylestio/perimeter/internal/sched"
	"github.com/cylestio/perimeter/sink"
)

// Processor scans batches. It is safe for concurrent use.
type Processor struct {
	sc *detect.Scanner
	// Extra, when set, adds findings of its own to every scanned input
	// (custom rules: edge/policy.Rules); it must be safe for concurrent
	// use, and its findings must depend on the input's fields alone: the
	// memo replays them for an input seen before.
	Extra func(dst []detect.Finding, in *detect.Input) []detect.Finding

	// memo replays the findings of request-side inputs seen before (nil:
	// off).
	memo *memo

	mu       sync.Mutex
	sessions map[string]*sessionState
	order    []string // insertion order, for bounded eviction
	max      int
	// tools remembers each agent's tool definitions (name → fingerprint):
	// a definition is scanned when first seen, and a changed one is a
	// finding (a "rug pull"). Bounded like sessions.
	tools     map[string]map[string]uint64
	toolOrder []string
}

// maxToolsPerAgent bounds the tool fingerprints kept per agent.
const maxToolsPerAgent = 512

type sessionState struct {
	system    string
	tokens    int64
	calls     int
	toolCalls int
	recent    []time.Time // tool-call times within the window
	lastTool  uint64      // hash of the last tool call's name and arguments
	repeated  int
}

// window is the span over which tool calls count as a storm.
const window = time.Minute

// New returns a processor; maxSessions bounds the per-session state kept
// (oldest forgotten first). Its memo uses DefaultMemoBytes.
func New(opts detect.Options, maxSessions int) *Processor {
	if maxSessions <= 0 {
		maxSessions = 10000
	}
	return &Processor{sc: detect.NewScanner(opts), sessions: map[string]*sessionState{}, max: maxSessions,
		tools: map[string]map[string]uint64{}, memo: newMemo(DefaultMemoBytes)}
}

// SetMemoBytes sizes the memo of request-side findings (see
// DefaultMemoBytes); 0 turns it off. Call it before the first Process.
func (p *Processor) SetMemoBytes(n int) { p.memo = newMemo(n) }

func (p *Processor) state(id string) *sessionState {
	s := p.sessions[id]
	if s == nil {
		if len(p.order) >= p.max {
			delete(p.sessions, p.order[0])
			p.order = p.order[1:]
		}
		s = &sessionState{}
		p.sessions[id] = s
		p.order = append(p.order, id)
	}
	return s
}

// Process scans the batch and returns it with the findings appended, each
// after its batch; the input events' RiskScore is set.
func (p *Processor) Process(batch []*sink.Event) []*sink.Event {
	var out []*sink.Event
	var buf []byte // decoded texts, reused for every event of the batch
	var y sched.Yielder
	for _, ev := range batch {
		// Detection is the heaviest work behind the proxy; on a busy
		// machine let request handlers run between events.
		y.Tick()
		var findings []detect.Finding
		findings, buf = p.scanEvent(ev, buf[:0])
		if len(findings) == 0 {
			continue
		}
		ev.RiskScore = float32(detect.EventScore(findings))
		for i := range findings {
			out = append(out, findingEvent(ev, &findings[i]))
		}
	}
	return append(batch, out...)
}

// scanTool scans one tools[] entry (Chat {"function":{…}}, Responses and
// Anthropic {name, description, parameters|input_schema}) when the agent
// has not sent this exact definition before, and reports a definition that
// changed since it was first seen.
func (p *Processor) scanTool(agent string, tl, buf []byte, scan func(*detect.Input), fs *[]detect.Finding) []byte {
	if fn := jsonscan.Member(tl, "function"); len(fn) > 0 {
		tl = fn
	}
	schema := jsonscan.Member(tl, "parameters")
	if len(schema) == 0 {
		schema = jsonscan.Member(tl, "input_schema")
	}
	buf, _ = appendString(buf, jsonscan.Member(tl, "name"))
	nameEnd := len(buf)
	buf, _ = appendString(buf, jsonscan.Member(tl, "description"))
	name, desc := text(buf[:nameEnd], 0), text(buf, nameEnd)
	if name == "" {
		return buf
	}
	h := detect.ToolDefinitionHash(name, desc, string(schema))
	p.mu.Lock()
	known := p.agentTools(agent)
	before, seen := known[name]
	if !seen && len(known) < maxToolsPerAgent || seen && before != h {
		known[strings.Clone(name)] = h
	}
	p.mu.Unlock()
	if seen && before == h {
		return buf
	}
	if seen {
		f := detect.ToolChanged(name, before, h)
		*fs = append(*fs, f)
	}
	var key uint64
	if p.memo != nil {
		key = memoKey(memoToolDefinition, tl, nil, nil)
		var hit bool
		if *fs, hit = p.memo.get(*fs, key); hit {
			return buf
		}
	}
	n := len(*fs)
	scan(&detect.Input{Text: desc, Role: detect.RoleToolDefinition, Direction: detect.Request, ToolName: name, ToolArgs: string(schema)})
	if p.memo != nil {
		p.memo.put(key, (*fs)[n:])
	}
	return buf
}

func (p *Processor) agentTools(agent string) map[string]uint64 {
	m := p.tools[agent]
	if m == nil {
		if len(p.toolOrder) >= p.max {
			delete(p.tools, p.toolOrder[0])
			p.toolOrder = p.toolOrder[1:]
		}
		m = map[string]uint64{}
		p.tools[agent] = m
		p.toolOrder = append(p.toolOrder, agent)
	}
	return m
}

// text returns buf[from:] as a string without copying; it is only valid
// until buf is reused, so what outlives the scan is cloned (keepFindings).
func text(buf []byte, from int) string {
	if len(buf) == from {
		return ""
	}
	return unsafe.String(&buf[from], len(buf)-from)
}

// keepFindings copies the evidence of fs[from:], which may point into the
// reused text buffer.
func keepFindings(fs []detect.Finding, from int) {
	for i := from; i < len(fs); i++ {
		fs[i].Evidence = strings.Clone(fs[i].Evidence)
	}
}

func (p *Processor) scanEvent(ev *sink.Event, buf []byte) ([]detect.Finding, []byte) {
	attrs := []byte(ev.Attributes)
	if len(ev.ScanAttributes) > 0 {
		attrs = ev.ScanAttributes // what the client sent, where a policy rewrote it
	}
	var fs []detect.Finding
	scan := func(in *detect.Input) {
		n := len(fs)
		fs = p.sc.AppendScan(fs, in)
		if p.Extra != nil {
			fs = p.Extra(fs, in)
		}
		keepFindings(fs, n)
	}
	switch ev.Name {
	case sink.SessionStart:
		buf, _ = appendString(buf, jsonscan.Member(attrs, "prompt"))
		prompt := string(buf)
		p.mu.Lock()
		p.state(ev.SessionID).system = prompt
		p.mu.Unlock()
	case sink.LLMCallStart:
		// The request is read where it lies in the attributes, in one
		// pass: each message is scanned as the walk reaches it, with no
		// earlier pass to find where the request or its message list ends.
		one := func(roleName, content, output []byte) {
			// The input is a function of these three: the memo is keyed
			// by them and a hit decodes nothing.
			var key uint64
			if p.memo != nil {
				key = memoKey(memoMessage, roleName, content, output)
				var hit bool
				if fs, hit = p.memo.get(fs, key); hit {
					return
				}
			}
			n := len(fs)
			buf = p.scanMessage(detect.Role(roleName), content, output, buf[:0], scan)
			if p.memo != nil {
				p.memo.put(key, fs[n:])
			}
		}
		scanList := func(d *jsonscan.Decoder) {
			if d.Peek() == '"' { // a Responses input given as one string: the user's message
				one(nil, d.Raw(), nil)
				return
			}
			for range d.Elements() {
				var roleName, content, output []byte
				var rb [32]byte
				for k := range d.Members() {
					switch string(k) {
					case "role":
						roleName = d.StrOrSkip().Append(rb[:0])
					case "content":
						content = d.Raw()
					case "output":
						output = d.Raw()
					}
				}
				if len(output) == 0 && (string(roleName) == "system" || string(roleName) == "developer") {
					continue // never scanned (scanMessage)
				}
				one(roleName, content, output)
			}
		}
		var tools []byte
		d := jsonscan.NewDecoder(attrs)
		for k := range d.Members() {
			if string(k) != "llm.request.data" {
				continue
			}
			var w requestWalk
			for k := range d.Members() {
				switch w.member(k, &fs) {
				case walkList:
					scanList(&d)
				case walkTools:
					tools = d.Raw()
				}
			}
			break
		}
		d = jsonscan.NewDecoder(tools)
		for range d.Elements() {
			buf = p.scanTool(ev.AgentID, d.Raw(), buf[:0], scan, &fs)
		}
	case sink.ToolResult:
		result := jsonscan.Member(attrs, "tool.result")
		var key uint64
		if p.memo != nil {
			key = memoKey(memoToolResult, unsafe.Slice(unsafe.StringData(ev.ToolName), len(ev.ToolName)), result, nil)
			var hit bool
			if fs, hit = p.memo.get(fs, key); hit {
				break
			}
		}
		var ok bool
		if buf, ok = appendContent(buf, result); ok {
			scan(&detect.Input{Text: text(buf, 0), Role: detect.RoleTool, Direction: detect.Request, ToolName: ev.ToolName})
		}
		if p.memo != nil {
			p.memo.put(key, fs)
		}
	case sink.LLMCallFinish:
		p.mu.Lock()
		st := p.state(ev.SessionID)
		st.calls++
		st.tokens += ev.InputTokens + ev.OutputTokens
		usage := detect.Usage{CallTokens: ev.InputTokens + ev.OutputTokens, SessionTokens: st.tokens, SessionCalls: st.calls}
		system := st.system
		p.mu.Unlock()
		d := jsonscan.NewDecoder(jsonscan.Member(attrs, "llm.response.content"))
		for range d.Elements() {
			c := d.Raw()
			var ok bool
			if buf, ok = appendContent(buf, jsonscan.Member(c, "text")); !ok {
				buf, _ = appendContent(buf, jsonscan.Member(c, "content"))
			}
		}
		scan(&detect.Input{Text: text(buf, 0), Role: detect.RoleAssistant, Direction: detect.Response, SystemPrompt: system, Usage: &usage})
	case sink.ToolExecution:
		// The raw JSON of the arguments, as the model sent them; the
		// attributes never change, so no copy.
		params := jsonscan.Member(attrs, "tool.params")
		args := ""
		if len(params) > 0 {
			args = unsafe.String(&params[0], len(params))
		}
		sig := xxhash.Sum64String(ev.ToolName) ^ xxhash.Sum64(params)*0x9E3779B97F4A7C15
		p.mu.Lock()
		st := p.state(ev.SessionID)
		st.toolCalls++
		now := ev.Time
		keep := st.recent[:0]
		for _, t := range st.recent {
			if now.Sub(t) < window {
				keep = append(keep, t)
			}
		}
		st.recent = append(keep, now)
		if st.repeated > 0 && sig == st.lastTool {
			st.repeated++
		} else {
			st.lastTool, st.repeated = sig, 1
		}
		usage := detect.Usage{SessionToolCalls: st.toolCalls, ToolCallsInWindow: len(st.recent), Window: window, RepeatedToolCalls: st.repeated}
		p.mu.Unlock()
		scan(&detect.Input{Role: detect.RoleAssistant, Direction: detect.Response, ToolName: ev.ToolName, ToolArgs: args, Usage: &usage})
	}
	return fs, buf
}

// requestWalk reads a request body in one pass (scanEvent): member says
// what to do with each member's value. The first member of each name
// counts, and messages win over input: the findings of an input that came
// first are dropped when messages follow.
type requestWalk struct {
	seenMessages, seenInput, seenTools bool
	inputFrom                          int // 1 + where an input's findings start, while no messages came
}

// What member asks for a member's value.
const (
	walkSkip  = iota
	walkList  // scan it as the message list
	walkTools // keep it as the tools list, scanned after the walk
)

func (w *requestWalk) member(k []byte, fs *[]detect.Finding) int {
	switch {
	case !w.seenMessages && string(k) == "messages":
		w.seenMessages = true
		if w.inputFrom > 0 {
			*fs = (*fs)[:w.inputFrom-1]
		}
		return walkList
	case !w.seenInput && string(k) == "input":
		w.seenInput = true
		if !w.seenMessages {
			w.inputFrom = len(*fs) + 1
			return walkList
		}
	case !w.seenTools && string(k) == "tools":
		w.seenTools = true
		return walkTools
	}
	return walkSkip
}

// scanMessage scans the text of one request message (content, or a
// Responses function_call_output's output) unless it is a system or
// developer message.
func (p *Processor) scanMessage(role detect.Role, content, output, buf []byte, scan func(*detect.Input)) []byte {
	var ok bool
	if buf, ok = appendContent(buf, content); !ok {
		if buf, ok = appendContent(buf, output); ok { // Responses function_call_output
			role = detect.RoleTool
		}
	}
	if !ok || role == "system" || role == "developer" {
		return buf
	}
	if role == "" {
		role = detect.RoleUser
	}
	scan(&detect.Input{Text: text(buf, 0), Role: role, Direction: detect.Request})
	return buf
}

// findingEvent turns a finding into a security.finding event of the same
// session, agent, proxy instance, trace and span as the event it was found
// in. (Tags are not copied: the tags column belongs to session.start rows.)
func findingEvent(src *sink.Event, f *detect.Finding) *sink.Event {
	sev := f.Severity.String()
	attrs, _ := json.Marshal(map[string]any{
		"finding.category":   f.Category.String(),
		"finding.rule":       f.Rule,
		"finding.severity":   sev,
		"finding.confidence": f.Confidence,
		"finding.evidence":   f.Evidence,
		"finding.owasp":      f.OWASP,
		"finding.source":     f.Source.String(),
		"finding.span":       []int{f.Start, f.End},
		"finding.decoded":    f.Decoded,
		"finding.event_name": src.Name,
		"finding.event_id":   src.IDString(),
		"session.id":         src.SessionID,
	})
	level := sink.LevelInfo
	if f.Severity >= detect.SeverityHigh {
		level = "WARNING"
	}
	return &sink.Event{
		ID:         sink.NewID(),
		Time:       src.Time,
		Name:       sink.SecurityFinding,
		Level:      level,
		TraceID:    src.TraceID,
		SpanID:     src.SpanID,
		SessionID:  src.SessionID,
		AgentID:    src.AgentID,
		InstanceID: src.InstanceID,
		Vendor:     src.Vendor,
		Model:      src.Model,
		ToolName:   src.ToolName,
		RiskScore:  float32(detect.EventScore([]detect.Finding{*f})),
		Category:   f.Category.String(),
		Rule:       f.Rule,
		Severity:   sev,
		Attributes: attrs,
	}
}
