package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
)

// costCall is one call of the cost end-to-end test and how it must be
// stored. Rates are USD per 1M tokens, written here by hand from the
// built-in table (or the test's pricing.models): uncached input, cache
// read, output.
type costCall struct {
	path, body string
	headers    []string
	status     string
	in, cached float64 // rates
	out        float64
}

var costCalls = []costCall{
	{ // OpenAI shape: prompt_tokens include the cached ones.
		path: "/v1/chat/completions", body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"price me"}]}`,
		headers: []string{"x-mock-cached-tokens", "4"}, status: sink.CostPriced, in: 0.15, cached: 0.075, out: 0.6,
	},
	{ // Streamed usage; a dated variant priced by its model.
		path: "/v1/chat/completions", body: `{"model":"gpt-4o-2024-11-20","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"stream me"}]}`,
		status: sink.CostPriced, in: 2.5, cached: 1.25, out: 10,
	},
	{ // Anthropic shape: input_tokens exclude cache reads.
		path: "/v1/messages", body: `{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":"price me too"}]}`,
		headers: []string{"x-mock-cached-tokens", "6"}, status: sink.CostPriced, in: 3, cached: 0.3, out: 15,
	},
	{ // A stream cut after message_start: its usage so far, marked partial.
		path: "/v1/messages", body: `{"model":"claude-haiku-4-5-20251001","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"cut me"}]}`,
		headers: []string{"x-mock-disconnect-after", "2"}, status: sink.CostPartial, in: 1, cached: 0.1, out: 5,
	},
	{ // Self-hosted, priced at zero on purpose in pricing.models.
		path: "/v1/chat/completions", body: `{"model":"my-llama-70b","messages":[{"role":"user","content":"free"}]}`,
		status: sink.CostPriced,
	},
	{ // No price anywhere: unpriced, never 0.
		path: "/v1/chat/completions", body: `{"model":"mystery-model-x","messages":[{"role":"user","content":"who knows"}]}`,
		status: sink.CostUnpriced,
	},
}

// TestCostReachesTheStore: calls through the running proxy to the mock
// upstream end up in the store with the cost of the usage they reported,
// on the embedded engine and (when PERIMETER_TEST_CLICKHOUSE is set) a
// ClickHouse server.
func TestCostReachesTheStore(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		lib := requireLibchdb(t)
		data := t.TempDir()
		driveCostCalls(t, embeddedSection(data), "CHDB_LIB_PATH="+lib)
		checkStoredCosts(t, openEmbedded(t, data, lib), sink.SchemaOptions{})
	})
	t.Run("clickhouse", func(t *testing.T) {
		addr := requireClickHouse(t)
		db := fmt.Sprintf("perimeter_cost_%d", time.Now().UnixNano())
		dropAtEnd(t, addr, db)
		driveCostCalls(t, clickhouseSection(addr, db))
		checkStoredCosts(t, openClickHouse(t, addr, db), sink.SchemaOptions{Database: db})
	})
}

// driveCostCalls runs the binary in front of the mock, sends costCalls,
// checks /config's pricing status, then stops it with SIGTERM (the
// pipeline drains into the store before it exits).
func driveCostCalls(t *testing.T, storage string, env ...string) {
	t.Helper()
	_, base := mockWith(t, mockllm.Config{Chunks: 3})
	p := startConfig(t, llmSection(base)+storage+
		"pricing:\n  models:\n    my-llama-70b: {input: 0, output: 0}\n", nil, env...)
	url := p.url
	for i, c := range costCalls {
		req, _ := http.NewRequest(http.MethodPost, url+c.path, strings.NewReader(c.body))
		req.Header.Set("content-type", "application/json")
		req.Header.Set("x-cylestio-session-id", fmt.Sprintf("cost-%d", i))
		for j := 0; j+1 < len(c.headers); j += 2 {
			req.Header.Set(c.headers[j], c.headers[j+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body) // a cut stream ends in an error here
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("call %d: HTTP %d", i, resp.StatusCode)
		}
	}

	// /config says which table prices calls and names the unpriced model
	// once the pipeline has seen it.
	var unpriced []string
	testkit.Eventually(30*time.Second, 100*time.Millisecond, func() bool {
		var cfg struct {
			Analytics struct {
				Pricing struct {
					InUse    string `json:"in_use"`
					Models   int    `json:"models"`
					Unpriced []struct {
						Model string `json:"model"`
					} `json:"unpriced_models"`
				} `json:"pricing"`
			} `json:"analytics"`
		}
		getJSON(t, url+"/config", &cfg)
		p := cfg.Analytics.Pricing
		if p.InUse != "built-in" || p.Models < 100 {
			t.Fatalf("/config pricing: %+v", p)
		}
		unpriced = unpriced[:0]
		for _, u := range p.Unpriced {
			unpriced = append(unpriced, u.Model)
		}
		return len(unpriced) > 0
	})
	if fmt.Sprint(unpriced) != "[mystery-model-x]" {
		t.Errorf("/config unpriced models %v, want [mystery-model-x]", unpriced)
	}

	// /metrics carries the cost and tokens per model; the unpriced model
	// has no cost (null), never $0.
	var m struct {
		Models []struct {
			Model       string   `json:"model"`
			Calls       uint64   `json:"calls"`
			InputTokens uint64   `json:"input_tokens"`
			CostUSD     *float64 `json:"cost_usd"`
		} `json:"models"`
	}
	seen := map[string]bool{}
	testkit.Eventually(30*time.Second, 100*time.Millisecond, func() bool {
		getJSON(t, url+"/metrics", &m)
		for _, mm := range m.Models {
			seen[mm.Model] = true
		}
		return seen["mystery-model-x"] && seen["gpt-4o-mini"]
	})
	for _, mm := range m.Models {
		if mm.Model == "mystery-model-x" && mm.CostUSD != nil {
			t.Errorf("/metrics: the unpriced model has a cost: %+v", mm)
		}
		if mm.Model == "gpt-4o-mini" && (mm.CostUSD == nil || *mm.CostUSD <= 0 || mm.InputTokens == 0) {
			t.Errorf("/metrics: gpt-4o-mini without cost or tokens: %+v", mm)
		}
	}
	if !seen["mystery-model-x"] || !seen["gpt-4o-mini"] {
		t.Errorf("/metrics models: %+v", m.Models)
	}

	p.stop(t, 60*time.Second)
}

func checkStoredCosts(t *testing.T, st sink.Store, o sink.SchemaOptions) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rows, err := st.Query(ctx, "SELECT session_id, vendor, model, cost_status, cost_usd, input_tokens, cached_tokens, output_tokens"+
		" FROM "+sink.EventsSource(o)+" WHERE name = ? ORDER BY session_id", sink.LLMCallFinish)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows.Data) != len(costCalls) {
		t.Fatalf("%d finished calls stored, want %d: %v", len(rows.Data), len(costCalls), rows.Data)
	}
	for i, r := range rows.Data {
		c := costCalls[i]
		status, cost := r[3].(string), r[4]
		in, cached, out := float64(toInt(r[5])), float64(toInt(r[6])), float64(toInt(r[7]))
		if r[0] != fmt.Sprintf("cost-%d", i) || status != c.status {
			t.Errorf("call %d (%v %v): status %q, want %q", i, r[1], r[2], status, c.status)
			continue
		}
		if c.status == sink.CostUnpriced {
			if cost != nil {
				t.Errorf("call %d: an unpriced call stored cost %v, want NULL", i, cost)
			}
			continue
		}
		uncached := in
		if r[1] == "openai" {
			uncached = in - cached
		}
		want := (uncached*c.in + cached*c.cached + out*c.out) / 1e6
		if in <= 0 || out <= 0 || (len(c.headers) > 1 && c.headers[0] == "x-mock-cached-tokens" && cached <= 0) {
			t.Errorf("call %d: usage in %v cached %v out %v: the mock's usage did not arrive", i, in, cached, out)
		}
		got, ok := cost.(float64)
		if !ok || math.Abs(got-want) > 1e-12 {
			t.Errorf("call %d (%v %v, in %v cached %v out %v): cost %v, want %v", i, r[1], r[2], in, cached, out, cost, want)
		}
	}

	// What the dashboard sums: priced calls only; a session of unpriced
	// calls has no cost (NULL), not $0.
	rows, err = st.Query(ctx, "SELECT session_id, sum(cost_usd), countIf(cost_status = 'unpriced') FROM "+sink.EventsSource(o)+
		" WHERE name = ? GROUP BY session_id ORDER BY session_id", sink.LLMCallFinish)
	if err != nil {
		t.Fatal(err)
	}
	last := rows.Data[len(rows.Data)-1]
	if last[0] != fmt.Sprintf("cost-%d", len(costCalls)-1) || last[1] != nil || toInt(last[2]) != 1 {
		t.Errorf("unpriced session sums to %v (unpriced calls %v), want NULL", last[1], last[2])
	}
	if zero := rows.Data[4]; zero[1] != 0.0 {
		t.Errorf("the self-hosted session sums to %v, want 0", zero[1])
	}
}
