package configs

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/internal/golden"
)

func TestRedactedHidesSecrets(t *testing.T) {
	secrets := map[string]string{
		"LLM_KEY":     "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234",
		"CH_PASSWORD": "ch-pass-7f3a9b",
		"DSN_PASS":    "dsn-pass-91ab",
		"DASH_TOKEN":  "dash-token-5521",
		"CLIENT_KEY":  "client-key-8812",
		"BEARER":      "bearer-value-0099aabb",
		"URL_KEY":     "url-key-4410ccdd",
		"AWS":         "AKIAABCDEFGHIJKLMNOP",
		"NESTED":      "nested-secret-3131",
		"SLACK_PATH":  "T000/B000/slackpath9a8b",
	}
	data := `llm:
  base_url: "https://gateway.example/v1?api_key=${URL_KEY}&region=eu"
  type: openai
  api_key: "${LLM_KEY}"
storage:
  engine: clickhouse
  clickhouse:
    dsn: "clickhouse://perimeter:${DSN_PASS}@ch.example:9000/perimeter"
    password: "${CH_PASSWORD}"
interceptors:
  - type: live_trace
    config:
      token: "${DASH_TOKEN}"
      server_port: 7100
  - type: auth
    config:
      api_keys: ["${CLIENT_KEY}"]
      headers: {Authorization: "Bearer ${BEARER}"}
      upstream: {credentials: {user: me, pass: "${NESTED}"}}
      note: "rotate ${AWS} soon"
      redact_credentials: true
alerts:
  destinations:
    - {type: slack, url: "https://hooks.slack.com/services/${SLACK_PATH}"}
`
	cfg, _, err := Parse([]byte(data), env(secrets))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(cfg.Redacted())
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range secrets {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("%s (%s) leaked into %s", name, secret, out)
		}
	}
	r := cfg.Redacted()
	llm := r["llm"].(map[string]any)
	if llm["api_key_configured"] != true || llm["api_key"] != RedactedValue {
		t.Errorf("llm = %v", llm)
	}
	if llm["base_url"] != "https://gateway.example/v1?api_key=[REDACTED]&region=eu" {
		t.Errorf("base_url = %v", llm["base_url"])
	}
	ch := r["storage"].(map[string]any)["clickhouse"].(map[string]any)
	if ch["dsn"] != "clickhouse://perimeter:[REDACTED]@ch.example:9000/perimeter" || ch["username"] != "default" {
		t.Errorf("clickhouse = %v", ch)
	}
	auth := r["interceptors"].([]any)[1].(map[string]any)["config"].(map[string]any)
	if auth["redact_credentials"] != true {
		t.Errorf("booleans under secret-looking names should stay: %v", auth)
	}
	// Redacted never modifies the config.
	if cfg.LLM.APIKey != secrets["LLM_KEY"] || cfg.Interceptors[0].Config["token"] != secrets["DASH_TOKEN"] {
		t.Error("Redacted modified the config")
	}
	// No key configured: reported as such, nothing invented.
	d := Default().Redacted()
	if l := d["llm"].(map[string]any); l["api_key_configured"] != false || l["api_key"] != "" {
		t.Errorf("default llm = %v", l)
	}
}

func TestRedactString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.openai.com/v1", "https://api.openai.com/v1"},
		{"https://user:pw@host:1/p?q=1", "https://user:[REDACTED]@host:1/p?q=1"},
		{"https://user@host/p", "https://user@host/p"},
		{"https://h/p?token=abc&x=1#frag", "https://h/p?token=[REDACTED]&x=1#frag"},
		{"use sk-ant-api03-abcdefghijklmnopqrst here", "use [REDACTED] here"},
		{"Authorization: Bearer abcdefgh12345678", "Authorization: Bearer [REDACTED]"},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "[REDACTED]"},
		{"plain text", "plain text"},
	}
	for _, tt := range tests {
		if got := redactString(tt.in); got != tt.want {
			t.Errorf("redactString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The effective, redacted configuration of the original's shipped config
// is what GET /config serves for it.
func TestRedactedGolden(t *testing.T) {
	cfg, _ := mustLoad(t, "testdata/original-config.yaml", env(map[string]string{"OPENAI_API_KEY": "sk-golden-secret-0123456789abcdef"}))
	cfg.Validate()
	got, err := json.MarshalIndent(cfg.Redacted(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden.Check(t, "original-config.redacted.json", got)
	if strings.Contains(string(got), "golden-secret") {
		t.Error("secret in golden output")
	}
}
