package content

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/files"
)

const startAttrs = `{"llm.vendor":"openai","llm.model":"gpt-4o","llm.request.data":{"model":"gpt-4o","messages":[` +
	`{"role":"system","content":"Assist jane.doe@corp-mail.com"},` +
	`{"role":"user","content":"Weather in Paris? card 4539 1488 0343 6467, ssn 536-22-8147"},` +
	`{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"send","arguments":"{\"to\":\"jane.doe@corp-mail.com\"}"}}]}],` +
	`"max_tokens":64},"session.id":"s1","llm.request.stream":true}`

func TestMaskedReplacesEachValueWithItsType(t *testing.T) {
	r := New(Masked)
	ev := &sink.Event{Name: sink.LLMCallStart, Attributes: json.RawMessage(startAttrs),
		ErrorMessage: "upstream said: ssn 536-22-8147 is invalid"}
	r.Process([]*sink.Event{ev})
	got := string(ev.Attributes)
	if !json.Valid(ev.Attributes) {
		t.Fatalf("not JSON: %s", got)
	}
	for _, raw := range []string{"jane.doe@corp-mail.com", "4539 1488 0343 6467", "536-22-8147"} {
		if strings.Contains(got, raw) || strings.Contains(ev.ErrorMessage, raw) {
			t.Errorf("%q kept: %s / %s", raw, got, ev.ErrorMessage)
		}
	}
	for _, want := range []string{"Assist [PII:email]", "card [PII:credit_card], ssn [PII:us_ssn]", `\"to\":\"[PII:email]\"`, `"max_tokens":64`, `"role":"user"`} {
		if !strings.Contains(got, want) {
			t.Errorf("%q missing from %s", want, got)
		}
	}
	if ev.ErrorMessage != "upstream said: ssn [PII:us_ssn] is invalid" {
		t.Errorf("error message %q", ev.ErrorMessage)
	}
}

func TestMetadataKeepsNoText(t *testing.T) {
	r := New(Metadata)
	ev := &sink.Event{Name: sink.LLMCallStart, Attributes: json.RawMessage(startAttrs), ErrorMessage: "upstream said: no"}
	proxyErr := &sink.Event{Name: sink.LLMCallError, ErrorMessage: "the proxy could not complete the call: upstream_timeout"}
	r.Process([]*sink.Event{ev, proxyErr})
	got := string(ev.Attributes)
	if !json.Valid(ev.Attributes) {
		t.Fatalf("not JSON: %s", got)
	}
	for _, gone := range []string{"Weather", "Assist", "jane", "send\"", "upstream said"} {
		if strings.Contains(got, gone) || strings.Contains(ev.ErrorMessage, gone) {
			t.Errorf("%q kept: %s / %s", gone, got, ev.ErrorMessage)
		}
	}
	user := "Weather in Paris? card 4539 1488 0343 6467, ssn 536-22-8147"
	for _, want := range []string{`"role":"user"`, `"role":"system"`, `"llm.model":"gpt-4o"`, `"max_tokens":64`, `"session.id":"s1"`,
		`"id":"call_1"`, `"llm.request.stream":true`, Summary(user)} {
		if !strings.Contains(got, want) {
			t.Errorf("%q missing from %s", want, got)
		}
	}
	if proxyErr.ErrorMessage != "the proxy could not complete the call: upstream_timeout" {
		t.Errorf("the proxy's own message was changed: %q", proxyErr.ErrorMessage)
	}
	if !strings.HasPrefix(Summary(user), "[len=59 sha256=") {
		t.Errorf("summary %q", Summary(user))
	}
}

func TestExchangeBodies(t *testing.T) {
	x := files.Exchange{Method: "POST", URL: "http://p/v1/chat/completions?user=jane.doe@corp-mail.com", Path: "/v1/chat/completions",
		Query:        "user=jane.doe@corp-mail.com",
		RequestBody:  []byte(`{"messages":[{"role":"user","content":"ssn 536-22-8147"}]}`),
		ResponseBody: []byte("data: {\"choices\":[{\"delta\":{\"content\":\"card 4539 1488 0343 6467\"}}]}\n\ndata: [DONE]\n\n"),
		Status:       200}
	attrs, _ := json.Marshal(x)
	for _, mode := range []Mode{Masked, Metadata} {
		ev := &sink.Event{Name: httprec.EventName, Attributes: append(json.RawMessage(nil), attrs...)}
		New(mode).Process([]*sink.Event{ev})
		got, err := files.DecodeExchange(ev)
		if err != nil {
			t.Fatal(err)
		}
		all := got.URL + got.Query + string(got.RequestBody) + string(got.ResponseBody)
		for _, raw := range []string{"jane.doe@corp-mail.com", "536-22-8147", "4539 1488 0343 6467"} {
			if strings.Contains(all, raw) {
				t.Errorf("%v: %q kept in %s", mode, raw, all)
			}
		}
		switch mode {
		case Masked:
			if !strings.Contains(string(got.ResponseBody), `"content":"card [PII:credit_card]"`) || !strings.HasSuffix(string(got.ResponseBody), "data: [DONE]\n\n") {
				t.Errorf("masked stream %q", got.ResponseBody)
			}
		case Metadata:
			if got.RequestBody != nil || got.ResponseBody != nil || got.Status != 200 {
				t.Errorf("metadata kept bodies or lost the status: %+v", got)
			}
		}
	}
}

func TestFullLeavesEventsAlone(t *testing.T) {
	ev := &sink.Event{Name: sink.LLMCallStart, Attributes: json.RawMessage(startAttrs)}
	New(Full).Process([]*sink.Event{ev})
	if string(ev.Attributes) != startAttrs {
		t.Error("full changed the attributes")
	}
	if _, err := ParseMode("partial"); err == nil {
		t.Error("ParseMode accepted partial")
	}
}

// A typical call's events: the start with a 1 KB conversation and the
// finish with the answer.
func callEvents() []*sink.Event {
	msgs := strings.Repeat(`{"role":"user","content":"Please summarise the quarterly report for the board meeting next week."},`, 12)
	start := `{"llm.vendor":"openai","llm.model":"gpt-4o","llm.request.data":{"model":"gpt-4o","messages":[` + msgs +
		`{"role":"user","content":"and mail it to jane.doe@corp-mail.com"}]},"session.id":"s1"}`
	finish := `{"llm.vendor":"openai","llm.model":"gpt-4o","llm.response.content":[{"type":"text","text":"Here is the summary you asked for, covering revenue, costs and the outlook."}],"session.id":"s1"}`
	return []*sink.Event{
		{Name: sink.LLMCallStart, Attributes: json.RawMessage(start)},
		{Name: sink.LLMCallFinish, Attributes: json.RawMessage(finish)},
	}
}

// BenchmarkCallMasked and BenchmarkCallMetadata: the pipeline CPU one
// call's events cost per mode (full costs nothing).
func BenchmarkCallMasked(b *testing.B)   { benchCall(b, Masked) }
func BenchmarkCallMetadata(b *testing.B) { benchCall(b, Metadata) }

func benchCall(b *testing.B, m Mode) {
	r := New(m)
	evs := callEvents()
	orig := [2]json.RawMessage{evs[0].Attributes, evs[1].Attributes}
	b.SetBytes(int64(len(orig[0]) + len(orig[1])))
	b.ReportAllocs()
	for b.Loop() {
		evs[0].Attributes, evs[1].Attributes = orig[0], orig[1]
		r.Process(evs)
	}
}
