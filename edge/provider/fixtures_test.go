package provider

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/bench/mockllm"
)

// TestGenerateFixtures records the mock provider's answers as fixtures
// under testdata/responses and testdata/streams (files named mock_*). It
// runs only with -update; the goldens are then rewritten by the golden
// tests of the same run.
func TestGenerateFixtures(t *testing.T) {
	if !updating() {
		t.Skip("run with -update to regenerate the mock fixtures")
	}
	srv, base, err := mockllm.Start(mockllm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	apis := []struct{ name, path, body string }{
		{"chat", "/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Use the tool, please."}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{}}}]%s}`},
		{"responses", "/v1/responses", `{"model":"gpt-4.1-mini","input":"Use the tool, please.","tools":[{"type":"function","name":"get_weather","parameters":{}}]%s}`},
		{"anthropic", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":"Use the tool, please."}],"tools":[{"name":"get_weather","input_schema":{"type":"object"}}]%s}`},
	}
	type variant struct {
		name   string
		stream bool
		hdr    []string
	}
	variants := []variant{
		{"text", false, []string{"x-mock-tool", "0", "x-mock-chunks", "8", "x-mock-cached-tokens", "3"}},
		{"tool", false, []string{"x-mock-tool", "1"}},
		{"error_429", false, []string{"x-mock-status", "429"}},
		{"error_500", false, []string{"x-mock-status", "500"}},
		{"text", true, []string{"x-mock-tool", "0", "x-mock-chunks", "6", "x-mock-cached-tokens", "2"}},
		{"tool", true, []string{"x-mock-tool", "1", "x-mock-chunks", "5"}},
		{"error_event", true, []string{"x-mock-tool", "0", "x-mock-chunks", "6", "x-mock-error-event-after", "4"}},
		{"cut", true, []string{"x-mock-tool", "0", "x-mock-chunks", "6", "x-mock-disconnect-after", "5"}},
	}
	for _, api := range apis {
		for _, v := range variants {
			extra := ""
			if v.stream {
				extra = `,"stream":true`
				if api.name == "chat" {
					extra += `,"stream_options":{"include_usage":true}`
				}
			}
			body := strings.Replace(api.body, "%s", extra, 1)
			req, err := http.NewRequest(http.MethodPost, base+api.path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(v.hdr); i += 2 {
				req.Header.Set(v.hdr[i], v.hdr[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body) // a cut stream ends in an error: keep what came
			resp.Body.Close()
			if err != nil && v.name != "cut" {
				t.Fatalf("%s %s: %v", api.name, v.name, err)
			}
			dir, ext := "responses", ".json"
			if v.stream {
				dir, ext = "streams", ".sse"
			}
			file := filepath.Join("testdata", dir, "mock_"+api.name+"_"+v.name+ext)
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
