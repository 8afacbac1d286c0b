package dashboard

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cylestio/perimeter/bench/mockllm"
)

// sentLog records what a replay sent upstream.
type sentLog struct {
	mu   sync.Mutex
	reqs []sentReq
}

type sentReq struct {
	url    string
	header http.Header
	body   []byte
}

func (l *sentLog) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	l.mu.Lock()
	l.reqs = append(l.reqs, sentReq{url: r.URL.String(), header: r.Header.Clone(), body: b})
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (l *sentLog) all() []sentReq {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sentReq(nil), l.reqs...)
}

func replayServer(t *testing.T, o ReplayOptions, mod func(*Options)) (*Server, *sentLog) {
	log := &sentLog{}
	o.Transport = log
	return testServer(t, nil, func(opts *Options) {
		opts.Replay = o
		if mod != nil {
			mod(opts)
		}
	}), log
}

func postReplay(t *testing.T, s *Server, body string, hdr map[string]string) (int, map[string]any, []byte) {
	t.Helper()
	if hdr == nil {
		hdr = map[string]string{"Content-Type": "application/json"}
	}
	code, raw := call(t, s, "POST", "/api/replay", []byte(body), hdr)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return code, m, raw
}

// usageOf reads the mock's answer usage.
func usageOf(t *testing.T, raw any, keys ...string) []float64 {
	u, _ := raw.(map[string]any)["usage"].(map[string]any)
	var out []float64
	for _, k := range keys {
		v := any(u)
		for _, p := range strings.Split(k, ".") {
			v = v.(map[string]any)[p]
		}
		out = append(out, v.(float64))
	}
	return out
}

const replayKey = "sk-test-0123456789abcdefWXYZ"

// TestReplay re-sends captured calls to the mock upstream: OpenAI and
// Anthropic shapes, the answer's usage and its cost by hand-written
// rates, the key server-side only, and every way to point it elsewhere
// refused.
func TestReplay(t *testing.T) {
	mock, base, err := mockllm.Start(mockllm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Close()

	t.Run("openai", func(t *testing.T) {
		s, log := replayServer(t, ReplayOptions{ProviderType: "openai", BaseURL: base, APIKey: replayKey, KeySource: "proxy_config"}, nil)
		code, raw := call(t, s, "GET", "/api/replay/config", nil, nil)
		var cfg ReplayConfig
		_ = json.Unmarshal(raw, &cfg)
		if code != 200 || !cfg.Enabled || cfg.BaseURL != base || !cfg.APIKeyAvailable || cfg.APIKeyMasked == nil ||
			*cfg.APIKeyMasked != "••••••••WXYZ" || bytes.Contains(raw, []byte(replayKey[:12])) {
			t.Fatalf("config %d %s", code, raw)
		}

		// A captured request as the events store it: Perimeter's metadata
		// in it, streamed with usage.
		captured := `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"replay me"}],"_cylestio_metadata":{"session_id":"s-1"}}`
		code, m, raw := postReplay(t, s, `{"request_data":`+captured+`,"path":"/agent-workflow/wf-1/v1/chat/completions"}`, nil)
		if code != 200 || m["replay"] != true || m["provider"] != "openai" || m["path"] != "/v1/chat/completions" {
			t.Fatalf("replay %d %s", code, raw)
		}
		sent := log.all()
		if len(sent) != 1 || sent[0].url != base+"/v1/chat/completions" || sent[0].header.Get("Authorization") != "Bearer "+replayKey {
			t.Fatalf("sent %+v", sent)
		}
		var body map[string]any
		_ = json.Unmarshal(sent[0].body, &body)
		if body["stream"] != false || body["stream_options"] != nil || body["_cylestio_metadata"] != nil || body["model"] != "gpt-4o-mini" {
			t.Fatalf("sent body %s", sent[0].body)
		}
		// gpt-4o-mini: 0.15 USD per 1M input tokens (0.075 cached), 0.6 output.
		u := usageOf(t, m["raw_response"], "prompt_tokens", "completion_tokens", "prompt_tokens_details.cached_tokens")
		in, out, cached := u[0], u[1], u[2]
		want := ((in-cached)*0.15 + cached*0.075 + out*0.6) / 1e6
		cost, _ := m["cost"].(map[string]any)
		if in == 0 || out == 0 || !usdIs(ptrF(m["cost_usd"]), want) || cost == nil || !usdIs(ptrF(cost["total"]), want) ||
			!usdIs(ptrF(cost["output"]), out*0.6/1e6) || m["cost_status"] != "priced" || m["priced_as"] != "gpt-4o-mini" {
			t.Fatalf("cost: want %g, got %s", want, raw)
		}
		usage := m["usage"].(map[string]any)
		parsed := m["parsed"].(map[string]any)
		if usage["input_tokens"] != in || usage["output_tokens"] != out || parsed["model"] != "gpt-4o-mini" ||
			parsed["finish_reason"] != "stop" || len(parsed["content"].([]any)) != 1 || num(m, "elapsed_ms") <= 0 {
			t.Fatalf("answer %s", raw)
		}

		// The Responses API, from the body's shape; a key typed in the panel
		// replaces the configured one for this call.
		code, m, raw = postReplay(t, s, `{"request_data":{"model":"gpt-4o","input":"hi"},"api_key":"sk-typed-once-1234567890"}`, nil)
		sent = log.all()
		if code != 200 || m["path"] != "/v1/responses" || sent[1].header.Get("Authorization") != "Bearer sk-typed-once-1234567890" {
			t.Fatalf("responses %d %s", code, raw)
		}
		u = usageOf(t, m["raw_response"], "input_tokens", "output_tokens")
		if want := (u[0]*2.5 + u[1]*10) / 1e6; !usdIs(ptrF(m["cost_usd"]), want) {
			t.Fatalf("responses cost: want %g, got %s", want, raw)
		}

		// A model without a price: no cost, never $0.
		code, m, raw = postReplay(t, s, `{"request_data":{"model":"mystery-model-x","messages":[{"role":"user","content":"x"}]}}`, nil)
		if code != 200 || m["cost"] != nil || m["cost_usd"] != nil || m["cost_status"] != "unpriced" {
			t.Fatalf("unpriced %d %s", code, raw)
		}

		// Refused before anything is sent.
		n := len(log.all())
		for _, c := range []struct {
			body   string
			hdr    map[string]string
			status int
			want   string
		}{
			{body: `{"request_data":{"model":"m"},"base_url":"http://user:pw@127.0.0.1:1"}`, status: 400, want: "without credentials"},
			{body: `{"request_data":{"model":"m"},"base_url":"file:///etc/passwd"}`, status: 400, want: "http(s)"},
			{body: `{"request_data":{"model":"m"},"base_url":"http://127.0.0.1:1/?x=1"}`, status: 400, want: "query"},
			{body: `{"request_data":{"model":"m"},"provider":"gemini"}`, status: 400, want: "provider"},
			{body: `{"request_data":{"model":"m"},"provider":"anthropic","path":"/v1/chat/completions"}`, status: 400, want: "not an endpoint of the anthropic API"},
			{body: `{"request_data":{"model":"m"},"path":"/v1/../admin/chat/completions"}`, status: 400, want: "segments"},
			{body: `{"request_data":{"model":"m"},"path":"//evil.example/chat/completions"}`, status: 400, want: "segments"},
			{body: `{"request_data":{"model":"m"},"path":"http://evil.example/v1/chat/completions"}`, status: 400, want: "path"},
			{body: `{"request_data":{"model":"m"},"path":"/v1/chat/completions?x=1"}`, status: 400, want: "no query"},
			{body: `{"request_data":{"model":"m"},"path":"/v1/files"}`, status: 400, want: "provider endpoint"},
			{body: `{"request_data":"not an object"}`, status: 400, want: "request_data"},
			{body: `{"request_data":{"model":"m"}}`, hdr: map[string]string{"Content-Type": "text/plain"}, status: 415, want: "JSON"},
			{body: `{"request_data":{"model":"m"}}`, hdr: map[string]string{}, status: 415, want: "JSON"},
			{body: `{"request_data":{"model":"` + strings.Repeat("x", maxReplayBody) + `"}}`, status: 413, want: "larger"},
			{body: `{"request_data":{"model":"m"}}`, hdr: map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, status: 403},
		} {
			hdr := c.hdr
			if hdr == nil {
				hdr = map[string]string{"Content-Type": "application/json"}
			} else if len(hdr) == 0 {
				hdr = map[string]string{"Content-Type": ""}
			}
			code, _, raw := postReplay(t, s, c.body, hdr)
			if code != c.status || !strings.Contains(string(raw), c.want) {
				t.Errorf("%.80s: %d %.300s, want %d %q", c.body, code, raw, c.status, c.want)
			}
		}
		if got := len(log.all()); got != n {
			t.Fatalf("refused replays sent %d requests", got-n)
		}
	})

	// Another base URL and provider for one replay: the configured key
	// never goes there, only the key typed for it (or none).
	t.Run("other upstream", func(t *testing.T) {
		other, otherBase, err := mockllm.Start(mockllm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		s, log := replayServer(t, ReplayOptions{ProviderType: "openai", BaseURL: base, APIKey: replayKey}, nil)
		body := `{"request_data":{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":"x"}]},"provider":"anthropic","base_url":"` + otherBase + `"`
		code, m, raw := postReplay(t, s, body+`}`, nil)
		sent := log.all()
		if code != 200 || m["provider"] != "anthropic" || len(sent) != 1 || sent[0].url != otherBase+"/v1/messages" ||
			sent[0].header.Get("X-Api-Key") != "" || sent[0].header.Get("Authorization") != "" || bytes.Contains(raw, []byte(replayKey)) {
			t.Fatalf("other upstream without a key: %d %s %+v", code, raw, sent)
		}
		if u := usageOf(t, m["raw_response"], "input_tokens", "output_tokens"); !usdIs(ptrF(m["cost_usd"]), (u[0]*3+u[1]*15)/1e6) {
			t.Fatalf("other upstream priced as Anthropic: %s", raw)
		}
		code, _, raw = postReplay(t, s, body+`,"api_key":"sk-ant-typed-for-this-one"}`, nil)
		sent = log.all()
		if code != 200 || len(sent) != 2 || sent[1].header.Get("X-Api-Key") != "sk-ant-typed-for-this-one" {
			t.Fatalf("other upstream with a typed key: %d %s %+v", code, raw, sent[1:])
		}
	})

	t.Run("anthropic", func(t *testing.T) {
		s, log := replayServer(t, ReplayOptions{ProviderType: "anthropic", BaseURL: base + "/"}, nil)
		code, _, raw := postReplay(t, s, `{"request_data":{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":"x"}]}}`, nil)
		if code != 400 || !strings.Contains(string(raw), "No API key available") {
			t.Fatalf("no key: %d %s", code, raw)
		}
		code, m, raw := postReplay(t, s, `{"request_data":{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":"x"}]},"api_key":"`+replayKey+`"}`, nil)
		sent := log.all()
		if code != 200 || len(sent) != 1 || sent[0].url != base+"/v1/messages" || sent[0].header.Get("X-Api-Key") != replayKey ||
			sent[0].header.Get("Anthropic-Version") == "" || sent[0].header.Get("Authorization") != "" {
			t.Fatalf("anthropic %d %s %+v", code, raw, sent)
		}
		// claude-sonnet-4-5: 3 USD per 1M input tokens, 15 output, 0.3 cache reads.
		u := usageOf(t, m["raw_response"], "input_tokens", "output_tokens", "cache_read_input_tokens")
		if want := (u[0]*3 + u[1]*15 + u[2]*0.3) / 1e6; !usdIs(ptrF(m["cost_usd"]), want) || m["parsed"].(map[string]any)["finish_reason"] == "" {
			t.Fatalf("anthropic cost: want %g, got %s", want, raw)
		}
	})

	t.Run("upstream errors", func(t *testing.T) {
		// The upstream's error passes on as 502 with its text, the key in it
		// redacted; a redirect is not followed.
		var followed bool
		elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed = true }))
		defer elsewhere.Close()
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/responses") {
				http.Redirect(w, r, elsewhere.URL+"/v1/chat/completions", http.StatusTemporaryRedirect)
				return
			}
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"message":"Incorrect API key provided: `+r.Header.Get("Authorization")+`"}}`)
		}))
		defer up.Close()
		s, _ := replayServer(t, ReplayOptions{ProviderType: "openai", BaseURL: up.URL, APIKey: replayKey}, nil)
		code, m, raw := postReplay(t, s, `{"request_data":{"model":"gpt-4o","messages":[]}}`, nil)
		if code != 502 || num(m, "upstream_status") != 401 || !strings.Contains(str(m["details"]), "[redacted]") || bytes.Contains(raw, []byte(replayKey)) {
			t.Fatalf("upstream 401: %d %s", code, raw)
		}
		code, m, raw = postReplay(t, s, `{"request_data":{"model":"gpt-4o","input":"x"}}`, nil)
		if code != 502 || num(m, "upstream_status") != 307 || followed {
			t.Fatalf("redirect: %d %s followed=%v", code, raw, followed)
		}
	})

	t.Run("token", func(t *testing.T) {
		s, log := replayServer(t, ReplayOptions{BaseURL: base, APIKey: replayKey}, func(o *Options) { o.Token = "dash-token" })
		code, _, _ := postReplay(t, s, `{"request_data":{"model":"gpt-4o-mini","messages":[]}}`, nil)
		if code != 401 || len(log.all()) != 0 {
			t.Fatalf("without the dashboard token: %d", code)
		}
		code, _, raw := postReplay(t, s, `{"request_data":{"model":"gpt-4o-mini","messages":[]}}`,
			map[string]string{"Content-Type": "application/json", "Authorization": "Bearer dash-token"})
		if code != 200 {
			t.Fatalf("with the token: %d %s", code, raw)
		}
	})

	t.Run("off", func(t *testing.T) {
		s, _ := replayServer(t, ReplayOptions{}, nil)
		code, raw := call(t, s, "GET", "/api/replay/config", nil, nil)
		if code != 200 || !strings.Contains(string(raw), `"enabled":false`) {
			t.Fatalf("config %d %s", code, raw)
		}
		if code, _, raw := postReplay(t, s, `{"request_data":{"model":"m"}}`, nil); code != 503 {
			t.Fatalf("replay off: %d %s", code, raw)
		}
	})
}

func ptrF(v any) *float64 {
	f, ok := v.(float64)
	if !ok {
		return nil
	}
	return &f
}
