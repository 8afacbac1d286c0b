package sink

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

func fullEvent() *Event {
	return &Event{
		ID:           NewID(),
		Time:         time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC),
		Name:         LLMCallFinish,
		Level:        LevelInfo,
		TraceID:      "0123456789abcdef0123456789abcdef",
		SpanID:       "0123456789abcdef",
		SessionID:    "sess-ü",
		AgentID:      "prompt-7077bd40d00f",
		Vendor:       "openai",
		Model:        "gpt-4o",
		Status:       200,
		DurationMs:   123.456,
		InputTokens:  10,
		OutputTokens: 20,
		TotalTokens:  30,
		CachedTokens: 4,
		CacheWrite:   -1,
		ToolName:     "search",
		FinishReason: "stop",
		ErrorType:    "rate_limit",
		ErrorMessage: "it's \\ 'quoted'\x00",
		RiskScore:    42.5,
		Attributes:   json.RawMessage(`{"a":"b'c"}`),
		CostUSD:      0.000125,
		CostStatus:   CostPriced,
		InstanceID:   "proxy-b:4000",
	}
}

func TestBatchCodecRoundTrip(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC)
	in := []*Event{fullEvent(), {}, {Attributes: json.RawMessage{}}, {Time: time.Unix(-5, 0).UTC(), Status: -3, DurationMs: math.Inf(1)}}
	in[1].Time = time.Unix(0, 0).UTC()
	enc := encodeBatch(nil, created, in)
	gotCreated, out, err := decodeBatch(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !gotCreated.Equal(created) {
		t.Fatalf("created %v, want %v", gotCreated, created)
	}
	if len(out) != len(in) {
		t.Fatalf("%d events, want %d", len(out), len(in))
	}
	for i := range in {
		if !out[i].Time.Equal(in[i].Time) {
			t.Fatalf("event %d time %v, want %v", i, out[i].Time, in[i].Time)
		}
		a, b := *in[i], *out[i]
		a.Time, b.Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, b, a)
		}
	}
	// Every strict prefix is an error, never a panic.
	for n := range len(enc) {
		if _, _, err := decodeBatch(enc[:n]); err == nil {
			t.Fatalf("prefix of %d bytes decoded without error", n)
		}
	}
}
