// Package printer is the "printer" interceptor of cylestio-perimeter as a
// sink writer: it prints sessions, requests, responses, tool calls and errors
// to the console in the original's format, from the events alone.
//
// It runs on the sink pipeline's goroutine, never on the request path, so a
// slow terminal cannot slow the proxy. It never writes anywhere but its
// io.Writer.
package printer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cylestio/perimeter/sink"
)

// Options mirror the original's printer config.
type Options struct {
	LogRequests  bool // session.start, llm.call.start, tool.result
	LogResponses bool // llm.call.finish, tool.execution, llm.call.error
	LogBody      bool // messages and choices
	ShowSessions bool
	ShowTools    bool
}

// Printer writes events as human-readable blocks.
type Printer struct {
	opts Options
	mu   sync.Mutex
	w    io.Writer
	buf  strings.Builder
}

// New returns a printer writing to w.
func New(w io.Writer, o Options) *Printer { return &Printer{opts: o, w: w} }

// Name implements sink.Writer.
func (p *Printer) Name() string { return "printer" }

// Close implements sink.Writer.
func (p *Printer) Close() error { return nil }

// WriteBatch prints every event of the batch in order. Console errors are
// returned so the pipeline counts them; they never reach the proxy.
func (p *Printer) WriteBatch(_ context.Context, batch []*sink.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Reset()
	for _, ev := range batch {
		p.format(ev)
	}
	if p.buf.Len() == 0 {
		return nil
	}
	_, err := io.WriteString(p.w, p.buf.String())
	return err
}

func (p *Printer) format(ev *sink.Event) {
	var attrs map[string]any
	if len(ev.Attributes) > 0 {
		_ = json.Unmarshal(ev.Attributes, &attrs)
	}
	b := &p.buf
	sid := short(ev.SessionID, 8)
	switch ev.Name {
	case sink.SessionStart:
		if !p.opts.LogRequests || !p.opts.ShowSessions {
			return
		}
		fmt.Fprintf(b, "\n🚀 NEW SESSION: %s\n   Provider: %s\n   Model: %s\n   Time: %s\n   %s\n",
			sid, ev.Vendor, ev.Model, ev.Time.Local().Format("15:04:05"), strings.Repeat("=", 50))
	case sink.LLMCallStart:
		if !p.opts.LogRequests {
			return
		}
		fmt.Fprintf(b, "\n📤 REQUEST [%s]\n   %s %s\n", sid, str(attrs["http.method"]), str(attrs["http.path"]))
		if attrs["llm.request.stream"] == true {
			b.WriteString("   🔄 Streaming: Yes\n")
		}
		if p.opts.LogBody {
			p.requestBody(attrs)
		}
	case sink.LLMCallFinish:
		if !p.opts.LogResponses {
			return
		}
		mark := "✅"
		if ev.Status < 200 || ev.Status > 299 {
			mark = "❌"
		}
		fmt.Fprintf(b, "\n📥 RESPONSE [%s] %s\n   Status: %d\n   Duration: %.0fms\n", sid, mark, ev.Status, ev.DurationMs)
		if ev.InputTokens > 0 || ev.OutputTokens > 0 {
			fmt.Fprintf(b, "   Usage: %d+%d=%d tokens\n", ev.InputTokens, ev.OutputTokens, ev.TotalTokens)
		}
		if p.opts.LogBody {
			if content, ok := attrs["llm.response.content"].([]any); ok {
				fmt.Fprintf(b, "   Choices: %d\n", len(content))
				for i, c := range content[:min(2, len(content))] {
					fmt.Fprintf(b, "     %d. %s\n", i+1, clip(contentText(c), 150))
				}
			}
		}
	case sink.ToolExecution:
		if !p.opts.LogResponses || !p.opts.ShowTools {
			return
		}
		fmt.Fprintf(b, "   🔧 TOOL USE: %s [%s]\n      Input: %s\n", ev.ToolName, short(ev.SpanID, 8), params(attrs["tool.params"]))
	case sink.ToolResult:
		if !p.opts.LogRequests || !p.opts.ShowTools {
			return
		}
		mark := "✅"
		if attrs["tool.status"] == "error" {
			mark = "❌"
		}
		fmt.Fprintf(b, "   🔧 TOOL RESULT [%s] %s\n      Result: %s\n", short(ev.SpanID, 8), mark, clip(contentText(attrs["tool.result"]), 100))
	case sink.LLMCallError:
		if !p.opts.LogResponses {
			return
		}
		fmt.Fprintf(b, "\n❌ ERROR [%s]\n   %s: %s\n", sid, ev.ErrorType, ev.ErrorMessage)
	case sink.SecurityFinding:
		fmt.Fprintf(b, "   ⚠️  FINDING [%s] %s: %s\n", sid, str(attrs["finding.rule"]), str(attrs["finding.evidence"]))
	}
}

func (p *Printer) requestBody(attrs map[string]any) {
	data, _ := attrs["llm.request.data"].(map[string]any)
	if data == nil {
		return
	}
	msgs, _ := data["messages"].([]any)
	if msgs == nil {
		msgs, _ = data["input"].([]any)
	}
	if msgs != nil {
		fmt.Fprintf(&p.buf, "   Messages: %d\n", len(msgs))
		start := max(0, len(msgs)-3)
		for i := start; i < len(msgs); i++ {
			m, _ := msgs[i].(map[string]any)
			if s, ok := m["content"].(string); ok {
				fmt.Fprintf(&p.buf, "     %d. %s: %s\n", i+1, str(m["role"]), clip(s, 100))
			}
		}
	}
	if m := str(data["model"]); m != "" {
		fmt.Fprintf(&p.buf, "   Model: %s\n", m)
	}
	for _, k := range []string{"max_tokens", "max_completion_tokens", "max_output_tokens"} {
		if v, ok := data[k]; ok {
			fmt.Fprintf(&p.buf, "   Max tokens: %v\n", v)
			break
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// short returns the first n characters of s.
func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// clip shortens s to n runes and marks the cut with "...".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "..."
}

// contentText renders a content value the way the original printed it: a
// string as is, an object by its text or content field, anything else as
// JSON.
func contentText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case map[string]any:
		if s, ok := x["text"].(string); ok {
			return s
		}
		if s, ok := x["content"].(string); ok {
			return s
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// params renders tool arguments as "k=v, k2=v2" in key order.
func params(v any) string {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		if s := contentText(v); s != "" && s != "{}" {
			return s
		}
		return "(no parameters)"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + clip(contentText(m[k]), 80)
	}
	return strings.Join(parts, ", ")
}
