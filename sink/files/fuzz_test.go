package files

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/cylestio/perimeter/sink"
)

// FuzzRedactJSON: redaction keeps valid JSON valid and never lets a
// matching key through.
func FuzzRedactJSON(f *testing.F) {
	for _, s := range []string{`{"a":"sk-abcdefghijklmnopqrstuvwxyz"}`, `["x", 1, {"api_key":"k"}]`, `"\u00e9\\\""`, `{"k" : "token: abcdefghij"}`, `{"token":"x","a":"the token: abcdefghijkl"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		out := redactJSON(in)
		if !json.Valid(out) {
			t.Fatalf("%s -> invalid %s", in, out)
		}
		if credentialPatterns[0].re.Match(out) {
			t.Fatalf("%s -> %s still holds a key", in, out)
		}
		// The prefilter of stored events never skips what redaction changes.
		if !mayHoldCredential(in) && string(out) != string(in) {
			t.Fatalf("%s: the prefilter skips it but redaction changes it to %s", in, out)
		}
	})
}

// FuzzReadRecordings: any file content is read without panicking; every
// pair starts with a request.
func FuzzReadRecordings(f *testing.F) {
	f.Add([]byte(`{"type":"request","body":{"size":3,"type":"binary","content":"/wAQ"}}` + "\n" + `{"type":"response"}`))
	f.Add([]byte(`{"type":"request","headers":{"a":"b"},"body":{"type":"json","content":{"x":[1]}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		path := filepath.Join(t.TempDir(), "recording_001.jsonl")
		if err := os.WriteFile(path, in, 0o600); err != nil {
			t.Fatal(err)
		}
		rec, err := ReadRecordings(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rec.Pairs {
			if p.Request.Type != "request" {
				t.Fatalf("pair starts with %s", p.Request.Type)
			}
			_, _ = p.Request.Body.Bytes()
			_ = p.Request.Body.Truncated()
		}
	})
}

// redactAll is RedactCredentials without the literal prefilter.
func redactAll(s string) string {
	for _, p := range credentialPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// FuzzRedactCredentials checks that skipping the patterns whose literals
// are absent never changes what is redacted.
func FuzzRedactCredentials(f *testing.F) {
	for _, s := range []string{"", "plain text", "my key is sk-abcdefghijklmnopqrstuvwxyz012345", "Authorization: BEARER abcdefghijklmnopqrstuvwxyz",
		"API_KEY=abcdefghijklmnopqrstuvwxyz", "akia0123456789abcdef", "PassWord: hunter2hunter2", "sk-proj-abcdefghijklmnopqrstuvwxyz",
		"ſecret: 12345678", "\u212Aey café sk-ABCDEFGHIJKLMNOPQRSTUV"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := RedactCredentials(s), redactAll(s); got != want {
			t.Fatalf("%q: got %q, want %q", s, got, want)
		}
	})
}

// FuzzAppendEnvelope: an envelope is one line whatever the attributes, and
// valid JSON with the same attributes when they are.
func FuzzAppendEnvelope(f *testing.F) {
	for _, s := range []string{`{}`, "{\n  \"a\": [1,\r\n 2]\n}", "{\"a\":\n", `{"s":"x\ny"}`, "\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, attrs []byte) {
		out := AppendEnvelope(nil, &sink.Event{Name: "e", Attributes: attrs})
		if bytes.ContainsAny(out, "\r\n") {
			t.Fatalf("%q -> more than one line: %q", attrs, out)
		}
		if !json.Valid(attrs) || len(attrs) == 0 {
			return
		}
		var env struct{ Attributes json.RawMessage }
		if err := json.Unmarshal(out, &env); err != nil {
			t.Fatalf("%q -> invalid %q: %v", attrs, out, err)
		}
		var a, b bytes.Buffer
		_ = json.Compact(&a, attrs)
		_ = json.Compact(&b, env.Attributes)
		if a.String() != b.String() {
			t.Fatalf("attributes %q became %q", attrs, env.Attributes)
		}
	})
}
