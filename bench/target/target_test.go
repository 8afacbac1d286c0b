package target

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestPerimeterConfig(t *testing.T) {
	base := []byte("server: {port: 4000, timeout: 30}\nllm: {base_url: https://api.openai.com, type: anthropic, max_conns: 100}\ninterceptors: [{type: printer, enabled: true}]\nlogging: {level: INFO}\n")
	out, err := PerimeterConfig(base, 5555, "127.0.0.1:6666", 4096)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Server struct {
			Host    string
			Port    int
			Timeout int
		}
		LLM struct {
			BaseURL  string `yaml:"base_url"`
			Type     string
			MaxConns int `yaml:"max_conns"`
		}
		Interceptors []map[string]any
		Logging      struct{ Level string }
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Server.Host != "127.0.0.1" || doc.Server.Port != 5555 || doc.Server.Timeout != 30 {
		t.Errorf("server %+v", doc.Server)
	}
	if doc.LLM.BaseURL != "http://127.0.0.1:6666" || doc.LLM.Type != "openai" || doc.LLM.MaxConns != 4096 {
		t.Errorf("llm %+v", doc.LLM)
	}
	if len(doc.Interceptors) != 1 || doc.Logging.Level != "INFO" {
		t.Errorf("user settings lost: %+v %+v", doc.Interceptors, doc.Logging)
	}
	plain, err := PerimeterConfig(nil, 1, "127.0.0.1:2", 8192)
	if err != nil || !strings.Contains(string(plain), "level: ERROR") || !strings.Contains(string(plain), "max_conns: 8192") {
		t.Errorf("plain config:\n%s (%v)", plain, err)
	}
}

func TestParseExtraSpec(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "capture.yaml")
	os.WriteFile(conf, []byte("llm: {}\n"), 0o644)
	sp, err := ParseExtraSpec("capture-chdb=" + conf + ",events=sink.events_written,dropped=sink.events_dropped")
	if err != nil {
		t.Fatal(err)
	}
	if sp.Name != "capture-chdb" || sp.Kind != Perimeter || sp.ConfigFile != conf || sp.EventsPath != "sink.events_written" || sp.DroppedPath != "sink.events_dropped" {
		t.Errorf("got %+v", sp)
	}
	for _, bad := range []string{"noequals", "=x.yaml", "n=" + conf + ",bogus=1", "n=/does/not/exist.yaml"} {
		if _, err := ParseExtraSpec(bad); err == nil {
			t.Errorf("ParseExtraSpec(%q) accepted", bad)
		}
	}
}

func TestLookupNumber(t *testing.T) {
	var doc any
	json.Unmarshal([]byte(`{"sink":{"events_written":1234,"name":"x"},"n":-1}`), &doc)
	if v, ok := LookupNumber(doc, "sink.events_written"); !ok || v != 1234 {
		t.Errorf("got %d %v", v, ok)
	}
	for _, p := range []string{"sink.name", "sink.missing", "n", "sink.events_written.deeper"} {
		if _, ok := LookupNumber(doc, p); ok {
			t.Errorf("LookupNumber(%q) succeeded", p)
		}
	}
}
