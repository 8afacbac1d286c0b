package configs

import (
	"reflect"
	"strings"
	"testing"
)

func TestExamplesLoadClean(t *testing.T) {
	names := ExampleNames()
	if want := []string{"anthropic", "clickhouse", "default", "openai", "production"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("ExampleNames() = %q, want %q", names, want)
	}
	environments := map[string]func(string) (string, bool){
		"no environment": nil,
		"all set": env(map[string]string{
			"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "sk-ant-test", "CLICKHOUSE_PASSWORD": "pw",
			"LLM_BASE_URL": "https://llm.example", "LLM_TYPE": "anthropic", "PERIMETER_DASHBOARD_HOST": "0.0.0.0",
			"PERIMETER_DASHBOARD_TOKEN": "dash", "CLICKHOUSE_CLUSTER": "main",
		}),
	}
	for _, name := range names {
		for envName, lookup := range environments {
			t.Run(name+"/"+envName, func(t *testing.T) {
				data, err := Example(name)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(string(data), "#") {
					t.Error("example should open with a comment saying what it is for")
				}
				cfg, ps, err := Parse(data, lookup)
				if err != nil {
					t.Fatal(err)
				}
				ps = append(ps, cfg.Validate()...)
				if len(ps) != 0 {
					t.Errorf("problems: %q", problemStrings(ps))
				}
				if strings.Contains(string(data), "sk-") {
					t.Error("example contains something that looks like a key")
				}
			})
		}
	}
}

func TestExampleLookup(t *testing.T) {
	def, err := Example("")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"default", "default.yaml", " Default "} {
		if got, err := Example(name); err != nil || string(got) != string(def) {
			t.Errorf("Example(%q) = %v", name, err)
		}
	}
	if _, err := Example("nginx"); err == nil || !strings.Contains(err.Error(), "openai") {
		t.Errorf("Example(nginx) err = %v", err)
	}
}

// The default example documents every key at its default value, so it
// must say what Default says.
func TestDefaultExampleMatchesDefault(t *testing.T) {
	data, _ := Example("")
	cfg, _, err := Parse(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	sections := []struct {
		name      string
		got, want any
	}{
		{"server", cfg.Server, d.Server},
		{"session", cfg.Session, d.Session},
		{"logging", cfg.Logging, d.Logging},
		{"live_trace", cfg.LiveTrace, d.LiveTrace},
		{"storage", cfg.Storage, d.Storage},
		{"detect", cfg.Detect, d.Detect},
	}
	for _, s := range sections {
		if !reflect.DeepEqual(s.got, s.want) {
			t.Errorf("%s:\n example %+v\n default %+v", s.name, s.got, s.want)
		}
	}
	llm := cfg.LLM
	llm.BaseURL, llm.Type = "", ""
	if !reflect.DeepEqual(llm, d.LLM) {
		t.Errorf("llm:\n example %+v\n default %+v", llm, d.LLM)
	}
	p, err := cfg.Interceptors[0].Printer()
	if err != nil || p != defaultPrinter() {
		t.Errorf("printer %+v %v", p, err)
	}
}
