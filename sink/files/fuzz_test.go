package files

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRedactJSON: redaction keeps valid JSON valid and never lets a
// matching key through.
func FuzzRedactJSON(f *testing.F) {
	for _, s := range []string{`{"a":"sk-abcdefghijklmnopqrstuvwxyz"}`, `["x", 1, {"api_key":"k"}]`, `"\u00e9\\\""`, `{"k" : "token: abcdefghij"}`} {
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
