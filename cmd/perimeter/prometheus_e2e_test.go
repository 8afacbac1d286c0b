package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestPrometheusSeriesAfterTraffic: 10,000 calls from 10,000 distinct
// agent ids plus a few busy agents and some failing calls through the
// binary; /metrics/prometheus must parse with Prometheus' own text parser,
// carry the proxy's, the traffic's and the pipeline's series, count every
// call, and keep the agent label to max_agents values plus "other".
func TestPrometheusSeriesAfterTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 calls")
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-Fail") != "" {
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"slow down","type":"rate_limit_error"}}`)
			return
		}
		io.WriteString(w, `{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":1,"total_tokens":8}}`)
	}))
	defer up.Close()
	const maxAgents = 10
	p := startPerimeter(t, up.URL, fmt.Sprintf("storage: {engine: none}\n"+
		"interceptors:\n  - {type: message_logger, enabled: true, config: {directory: %q}}\n"+
		"telemetry: {prometheus: {max_agents: %d}}\n", t.TempDir(), maxAgents))

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	call := func(agent string, fail bool) error {
		req, _ := http.NewRequest(http.MethodPost, p.url+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi `+agent+`"}]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Cylestio-Agent-Id", agent)
		if fail {
			req.Header.Set("X-Fail", "1")
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil
	}
	const distinct, busy, busyCalls, failing = 10000, 3, 20, 7
	var sent atomic.Int64
	var wg sync.WaitGroup
	work := make(chan [2]any, 64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range work {
				if err := call(w[0].(string), w[1].(bool)); err != nil {
					t.Error(err)
					return
				}
				sent.Add(1)
			}
		}()
	}
	for i := range distinct {
		work <- [2]any{fmt.Sprintf("one-off-%05d", i), false}
		if i%500 == 0 {
			for b := range busy {
				work <- [2]any{fmt.Sprintf("busy-%d", b), false}
			}
		}
	}
	for b := range busy {
		for range busyCalls {
			work <- [2]any{fmt.Sprintf("busy-%d", b), false}
		}
	}
	for range failing {
		work <- [2]any{"busy-0", true}
	}
	close(work)
	wg.Wait()
	total := float64(sent.Load())

	var fams map[string]*dto.MetricFamily
	testkit.Eventually(60*time.Second, 200*time.Millisecond, func() bool {
		resp, err := http.Get(p.url + "/metrics/prometheus")
		if err != nil {
			t.Fatal(err)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err = parser.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("/metrics/prometheus does not parse: %v", err)
		}
		return sum(fams["perimeter_llm_calls_total"], nil) >= total
	})
	for _, name := range []string{"perimeter_requests_total", "perimeter_upstream_response_seconds", "perimeter_llm_calls_total",
		"perimeter_llm_tokens_total", "perimeter_llm_call_duration_seconds", "perimeter_llm_errors_total", "perimeter_llm_cost_usd_total",
		"perimeter_sessions_active", "perimeter_sessions_created_total", "perimeter_sink_queue_events", "perimeter_sink_writer_lag_seconds",
		"perimeter_sink_spill_bytes", "perimeter_storage_up"} {
		if fams[name] == nil {
			t.Errorf("family %s missing", name)
		}
	}
	if got := sum(fams["perimeter_llm_calls_total"], nil); got != total {
		t.Errorf("perimeter_llm_calls_total sums to %v, %v calls were sent", got, total)
	}
	if got := sum(fams["perimeter_requests_total"], nil); got != total {
		t.Errorf("perimeter_requests_total %v, want %v", got, total)
	}
	if got := sum(fams["perimeter_llm_calls_total"], map[string]string{"outcome": "error"}); got != failing {
		t.Errorf("error calls %v, want %d", got, failing)
	}
	if got := sum(fams["perimeter_llm_errors_total"], map[string]string{"type": "rate_limit_error"}); got != failing {
		t.Errorf("rate_limit_error %v, want %d", got, failing)
	}
	if got := sum(fams["perimeter_llm_tokens_total"], map[string]string{"kind": "input"}); got != 7*(total-failing) {
		t.Errorf("input tokens %v, want %v", got, 7*(total-failing))
	}
	if h := fams["perimeter_upstream_response_seconds"]; h.GetType() != dto.MetricType_HISTOGRAM || float64(h.Metric[0].GetHistogram().GetSampleCount()) != total {
		t.Errorf("upstream histogram %v", h)
	}
	agents := map[string]bool{}
	for _, name := range []string{"perimeter_llm_calls_total", "perimeter_llm_tokens_total", "perimeter_llm_cost_usd_total"} {
		for _, m := range fams[name].Metric {
			for _, l := range m.Label {
				if l.GetName() == "agent" {
					agents[l.GetValue()] = true
				}
			}
		}
	}
	if len(agents) > maxAgents+1 || !agents["other"] {
		t.Errorf("%d agent label values (want at most %d and other): %v", len(agents), maxAgents, agents)
	}
	for b := range busy {
		if !agents[fmt.Sprintf("busy-%d", b)] {
			t.Errorf("busy-%d, among the busiest, has no label of its own", b)
		}
	}
	series := 0
	for _, f := range fams {
		series += len(f.Metric)
	}
	if series > 1000 {
		t.Errorf("%d series after 10,000 agents", series)
	}
	t.Logf("%v calls, %d families, %d series, agents %d", total, len(fams), series, len(agents))
}

// sum adds the samples of a counter or gauge family whose labels match.
func sum(f *dto.MetricFamily, match map[string]string) float64 {
	if f == nil {
		return 0
	}
	var s float64
next:
	for _, m := range f.Metric {
		for k, v := range match {
			found := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		s += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return s
}

// TestPrometheusHelpAndType: every family of a scrape with the pipeline,
// its writers, the exporter and the guard on has exactly one HELP and
// one TYPE line, and the scrape parses with Prometheus' own parser.
func TestPrometheusHelpAndType(t *testing.T) {
	rcv := newOTLPReceiver(t)
	p := startPerimeter(t, startMockLLM(t), fmt.Sprintf(`storage: {engine: none}
interceptors:
  - {type: event_recorder, enabled: true, config: {output_dir: %q}}
telemetry:
  otel: {enabled: true, endpoint: %q}
policies:
  guard:
    - {name: block-keys, match: {categories: [secret]}, action: block}
`, t.TempDir(), rcv.srv.URL))
	postPolicy(t, p.url, "/v1/chat/completions", chatBody("user", "hello"))
	var text string
	waitUntil(t, 15*time.Second, "the call in the traffic series", func() bool {
		resp, err := http.Get(p.url + "/metrics/prometheus")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text = string(b)
		return strings.Contains(text, "perimeter_llm_calls_total{")
	})
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("/metrics/prometheus does not parse: %v", err)
	}
	help, typ := map[string]int{}, map[string]int{}
	for l := range strings.Lines(text) {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "#" {
			switch f[1] {
			case "HELP":
				help[f[2]]++
			case "TYPE":
				typ[f[2]]++
			}
		}
	}
	// A family may have no samples (no findings yet): the parser leaves
	// it out, its HELP and TYPE lines do not.
	names := map[string]bool{}
	for _, m := range []map[string]int{help, typ} {
		for name := range m {
			names[name] = true
		}
	}
	for name := range fams {
		names[name] = true
	}
	for name := range names {
		if typ[name] != 1 || help[name] != 1 {
			t.Errorf("%s: %d HELP and %d TYPE lines, want one of each", name, help[name], typ[name])
		}
	}
	if len(names) < 40 {
		t.Errorf("only %d families", len(names))
	}
}
