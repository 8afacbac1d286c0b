package files

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
)

func TestMessageLoggerGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	m, err := NewMessageLogger(MessageLoggerOptions{Directory: dir, Filename: "log.jsonl", IncludeMetadata: true, BufferSize: 2, RedactCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.WriteBatch(context.Background(), conversation()); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "message_log.jsonl", filepath.Join(dir, "log.jsonl"))
	noSecrets(t, dir)
	modes(t, dir)
}

func TestMessageLoggerWithoutMetadataOrRedaction(t *testing.T) {
	dir := t.TempDir()
	m, _ := NewMessageLogger(MessageLoggerOptions{Directory: dir, BufferSize: 1})
	m.WriteBatch(context.Background(), conversation()[1:3])
	m.Close()
	got := lines(t, filepath.Join(dir, "message_log.jsonl"))
	if len(got) != 2 {
		t.Fatalf("%d lines", len(got))
	}
	for _, l := range got {
		if strings.Contains(l, "metadata") || !strings.Contains(l, "sk-abcdefghijklmnopqrstuvwxyz0123456789") {
			t.Errorf("line %s", l)
		}
	}
}

// The buffer is written when full, on the interval, and on Close: the
// original lost up to buffer_size-1 entries at shutdown.
func TestMessageLoggerFlushes(t *testing.T) {
	evs := conversation()
	t.Run("close", func(t *testing.T) {
		dir := t.TempDir()
		m, _ := NewMessageLogger(MessageLoggerOptions{Directory: dir, BufferSize: 10})
		m.WriteBatch(context.Background(), evs)
		if _, err := os.Stat(filepath.Join(dir, "message_log.jsonl")); !os.IsNotExist(err) {
			t.Fatalf("written before the buffer filled: %v", err)
		}
		m.Close()
		if n := len(lines(t, filepath.Join(dir, "message_log.jsonl"))); n != 4 {
			t.Fatalf("%d lines after Close, want 4", n)
		}
		if err := m.WriteBatch(context.Background(), evs); err == nil {
			t.Fatal("write after Close accepted")
		}
	})
	t.Run("interval", func(t *testing.T) {
		dir := t.TempDir()
		m, _ := NewMessageLogger(MessageLoggerOptions{Directory: dir, BufferSize: 10, FlushInterval: 20 * time.Millisecond})
		defer m.Close()
		m.WriteBatch(context.Background(), evs[1:2])
		path := filepath.Join(dir, "message_log.jsonl")
		testkit.WaitFor(t, 5*time.Second, "the interval to flush the buffer", func() bool {
			b, err := os.ReadFile(path)
			return err == nil && len(b) > 0
		})
		if n := len(lines(t, path)); n != 1 {
			t.Fatalf("%d lines", n)
		}
	})
	t.Run("full", func(t *testing.T) {
		dir := t.TempDir()
		m, _ := NewMessageLogger(MessageLoggerOptions{Directory: dir, BufferSize: 3})
		defer m.Close()
		m.WriteBatch(context.Background(), evs[1:3]) // 2 entries
		path := filepath.Join(dir, "message_log.jsonl")
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatal("written before full")
		}
		m.WriteBatch(context.Background(), evs[4:5]) // 3rd
		if n := len(lines(t, path)); n != 3 {
			t.Fatalf("%d lines", n)
		}
	})
}

// A failed write takes the batch's entries back out of the buffer, so the
// pipeline's retry logs them once.
func TestMessageLoggerRetryDoesNotDuplicate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "message_log.jsonl")
	os.Mkdir(path, 0o700) // the file cannot be opened
	m, _ := NewMessageLogger(MessageLoggerOptions{Directory: dir, BufferSize: 1})
	evs := conversation()[1:3]
	if err := m.WriteBatch(context.Background(), evs); err == nil {
		t.Fatal("write into a directory succeeded")
	}
	os.Remove(path)
	if err := m.WriteBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if n := len(lines(t, path)); n != 2 {
		t.Fatalf("%d lines, want 2", n)
	}
}

func TestRedactCredentials(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"key sk-abcdefghijklmnopqrstuvwxyz", "key [REDACTED_API_KEY]"},
		{"sk-short", "sk-short"},
		{`api_key="abcdefghijklmnopqrstuvwxyz"`, "api_key: [REDACTED]"},
		{"API-KEY: abcdefghijklmnopqrstuvwxyz", "API-KEY: [REDACTED]"},
		{"Authorization: Bearer abcdefghijklmnopqrstuvwxyz.123", "Authorization: Bearer [REDACTED]"},
		{"AKIAABCDEFGHIJKLMNOP", "[REDACTED_AWS_KEY]"},
		{"password: hunter2hunter2", "password: [REDACTED]"},
		{"token=abc", "token=abc"},
		{"Secret 'abcdefgh'", "Secret: [REDACTED]"},
		{"sk-proj-Abcdefghijklmnopqrstuvwxyz_0123", "[REDACTED_API_KEY]"},
		{"sk-ant-api03-Abcdefghijklmnopqrstuvwxyz-0123", "[REDACTED_API_KEY]"},
		// Beyond the original: tokens their prefix gives away, with no keyword.
		{"key ghp_" + strings.Repeat("aB3", 12) + " here", "key [REDACTED_GITHUB_TOKEN] here"},
		{"github_pat_" + strings.Repeat("Ab1_", 20), "[REDACTED_GITHUB_TOKEN]"},
		{"ghp_tooShort", "ghp_tooShort"},
		{"use glpat-" + strings.Repeat("x1", 10), "use [REDACTED_GITLAB_TOKEN]"},
		{"xoxb-1234567890-abcdefghij", "[REDACTED_SLACK_TOKEN]"},
		{"AIza" + strings.Repeat("Qw9_", 8) + "abc", "[REDACTED_GOOGLE_API_KEY]"},
		{"sk_live_" + strings.Repeat("a1", 12), "[REDACTED_STRIPE_KEY]"},
		{"risk_test_case", "risk_test_case"},
		{"hf_" + strings.Repeat("Zz9", 11), "[REDACTED_HF_TOKEN]"},
		{"npm_" + strings.Repeat("n0", 18), "[REDACTED_NPM_TOKEN]"},
		{"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl!", "jwt [REDACTED_JWT]!"},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nok", "[REDACTED_PRIVATE_KEY]\nok"},
		{"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNz", "[REDACTED_PRIVATE_KEY]"},
	} {
		if got := RedactCredentials(tc.in); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a": "sk-abcdefghijklmnopqrstuvwxyz", "b": 1}`, `{"a": "[REDACTED_API_KEY]", "b": 1}`},
		{`{"api_key":"short","password" : "x","n":{"secret":7}}`, `{"api_key":"[REDACTED]","password" : "[REDACTED]","n":{"secret":7}}`},
		{`["sk-abcdefghijklmnopqrstuvwxyz", "plain \"q\""]`, `["[REDACTED_API_KEY]", "plain \"q\""]`},
		{`{"sk-abcdefghijklmnopqrstuvwxyz": 1, "token": 2}`, `{"[REDACTED_API_KEY]": 1, "token": 2}`},
		{`{"x":"\u00e9 token: abcdefghij"}`, `{"x":"é token: [REDACTED]"}`},
	} {
		if got := string(redactJSON([]byte(tc.in))); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestRedactEvents(t *testing.T) {
	plain := []byte(`{"llm.model":"gpt-4o","llm.usage.input_tokens":12,"messages":[{"role":"user","content":"hello"}]}`)
	secret := []byte(`{"messages":[{"role":"user","content":"use sk-proj-Abcdefghijklmnopqrstuvwxyz_0123456789 please, and key ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"}],"api_key":"short","tool":{"args":"{\"password\":\"hunter2hunter2\"}"}}`)
	batch := []*sink.Event{{Attributes: plain}, {Attributes: secret}, {}}
	out := RedactEvents(batch)
	if &out[0].Attributes[0] != &plain[0] {
		t.Error("an event without credentials was copied")
	}
	got := string(out[1].Attributes)
	for _, leak := range []string{"sk-proj-Abcdefghijklmnopqrstuvwxyz_0123456789", "short", "hunter2hunter2", "ghp_u8jz"} {
		if strings.Contains(got, leak) {
			t.Errorf("stored attributes still hold %q: %s", leak, got)
		}
	}
	if !json.Valid(out[1].Attributes) || !strings.Contains(got, "[REDACTED_API_KEY]") {
		t.Errorf("masked attributes: %s", got)
	}
}

func BenchmarkRedactEvents(b *testing.B) {
	plain := []byte(`{"host.name":"box","http.method":"POST","http.path":"/v1/chat/completions","llm.model":"gpt-4o","llm.usage.input_tokens":120,"llm.usage.output_tokens":40,"messages":[{"role":"system","content":"You are a helpful assistant that answers questions about orders."},{"role":"user","content":"Where is my order 12345? It was supposed to arrive yesterday and I have not heard anything."}]}`)
	secret := []byte(`{"messages":[{"role":"user","content":"my key is sk-proj-Abcdefghijklmnopqrstuvwxyz_0123456789, can you check why it fails?"}]}`)
	for _, c := range []struct {
		name string
		attr []byte
	}{{"plain", plain}, {"secret", secret}} {
		b.Run(c.name, func(b *testing.B) {
			ev := &sink.Event{}
			batch := []*sink.Event{ev}
			b.SetBytes(int64(len(c.attr)))
			b.ReportAllocs()
			for b.Loop() {
				ev.Attributes = c.attr
				RedactEvents(batch)
			}
		})
	}
}

func TestMayHoldCredentialFoldsLikeThePatterns(t *testing.T) {
	for s, want := range map[string]bool{
		"plain text — with “quotes” and 日本語": false,
		"ſk-abc":               true, // (?i) folds the long s onto s
		"s\u212a-abc":          true, // and the Kelvin sign onto k
		"xx PRIVATE":           true,
		"a":                    false,
		"Bearer xyz":           true,
		"PASSWORD=":            true,
		"input_tokens counted": false,
		"the token count":      true, // conservative: "token allocation" would match
	} {
		if got := mayHoldCredential([]byte(s)); got != want {
			t.Errorf("%q: %v", s, got)
		}
	}
}

// Every secret member name, however it is spelt, reaches redaction: the
// prefilter must not skip {"private-key": "…"}.
func TestPrefilterCoversSecretMembers(t *testing.T) {
	words := map[string][]string{"apikey": {"api", "key"}, "xapikey": {"x", "api", "key"}, "proxyauthorization": {"proxy", "authorization"},
		"clientsecret": {"client", "secret"}, "accesstoken": {"access", "token"}, "refreshtoken": {"refresh", "token"},
		"privatekey": {"private", "key"}, "awssecretaccesskey": {"aws", "secret", "access", "key"}}
	for _, m := range secretMembers {
		w := words[m]
		if w == nil {
			w = []string{m}
		}
		for _, sep := range []string{"", "-", "_"} {
			for _, name := range []string{strings.Join(w, sep), strings.ToUpper(strings.Join(w, sep))} {
				attrs := []byte(`{"` + name + `":"abc123"}`)
				out := RedactEvents([]*sink.Event{{Attributes: attrs}})
				if strings.Contains(string(out[0].Attributes), "abc123") {
					t.Errorf("%s: stored unmasked: %s", name, out[0].Attributes)
				}
			}
		}
	}
}
