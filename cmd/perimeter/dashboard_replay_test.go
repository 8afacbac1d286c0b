package main

import (
	"testing"

	"github.com/cylestio/perimeter/configs"
)

// TestReplayOptions: the dashboard replays to llm.base_url with
// llm.api_key, else the provider's environment variable, else no key (the
// user types one per replay).
func TestReplayOptions(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-env-openai")
	t.Setenv("ANTHROPIC_API_KEY", "")
	for _, c := range []struct {
		llm         configs.LLMConfig
		key, source string
	}{
		{configs.LLMConfig{Type: "openai", BaseURL: "https://api.openai.com", APIKey: "sk-configured"}, "sk-configured", "proxy_config"},
		{configs.LLMConfig{Type: "openai", BaseURL: "https://api.openai.com"}, "sk-from-env-openai", "environment (OPENAI_API_KEY)"},
		{configs.LLMConfig{Type: "anthropic", BaseURL: "https://api.anthropic.com"}, "", ""},
	} {
		o := replayOptions(c.llm)
		if o.APIKey != c.key || o.KeySource != c.source || o.BaseURL != c.llm.BaseURL || o.ProviderType != c.llm.Type {
			t.Errorf("%+v: got %+v", c.llm, o)
		}
	}
}
