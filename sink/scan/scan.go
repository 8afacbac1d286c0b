// Package scan runs security detection over captured events inside the sink
// pipeline, off the request path: it reads the text an event carries
// (request messages, tool results, model answers, tool-call arguments),
// scans it with package detect, sets the event's RiskScore and adds one
// security.finding event per finding.
//
// It keeps small, bounded per-session state (token and tool-call counters for
// the consumption and agency checks, the system prompt for the leakage
// check). It never does I/O.
package scan

import (
	"encoding/json"
	"runtime"
	"sync"
	"time"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/sink"
)

// Processor scans batches. It is safe for concurrent use.
type Processor struct {
	sc *detect.Scanner

	mu       sync.Mutex
	sessions map[string]*sessionState
	order    []string // insertion order, for bounded eviction
	max      int
}

type sessionState struct {
	system    string
	tokens    int64
	calls     int
	toolCalls int
	recent    []time.Time // tool-call times within the window
	lastTool  string
	repeated  int
}

// window is the span over which tool calls count as a storm.
const window = time.Minute

// New returns a processor; maxSessions bounds the per-session state kept
// (oldest forgotten first).
func New(opts detect.Options, maxSessions int) *Processor {
	if maxSessions <= 0 {
		maxSessions = 10000
	}
	return &Processor{sc: detect.NewScanner(opts), sessions: map[string]*sessionState{}, max: maxSessions}
}

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
	for i, ev := range batch {
		if i%16 == 15 {
			// Detection is the heaviest work behind the proxy; on a busy
			// machine let request handlers run between events.
			runtime.Gosched()
		}
		findings := p.scanEvent(ev)
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

func (p *Processor) scanEvent(ev *sink.Event) []detect.Finding {
	var attrs map[string]json.RawMessage
	if len(ev.Attributes) > 0 && json.Unmarshal(ev.Attributes, &attrs) != nil {
		return nil
	}
	var fs []detect.Finding
	scan := func(in *detect.Input) { fs = p.sc.AppendScan(fs, in) }
	switch ev.Name {
	case sink.SessionStart:
		var prompt string
		_ = json.Unmarshal(attrs["prompt"], &prompt)
		p.mu.Lock()
		p.state(ev.SessionID).system = prompt
		p.mu.Unlock()
	case sink.LLMCallStart:
		var data struct {
			Messages json.RawMessage `json:"messages"`
			Input    json.RawMessage `json:"input"`
		}
		_ = json.Unmarshal(attrs["llm.request.data"], &data)
		list := data.Messages
		if len(list) == 0 {
			list = data.Input
		}
		var msgs []map[string]json.RawMessage
		_ = json.Unmarshal(list, &msgs)
		for _, m := range msgs {
			var role string
			_ = json.Unmarshal(m["role"], &role)
			text := contentText(m["content"])
			if text == "" {
				text = contentText(m["output"]) // Responses function_call_output
				if text != "" {
					role = string(detect.RoleTool)
				}
			}
			if text == "" || role == "system" || role == "developer" {
				continue
			}
			if role == "" {
				role = string(detect.RoleUser)
			}
			scan(&detect.Input{Text: text, Role: detect.Role(role), Direction: detect.Request})
		}
	case sink.ToolResult:
		if text := contentText(attrs["tool.result"]); text != "" {
			scan(&detect.Input{Text: text, Role: detect.RoleTool, Direction: detect.Request, ToolName: ev.ToolName})
		}
	case sink.LLMCallFinish:
		p.mu.Lock()
		st := p.state(ev.SessionID)
		st.calls++
		st.tokens += ev.InputTokens + ev.OutputTokens
		usage := detect.Usage{CallTokens: ev.InputTokens + ev.OutputTokens, SessionTokens: st.tokens, SessionCalls: st.calls}
		system := st.system
		p.mu.Unlock()
		var content []map[string]json.RawMessage
		_ = json.Unmarshal(attrs["llm.response.content"], &content)
		text := ""
		for _, c := range content {
			if t := contentText(c["text"]); t != "" {
				text += t
			} else if t := contentText(c["content"]); t != "" {
				text += t
			}
		}
		scan(&detect.Input{Text: text, Role: detect.RoleAssistant, Direction: detect.Response, SystemPrompt: system, Usage: &usage})
	case sink.ToolExecution:
		args := string(attrs["tool.params"])
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
		sig := ev.ToolName + "\x00" + args
		if sig == st.lastTool {
			st.repeated++
		} else {
			st.lastTool, st.repeated = sig, 1
		}
		usage := detect.Usage{SessionToolCalls: st.toolCalls, ToolCallsInWindow: len(st.recent), Window: window, RepeatedToolCalls: st.repeated}
		p.mu.Unlock()
		scan(&detect.Input{Role: detect.RoleAssistant, Direction: detect.Response, ToolName: ev.ToolName, ToolArgs: args, Usage: &usage})
	}
	return fs
}

// contentText returns the text of a JSON content value: a string, or the
// text parts of a list of blocks.
func contentText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var blocks []map[string]json.RawMessage
	if json.Unmarshal(raw, &blocks) != nil {
		return ""
	}
	out := ""
	for _, b := range blocks {
		var t string
		if json.Unmarshal(b["text"], &t) == nil && t != "" {
			if out != "" {
				out += "\n"
			}
			out += t
		} else if c := contentText(b["content"]); c != "" {
			if out != "" {
				out += "\n"
			}
			out += c
		}
	}
	return out
}

// findingEvent turns a finding into a security.finding event of the same
// session, agent, trace and span as the event it was found in.
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
