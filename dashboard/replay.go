package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cylestio/perimeter/internal/defaults"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/pricing"
)

// Replay (GET /api/replay/config, POST /api/replay) re-sends a captured
// call, edited or not, to the proxy's configured upstream and answers with
// the upstream's answer, its usage and its cost. The dashboard sends it
// itself, not through the proxy: a replay is no agent traffic and is never
// stored. It goes to the configured upstream, or to another base URL and
// provider given for that one replay, always at a provider path
// (…/chat/completions, …/responses, …/messages) and without following
// redirects. The configured key is used server-side for the configured
// upstream only and never answered: another base URL gets the key typed
// for it, or none. A key sent with the request is used for that request
// only and never stored or logged. Like every write, a replay needs the
// dashboard's guard (a local Host and Origin, a JSON body) and its token.

// ReplayOptions say where POST /api/replay sends calls: the proxy's
// configured upstream (the llm block).
type ReplayOptions struct {
	// ProviderType is llm.type: "openai" or "anthropic".
	ProviderType string
	// BaseURL is llm.base_url; empty turns replay off.
	BaseURL string
	// APIKey is used when a replay brings no key of its own; KeySource
	// says where it came from (shown to the UI instead of the key).
	APIKey, KeySource string
	// Timeout bounds one replay (default 120s, the original's).
	Timeout time.Duration
	// Transport sends replays (tests); default http.DefaultTransport's
	// settings. Redirects are never followed.
	Transport http.RoundTripper
}

const (
	// maxReplayBody bounds a replay request (the edited call and its
	// envelope).
	maxReplayBody = 4 << 20
	// maxReplayAnswer bounds the upstream's answer read.
	maxReplayAnswer = 16 << 20
	// maxReplayDetails bounds the upstream error text passed on.
	maxReplayDetails = 4 << 10
	// replaysAtOnce bounds concurrent replays: each may wait for the
	// upstream for Timeout.
	replaysAtOnce    = 2
	anthropicVersion = "2023-06-01"
)

// replayer sends replays to one upstream.
type replayer struct {
	o      ReplayOptions
	base   *url.URL // scheme, host and path prefix; no credentials
	prices *pricing.Pricer
	client *http.Client
	slots  chan struct{}
}

func newReplayer(o ReplayOptions, prices *pricing.Pricer) (*replayer, error) {
	r := &replayer{o: o, prices: prices, slots: make(chan struct{}, replaysAtOnce)}
	o.ProviderType = strings.ToLower(strings.TrimSpace(o.ProviderType))
	if o.ProviderType == "" {
		o.ProviderType = "openai"
	}
	defaults.Set(&o.Timeout, 120*time.Second)
	r.o = o
	if o.BaseURL == "" {
		return r, nil
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(o.BaseURL), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("dashboard: replay base URL must be http(s)://host[:port][/prefix] (llm.base_url)")
	}
	r.base = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimRight(u.Path, "/")}
	tr := o.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	r.client = &http.Client{Transport: tr, Timeout: o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return r, nil
}

// ReplayConfig is GET /api/replay/config: the original's fields, the key
// shown masked only, plus what a replay may send.
type ReplayConfig struct {
	ProviderType    string  `json:"provider_type"`
	BaseURL         string  `json:"base_url"`
	APIKeyAvailable bool    `json:"api_key_available"`
	APIKeyMasked    *string `json:"api_key_masked"`
	APIKeySource    *string `json:"api_key_source"`
	// Enabled is false when the proxy has no upstream (Reason says so).
	Enabled      bool     `json:"enabled"`
	Reason       string   `json:"reason,omitempty"`
	Paths        []string `json:"paths"`
	MaxBodyBytes int      `json:"max_body_bytes"`
	TimeoutS     float64  `json:"timeout_seconds"`
}

func (r *replayer) config() *ReplayConfig {
	c := &ReplayConfig{ProviderType: r.o.ProviderType, Paths: []string{"…/chat/completions", "…/responses", "…/messages"},
		MaxBodyBytes: maxReplayBody, TimeoutS: r.o.Timeout.Seconds()}
	if r.base == nil {
		c.Reason = "the proxy has no upstream (llm.base_url), so there is nowhere to replay to"
		return c
	}
	c.Enabled, c.BaseURL = true, r.base.String()
	if r.o.APIKey != "" {
		c.APIKeyAvailable = true
		m := maskKey(r.o.APIKey)
		c.APIKeyMasked = &m
		src := r.o.KeySource
		if src == "" {
			src = "proxy_config"
		}
		c.APIKeySource = &src
	}
	return c
}

// maskKey shows the last four characters of a long key only, as the
// original does.
func maskKey(k string) string {
	if len(k) < 20 {
		return "••••••••"
	}
	return "••••••••" + k[len(k)-4:]
}

// replayRequest is POST /api/replay's body (the original's).
type replayRequest struct {
	Provider    string          `json:"provider"`
	BaseURL     string          `json:"base_url"`
	RequestData json.RawMessage `json:"request_data"`
	APIKey      string          `json:"api_key"`
	// Path is the captured call's http.path (its provider endpoint);
	// default: the provider's, from the body's shape.
	Path string `json:"path"`
}

// ReplayAnswer is POST /api/replay's answer: the original's fields
// (provider, raw_response, elapsed_ms, cost, parsed) plus the usage as
// Perimeter counts it and the cost's status.
type ReplayAnswer struct {
	Replay      bool            `json:"replay"`
	Provider    string          `json:"provider"`
	Path        string          `json:"path"`
	Status      int             `json:"status"`
	RawResponse json.RawMessage `json:"raw_response"`
	ElapsedMs   float64         `json:"elapsed_ms"`
	// Cost is the original's {input, output, total} in USD, null when
	// the model has no price or the answer no usage.
	Cost     *ReplayCost `json:"cost"`
	CostUSD  *float64    `json:"cost_usd"`
	CostStat string      `json:"cost_status"`
	PricedAs *string     `json:"priced_as"`
	Usage    ReplayUsage `json:"usage"`
	Parsed   Parsed      `json:"parsed"`
}

// ReplayCost is a replay's cost by side.
type ReplayCost struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
	Total  float64 `json:"total"`
}

// ReplayUsage is an answer's usage in Perimeter's terms (as the events
// count it).
type ReplayUsage struct {
	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
	CachedTokens     int64 `json:"cached_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
	ReasoningTokens  int64 `json:"reasoning_tokens"`
}

// Parsed is the original's digest of an answer.
type Parsed struct {
	Content      []ContentPart   `json:"content"`
	ToolCalls    []ToolCall      `json:"tool_calls"`
	Model        string          `json:"model"`
	Usage        json.RawMessage `json:"usage"`
	FinishReason string          `json:"finish_reason"`
}

// ContentPart is text or a tool call of an answer.
type ContentPart struct {
	Type  string          `json:"type"`
	Text  string          `json:"text,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
}

// ToolCall is a tool the model called.
type ToolCall struct {
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// replayError is an answer other than 200.
type replayError struct {
	status int
	body   map[string]any
}

func (e *replayError) Error() string { return fmt.Sprint(e.body["error"]) }

func replayFail(status int, param, msg string) *replayError {
	b := map[string]any{"error": msg}
	if param != "" {
		b["param"] = param
	}
	return &replayError{status: status, body: b}
}

func (s *Server) apiReplay(w http.ResponseWriter, r *http.Request) {
	out, err := s.replay.do(r)
	if err != nil {
		var re *replayError
		if !errors.As(err, &re) {
			re = replayFail(http.StatusInternalServerError, "", err.Error())
		}
		if re.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
		writeJSON(w, re.status, re.body)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (r *replayer) do(hr *http.Request) (*ReplayAnswer, error) {
	// JSON only: a form another site posts (sent without a preflight)
	// never gets here.
	mt, _, err := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, replayFail(http.StatusUnsupportedMediaType, "body", "send JSON (Content-Type: application/json)")
	}
	raw, err := io.ReadAll(io.LimitReader(hr.Body, maxReplayBody+1))
	if err != nil {
		return nil, replayFail(http.StatusBadRequest, "body", "read body: "+err.Error())
	}
	if len(raw) > maxReplayBody {
		return nil, replayFail(http.StatusRequestEntityTooLarge, "body", "body: larger than "+strconv.Itoa(maxReplayBody>>20)+" MiB")
	}
	var in replayRequest
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, replayFail(http.StatusBadRequest, "body", "want {request_data, path?, api_key?}: "+err.Error())
	}
	if r.base == nil {
		return nil, replayFail(http.StatusServiceUnavailable, "", "replay is off: "+r.config().Reason)
	}
	// The configured upstream, or another base URL and provider entered
	// for this replay. The configured key only ever goes to the configured
	// upstream: another one gets the key typed for it, or none.
	base, provider, other := r.base, r.o.ProviderType, false
	if p := strings.ToLower(strings.TrimSpace(in.Provider)); p != "" && p != provider {
		if p != "openai" && p != "anthropic" {
			return nil, replayFail(http.StatusBadRequest, "provider", "provider: openai or anthropic, not "+strconv.Quote(in.Provider))
		}
		provider, other = p, true
	}
	if b := strings.TrimRight(strings.TrimSpace(in.BaseURL), "/"); b != "" && b != r.base.String() {
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, replayFail(http.StatusBadRequest, "base_url", "base_url: want http(s)://host[:port][/prefix], without credentials, query or fragment")
		}
		base, other = u, true
	}
	body, err := replayBody(in.RequestData)
	if err != nil {
		return nil, err
	}
	path, err := replayPath(in.Path, body, base, provider)
	if err != nil {
		return nil, err
	}
	key := in.APIKey
	if key == "" && !other {
		key = r.o.APIKey
	}
	if key == "" && !other {
		return nil, replayFail(http.StatusBadRequest, "api_key", "No API key available. Please provide an API key.")
	}
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	default:
		return nil, replayFail(http.StatusServiceUnavailable, "", "replays: "+strconv.Itoa(replaysAtOnce)+" already running; retry when one ends")
	}
	// A browser that navigates away must not leave the call running, but
	// the upstream's time is bounded by the client's timeout anyway.
	ctx, cancel := context.WithTimeout(hr.Context(), r.o.Timeout)
	defer cancel()
	u := *base
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "perimeter-dashboard-replay")
	switch {
	case provider == "anthropic":
		if key != "" {
			req.Header.Set("X-Api-Key", key)
		}
		req.Header.Set("Anthropic-Version", anthropicVersion)
	case key != "":
		req.Header.Set("Authorization", "Bearer "+key)
	}
	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) || (ue != nil && ue.Timeout()) {
			return nil, replayFail(http.StatusGatewayTimeout, "", "the upstream did not answer within "+r.o.Timeout.String())
		}
		return nil, replayFail(http.StatusBadGateway, "", "the upstream "+base.String()+" could not be reached: "+redactKey(err.Error(), key))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxReplayAnswer+1))
	elapsed := time.Since(start)
	if err != nil {
		return nil, replayFail(http.StatusBadGateway, "", "read the upstream's answer: "+redactKey(err.Error(), key))
	}
	if len(answer) > maxReplayAnswer {
		return nil, replayFail(http.StatusBadGateway, "", "the upstream's answer is larger than "+strconv.Itoa(maxReplayAnswer>>20)+" MiB")
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// 502, not the upstream's own status: a provider's 401 must not
		// read as the dashboard refusing its token.
		details := redactKey(string(answer[:min(len(answer), maxReplayDetails)]), key)
		return nil, &replayError{status: http.StatusBadGateway, body: map[string]any{
			"error": "LLM API error: " + strconv.Itoa(resp.StatusCode), "upstream_status": resp.StatusCode, "details": details}}
	}
	if !json.Valid(answer) {
		return nil, replayFail(http.StatusBadGateway, "", "the upstream answered "+strconv.Itoa(resp.StatusCode)+" with something other than JSON")
	}
	out := &ReplayAnswer{Replay: true, Provider: provider, Path: path, Status: resp.StatusCode,
		RawResponse: answer, ElapsedMs: round(float64(elapsed.Microseconds())/1000, 2)}
	r.digest(out, answer, body)
	return out, nil
}

// replayBody is the call to send: the captured request with Perimeter's
// metadata removed and streaming off.
func replayBody(data json.RawMessage) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, replayFail(http.StatusBadRequest, "request_data", "request_data must be the call's JSON body (an object with model and messages or input)")
	}
	delete(m, "_cylestio_metadata")
	delete(m, "stream_options")
	m["stream"] = json.RawMessage("false")
	return json.Marshal(m)
}

// providerEndpoints are the path endings a replay may be sent to.
var providerEndpoints = []string{"/chat/completions", "/responses", "/messages"}

// replayPath is the upstream path (after the base URL's own): the
// captured one when given, and only a provider endpoint; else the
// provider's default.
func replayPath(captured string, body []byte, base *url.URL, provider string) (string, error) {
	p := strings.TrimSpace(captured)
	if p == "" {
		switch {
		case provider == "anthropic":
			p = "/v1/messages"
		case bytes.Contains(body, []byte(`"input":`)) && !bytes.Contains(body, []byte(`"messages":`)):
			p = "/v1/responses"
		default:
			p = "/v1/chat/completions"
		}
		if strings.HasSuffix(base.Path, "/v1") {
			p = strings.TrimPrefix(p, "/v1")
		}
		return p, nil
	}
	if rest, ok := strings.CutPrefix(p, "/agent-workflow/"); ok {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			p = rest[i:]
		}
	}
	bad := func(why string) error {
		return replayFail(http.StatusBadRequest, "path", "path "+strconv.Quote(captured)+": "+why)
	}
	if len(p) > 256 || !strings.HasPrefix(p, "/") {
		return "", bad("want the captured call's path, e.g. /v1/chat/completions")
	}
	for _, c := range []byte(p) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '-' || c == '_' || c == '.') {
			return "", bad("only letters, digits and / - _ . (no query, no escapes)")
		}
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", bad("empty, . and .. segments are not allowed")
		}
	}
	for _, e := range providerEndpoints {
		if strings.HasSuffix(p, e) {
			if (e == "/messages") != (provider == "anthropic") {
				return "", bad("not an endpoint of the " + provider + " API (leave path out to use the provider's own)")
			}
			return p, nil
		}
	}
	return "", bad("a replay goes to a provider endpoint: …/chat/completions, …/responses or …/messages")
}

func redactKey(s, key string) string {
	if len(key) < 4 {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}

// answerDoc is what a replay reads of an answer, in any of the three
// formats.
type answerDoc struct {
	Model   string          `json:"model"`
	Usage   json.RawMessage `json:"usage"`
	Choices []struct {
		Message struct {
			Content   *string `json:"content"`
			ToolCalls []struct {
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	// Anthropic: content blocks; Responses: output items.
	Content    []block `json:"content"`
	StopReason string  `json:"stop_reason"`
	Output     []struct {
		Type      string  `json:"type"`
		Name      string  `json:"name"`
		Arguments string  `json:"arguments"`
		Content   []block `json:"content"`
	} `json:"output"`
	Status string `json:"status"`
}

type block struct {
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

type usageDoc struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	PromptDetails    struct {
		Cached int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionDetails struct {
		Reasoning int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
	InputDetails struct {
		Cached int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputDetails struct {
		Reasoning int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	CacheRead     int64 `json:"cache_read_input_tokens"`
	CacheCreation int64 `json:"cache_creation_input_tokens"`
	CacheDetail   struct {
		Ephemeral1h int64 `json:"ephemeral_1h_input_tokens"`
	} `json:"cache_creation"`
}

// argsJSON is a tool call's arguments as JSON (they travel as a string in
// OpenAI's formats).
func argsJSON(s string) json.RawMessage {
	if json.Valid([]byte(s)) && strings.TrimSpace(s) != "" {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

// digest fills the parsed answer, usage and cost.
func (r *replayer) digest(out *ReplayAnswer, answer, sent []byte) {
	var d answerDoc
	_ = json.Unmarshal(answer, &d)
	p := &out.Parsed
	p.Content, p.ToolCalls, p.Model, p.Usage = []ContentPart{}, []ToolCall{}, d.Model, d.Usage
	if len(p.Usage) == 0 {
		p.Usage = json.RawMessage("null")
	}
	if len(d.Choices) > 0 {
		c := d.Choices[0]
		if c.Message.Content != nil && *c.Message.Content != "" {
			p.Content = append(p.Content, ContentPart{Type: "text", Text: *c.Message.Content})
		}
		for _, tc := range c.Message.ToolCalls {
			in := argsJSON(tc.Function.Arguments)
			p.Content = append(p.Content, ContentPart{Type: "tool_use", Name: tc.Function.Name, Input: in})
			p.ToolCalls = append(p.ToolCalls, ToolCall{Name: tc.Function.Name, Input: in})
		}
		p.FinishReason = c.FinishReason
	}
	for _, b := range d.Content {
		switch b.Type {
		case "text":
			p.Content = append(p.Content, ContentPart{Type: "text", Text: b.Text})
		case "tool_use":
			p.Content = append(p.Content, ContentPart{Type: "tool_use", Name: b.Name, Input: b.Input})
			p.ToolCalls = append(p.ToolCalls, ToolCall{Name: b.Name, Input: b.Input})
		}
	}
	if d.StopReason != "" {
		p.FinishReason = d.StopReason
	}
	for _, o := range d.Output {
		switch o.Type {
		case "message":
			for _, b := range o.Content {
				if b.Type == "output_text" || b.Type == "text" {
					p.Content = append(p.Content, ContentPart{Type: "text", Text: b.Text})
				}
			}
		case "function_call":
			in := argsJSON(o.Arguments)
			p.Content = append(p.Content, ContentPart{Type: "tool_use", Name: o.Name, Input: in})
			p.ToolCalls = append(p.ToolCalls, ToolCall{Name: o.Name, Input: in})
		}
	}
	if len(d.Output) > 0 && p.FinishReason == "" {
		p.FinishReason = d.Status
	}

	var u usageDoc
	_ = json.Unmarshal(d.Usage, &u)
	anthropic := out.Provider == "anthropic"
	use := pricing.Usage{InputIncludesCache: pricing.UsageShape(out.Provider)}
	if anthropic {
		use.Input, use.Output = u.InputTokens, u.OutputTokens
		use.Cached, use.CacheWrite, use.CacheWrite1h = u.CacheRead, u.CacheCreation, u.CacheDetail.Ephemeral1h
	} else {
		use.Input, use.Output = u.PromptTokens+u.InputTokens, u.CompletionTokens+u.OutputTokens
		use.Cached = u.PromptDetails.Cached + u.InputDetails.Cached
		use.Reasoning = u.CompletionDetails.Reasoning + u.OutputDetails.Reasoning
	}
	out.Usage = ReplayUsage{InputTokens: use.Input, OutputTokens: use.Output, CachedTokens: use.Cached,
		CacheWriteTokens: use.CacheWrite, ReasoningTokens: use.Reasoning}
	out.Usage.TotalTokens = use.Input + use.Output
	if anthropic {
		out.Usage.TotalTokens += use.Cached + use.CacheWrite
	}

	model := d.Model
	if model == "" {
		var req struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(sent, &req)
		model = req.Model
	}
	b, m, ok := r.prices.CostOf(model, use)
	switch {
	case !ok:
		out.CostStat = sink.CostUnpriced
	case use.Input == 0 && use.Output == 0 && use.Cached == 0 && use.CacheWrite == 0:
		out.CostStat = sink.CostNoUsage
		out.PricedAs = &m.Name
	default:
		out.CostStat = sink.CostPriced
		out.PricedAs = &m.Name
		total := roundUSD(b.Total())
		out.CostUSD = &total
		out.Cost = &ReplayCost{Input: roundUSD(b.InputTotal()), Output: roundUSD(b.OutputTotal()), Total: total}
	}
}
