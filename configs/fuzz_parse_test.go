package configs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the whole config path a user's file
// takes: Parse, Validate, the typed interceptor views and Redacted. None
// may panic, and every result must be usable.
func FuzzParse(f *testing.F) {
	for _, name := range ExampleNames() {
		data, _ := Example(name)
		f.Add(data)
	}
	fixtures, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range fixtures {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"server: &a {port: 1}\nllm: *a\n",
		"a: &a [*a]\n",
		"<<: {server: {port: 2}}\n",
		"server:\n  <<: [{port: 5}, {host: x}]\n",
		"interceptors: [{type: live_trace, config: {server_port: .nan, x: {1: 2}}}]\n",
		"llm: {timeout: 1e400, api_key: !!binary aGVsbG8=}\n",
		"server: {port: ${P:-${Q}}}\n",
		"logging: {max_file_size: 9999999999999999999}\n",
		"pricing: {url: 'http://[::1', models: {m: {input: .nan, output: -1e400}, '': {input: 1}, x: [1], y: {reasoning: {a: 1}}}}\n",
	} {
		f.Add([]byte(s))
	}
	lookup := env(map[string]string{"P": "80", "OPENAI_API_KEY": "sk-fuzz"})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, ps, err := Parse(data, lookup)
		for _, p := range ps {
			if p.Message == "" {
				t.Fatalf("empty problem message: %+v", p)
			}
		}
		if err != nil {
			if cfg != nil {
				t.Fatal("config returned with an error")
			}
			return
		}
		if cfg == nil {
			t.Fatal("nil config without an error")
		}
		cfg.Validate()
		for _, ic := range cfg.Interceptors {
			_, _ = ic.Printer()
			_, _ = ic.MessageLogger()
			_, _ = ic.EventRecorder()
			_, _ = ic.HTTPRecorder()
			_, _ = ic.LiveTrace()
		}
		_, _, _ = cfg.LiveTraceSettings()
		if _, err := json.Marshal(cfg.Redacted()); err != nil {
			t.Fatalf("Redacted not JSON: %v", err)
		}
		_ = cfg.Clone().WithOverrides(Overrides{Port: 1})
	})
}
