package session

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"
)

// Message builders in the shapes provider adapters produce.

func msg(role, content string) Message {
	return Message{Role: []byte(role), Content: []byte(content)}
}

func sys(s string) Message { return msg("system", s) }
func u(s string) Message   { return msg("user", s) }
func a(s string) Message   { return msg("assistant", s) }

// aCall is an assistant message requesting a tool (Chat tool_calls or an
// Anthropic tool_use block); text is its text content, often empty.
func aCall(text, id string) Message {
	m := a(text)
	m.CallID = []byte(id)
	return m
}

// tool is a Chat tool result.
func tool(id, content string) Message {
	m := msg("tool", content)
	m.CallID = []byte(id)
	return m
}

// toolResult is an Anthropic user message carrying a tool_result block:
// no text block, so no content text.
func toolResult(id string) Message {
	return Message{Role: []byte("user"), CallID: []byte(id)}
}

// fc and fco are Responses API function_call / function_call_output items.
func fc(id string) Message {
	return Message{Type: []byte("function_call"), CallID: []byte(id)}
}

func fco(id string) Message {
	return Message{Type: []byte("function_call_output"), CallID: []byte(id)}
}

func conv(msgs ...Message) *Conversation { return &Conversation{Messages: msgs} }

func withSystem(system string, msgs ...Message) *Conversation {
	return &Conversation{System: []byte(system), HasSystem: true, Messages: msgs}
}

// fakeClock is a settable clock for TTL tests.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) now() int64              { return c.ns.Load() }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newTestTable(t testing.TB, fuzzy bool) *Table {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Fuzzy = fuzzy
	cfg.MaxSessions = 1000
	cfg.MemoryMB = 8
	return New(cfg)
}

// forEachMode runs f with fuzzy matching off (the original) and on.
func forEachMode(t *testing.T, f func(t *testing.T, fuzzy bool)) {
	for _, fuzzy := range []bool{false, true} {
		name := "exact"
		if fuzzy {
			name = "fuzzy"
		}
		t.Run(name, func(t *testing.T) { f(t, fuzzy) })
	}
}

var nextSeed atomic.Int64

// jsonBody is the body of the JSON string encoding s, as a request carries
// it: between the quotes, escapes in place.
func jsonBody(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b[1 : len(b)-1])
}
