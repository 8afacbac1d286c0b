package files

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/cylestio/perimeter/internal/golden"
	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/sink"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got)
}

// goldenFile compares the file at path with testdata/name.
func goldenFile(t *testing.T, name, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, name, b)
}

// secrets appear in the test inputs and must never reach a file.
var secrets = []string{
	"sk-abcdefghijklmnopqrstuvwxyz0123456789",
	"sk-proj-Abcdefghijklmnopqrstuvwxyz_0123456789",
	"sk-ant-api03-Abcdefghijklmnopqrstuvwxyz-0123456789",
	"AKIAABCDEFGHIJKLMNOP",
	"hunter2hunter2",
	"shortpw",
	"tok_abcdefghijklmnopqrstuvwxyz",
	"sess=cookie-secret",
}

// noSecrets fails when any file under dir holds one of the secrets.
func noSecrets(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains the secret %q", path, s)
			}
		}
		return nil
	})
}

// modes checks the original's modes: directory 0700, files 0600.
func modes(t *testing.T, dir string) {
	t.Helper()
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("%s mode %v, want 0700", dir, st.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		info, _ := e.Info()
		if !e.IsDir() && info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
}

var t0 = time.Date(2026, 1, 2, 10, 0, 0, 123456000, time.UTC)

// attrs renders attributes as the proxy does: no HTML escaping.
func attrs(m map[string]any) json.RawMessage {
	b, err := marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func id(n byte) [16]byte { return [16]byte{15: n} }

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// conversation is one call of a session and one failed call, as the proxy
// publishes them, with credentials in the texts.
func conversation() []*sink.Event {
	const sid = "3f2a9c1e-0000-4000-8000-00000000abcd"
	common := map[string]any{"session.id": sid, "os.type": "Linux", "host.name": "box"}
	with := func(m map[string]any) json.RawMessage {
		for k, v := range common {
			m[k] = v
		}
		return attrs(m)
	}
	return []*sink.Event{
		{ID: id(1), Time: t0, Name: sink.SessionStart, Level: sink.LevelInfo, TraceID: "0123456789abcdef0123456789abcdef", SpanID: "aaaaaaaaaaaaaaaa",
			SessionID: sid, AgentID: "prompt-7077bd40d00f", Vendor: "openai", Model: "gpt-4o",
			Attributes: with(map[string]any{"client.type": "gateway", "llm.vendor": "openai", "prompt": "You are helpful."})},
		{ID: id(2), Time: t0, Name: sink.LLMCallStart, Level: sink.LevelInfo, TraceID: "0123456789abcdef0123456789abcdef", SpanID: "bbbbbbbbbbbbbbbb",
			SessionID: sid, AgentID: "prompt-7077bd40d00f", Vendor: "openai", Model: "gpt-4o",
			Attributes: with(map[string]any{
				"llm.vendor": "openai", "llm.model": "gpt-4o",
				"llm.request.data": map[string]any{
					"model": "gpt-4o", "api_key": "shortpw",
					"messages": []any{
						map[string]any{"role": "system", "content": "You are helpful. <b>bold</b> & ünïcode"},
						map[string]any{"role": "user", "content": "my key is sk-abcdefghijklmnopqrstuvwxyz0123456789 and sk-proj-Abcdefghijklmnopqrstuvwxyz_0123456789, " +
							"aws AKIAABCDEFGHIJKLMNOP, Authorization: Bearer tok_abcdefghijklmnopqrstuvwxyz, password=hunter2hunter2, " +
							"anthropic sk-ant-api03-Abcdefghijklmnopqrstuvwxyz-0123456789"},
					},
					"_cylestio_metadata": map[string]any{"total_messages": 2, "new_messages": 2, "from_index": 0, "external_session": false},
				},
				"http.method": "POST", "http.path": "/v1/chat/completions", "llm.request.stream": false,
			})},
		{ID: id(3), Time: t0.Add(812400 * time.Microsecond), Name: sink.LLMCallFinish, Level: sink.LevelInfo, TraceID: "0123456789abcdef0123456789abcdef", SpanID: "bbbbbbbbbbbbbbbb",
			SessionID: sid, AgentID: "prompt-7077bd40d00f", Vendor: "openai", Model: "gpt-4o", Status: 200, DurationMs: 812.4,
			InputTokens: 12, OutputTokens: 5, TotalTokens: 17,
			Attributes: with(map[string]any{
				"llm.vendor": "openai", "llm.model": "gpt-4o", "llm.response.duration_ms": 812.4,
				"llm.usage.input_tokens": 12, "llm.usage.output_tokens": 5, "llm.usage.total_tokens": 17,
				"llm.response.content": []any{map[string]any{"type": "text", "text": "Never share sk-abcdefghijklmnopqrstuvwxyz0123456789."}},
				"llm.response.id":      "chatcmpl-1", "finish_reason": "stop",
			})},
		{ID: id(4), Time: t0.Add(time.Second), Name: sink.ToolExecution, Level: sink.LevelInfo, SessionID: sid, ToolName: "calc",
			Attributes: with(map[string]any{"tool.name": "calc", "tool.params": map[string]any{"a": 1}})},
		{ID: id(5), Time: t0.Add(2 * time.Second), Name: sink.LLMCallStart, Level: sink.LevelInfo, SessionID: sid, Vendor: "openai", Model: "gpt-4o",
			Attributes: with(map[string]any{"llm.request.data": map[string]any{"model": "gpt-4o", "messages": []any{}},
				"http.method": "POST", "http.path": "/v1/chat/completions", "llm.request.stream": true})},
		{ID: id(6), Time: t0.Add(3 * time.Second), Name: sink.LLMCallError, Level: sink.LevelError, SessionID: sid, Vendor: "openai", Model: "gpt-4o",
			Status: 401, ErrorType: "invalid_request_error", ErrorMessage: "Incorrect API key provided: sk-abcdefghijklmnopqrstuvwxyz0123456789",
			Attributes: with(map[string]any{"error.type": "invalid_request_error"})},
		{ID: id(7), Time: t0, Name: httprec.EventName, SessionID: sid, Attributes: attrs(map[string]any{"method": "POST"})},
	}
}
