package prom

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cylestio/perimeter/sink"
)

// parse reads an exposition with the Prometheus text parser; any syntax
// error, duplicate family or bad type fails the test.
func parse(t *testing.T, b []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, b)
	}
	return fams
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func finish(agent, model string, in, out int64, ms float64) *sink.Event {
	return &sink.Event{Name: sink.LLMCallFinish, Vendor: "openai", Model: model, AgentID: agent,
		InputTokens: in, OutputTokens: out, DurationMs: ms, CostUSD: 0.001, CostStatus: sink.CostPriced}
}

// TestAgentLabelsStayBounded: 10,000 one-off agents and a few busy ones;
// the busy ones get their own label values, everyone else counts under
// "other", and no call is lost.
func TestAgentLabelsStayBounded(t *testing.T) {
	const maxAgents = 20
	tr := NewTraffic(Options{MaxAgents: maxAgents})
	var batch []*sink.Event
	calls := 0
	for i := range 10000 {
		batch = append(batch, finish(fmt.Sprintf("agent-%05d", i), "gpt-4o", 10, 2, 800))
		calls++
		if i%500 == 0 { // five busy agents, interleaved with the crowd
			for b := range 5 {
				for range 3 {
					batch = append(batch, finish(fmt.Sprintf("busy-%d", b), "gpt-4o", 100, 20, 2500))
					calls++
				}
			}
		}
		if len(batch) >= 1000 {
			tr.WriteBatch(context.Background(), batch)
			batch = batch[:0]
		}
	}
	batch = append(batch, &sink.Event{Name: sink.LLMCallError, Vendor: "openai", Model: "gpt-4o", AgentID: "busy-0", ErrorType: "rate_limit_error", DurationMs: 40},
		&sink.Event{Name: sink.SecurityFinding, Category: "pii", Severity: "high"},
		&sink.Event{Name: sink.SecurityFinding, Category: "pii", Severity: "high"})
	calls++
	tr.WriteBatch(context.Background(), batch)
	if len(tr.cand) > 16*maxAgents {
		t.Errorf("%d candidates tracked, bound is %d", len(tr.cand), 16*maxAgents)
	}

	e := &Exposition{}
	tr.Append(e)
	fams := parse(t, e.B)
	agents := map[string]bool{}
	var total float64
	for _, m := range fams["perimeter_llm_calls_total"].Metric {
		agents[label(m, "agent")] = true
		total += m.GetCounter().GetValue()
	}
	if len(agents) > maxAgents+1 {
		t.Errorf("%d agent label values, want at most %d + other", len(agents), maxAgents)
	}
	for b := range 5 {
		if !agents[fmt.Sprintf("busy-%d", b)] {
			t.Errorf("busy-%d has no label of its own: %v", b, agents)
		}
	}
	if !agents[Other] {
		t.Error("no other bucket")
	}
	for a := range agents {
		if strings.HasPrefix(a, "agent-") {
			t.Errorf("one-off agent %s took a label slot", a)
		}
	}
	if int(total) != calls {
		t.Errorf("calls counted %v, sent %d", total, calls)
	}
	h := fams["perimeter_llm_call_duration_seconds"]
	if h.GetType() != dto.MetricType_HISTOGRAM || h.Metric[0].GetHistogram().GetSampleCount() != uint64(calls) {
		t.Errorf("duration histogram %v", h)
	}
	var le1, le5 uint64
	for _, bk := range h.Metric[0].GetHistogram().Bucket {
		switch bk.GetUpperBound() {
		case 1:
			le1 = bk.GetCumulativeCount()
		case 5:
			le5 = bk.GetCumulativeCount()
		}
	}
	if le1 != 10001 || le5 != uint64(calls) { // 10,000 at 0.8 s and the error at 0.04 s; the busy calls at 2.5 s
		t.Errorf("buckets le=1: %d, le=5: %d", le1, le5)
	}
	var errs float64
	for _, m := range fams["perimeter_llm_errors_total"].Metric {
		if label(m, "type") == "rate_limit_error" {
			errs += m.GetCounter().GetValue()
		}
	}
	if errs != 1 {
		t.Errorf("rate_limit_error count %v", errs)
	}
	var tokens float64
	for _, m := range fams["perimeter_llm_tokens_total"].Metric {
		if label(m, "kind") == "input" {
			tokens += m.GetCounter().GetValue()
		}
	}
	if tokens != 10000*10+300*100 {
		t.Errorf("input tokens %v", tokens)
	}
	if f := fams["perimeter_findings_total"]; len(f.Metric) != 1 || f.Metric[0].GetCounter().GetValue() != 2 || label(f.Metric[0], "severity") != "high" {
		t.Errorf("findings %v", f)
	}
}

// TestModelsAreCapped: arbitrary model names from clients cannot grow the
// series beyond MaxModels + other.
func TestModelsAreCapped(t *testing.T) {
	tr := NewTraffic(Options{MaxAgents: 0, MaxModels: 3})
	var batch []*sink.Event
	for i := range 100 {
		batch = append(batch, finish("a", fmt.Sprintf("model-%d", i), 1, 1, 10))
	}
	tr.WriteBatch(context.Background(), batch)
	e := &Exposition{}
	tr.Append(e)
	models := map[string]bool{}
	for _, m := range parse(t, e.B)["perimeter_llm_calls_total"].Metric {
		models[label(m, "model")] = true
		if label(m, "agent") != Other {
			t.Errorf("max_agents 0 still labelled agent %q", label(m, "agent"))
		}
	}
	if len(models) != 4 || !models[Other] {
		t.Errorf("models %v, want 3 and other", models)
	}
}

// BenchmarkTrafficWrite is the pipeline CPU per call of counting it.
func BenchmarkTrafficWrite(b *testing.B) {
	tr := NewTraffic(Options{MaxAgents: 20})
	batch := make([]*sink.Event, 1000)
	for i := range batch {
		batch[i] = finish(fmt.Sprintf("agent-%d", i%50), "gpt-4o", 10, 2, 800)
	}
	b.ReportAllocs()
	for b.Loop() {
		tr.WriteBatch(context.Background(), batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/call")
}

// /metrics' per-model view sums the agents' counters; a model with no
// priced call has no cost (null), never $0.
func TestModels(t *testing.T) {
	tr := NewTraffic(Options{MaxAgents: 10})
	fin := func(agent, model, status string, cost float64, in int64) *sink.Event {
		return &sink.Event{Name: sink.LLMCallFinish, Vendor: "openai", Model: model, AgentID: agent, InputTokens: in, OutputTokens: 1,
			CostUSD: cost, CostStatus: status}
	}
	tr.WriteBatch(context.Background(), []*sink.Event{
		fin("a", "gpt-4o", sink.CostPriced, 0.25, 10), fin("b", "gpt-4o", sink.CostPriced, 0.5, 20),
		fin("a", "my-local", sink.CostUnpriced, 0, 5),
		{Name: sink.LLMCallError, Vendor: "openai", Model: "gpt-4o", AgentID: "a"},
	})
	ms := tr.Models()
	if len(ms) != 2 || ms[0].Model != "gpt-4o" || ms[0].Calls != 3 || ms[0].Errors != 1 || ms[0].InputTokens != 30 ||
		ms[0].CostUSD == nil || *ms[0].CostUSD != 0.75 || ms[0].PricedCalls != 2 {
		t.Fatalf("gpt-4o: %+v", ms)
	}
	if ms[1].Model != "my-local" || ms[1].CostUSD != nil || ms[1].UnpricedCalls != 1 {
		t.Fatalf("unpriced model: %+v", ms[1])
	}
}

// TestSeriesSortedByLabels: each family lists its series sorted by their
// labels, in the order they are written, whatever order the calls came in.
func TestSeriesSortedByLabels(t *testing.T) {
	tr := NewTraffic(Options{MaxAgents: 10})
	var batch []*sink.Event
	for _, v := range []string{"openai", "anthropic"} {
		for _, m := range []string{"m-b", "m-a"} {
			for _, a := range []string{"z", "y"} {
				for range AdmitCalls {
					batch = append(batch, &sink.Event{Name: sink.LLMCallFinish, Vendor: v, Model: m, AgentID: a, DurationMs: 10},
						&sink.Event{Name: sink.LLMCallError, Vendor: v, Model: m, AgentID: a, ErrorType: "t-" + a})
				}
			}
		}
	}
	for _, c := range []string{"secret", "pii"} {
		for _, s := range []string{"low", "high"} {
			batch = append(batch, &sink.Event{Name: sink.SecurityFinding, Category: c, Severity: s})
		}
	}
	tr.WriteBatch(context.Background(), batch)
	e := &Exposition{}
	tr.Append(e)
	fams := parse(t, e.B)
	for family, names := range map[string][]string{
		"perimeter_llm_calls_total":           {"provider", "model", "agent", "outcome"},
		"perimeter_llm_call_duration_seconds": {"provider", "model"},
		"perimeter_llm_errors_total":          {"provider", "type"},
		"perimeter_findings_total":            {"category", "severity"},
	} {
		var prev []string
		for i, m := range fams[family].Metric {
			var cur []string
			for _, n := range names {
				cur = append(cur, label(m, n))
			}
			if family == "perimeter_llm_calls_total" && cur[3] == "error" {
				continue // each call key's outcomes come in the order ok, error
			}
			if i > 0 && slices.Compare(prev, cur) >= 0 {
				t.Errorf("%s: series %v after %v", family, cur, prev)
			}
			prev = cur
		}
		if len(fams[family].Metric) < 4 {
			t.Errorf("%s: %d series, want at least 4 to see the order", family, len(fams[family].Metric))
		}
	}
}
